"""maintenance runs

One row per retention run (issue 15, minors' data): when it ran, how it was started, what it deleted (counts by
kind, never whose data), so the school can show that the documented periods are applied.

Revision ID: b4d18e6a9c27
Revises: a7c3e91d2f40
Create Date: 2026-12-04 18:40:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b4d18e6a9c27"
down_revision: str | None = "a7c3e91d2f40"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "maintenance_runs",
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maintenance_runs")),
    )
    with op.batch_alter_table("maintenance_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_maintenance_runs_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_maintenance_runs_started_at"), ["started_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("maintenance_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_maintenance_runs_started_at"))
        batch_op.drop_index(batch_op.f("ix_maintenance_runs_kind"))
    op.drop_table("maintenance_runs")
