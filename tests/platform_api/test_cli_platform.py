"""``nexus init`` (migrate, seed, first admin, ingest; idempotent, never waits without a terminal) and serve."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from typer.testing import CliRunner

import nexus_cli.main as cli
from platform_api.core.db import build_engine, build_sessionmaker, unit_of_work
from platform_api.courses.models import Course
from platform_api.users.models import User

runner = CliRunner()


@pytest.fixture
def init_env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("NEXUS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NEXUS_DATABASE_URL", database_url)
    monkeypatch.setenv("NEXUS_BCRYPT_ROUNDS", "4")
    monkeypatch.delenv("NEXUS_ADMIN_EMAIL", raising=False)
    monkeypatch.delenv("NEXUS_ADMIN_PASSWORD", raising=False)
    ingested: list[list[Path]] = []
    monkeypatch.setattr(cli, "ingest", lambda paths: ingested.append(paths))
    engine = build_engine(database_url)
    sessions = build_sessionmaker(engine)
    yield ingested, sessions
    with unit_of_work(sessions) as db:
        db.execute(delete(User))
    engine.dispose()


def admins(sessions: Any) -> list[str]:
    with unit_of_work(sessions) as db:
        return list(db.scalars(select(User.email).where(User.role == "admin")).all())


def test_init_without_a_terminal_never_waits(init_env: Any) -> None:
    ingested, sessions = init_env
    result = runner.invoke(cli.app, ["init"], input="")
    assert result.exit_code == 0, result.output
    assert "NEXUS_ADMIN_EMAIL" in result.output
    assert admins(sessions) == []
    assert ingested == [[Path(cli.__file__).resolve().parent.parent / "knowledge" / "curriculum"]]
    with unit_of_work(sessions) as db:
        assert db.scalar(select(func.count()).select_from(Course).where(Course.source == "curriculum")) == 14


def test_init_creates_the_admin_from_settings_and_is_idempotent(init_env: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    _, sessions = init_env
    monkeypatch.setenv("NEXUS_ADMIN_EMAIL", "Admin@Lycee.fr")
    monkeypatch.setenv("NEXUS_ADMIN_PASSWORD", "motdepasse1")
    first = runner.invoke(cli.app, ["init", "--skip-ingest"])
    assert first.exit_code == 0, first.output
    assert "créé" in first.output
    second = runner.invoke(cli.app, ["init", "--skip-ingest"])
    assert second.exit_code == 0, second.output
    assert "déjà présent" in second.output
    assert "0 créé(s)" in second.output
    assert admins(sessions) == ["admin@lycee.fr"]


def test_init_prompts_on_a_terminal(init_env: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    _, sessions = init_env
    monkeypatch.setattr(cli, "_interactive", lambda: True)
    result = runner.invoke(cli.app, ["init", "--skip-ingest"], input="chef@lycee.fr\nmotdepasse1\nmotdepasse1\n")
    assert result.exit_code == 0, result.output
    assert admins(sessions) == ["chef@lycee.fr"]
    weak = runner.invoke(
        cli.app, ["init", "--skip-ingest"], env={"NEXUS_ADMIN_EMAIL": "x@lycee.fr", "NEXUS_ADMIN_PASSWORD": "court"}
    )
    assert weak.exit_code == 1
    assert "administrateur non créé" in weak.output
    assert admins(sessions) == ["chef@lycee.fr"]


def test_serve_prints_the_url(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import uvicorn

    monkeypatch.setenv("NEXUS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NEXUS_DATABASE_URL", f"sqlite:///{tmp_path / 'serve.sqlite'}")
    configs: list[Any] = []
    monkeypatch.setattr(uvicorn.Server, "run", lambda server, *a, **kw: configs.append(server.config))
    result = runner.invoke(cli.app, ["serve", "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8123/" in result.output
    assert len(configs) == 1
    config = configs[0]
    assert (config.host, config.port, config.timeout_graceful_shutdown) == ("127.0.0.1", 8123, 25)
    # uvicorn's own access log would print `?token=` in clear: serve keeps ours
    assert config.access_log is False
    assert config.log_config is None


def test_migrate_brings_an_empty_database_to_head_then_does_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("NEXUS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NEXUS_DATABASE_URL", f"sqlite:///{tmp_path / 'migrate.sqlite'}")
    first = runner.invoke(cli.app, ["migrate"])
    assert first.exit_code == 0, first.output
    assert "vide →" in first.output
    second = runner.invoke(cli.app, ["migrate"])
    assert second.exit_code == 0, second.output
    assert "déjà à jour" in second.output


def test_migrations_are_found_in_the_working_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """An installed package has no migrations beside it: the image copies them to its working dir (/app)."""
    import shutil

    from platform_api.core import migrate

    shutil.copytree(migrate.SOURCE_MIGRATIONS, tmp_path / "app" / "migrations")
    monkeypatch.setattr(migrate, "SOURCE_MIGRATIONS", tmp_path / "site-packages" / "migrations")
    monkeypatch.chdir(tmp_path / "app")
    assert migrate.find_migrations() == tmp_path / "app" / "migrations"
    monkeypatch.setenv("NEXUS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NEXUS_DATABASE_URL", f"sqlite:///{tmp_path / 'image.sqlite'}")
    assert runner.invoke(cli.app, ["migrate"]).exit_code == 0
    monkeypatch.chdir(tmp_path)
    lost = runner.invoke(cli.app, ["migrate"])
    assert lost.exit_code == 1
    assert "migrations/alembic.ini not found" in lost.output


def test_worker_needs_the_production_queue(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NEXUS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NEXUS_DATABASE_URL", f"sqlite:///{tmp_path / 'w.sqlite'}")
    monkeypatch.delenv("NEXUS_QUEUE", raising=False)
    refused = runner.invoke(cli.app, ["worker"])
    assert refused.exit_code == 2
    assert "NEXUS_QUEUE=procrastinate" in refused.output
    monkeypatch.setenv("NEXUS_QUEUE", "procrastinate")
    invalid = runner.invoke(cli.app, ["worker"])
    assert invalid.exit_code == 2
    assert "PostgreSQL" in invalid.output


def test_worker_starts_with_the_concurrency_asked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from platform_api.documents import worker

    monkeypatch.setenv("NEXUS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NEXUS_DATABASE_URL", "postgresql+psycopg://aria@db.invalid/aria")
    monkeypatch.setenv("NEXUS_QUEUE", "procrastinate")
    calls: list[tuple[Any, Any]] = []
    monkeypatch.setattr(worker, "serve_worker", lambda settings, concurrency: calls.append((settings, concurrency)))
    result = runner.invoke(cli.app, ["worker", "--concurrency", "3"])
    assert result.exit_code == 0, result.output
    assert "3 tâche(s)" in result.output
    [(settings, concurrency)] = calls
    assert concurrency == 3
    assert settings.queue == "procrastinate"
