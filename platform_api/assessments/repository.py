"""SQL of assessments and attempts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from platform_api.assessments.models import Assessment, AssessmentResult


class AssessmentRepository:
    def __init__(self, db: Session) -> None:
        self.db = db

    def get(self, assessment_id: str) -> Assessment | None:
        return self.db.get(Assessment, assessment_id)

    def add(self, assessment: Assessment) -> Assessment:
        self.db.add(assessment)
        self.db.flush()
        return assessment

    def delete(self, assessment: Assessment) -> None:
        self.db.delete(assessment)
        self.db.flush()

    def in_classes(self, class_ids: Sequence[str], published_only: bool) -> Sequence[Assessment]:
        if not class_ids:
            return []
        query = select(Assessment).where(Assessment.class_id.in_(class_ids))
        if published_only:
            query = query.where(Assessment.published.is_(True))
        return self.db.scalars(query.order_by(Assessment.created_at.desc())).all()

    def all(self) -> Sequence[Assessment]:
        return self.db.scalars(select(Assessment).order_by(Assessment.created_at.desc())).all()

    def unclosed_document_ids(self, class_ids: Sequence[str] | None, now: datetime) -> list[str]:
        """Documents attached to assessments not closed yet (drafts and not yet open included) in these classes;
        ``None``: in every class."""
        if class_ids is not None and not class_ids:
            return []
        query = select(Assessment.document_ids).where(or_(Assessment.closes_at.is_(None), Assessment.closes_at > now))
        if class_ids is not None:
            query = query.where(Assessment.class_id.in_(class_ids))
        return sorted({str(d) for ids in self.db.scalars(query).all() for d in ids or []})

    # attempts
    def attempt(self, attempt_id: str) -> AssessmentResult | None:
        return self.db.get(AssessmentResult, attempt_id)

    def add_attempt(self, attempt: AssessmentResult) -> AssessmentResult:
        self.db.add(attempt)
        self.db.flush()
        return attempt

    def attempts_of(self, assessment_id: str, student_id: str) -> Sequence[AssessmentResult]:
        return self.db.scalars(
            select(AssessmentResult)
            .where(AssessmentResult.assessment_id == assessment_id, AssessmentResult.student_id == student_id)
            .order_by(AssessmentResult.attempt_no)
        ).all()

    def attempts_for(self, assessment_ids: Sequence[str]) -> Sequence[AssessmentResult]:
        if not assessment_ids:
            return []
        return self.db.scalars(
            select(AssessmentResult)
            .where(AssessmentResult.assessment_id.in_(assessment_ids))
            .order_by(AssessmentResult.started_at)
        ).all()

    def results_of_student(self, student_id: str, limit: int = 50) -> Sequence[AssessmentResult]:
        return self.db.scalars(
            select(AssessmentResult)
            .where(AssessmentResult.student_id == student_id, AssessmentResult.submitted_at.is_not(None))
            .order_by(AssessmentResult.submitted_at.desc())
            .limit(limit)
        ).all()

    def count_attempts(self, assessment_id: str) -> int:
        return self.db.scalar(select(func.count()).where(AssessmentResult.assessment_id == assessment_id)) or 0

    def by_ids(self, ids: Sequence[str]) -> dict[str, Assessment]:
        if not ids:
            return {}
        return {a.id: a for a in self.db.scalars(select(Assessment).where(Assessment.id.in_(ids))).all()}
