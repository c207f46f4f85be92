"""Classes of a teacher and their students."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from platform_api.core.db import Base, IdMixin, TimestampMixin, utcnow


class SchoolClass(IdMixin, TimestampMixin, Base):
    __tablename__ = "classes"

    name: Mapped[str] = mapped_column(String(120))
    level: Mapped[str | None] = mapped_column(String(16))
    school_year: Mapped[str | None] = mapped_column(String(16))
    teacher_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    join_code: Mapped[str] = mapped_column(String(16), unique=True)


class ClassMember(Base):
    __tablename__ = "class_members"

    class_id: Mapped[str] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"), primary_key=True)
    student_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)


class ClassInvitation(IdMixin, Base):
    """A teacher's invitation of an email address into a class; it becomes a membership when the student accepts.

    Stored whether or not an account has this address (so the teacher's answer never says which), matched to the
    student by email when they read their invitations (an account made later sees it too).
    """

    __tablename__ = "class_invitations"
    __table_args__ = (UniqueConstraint("class_id", "email", name="uq_class_invitations_class_id_email"),)

    class_id: Mapped[str] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    invited_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
