"""SQL across domains for the erasure and export of one person's data, and the map of which table holds whose data.

``PERSONAL_TABLES`` names every table of the metadata: how a person's rows are exported and erased, or why the
table holds nobody's data. ``tests/platform_api/test_personal_data.py`` fails when a table is missing from it, when
a table with a foreign key to ``users`` is marked not personal, and when an export or an erasure misses one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from platform_api.aria.models import AriaMessage, AriaSession
from platform_api.assessments.models import Assessment, AssessmentResult
from platform_api.auth.models import AuthToken
from platform_api.classes.models import ClassInvitation, ClassMember, SchoolClass
from platform_api.courses.models import Course
from platform_api.documents.models import Document, IngestionJob
from platform_api.progress.models import StudentProgress
from platform_api.users.models import ParentLink, StudentProfile


@dataclass(frozen=True)
class Personal:
    """A table with someone's rows: the export key (under ``data``, or ``user``) and what the erasure does."""

    export: str
    erasure: str


@dataclass(frozen=True)
class NotPersonal:
    """A table that holds nobody's data, and why."""

    reason: str


PERSONAL_TABLES: dict[str, Personal | NotPersonal] = {
    "users": Personal("user", "deleted"),
    "student_profiles": Personal("profile", "deleted"),
    "parent_links": Personal("parents", "deleted, as parent and as child (the export's `children` too)"),
    "auth_tokens": Personal("tokens", "deleted (refresh and password reset tokens; the export omits the hashes)"),
    "classes": Personal(
        "taughtClasses", "teacher_id set to NULL: the class stays with its students and another teacher"
    ),
    "class_members": Personal("classes", "deleted"),
    "class_invitations": Personal(
        "invitations", "addressed to the user's email: deleted; sent by the user: invited_by set to NULL"
    ),
    "courses": Personal("courses", "owner_id set to NULL: a teacher's course stays available to their classes"),
    "assessments": Personal("assessmentsCreated", "created_by set to NULL: the class keeps the assessment"),
    "assessment_results": Personal(
        "assessmentResults", "the user's attempts deleted; graded_by set to NULL on the attempts they graded"
    ),
    "student_progress": Personal("progress", "deleted"),
    "documents": Personal("documents", "deleted with their file, passages, vectors and cached embeddings"),
    "ingestion_jobs": Personal("ingestionJobs", "deleted with their documents"),
    "aria_sessions": Personal("ariaSessions", "deleted"),
    "aria_messages": Personal("ariaSessions", "deleted (exported inside each session)"),
    "maintenance_runs": NotPersonal("counts of what a retention run deleted, by kind; never whose data"),
}


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

    def delete_everything(self, user_id: str, email: str) -> None:
        """Delete rows explicitly (not only by cascade): the erasure must not depend on the database's settings."""
        sessions = select(AriaSession.id).where(AriaSession.user_id == user_id)
        self.db.execute(delete(AriaMessage).where(AriaMessage.session_id.in_(sessions)))
        self.db.execute(delete(AriaSession).where(AriaSession.user_id == user_id))
        self.db.execute(delete(AuthToken).where(AuthToken.user_id == user_id))
        self.db.execute(delete(StudentProgress).where(StudentProgress.user_id == user_id))
        self.db.execute(delete(AssessmentResult).where(AssessmentResult.student_id == user_id))
        self.db.execute(update(AssessmentResult).where(AssessmentResult.graded_by == user_id).values(graded_by=None))
        self.db.execute(update(Assessment).where(Assessment.created_by == user_id).values(created_by=None))
        docs = select(Document.id).where(Document.owner_id == user_id)
        self.db.execute(delete(IngestionJob).where(IngestionJob.document_id.in_(docs)))
        self.db.execute(delete(Document).where(Document.owner_id == user_id))
        self.db.execute(delete(ClassMember).where(ClassMember.student_id == user_id))
        self.db.execute(delete(ClassInvitation).where(ClassInvitation.email == email))
        self.db.execute(update(ClassInvitation).where(ClassInvitation.invited_by == user_id).values(invited_by=None))
        self.db.execute(update(SchoolClass).where(SchoolClass.teacher_id == user_id).values(teacher_id=None))
        self.db.execute(update(Course).where(Course.owner_id == user_id).values(owner_id=None))
        self.db.execute(
            delete(ParentLink).where(or_(ParentLink.parent_id == user_id, ParentLink.student_id == user_id))
        )
        self.db.execute(delete(StudentProfile).where(StudentProfile.user_id == user_id))
        self.db.flush()

    def export(self, user_id: str, email: str) -> dict[str, Any]:
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
        documents = self.documents(user_id)
        profile = self.db.get(StudentProfile, user_id)
        invitations = self.db.scalars(
            select(ClassInvitation)
            .where(or_(ClassInvitation.email == email, ClassInvitation.invited_by == user_id))
            .order_by(ClassInvitation.created_at)
        ).all()
        return {
            "profile": _row(profile, "class_level", "parent_code", "created_at") if profile else None,
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
                _row(d, "id", "filename", "title", "visibility", "class_ids", "status", "created_at") for d in documents
            ],
            "ingestionJobs": [
                _row(j, "id", "document_id", "status", "error", "attempts", "created_at", "updated_at")
                for j in self.db.scalars(
                    select(IngestionJob).where(IngestionJob.document_id.in_([d.id for d in documents]))
                )
            ],
            "classes": [_row(c, "id", "name", "level") for c in classes],
            "taughtClasses": [
                _row(c, "id", "name", "level", "school_year", "created_at")
                for c in self.db.scalars(select(SchoolClass).where(SchoolClass.teacher_id == user_id))
            ],
            "invitations": [
                {
                    **_row(i, "id", "class_id", "created_at", "expires_at"),
                    "direction": "received" if i.email == email else "sent",
                    "email": i.email,
                }
                for i in invitations
            ],
            "courses": [
                _row(c, "id", "title", "level", "published", "created_at")
                for c in self.db.scalars(select(Course).where(Course.owner_id == user_id))
            ],
            "assessmentsCreated": [
                _row(a, "id", "title", "type", "class_id", "published", "created_at")
                for a in self.db.scalars(select(Assessment).where(Assessment.created_by == user_id))
            ],
            "tokens": [
                _row(t, "kind", "created_at", "expires_at", "revoked_at")
                for t in self.db.scalars(select(AuthToken).where(AuthToken.user_id == user_id))
            ],
        }
