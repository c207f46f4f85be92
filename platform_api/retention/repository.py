"""SQL of the retention runs: what is past its period, and the record of each run."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, exists, select
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from platform_api.aria.models import AriaMessage, AriaSession
from platform_api.auth.models import AuthToken
from platform_api.classes.models import ClassInvitation
from platform_api.documents.models import Document, IngestionJob
from platform_api.retention.models import MaintenanceRun

FINISHED = ("succeeded", "failed")


def _count(result: object) -> int:
    return int(result.rowcount) if isinstance(result, CursorResult) else 0


class RetentionRepository:
    def __init__(self, db: Session) -> None:
        self.db = db

    def delete_messages_before(self, cutoff: datetime) -> int:
        return _count(self.db.execute(delete(AriaMessage).where(AriaMessage.created_at < cutoff)))

    def delete_empty_sessions_before(self, cutoff: datetime) -> int:
        """Conversations untouched since the cutoff whose every message is gone (their titles quote questions)."""
        has_messages = exists().where(AriaMessage.session_id == AriaSession.id)
        return _count(self.db.execute(delete(AriaSession).where(AriaSession.updated_at < cutoff, ~has_messages)))

    def documents_before(self, cutoff: datetime) -> Sequence[Document]:
        return self.db.scalars(select(Document).where(Document.created_at < cutoff).order_by(Document.created_at)).all()

    def delete_document(self, doc: Document) -> None:
        self.db.execute(delete(IngestionJob).where(IngestionJob.document_id == doc.id))
        self.db.delete(doc)
        self.db.flush()

    def delete_finished_jobs_before(self, cutoff: datetime) -> int:
        return _count(
            self.db.execute(
                delete(IngestionJob).where(IngestionJob.status.in_(FINISHED), IngestionJob.updated_at < cutoff)
            )
        )

    def delete_expired_tokens(self, now: datetime) -> int:
        """Refresh and reset tokens past their expiry: refused anyway, kept for nothing."""
        return _count(self.db.execute(delete(AuthToken).where(AuthToken.expires_at < now)))

    def delete_expired_invitations(self, now: datetime) -> int:
        return _count(self.db.execute(delete(ClassInvitation).where(ClassInvitation.expires_at < now)))

    def add_run(self, run: MaintenanceRun) -> MaintenanceRun:
        self.db.add(run)
        self.db.flush()
        return run

    def get_run(self, run_id: str) -> MaintenanceRun | None:
        return self.db.get(MaintenanceRun, run_id)

    def last_runs(self, limit: int = 10) -> Sequence[MaintenanceRun]:
        return self.db.scalars(select(MaintenanceRun).order_by(MaintenanceRun.started_at.desc()).limit(limit)).all()
