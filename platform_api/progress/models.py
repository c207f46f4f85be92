"""A student's progress per course and section."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from platform_api.core.db import Base, IdMixin, utcnow


class StudentProgress(IdMixin, Base):
    __tablename__ = "student_progress"
    __table_args__ = (UniqueConstraint("user_id", "course_id", "section_id", name="uq_student_progress_section"),)

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[str] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    section_id: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default="opened")  # opened | completed
    score: Mapped[float | None] = mapped_column(Float)  # best assessment score on this section, 0..1
    visits: Mapped[int] = mapped_column(Integer, default=1)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
