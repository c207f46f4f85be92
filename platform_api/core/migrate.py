"""Run the Alembic migrations from code (``nexus migrate``, ``nexus init``, ``nexus serve``, tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

# Next to the packages in a source checkout; the container image copies it to its working directory (/app).
SOURCE_MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def find_migrations(cwd: Path | None = None) -> Path:
    """The Alembic folder: beside the packages (a checkout), else ``./migrations`` (an installed package)."""
    candidates = [SOURCE_MIGRATIONS, (cwd or Path.cwd()) / "migrations"]
    for folder in candidates:
        if (folder / "alembic.ini").is_file():
            return folder
    raise FileNotFoundError(
        "migrations/alembic.ini not found: run from the folder that holds `migrations/` (the image's /app). "
        f"Looked in: {', '.join(str(c) for c in candidates)}"
    )


def alembic_config(url: str) -> Config:
    cfg = Config(str(find_migrations() / "alembic.ini"))
    cfg.attributes["url"] = url
    cfg.attributes["configure_logger"] = False
    return cfg


def migrate(url: str) -> None:
    """Bring the database at ``url`` to the latest schema (idempotent)."""
    command.upgrade(alembic_config(url), "head")


def current_revision(url: str) -> str | None:
    """The revision the database is at (None for an empty database)."""
    from alembic.runtime.migration import MigrationContext

    from platform_api.core.db import build_engine

    engine = build_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
