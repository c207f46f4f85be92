"""Typed dependencies: the platform, the database session (the one transaction boundary), the current user."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection

from platform_api.core.config import PlatformSettings
from platform_api.core.db import session_scope
from platform_api.core.errors import Forbidden, InvalidToken, Unauthenticated
from platform_api.core.state import Platform
from platform_api.users.models import User


def get_platform(conn: HTTPConnection) -> Platform:
    platform: Platform = conn.app.state.platform
    return platform


PlatformDep = Annotated[Platform, Depends(get_platform)]


def get_settings(platform: PlatformDep) -> PlatformSettings:
    return platform.settings


SettingsDep = Annotated[PlatformSettings, Depends(get_settings)]


def get_db(platform: PlatformDep) -> Iterator[Session]:
    """A session per request: committed when the handler returns, rolled back when it raises."""
    yield from session_scope(platform.sessions)


# scope="function": the commit happens before the response is sent, so a client never reads stale data.
SessionDep = Annotated[Session, Depends(get_db, scope="function")]

_bearer = HTTPBearer(auto_error=False, description="Access token from /api/auth/login")


def user_from_token(db: Session, platform: Platform, token: str) -> User:
    """The active user an access token names; :class:`InvalidToken` otherwise."""
    claims = platform.tokens.verify(token, "access")
    user = db.get(User, claims.subject)
    # token_version moves on at logout and at a password change or reset: older access tokens end there.
    if user is None or not user.is_active or claims.version != user.token_version:
        raise InvalidToken()
    return user


def get_current_user(
    db: SessionDep,
    platform: PlatformDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated()
    return user_from_token(db, platform, credentials.credentials)


CurrentUser = Annotated[User, Depends(get_current_user)]


class RequireRole:
    """A dependency that lets only the given roles through (403 otherwise)."""

    def __init__(self, *roles: str) -> None:
        self.roles = roles

    def __call__(self, user: CurrentUser) -> User:
        if user.role not in self.roles:
            raise Forbidden("Cette action est réservée aux rôles : " + ", ".join(_ROLE_FR[r] for r in self.roles) + ".")
        return user


_ROLE_FR = {"student": "élève", "parent": "parent", "teacher": "enseignant", "admin": "administrateur"}

TeacherUser = Annotated[User, Depends(RequireRole("teacher", "admin"))]
AdminUser = Annotated[User, Depends(RequireRole("admin"))]
StudentUser = Annotated[User, Depends(RequireRole("student"))]
ParentUser = Annotated[User, Depends(RequireRole("parent"))]


def client_key(conn: HTTPConnection, settings: PlatformSettings) -> str:
    """The client's address: the peer, or behind trusted proxies the address the outermost one saw.

    Each proxy appends the address it saw to X-Forwarded-For, after whatever the client sent: with N trusted
    proxies the client's address is the Nth entry from the end. Entries before it are the client's own words.
    """
    peer = conn.client.host if conn.client else "unknown"
    if not settings.trust_proxy_headers:
        return peer
    hops = [h.strip() for h in ",".join(conn.headers.getlist("x-forwarded-for")).split(",") if h.strip()]
    if not hops:
        return peer
    return hops[-min(settings.trusted_proxies, len(hops))]


def rate_limit(rule: str) -> Callable[[HTTPConnection, Platform], None]:
    """A dependency counting one request of the rule per client address."""

    def check(conn: HTTPConnection, platform: PlatformDep) -> None:
        platform.limiter.hit(rule, client_key(conn, platform.settings))

    return check


ApiRateLimit = Depends(rate_limit("api"))
