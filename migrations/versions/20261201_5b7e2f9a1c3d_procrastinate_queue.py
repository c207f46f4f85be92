"""procrastinate queue (PostgreSQL only)

The tables, types and functions of procrastinate, the production ingestion queue (NEXUS_QUEUE=procrastinate), as
the installed procrastinate ships them (``procrastinate/sql/schema.sql``). SQLite databases get nothing: they
only ever use the in-process queue. When procrastinate is upgraded past a release that changes its schema, add a
revision that runs the new files of ``procrastinate/sql/migrations`` (procrastinate's own upgrade path).

Revision ID: 5b7e2f9a1c3d
Revises: c22491d6c815
Create Date: 2026-12-01 09:00:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "5b7e2f9a1c3d"
down_revision: str | None = "c22491d6c815"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DROP = r"""
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT p.oid::regprocedure AS signature FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate\_%'
    LOOP
        EXECUTE 'DROP FUNCTION IF EXISTS ' || r.signature || ' CASCADE';
    END LOOP;
END $$;
DROP TABLE IF EXISTS procrastinate_periodic_defers, procrastinate_events, procrastinate_jobs, procrastinate_workers
    CASCADE;
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT t.oid::regtype AS name FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
             WHERE n.nspname = current_schema() AND t.typname LIKE 'procrastinate\_%' AND t.typtype IN ('e', 'c')
    LOOP
        EXECUTE 'DROP TYPE IF EXISTS ' || r.name || ' CASCADE';
    END LOOP;
END $$;
"""


def _run_script(sql: str) -> None:
    # The driver's own connection, in Alembic's transaction: a multi-statement script with no bind parameters
    # (the schema contains `%` and `:` that a parameter parser would misread).
    op.get_bind().connection.driver_connection.execute(sql)  # type: ignore[union-attr]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    from procrastinate.schema import SchemaManager

    _run_script(SchemaManager.get_schema())


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _run_script(DROP)
