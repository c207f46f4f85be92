"""Assessments (quiz, tp, exam, project) and their attempts with grades."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from platform_api.core.db import Base, IdMixin, TimestampMixin, utcnow


class Assessment(IdMixin, TimestampMixin, Base):
    __tablename__ = "assessments"

    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    type: Mapped[str] = mapped_column(String(16))  # quiz | tp | exam | project
    class_id: Mapped[str] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"), index=True)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    course_id: Mapped[str | None] = mapped_column(ForeignKey("courses.id", ondelete="SET NULL"))
    section_ids: Mapped[list[Any]] = mapped_column(default=list)
    document_ids: Mapped[list[Any]] = mapped_column(default=list)  # their answer keys are hidden from ARIA while open
    questions: Mapped[list[Any]] = mapped_column(default=list)
    time_limit_minutes: Mapped[int | None] = mapped_column(Integer)
    max_attempts: Mapped[int] = mapped_column(Integer, default=1)
    opens_at: Mapped[datetime | None]
    closes_at: Mapped[datetime | None]
    published: Mapped[bool] = mapped_column(Boolean, default=False)


class AssessmentResult(IdMixin, Base):
    """One attempt of a student at an assessment."""

    __tablename__ = "assessment_results"
    __table_args__ = (
        UniqueConstraint("assessment_id", "student_id", "attempt_no", name="uq_assessment_results_attempt"),
    )

    assessment_id: Mapped[str] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"), index=True)
    student_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    attempt_no: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="in_progress")  # in_progress | submitted | graded
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    grades: Mapped[dict[str, Any]] = mapped_column(default=dict)  # question id -> {points, max, correct, feedback}
    score: Mapped[float | None] = mapped_column(Float)
    max_score: Mapped[float] = mapped_column(Float, default=0.0)
    needs_grading: Mapped[bool] = mapped_column(Boolean, default=False)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    feedback: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    deadline_at: Mapped[datetime | None]
    submitted_at: Mapped[datetime | None]
    graded_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    graded_at: Mapped[datetime | None]
