"""Login, rotating refresh tokens with reuse detection, logout, password reset."""

from __future__ import annotations

from datetime import timedelta

import structlog
from sqlalchemy.orm import Session

from platform_api.auth.exceptions import AccountDisabled, InvalidResetToken, TokenReused, TokenRevoked, WrongPassword
from platform_api.auth.models import AuthToken
from platform_api.auth.repository import TokenRepository
from platform_api.core.db import new_id, utcnow
from platform_api.core.errors import InvalidCredentials, InvalidToken
from platform_api.core.mail import Mail
from platform_api.core.security import (
    check_password_policy,
    dummy_verify,
    hash_password,
    random_token,
    token_digest,
    verify_password,
)
from platform_api.core.state import Platform
from platform_api.users import schemas as user_schemas
from platform_api.users import service as users
from platform_api.users.models import User
from platform_api.users.repository import UserRepository

REGISTERED = (
    "Inscription enregistrée : connecte-toi avec ton email et ton mot de passe. Si un compte existait déjà avec "
    "cet email, nous venons d'y envoyer un message."
)

log = structlog.get_logger("platform_api.auth")


def issue_pair(db: Session, platform: Platform, user: User, family_id: str | None = None) -> tuple[str, str]:
    """A new access token and a new refresh token (stored hashed, in a new or the given family)."""
    access, _ = platform.tokens.issue(user.id, "access", role=user.role, version=user.token_version)
    family_id = family_id or new_id()
    refresh, claims = platform.tokens.issue(user.id, "refresh", family=family_id, version=user.token_version)
    TokenRepository(db).add(
        AuthToken(
            id=claims.jti,
            user_id=user.id,
            kind="refresh",
            token_hash=token_digest(refresh),
            family_id=family_id,
            expires_at=claims.expires_at,
        )
    )
    return access, refresh


def register(db: Session, platform: Platform, data: user_schemas.UserCreate) -> str:
    """The new account's id; for an email already taken, a random id and a mail to the owner, after the same work.

    The bcrypt hash is computed either way, so the answer's timing does not tell the two cases apart.
    """
    existing = UserRepository(db).by_email(str(data.email))
    if existing is None:
        return users.register(db, platform.settings, data).id
    hash_password(data.password, platform.settings.bcrypt_rounds)  # same policy errors, same cost
    log.info("register_existing_email", user_id=existing.id)
    platform.mailer.send(
        Mail(
            to=existing.email,
            subject="Tentative d'inscription avec ton adresse Nexus Réussite",
            body=(
                f"Bonjour {existing.first_name},\n\nQuelqu'un vient de demander la création d'un compte Nexus "
                "Réussite avec cette adresse, qui a déjà un compte. Aucun nouveau compte n'a été créé.\n\n"
                "Si c'était toi, connecte-toi avec ton mot de passe habituel, ou choisis-en un nouveau depuis "
                f"{platform.settings.public_url.rstrip('/')}/mot-de-passe-oublie\n\n"
                "Si tu n'as rien demandé, ignore ce message."
            ),
        )
    )
    return new_id()


def login(db: Session, platform: Platform, email: str, password: str) -> tuple[User, str, str]:
    user = UserRepository(db).by_email(email)
    if user is None:
        dummy_verify(password)  # same time whether the email exists or not
        raise InvalidCredentials()
    if not verify_password(password, user.password_hash):
        raise InvalidCredentials()
    if not user.is_active:
        raise AccountDisabled()
    user.last_login_at = utcnow()
    access, refresh = issue_pair(db, platform, user)
    log.info("login", user_id=user.id)
    return user, access, refresh


def _stored_refresh(db: Session, platform: Platform, token: str) -> AuthToken:
    platform.tokens.verify(token, "refresh")  # signature, expiry, type
    stored = TokenRepository(db).by_hash("refresh", token_digest(token))
    if stored is None:
        raise InvalidToken()
    return stored


