"""Passwords (bcrypt) and tokens (JWT HS256, pinned, with exp/iat/type/jti checked)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import bcrypt
import jwt

from platform_api.core.db import new_id, utcnow
from platform_api.core.errors import BadRequest, InvalidToken

ALGORITHM = "HS256"
TokenType = Literal["access", "refresh"]
MAX_PASSWORD_BYTES = 72  # bcrypt ignores what comes after: refuse instead of silently truncating
MIN_PASSWORD_CHARS = 8


class PasswordTooLong(BadRequest):
    code = "password_too_long"
    message = "Le mot de passe est trop long : 72 octets au maximum (les accents comptent double)."


class PasswordTooWeak(BadRequest):
    code = "password_too_weak"
    message = "Le mot de passe doit contenir au moins 8 caractères, dont une lettre et un chiffre."


def check_password_policy(password: str) -> bytes:
    """The password's bytes, or a French refusal: too long for bcrypt, or too weak."""
    data = password.encode("utf-8")
    if len(data) > MAX_PASSWORD_BYTES:
        raise PasswordTooLong()
    if (
        len(password) < MIN_PASSWORD_CHARS
        or not any(c.isalpha() for c in password)
        or not any(c.isdigit() for c in password)
    ):
        raise PasswordTooWeak()
    return data


def hash_password(password: str, rounds: int) -> str:
    """bcrypt hash with the given cost; call it from a worker thread (it takes ~0.25 s at cost 12)."""
    return bcrypt.hashpw(check_password_policy(password), bcrypt.gensalt(rounds)).decode("ascii")


def verify_password(password: str, hashed: str | None) -> bool:
    """True when the password matches; a too-long password never matches (it could not have been set)."""
    data = password.encode("utf-8")
    if hashed is None or len(data) > MAX_PASSWORD_BYTES:
        return False
    try:
        return bcrypt.checkpw(data, hashed.encode("ascii"))
    except ValueError:
        return False


# A hash to compare against when the email is unknown, so timing does not reveal which emails exist.
_DUMMY_HASH = "$2b$12$m5hd2Ivhh/TAa94/yAVmA.1IU5mkonBb8kN3ZpTAG1p1hsaZiytZC"  # noqa: S105


def dummy_verify(password: str) -> None:
    verify_password(password, _DUMMY_HASH)


@dataclass(frozen=True)
class TokenClaims:
    """What a verified token says."""

    subject: str
    type: TokenType
    jti: str
    issued_at: datetime
    expires_at: datetime
    role: str | None = None
    family: str | None = None


class TokenService:
    """Signs and verifies the platform's JWTs.

    Args:
        secret: the HS256 key.
        access_minutes: lifetime of access tokens.
        refresh_days: lifetime of refresh tokens.
    """

    def __init__(self, secret: str, access_minutes: int = 60, refresh_days: int = 30) -> None:
        if not secret:
            raise ValueError("the JWT secret must not be empty")
        self._secret = secret
        self.access_ttl = timedelta(minutes=access_minutes)
        self.refresh_ttl = timedelta(days=refresh_days)

    def issue(
        self, subject: str, type_: TokenType, role: str | None = None, family: str | None = None
    ) -> tuple[str, TokenClaims]:
        now = utcnow().replace(microsecond=0)
        claims = TokenClaims(
            subject=subject,
            type=type_,
            jti=new_id(),
            issued_at=now,
            expires_at=now + (self.access_ttl if type_ == "access" else self.refresh_ttl),
            role=role,
            family=family,
        )
        payload: dict[str, Any] = {
            "sub": subject,
            "type": type_,
            "jti": claims.jti,
            "iat": int(now.timestamp()),
            "exp": int(claims.expires_at.timestamp()),
        }
        if role:
            payload["role"] = role
        if family:
            payload["fam"] = family
        return jwt.encode(payload, self._secret, algorithm=ALGORITHM), claims

    def verify(self, token: str, expected: TokenType) -> TokenClaims:
        """Claims of a valid token of the expected type; :class:`InvalidToken` otherwise."""
        try:
            data = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                options={"require": ["exp", "iat", "sub", "type", "jti"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken() from exc
        if data.get("type") != expected:
            raise InvalidToken()
        return TokenClaims(
            subject=str(data["sub"]),
            type=expected,
            jti=str(data["jti"]),
            issued_at=datetime.fromtimestamp(int(data["iat"]), tz=utcnow().tzinfo),
            expires_at=datetime.fromtimestamp(int(data["exp"]), tz=utcnow().tzinfo),
            role=data.get("role"),
            family=data.get("fam"),
        )


def token_digest(token: str) -> str:
    """How tokens are stored: a SHA-256 digest (a leaked table gives no usable token)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def random_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)
