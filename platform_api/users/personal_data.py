"""SQL across domains for the erasure and export of one person's data."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from platform_api.aria.models import AriaMessage, AriaSession
from platform_api.assessments.models import AssessmentResult
from platform_api.auth.models import AuthToken
from platform_api.classes.models import ClassMember, SchoolClass
from platform_api.documents.models import Document, IngestionJob
from platform_api.progress.models import StudentProgress


def _row(obj: Any, *fields: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields:
        value = getattr(obj, f)
        out[f] = value.isoformat() if hasattr(value, "isoformat") else value
    return out


class PersonalDataRepository:
    def __init__(self, db: Session) -> None:
        self.db = db

    def documents(self, user_id: str) -> Sequence[Document]:
        return self.db.scalars(select(Document).where(Document.owner_id == user_id)).all()

    def delete_everything(self, user_id: str) -> None:
        """Delete rows explicitly (not only by cascade): the erasure must not depend on the database's settings."""
        sessions = select(AriaSession.id).where(AriaSession.user_id == user_id)
        self.db.execute(delete(AriaMessage).where(AriaMessage.session_id.in_(sessions)))
        self.db.execute(delete(AriaSession).where(AriaSession.user_id == user_id))
        self.db.execute(delete(AuthToken).where(AuthToken.user_id == user_id))
        self.db.execute(delete(StudentProgress).where(StudentProgress.user_id == user_id))
        self.db.execute(delete(AssessmentResult).where(AssessmentResult.student_id == user_id))
        docs = select(Document.id).where(Document.owner_id == user_id)
        self.db.execute(delete(IngestionJob).where(IngestionJob.document_id.in_(docs)))
        self.db.execute(delete(Document).where(Document.owner_id == user_id))
        self.db.execute(delete(ClassMember).where(ClassMember.student_id == user_id))
        self.db.flush()

    def export(self, user_id: str) -> dict[str, Any]:
        sessions = self.db.scalars(select(AriaSession).where(AriaSession.user_id == user_id)).all()
        messages = self.db.scalars(
            select(AriaMessage)
            .where(AriaMessage.session_id.in_([s.id for s in sessions]))
            .order_by(AriaMessage.created_at)
        ).all()
        by_session: dict[str, list[dict[str, Any]]] = {}
        for m in messages:
            by_session.setdefault(m.session_id, []).append(_row(m, "id", "role", "content", "sources", "created_at"))
        classes = self.db.scalars(
            select(SchoolClass)
            .join(ClassMember, ClassMember.class_id == SchoolClass.id)
            .where(ClassMember.student_id == user_id)
        ).all()
        return {
            "ariaSessions": [
                {**_row(s, "id", "title", "created_at", "updated_at"), "messages": by_session.get(s.id, [])}
                for s in sessions
            ],
            "progress": [
                _row(p, "course_id", "section_id", "status", "score", "visits", "opened_at", "completed_at")
                for p in self.db.scalars(select(StudentProgress).where(StudentProgress.user_id == user_id))
            ],
            "assessmentResults": [
                _row(
                    r,
                    "id",
                    "assessment_id",
                    "attempt_no",
                    "status",
                    "answers",
                    "score",
                    "max_score",
                    "feedback",
                    "started_at",
                    "submitted_at",
                )
                for r in self.db.scalars(select(AssessmentResult).where(AssessmentResult.student_id == user_id))
            ],
            "documents": [
                _row(d, "id", "filename", "title", "visibility", "class_ids", "status", "created_at")
                for d in self.documents(user_id)
            ],
            "classes": [_row(c, "id", "name", "level") for c in classes],
            "tokens": [
                _row(t, "kind", "created_at", "expires_at", "revoked_at")
                for t in self.db.scalars(select(AuthToken).where(AuthToken.user_id == user_id))
            ],
        }