def refresh(db: Session, platform: Platform, token: str) -> tuple[str, str]:
    """Rotate: the presented token dies, a new pair is issued; a token used twice revokes its whole family."""
    repo = TokenRepository(db)
    stored = _stored_refresh(db, platform, token)
    now = utcnow()
    if stored.revoked_at is not None:
        raise TokenRevoked()
    if stored.used_at is not None:
        assert stored.family_id is not None
        repo.revoke_family(stored.family_id, now)
        log.warning("refresh_token_reused", user_id=stored.user_id, family=stored.family_id)
        raise TokenReused()  # its class commits the revocation before the error is rendered
    user = UserRepository(db).get(stored.user_id)
    if user is None or not user.is_active:
        raise AccountDisabled()
    stored.used_at = now
    return issue_pair(db, platform, user, stored.family_id)


def end_access_tokens(user: User) -> None:
    """Every access token issued to the user so far stops working (they carry the previous version)."""
    user.token_version = (user.token_version or 0) + 1


def logout(db: Session, platform: Platform, token: str) -> None:
    """Revoke this session's refresh family and end every access token of the user.

    Access tokens are checked against the user row each request already loads, not against a session table:
    ending them all costs no query. Other devices get a 401 on their next call and refresh silently (their
    refresh families stay valid); the device that logged out has no refresh token left.
    """
    stored = _stored_refresh(db, platform, token)
    if stored.family_id:
        TokenRepository(db).revoke_family(stored.family_id, utcnow())
    user = UserRepository(db).get(stored.user_id)
    if user is not None:
        end_access_tokens(user)
        db.flush()


def change_password(db: Session, platform: Platform, user: User, current: str, new: str) -> tuple[str, str]:
    """Set a new password; every session and access token ends, and the caller gets a fresh pair."""
    check_password_policy(new)
    if not verify_password(current, user.password_hash):
        raise WrongPassword()
    user.password_hash = hash_password(new, platform.settings.bcrypt_rounds)
    TokenRepository(db).revoke_user(user.id, "refresh", utcnow())
    end_access_tokens(user)
    db.flush()
    log.info("password_changed", user_id=user.id)
    return issue_pair(db, platform, user)


def request_reset(db: Session, platform: Platform, email: str) -> None:
    """Mail a one-hour reset link when the account exists; say nothing either way."""
    user = UserRepository(db).by_email(email)
    if user is None or not user.is_active:
        return
    token = random_token()
    TokenRepository(db).add(
        AuthToken(
            user_id=user.id,
            kind="password_reset",
            token_hash=token_digest(token),
            expires_at=utcnow() + timedelta(minutes=platform.settings.password_reset_minutes),
        )
    )
    link = f"{platform.settings.public_url.rstrip('/')}/reinitialiser-mot-de-passe?token={token}"
    platform.mailer.send(
        Mail(
            to=user.email,
            subject="Réinitialisation de ton mot de passe Nexus Réussite",
            body=(
                f"Bonjour {user.first_name},\n\nPour choisir un nouveau mot de passe, ouvre ce lien (valable "
                f"{platform.settings.password_reset_minutes} minutes) :\n{link}\n\nCode : {token}\n\n"
                "Si tu n'as rien demandé, ignore ce message."
            ),
            secrets=(token, link),
        )
    )


def reset_password(db: Session, platform: Platform, token: str, password: str) -> None:
    check_password_policy(password)
    repo = TokenRepository(db)
    stored = repo.by_hash("password_reset", token_digest(token))
    now = utcnow()
    if stored is None or stored.used_at is not None or stored.revoked_at is not None or stored.expires_at <= now:
        raise InvalidResetToken()
    user = UserRepository(db).get(stored.user_id)
    if user is None:
        raise InvalidResetToken()
    user.password_hash = hash_password(password, platform.settings.bcrypt_rounds)
    stored.used_at = now
    repo.revoke_user(user.id, "refresh", now)  # a new password closes every open session
    repo.revoke_user(user.id, "password_reset", now)
    end_access_tokens(user)
    db.flush()
