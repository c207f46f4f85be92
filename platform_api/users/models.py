"""Users, student profiles and parent-child links."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from platform_api.core.db import Base, IdMixin, TimestampMixin, utcnow

ROLES = ("student", "parent", "teacher", "admin")


class User(IdMixin, TimestampMixin, Base):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(100))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16), index=True)
    phone: Mapped[str | None] = mapped_column(String(32))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_login_at: Mapped[datetime | None]
    # Carried by access tokens ("ver"); logout and password changes bump it, which ends every older access token.
    token_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    student_profile: Mapped[StudentProfile | None] = relationship(lazy="raise", uselist=False, viewonly=True)


class StudentProfile(TimestampMixin, Base):
    __tablename__ = "student_profiles"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    class_level: Mapped[str | None] = mapped_column(String(16))
    # A code the student gives a parent so the parent can link to them; regenerated on demand.
    parent_code: Mapped[str] = mapped_column(String(16), unique=True)


class ParentLink(Base):
    __tablename__ = "parent_links"

    parent_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    student_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
