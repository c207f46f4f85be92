"""Fixtures of the platform tests: one migrated database per backend (SQLite and PostgreSQL), an app per test.

Every SQL test runs on both backends (the ``backend`` parameter). PostgreSQL and Redis are the machine's
servers; each test session uses its own database (``aria_test_<pid>_<random>``) and its own Redis key prefix,
because other people run tests on the same servers. Without the servers the tests are skipped, except with
``CI=true``, where a missing server is a failure.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from fastapi.testclient import TestClient
from sqlalchemy import delete, text

from ingest.config import IngestSettings
from ingest.pipeline import Ingestor
from knowledge.embedder import HashEmbedder
from knowledge.factory import KnowledgeRuntime
from knowledge.search import KnowledgeBase
from knowledge.store import EdgeStore
from platform_api.app import create_app
from platform_api.core.config import PlatformSettings
from platform_api.core.db import build_engine, build_sessionmaker, unit_of_work
from platform_api.core.mail import ConsoleMailSender
from platform_api.core.state import Platform
from platform_api.courses.models import Course
from platform_api.courses.service import seed_curriculum
from platform_api.models import Base
from platform_api.users import schemas as user_schemas
from platform_api.users import service as users
from platform_api.users.models import User

ROOT = Path(__file__).resolve().parents[2]
ALEMBIC_INI = ROOT / "migrations" / "alembic.ini"
PG_ADMIN_URL = os.environ.get("NEXUS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("NEXUS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
IN_CI = os.environ.get("CI", "").lower() == "true"
SESSION_TAG = f"{os.getpid()}_{secrets.token_hex(4)}"
PASSWORD = "motdepasse1"
# A random key per test session: a fixed string in the repository would be a key anybody can sign with.
TEST_JWT_SECRET = secrets.token_urlsafe(48)
CHAPTERS = [
    "terminale/structures-de-donnees/piles.md",
    "premiere/algorithmique/tri-par-insertion.md",
]


def unavailable(what: str, exc: Exception) -> None:
    message = f"{what} is not reachable: {type(exc).__name__}: {exc}"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


def alembic_config(url: str) -> Config:
    cfg = Config(str(ALEMBIC_INI))
    cfg.attributes["url"] = url
    cfg.attributes["configure_logger"] = False
    return cfg


def _create_pg_database() -> str:
    import psycopg

    name = f"aria_test_{SESSION_TAG}"
    dsn = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name


def _drop_pg_database(name: str) -> None:
    import psycopg

    dsn = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database with the curriculum courses seeded, once per backend and test session."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'aria.sqlite'}"
        name = None
    else:
        try:
            name = _create_pg_database()
        except Exception as exc:
            unavailable("PostgreSQL", exc)
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    command.upgrade(alembic_config(url), "head")
    engine = build_engine(url)
    with unit_of_work(build_sessionmaker(engine)) as db:
        seed_curriculum(db)
    engine.dispose()
    yield url
    if name:
        _drop_pg_database(name)


@pytest.fixture(scope="session")
def embedder() -> HashEmbedder:
    return HashEmbedder(dim=64)


@pytest.fixture(scope="session")
def knowledge(tmp_path_factory: pytest.TempPathFactory, embedder: HashEmbedder) -> Iterator[KnowledgeRuntime]:
    """A small knowledge base (two curriculum chapters) shared by the session; uploads add to it."""
    store = EdgeStore(tmp_path_factory.mktemp("vectors") / "shard", embedder.dim)
    ingestor = Ingestor(store, embedder, IngestSettings(chunk_tokens=200, chunk_overlap=20))
    curriculum = ROOT / "knowledge" / "curriculum"
    for rel in CHAPTERS:
        result = ingestor.ingest_file(curriculum / rel, rel)
        assert result.status == "ingested", result
    runtime = KnowledgeRuntime(None, embedder, store, KnowledgeBase(store, embedder))  # type: ignore[arg-type]
    yield runtime
    store.close()


def make_settings(database_url: str, data_dir: Path, **overrides: Any) -> PlatformSettings:
    values: dict[str, Any] = {
        "environment": "test",
        "data_dir": data_dir,
        "database_url": database_url,
        "jwt_secret": TEST_JWT_SECRET,
        "bcrypt_rounds": 4,
        "rate_limit_login": "1000/minute",
        "rate_limit_register": "1000/minute",
        "rate_limit_api": "10000/minute",
        "rate_limit_chat": "1000/minute",
        "log_level": "WARNING",
        "ingest_worker": True,
        # No retention thread: a module's app may outlive its first run and delete the rows a test aged on purpose.
        "retention_interval_hours": 0,
    }
    values.update(overrides)
    return PlatformSettings(**values)


def _clean(platform: Platform) -> None:
    with unit_of_work(platform.sessions) as db:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name == "courses":
                db.execute(delete(Course).where(Course.source != "curriculum"))
            else:
                db.execute(table.delete())


@dataclass
class Api:
    """The test client of one app, with helpers to make users and sign requests."""

    client: TestClient
    platform: Platform
    mailer: ConsoleMailSender
    backend: str
    tokens: dict[str, str] = field(default_factory=dict)

    def user(self, role: str, email: str | None = None, level: str | None = "terminale", **extra: Any) -> User:
        """A user made directly in the database (fast), with an access token in ``tokens``."""
        email = email or f"{role}-{secrets.token_hex(4)}@exemple.fr"
        data = user_schemas.UserCreate(
            email=email,
            password=PASSWORD,
            first_name=extra.get("first_name", role.capitalize()),
            last_name=extra.get("last_name", "Test"),
            role=role,  # type: ignore[arg-type]
            class_level=level if role == "student" else None,  # type: ignore[arg-type]
        )
        with unit_of_work(self.platform.sessions) as db:
            user = users.create_user(db, self.platform.settings, data)
        token, _ = self.platform.tokens.issue(user.id, "access", role=role)
        self.tokens[user.id] = token
        return user

    def auth(self, user: User | str) -> dict[str, str]:
        uid = user if isinstance(user, str) else user.id
        return {"Authorization": f"Bearer {self.tokens[uid]}"}

    def get(self, url: str, as_: User | None = None, **kw: Any) -> Any:
        return self.client.get(url, headers=self.auth(as_) if as_ else {}, **kw)

    def post(self, url: str, as_: User | None = None, **kw: Any) -> Any:
        return self.client.post(url, headers=self.auth(as_) if as_ else {}, **kw)

    def put(self, url: str, as_: User | None = None, **kw: Any) -> Any:
        return self.client.put(url, headers=self.auth(as_) if as_ else {}, **kw)

    def patch(self, url: str, as_: User | None = None, **kw: Any) -> Any:
        return self.client.patch(url, headers=self.auth(as_) if as_ else {}, **kw)

    def delete(self, url: str, as_: User | None = None, **kw: Any) -> Any:
        return self.client.delete(url, headers=self.auth(as_) if as_ else {}, **kw)

    def sql(self, statement: str) -> list[Any]:
        with unit_of_work(self.platform.sessions) as db:
            return list(db.execute(text(statement)).all())


@pytest.fixture
def backend(database_url: str) -> str:
    return "sqlite" if database_url.startswith("sqlite") else "postgresql"


@pytest.fixture(scope="module")
def shared_api(
    database_url: str, knowledge: KnowledgeRuntime, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Api]:
    """One app for a whole module (fast); pair it with ``clean_api``, which empties the tables after each test."""
    settings = make_settings(database_url, tmp_path_factory.mktemp("data"))
    mailer = ConsoleMailSender()
    app = create_app(settings, runtime=knowledge, mailer=mailer)
    with TestClient(app) as client:
        platform: Platform = app.state.platform
        yield Api(client, platform, mailer, "sqlite" if database_url.startswith("sqlite") else "postgresql")


@pytest.fixture
def clean_api(shared_api: Api) -> Iterator[Api]:
    shared_api.tokens.clear()
    yield shared_api
    _clean(shared_api.platform)


@pytest.fixture
def api_factory(database_url: str, knowledge: KnowledgeRuntime, tmp_path: Path) -> Iterator[Any]:
    """Build apps on the session's database; tables are emptied after the test (curriculum courses kept)."""
    opened: list[tuple[TestClient, Platform]] = []

    def make(**overrides: Any) -> Api:
        url = overrides.pop("database_url", database_url)
        settings = make_settings(url, tmp_path / "data", **overrides)
        mailer = ConsoleMailSender()
        app = create_app(settings, runtime=knowledge, mailer=mailer)
        client = TestClient(app, raise_server_exceptions=True)
        client.__enter__()
        platform: Platform = app.state.platform
        opened.append((client, platform))
        return Api(client, platform, mailer, "sqlite" if database_url.startswith("sqlite") else "postgresql")

    yield make
    for client, platform in opened:
        if platform.settings.database_url == database_url:
            _clean(platform)
        client.__exit__(None, None, None)


@pytest.fixture
def api(api_factory: Any) -> Api:
    result: Api = api_factory()
    return result
