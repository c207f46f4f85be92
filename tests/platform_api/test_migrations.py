"""Alembic: the migrations build the whole schema on SQLite and PostgreSQL, and match the models exactly."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from platform_api.core.db import build_engine
from platform_api.models import Base
from tests.platform_api.conftest import alembic_config


def test_upgrade_head_and_check(database_url: str) -> None:
    cfg = alembic_config(database_url)
    command.upgrade(cfg, "head")  # idempotent: already at head
    command.check(cfg)  # raises when autogenerate finds a difference between models and database
    engine = build_engine(database_url)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables
