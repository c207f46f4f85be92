"""Passwords (bcrypt), tokens (JWT HS256, pinned, with exp/iat/type/jti checked) and the signing key on disk."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import bcrypt
import jwt

from platform_api.core.config import PlatformSettings, check_secret
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
    version: int = 0  # the user's token_version when it was issued: a bump ends every older token


class TokenService:
    """Signs with one HS256 key and verifies with it or a previous one (during a key rotation).

    Args:
        secret: the HS256 key that signs.
        access_minutes: lifetime of access tokens.
        refresh_days: lifetime of refresh tokens.
        previous: former keys still accepted for verification, never used to sign.
    """

    def __init__(
        self, secret: str, access_minutes: int = 60, refresh_days: int = 30, previous: Sequence[str] = ()
    ) -> None:
        if not secret:
            raise ValueError("the JWT secret must not be empty")
        self._secret = secret
        self._keys = [secret, *(k for k in previous if k and k != secret)]
        self.access_ttl = timedelta(minutes=access_minutes)
        self.refresh_ttl = timedelta(days=refresh_days)

    def reference(self, value: str) -> str:
        """A keyed hash of an identifier, for logs that must not name a person (an erasure's reference).

        Whoever holds the signing key can recompute it to answer "was this account erased, and when?"; a log reader
        without the key cannot get the id back.
        """
        return hmac.new(self._secret.encode(), b"reference:" + value.encode(), hashlib.sha256).hexdigest()[:24]

    def issue(
        self,
        subject: str,
        type_: TokenType,
        role: str | None = None,
        family: str | None = None,
        version: int = 0,
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
            version=version,
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
        payload["ver"] = version
        return jwt.encode(payload, self._secret, algorithm=ALGORITHM), claims

    def _decode(self, token: str) -> dict[str, Any]:
        for key in self._keys:
            try:
                data: dict[str, Any] = jwt.decode(
                    token, key, algorithms=[ALGORITHM], options={"require": ["exp", "iat", "sub", "type", "jti"]}
                )
                return data
            except jwt.InvalidSignatureError:
                continue  # maybe signed with a previous key
            except jwt.PyJWTError as exc:
                raise InvalidToken() from exc
        raise InvalidToken()

    def verify(self, token: str, expected: TokenType) -> TokenClaims:
        """Claims of a valid token of the expected type; :class:`InvalidToken` otherwise."""
        data = self._decode(token)
        if data.get("type") != expected:
            raise InvalidToken()
        version = data.get("ver", 0)
        if not isinstance(version, int) or isinstance(version, bool):
            raise InvalidToken()
        return TokenClaims(
            subject=str(data["sub"]),
            type=expected,
            jti=str(data["jti"]),
            issued_at=datetime.fromtimestamp(int(data["iat"]), tz=utcnow().tzinfo),
            expires_at=datetime.fromtimestamp(int(data["exp"]), tz=utcnow().tzinfo),
            role=data.get("role"),
            family=data.get("fam"),
            version=version,
        )


def token_digest(token: str) -> str:
    """How tokens are stored: a SHA-256 digest (a leaked table gives no usable token)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def random_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


SECRET_FILE = "jwt_secret"


def _read_secret(path: Path) -> str:
    value = path.read_text(encoding="ascii").strip()
    try:
        check_secret(f"the key file {path}", value)
    except ValueError as exc:
        raise ValueError(f"{exc}: delete the file to generate a new key") from exc
    return value


def load_or_create_secret(folder: Path) -> str:
    """The signing key kept in ``folder/jwt_secret``, generated once (0600 file in a 0700 folder).

    Written to a temporary file then linked into place, so two processes starting on a fresh data dir end up
    with the same key: the second link fails and that process reads the winner's file.
    """
    path = folder / SECRET_FILE
    if path.exists():
        return _read_secret(path)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    folder.chmod(0o700)
    tmp = folder / f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(secrets.token_urlsafe(48) + "\n")
            out.flush()
            os.fsync(out.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return _read_secret(path)


def build_token_service(settings: PlatformSettings) -> TokenService:
    """The token service of these settings: NEXUS_JWT_SECRET, or the key generated in the data dir."""
    secret = settings.jwt_secret.get_secret_value() if settings.jwt_secret else None
    if secret is None:
        secret = load_or_create_secret(settings.secrets_dir)
    return TokenService(
        secret, settings.access_token_minutes, settings.refresh_token_days, previous=settings.previous_jwt_secrets
    )
