"""users.token_version: access tokens end at logout and at a password change or reset

Access tokens carry the user's ``token_version`` (claim ``ver``); logout and password changes bump it, and a
token whose version is not the user's current one is refused. Existing rows start at 0, the version of every
token issued before this revision (tokens without ``ver`` count as 0), so nobody is logged out by the upgrade.

Revision ID: a7c41e9d2b60
Revises: 5b7e2f9a1c3d
Create Date: 2026-12-02 10:45:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a7c41e9d2b60"
down_revision: str | None = "5b7e2f9a1c3d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("token_version", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("token_version")
