"""class invitations

A teacher's enrolment by email becomes an invitation the student accepts (issue 15): one row per class and
address, stored whether or not an account has the address.

Revision ID: a7c3e91d2f40
Revises: 5b7e2f9a1c3d
Create Date: 2026-12-02 10:40:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a7c3e91d2f40"
down_revision: str | None = "a7c41e9d2b60"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "class_invitations",
        sa.Column("class_id", sa.String(length=32), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("invited_by", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["class_id"], ["classes.id"], name=op.f("fk_class_invitations_class_id_classes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["invited_by"], ["users.id"], name=op.f("fk_class_invitations_invited_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_class_invitations")),
        sa.UniqueConstraint("class_id", "email", name="uq_class_invitations_class_id_email"),
    )
    with op.batch_alter_table("class_invitations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_class_invitations_class_id"), ["class_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_class_invitations_email"), ["email"], unique=False)
        batch_op.create_index(batch_op.f("ix_class_invitations_invited_by"), ["invited_by"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("class_invitations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_class_invitations_invited_by"))
        batch_op.drop_index(batch_op.f("ix_class_invitations_email"))
        batch_op.drop_index(batch_op.f("ix_class_invitations_class_id"))
    op.drop_table("class_invitations")
