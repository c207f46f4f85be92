"""Settings of the platform API (database, Redis, auth, limits), read from ``NEXUS_*`` variables and ``.env``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRET = "change-me-in-production"  # noqa: S105 - the placeholder that every environment refuses
MIN_SECRET_CHARS = 32


class PlatformSettings(BaseSettings):
    """How the web service stores data, signs tokens and protects itself."""

    model_config = SettingsConfigDict(env_prefix="NEXUS_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = Field(
        "development", description="development, test or production (production refuses placeholder secrets)."
    )
    data_dir: Path = Field(Path("data"), description="Folder for every file ARIA writes (databases, vectors, uploads).")
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the database (postgresql+psycopg://...); unset means data/aria.sqlite.",
    )
    redis_url: str | None = Field(
        None, description="Redis URL for rate limits and pub/sub events; unset means in-process memory."
    )
    redis_prefix: str = Field("nexus", min_length=1, description="Prefix of every Redis key the platform writes.")
    jwt_secret: SecretStr | None = Field(
        None,
        description="HS256 signing key of the tokens, 32+ random characters (required in production); unset: a "
        "random key generated once in data/secrets/jwt_secret.",
    )
    jwt_previous_secrets: SecretStr | None = Field(
        None,
        description="Comma-separated former signing keys, still accepted (never used to sign) during a rotation.",
    )
    access_token_minutes: int = Field(60, ge=1, description="Lifetime of an access token, in minutes.")
    refresh_token_days: int = Field(30, ge=1, description="Lifetime of a refresh token, in days.")
    password_reset_minutes: int = Field(60, ge=5, description="Lifetime of a password reset token, in minutes.")
    bcrypt_rounds: int = Field(12, ge=4, le=16, description="bcrypt cost factor (at least 12 in production).")
    cors_origins: str = Field("", description="Comma-separated origins allowed by CORS (empty: none).")
    admin_email: str | None = Field(None, description="Email of the first administrator created by `nexus init`.")
    admin_password: SecretStr | None = Field(None, description="Password of the first administrator (`nexus init`).")
    max_upload_mb: float = Field(20.0, gt=0, description="Largest file a teacher may upload, in megabytes.")
    rate_limits_enabled: bool = Field(True, description="Turn the rate limits on or off.")
    rate_limit_login: str = Field("5/5 minutes", description="Login attempts allowed per client.")
    rate_limit_register: str = Field("3/hour", description="Registrations allowed per client.")
    rate_limit_api: str = Field("100/minute", description="API requests allowed per client.")
    rate_limit_chat: str = Field("20/minute", description="ARIA questions allowed per user.")
    rate_limit_search: str = Field("30/minute", description="Public curriculum searches allowed per client.")
    trust_proxy_headers: bool = Field(
        False, description="Take the client address from X-Forwarded-For (only behind proxies you run)."
    )
    trusted_proxies: int = Field(
        1, ge=1, le=10, description="Proxies in front of the app that append to X-Forwarded-For (counted from the end)."
    )
    metrics_token: SecretStr | None = Field(
        None, description="Bearer token that /metrics requires; unset: /metrics answers loopback clients only."
    )
    log_json: bool | None = Field(None, description="JSON logs (default: in production only).")
    log_level: str = Field("INFO", description="Log level of the service.")
    public_url: str = Field("http://127.0.0.1:8000", description="Public URL of the service, used in emails.")
    ingest_worker: bool = Field(
        True, description="Run the ingestion worker thread inside the API process (in-process queue only)."
    )
    queue: Literal["inprocess", "procrastinate"] = Field(
        "inprocess",
        description="Ingestion queue: inprocess (a worker thread polls the jobs table) or procrastinate "
        "(PostgreSQL, run by `nexus worker`).",
    )
    worker_concurrency: int = Field(2, ge=1, le=64, description="Jobs one `nexus worker` process runs at once.")
    worker_stalled_seconds: float = Field(
        30.0, ge=1, description="Seconds without a heartbeat after which a worker is dead and its job is retried."
    )
    retention_conversations_days: int = Field(
        365, ge=1, description="Days an ARIA message is kept; older messages and emptied conversations are deleted."
    )
    retention_uploads_days: int = Field(
        365, ge=1, description="Days an uploaded document (file, passages, vectors) is kept after its upload."
    )
    retention_jobs_days: int = Field(90, ge=1, description="Days a finished ingestion job (its log and error) is kept.")
    retention_interval_hours: float = Field(
        24.0,
        ge=0,
        description="Hours between two retention runs inside the API process (0: never, e.g. when a CronJob "
        "runs `nexus retention run`).",
    )
    attempt_grace_seconds: int = Field(30, ge=0, description="Seconds accepted after an assessment's time limit.")
    ws_auth_timeout_s: float = Field(10.0, gt=0, description="Seconds a WebSocket has to authenticate.")

    @model_validator(mode="after")
    def _queue_needs_postgresql(self) -> PlatformSettings:
        if self.queue == "procrastinate" and not self.sqlalchemy_url.startswith("postgresql"):
            raise ValueError(
                "NEXUS_QUEUE=procrastinate needs a PostgreSQL NEXUS_DATABASE_URL (postgresql+psycopg://...). "
                f"Currently, the database is {self.sqlalchemy_url.split(':', 1)[0]}"
            )
        return self

    @model_validator(mode="after")
    def _signing_keys_are_real(self) -> PlatformSettings:
        # In every environment: a key anybody can read in the docs signs admin tokens for anybody.
        if self.jwt_secret is not None:
            check_secret("NEXUS_JWT_SECRET", self.jwt_secret.get_secret_value())
        for key in self.previous_jwt_secrets:
            check_secret("NEXUS_JWT_PREVIOUS_SECRETS", key)
        if self.metrics_token is not None:
            check_secret("NEXUS_METRICS_TOKEN", self.metrics_token.get_secret_value())
        return self

    @model_validator(mode="after")
    def _production_is_safe(self) -> PlatformSettings:
        if self.environment != "production":
            return self
        if self.jwt_secret is None:
            # Replicas must share one key: a key generated in each container's data dir would not be shared.
            raise ValueError(
                "NEXUS_JWT_SECRET must be set in production (a random string of at least 32 characters, e.g. "
                "`openssl rand -hex 32`). Currently, it is unset"
            )
        if self.bcrypt_rounds < 12:
            raise ValueError(
                f"NEXUS_BCRYPT_ROUNDS must be at least 12 in production. Currently, it is {self.bcrypt_rounds}"
            )
        return self

    @property
    def sqlalchemy_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'aria.sqlite').resolve()}"

    @property
    def previous_jwt_secrets(self) -> list[str]:
        raw = self.jwt_previous_secrets.get_secret_value() if self.jwt_previous_secrets else ""
        return [k.strip() for k in raw.split(",") if k.strip()]

    @property
    def secrets_dir(self) -> Path:
        return self.data_dir / "secrets"

    @property
    def upload_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1_000_000)

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]

    @property
    def json_logs(self) -> bool:
        return self.environment == "production" if self.log_json is None else self.log_json


def check_secret(name: str, value: str) -> None:
    """Refuse the documented placeholder and short keys, saying which setting is wrong and why."""
    if value == PLACEHOLDER_SECRET or value.startswith("change-me"):
        raise ValueError(
            f"{name} is the documented placeholder: anybody could sign tokens with it. Set it to a random string of "
            f"at least {MIN_SECRET_CHARS} characters (`openssl rand -hex 32`), or leave NEXUS_JWT_SECRET unset in "
            "development to get a generated key"
        )
    if len(value) < MIN_SECRET_CHARS:
        raise ValueError(
            f"{name} must be at least {MIN_SECRET_CHARS} characters long. Currently, it is {len(value)} characters"
        )


@lru_cache
def get_platform_settings() -> PlatformSettings:
    """The process-wide settings; tests build their own and hand them to ``create_app``."""
    return PlatformSettings()
