"""SQL of documents and ingestion jobs, and the job queue the ingestion worker runs on."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import structlog
from sqlalchemy import func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from ingest.jobs import Job, JobStatus, too_many_attempts
from platform_api.core.db import unit_of_work, utcnow
from platform_api.core.events import EventBus, user_channel
from platform_api.documents.models import Document, IngestionJob
from platform_api.notifications.service import ingestion_event, notification

log = structlog.get_logger("platform_api.jobs")


class DocumentRepository:
    def __init__(self, db: Session) -> None:
        self.db = db

    def get(self, doc_id: str) -> Document | None:
        return self.db.get(Document, doc_id)

    def add(self, doc: Document) -> Document:
        self.db.add(doc)
        self.db.flush()
        return doc

    def delete(self, doc: Document) -> None:
        self.db.delete(doc)
        self.db.flush()

    def of_owner(self, owner_id: str | None) -> Sequence[Document]:
        query = select(Document)
        if owner_id is not None:
            query = query.where(Document.owner_id == owner_id)
        return self.db.scalars(query.order_by(Document.created_at.desc())).all()

    def add_job(self, job: IngestionJob) -> IngestionJob:
        self.db.add(job)
        self.db.flush()
        return job

    def job(self, job_id: str) -> IngestionJob | None:
        return self.db.get(IngestionJob, job_id)

    def latest_job(self, doc_id: str) -> IngestionJob | None:
        return self.db.scalar(
            select(IngestionJob)
            .where(IngestionJob.document_id == doc_id)
            .order_by(IngestionJob.created_at.desc())
            .limit(1)
        )

    def job_counts(self) -> dict[str, int]:
        rows = self.db.execute(select(IngestionJob.status, func.count()).group_by(IngestionJob.status)).all()
        return {status: int(n) for status, n in rows}

    def recent_jobs(self, limit: int = 20) -> Sequence[tuple[IngestionJob, Document | None]]:
        """The latest jobs with their document (for the administrators' system page)."""
        rows = self.db.execute(
            select(IngestionJob, Document)
            .outerjoin(Document, Document.id == IngestionJob.document_id)
            .order_by(IngestionJob.created_at.desc())
            .limit(limit)
        ).all()
        return [(job, doc) for job, doc in rows]


def _job(row: IngestionJob) -> Job:
    return Job(
        id=row.id,
        params=dict(row.params),
        status=row.status,  # type: ignore[arg-type]
        progress=row.progress,
        total=row.total,
        error=row.error,
        result=row.result,
        attempts=row.attempts,
        created_at=row.created_at.isoformat(),
        updated_at=row.updated_at.isoformat(),
    )


class SqlJobQueue:
    """The ``ingest.jobs.JobQueue`` protocol over the platform's ``ingestion_jobs`` table.

    Each call is its own short transaction; on PostgreSQL ``claim`` uses ``FOR UPDATE SKIP LOCKED`` so
    several workers can share the table, on SQLite a conditional update does the same for one machine.
    ``claim_job`` takes one given job instead (the procrastinate task names it). Every change of a job is
    published, after its commit, to the document owner's event channel (progress, then a notification).
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        on_finish: Callable[[str], None] | None = None,
        events: EventBus | None = None,
        max_attempts: int = 3,
    ) -> None:
        self.sessions = sessions
        self.on_finish = on_finish
        self.events = events
        self.max_attempts = max_attempts  # runs of an interrupted job before it is failed for good

    def _publish(self, owner_id: str | None, event: dict[str, Any]) -> None:
        if self.events is not None and owner_id:
            self.events.publish(user_channel(owner_id), event)

    def _owner(self, session: Session, row: IngestionJob) -> str | None:
        doc = session.get(Document, row.document_id) if row.document_id else None
        return doc.owner_id if doc is not None else row.params.get("owner_id")

    def _changed(self, session: Session, row: IngestionJob) -> tuple[str | None, dict[str, Any]]:
        event = ingestion_event(row.document_id, row.id, row.status, row.progress, row.total, row.attempts)
        return self._owner(session, row), event

    def claim(self) -> Job | None:
        try:
            return self._claim()
        except SQLAlchemyError as exc:  # a database hiccup must not kill the worker thread: try again later
            log.warning("claim_failed", error=f"{type(exc).__name__}: {exc}"[:300])
            return None

    def _claim(self) -> Job | None:
        with unit_of_work(self.sessions) as session:
            query = (
                select(IngestionJob).where(IngestionJob.status == "queued").order_by(IngestionJob.created_at).limit(1)
            )
            if session.bind is not None and session.bind.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            row = session.scalar(query)
            if row is None:
                return None
            claimed = session.execute(
                update(IngestionJob)
                .where(IngestionJob.id == row.id, IngestionJob.status == "queued")
                .values(status="running", attempts=IngestionJob.attempts + 1, updated_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                return None  # another worker took it first
            session.refresh(row)
            if row.document_id:
                session.execute(update(Document).where(Document.id == row.document_id).values(status="processing"))
            job, changed = _job(row), self._changed(session, row)
        self._publish(*changed)
        return job

    def claim_job(self, job_id: str) -> Job | None:
        """Take this job (locked while it is marked running); None when it is gone or already finished.

        A job found ``running`` was interrupted (its worker died): the queue handed it over again, and it is
        run again from the start, which the idempotent pipeline allows.
        """
        with unit_of_work(self.sessions) as session:
            row = session.scalar(select(IngestionJob).where(IngestionJob.id == job_id).with_for_update())
            if row is None or row.status not in ("queued", "running"):
                return None
            exhausted = row.status == "running" and row.attempts >= self.max_attempts
            attempts = row.attempts
            if not exhausted:
                row.status = "running"
                row.attempts += 1
                row.progress = 0
                row.updated_at = utcnow()
                doc = session.get(Document, row.document_id) if row.document_id else None
                if doc is not None:
                    doc.status = "processing"
                session.flush()
                job, changed = _job(row), self._changed(session, row)
        if exhausted:  # its earlier runs all died with their worker: the file is the likely cause
            self._give_up(job_id, attempts)
            return None
        self._publish(*changed)
        return job

    def _give_up(self, job_id: str, attempts: int) -> None:
        reason = too_many_attempts(attempts)
        log.warning("ingestion_job_abandoned", job_id=job_id, attempts=attempts)
        self.finish(job_id, "failed", {"status": "failed", "code": "too_many_attempts", "reason": reason}, reason)

    def progress(self, job_id: str, done: int, total: int) -> None:
        try:
            self._progress(job_id, done, total)
        except StaleDataError:
            return  # deleted meanwhile, as in finish()

    def _progress(self, job_id: str, done: int, total: int) -> None:
        with unit_of_work(self.sessions) as session:
            row = session.get(IngestionJob, job_id)
            if row is None:
                return
            row.progress, row.total, row.updated_at = done, total, utcnow()
            session.flush()
            changed = self._changed(session, row)
        self._publish(*changed)

    def finish(self, job_id: str, status: JobStatus, result: dict[str, Any] | None, error: str | None) -> None:
        try:
            self._finish(job_id, status, result, error)
        except StaleDataError:
            return  # the document (and its job) was deleted between our read and our write: nothing to finish

    def _finish(self, job_id: str, status: JobStatus, result: dict[str, Any] | None, error: str | None) -> None:
        with unit_of_work(self.sessions) as session:
            row = session.get(IngestionJob, job_id)
            if row is None:
                return  # the document was deleted while it was being ingested
            row.status = status
            row.result = result
            row.error = error
            doc = session.get(Document, row.document_id) if row.document_id else None
            if doc is not None:
                doc.status = "ready" if status == "succeeded" else "failed"
                doc.chunks = int((result or {}).get("chunks") or 0) if status == "succeeded" else 0
                doc.error = error
                doc.error_code = (result or {}).get("code") if status == "failed" else None
            session.flush()
            owner, event = self._changed(session, row)
            note = _finished_notification(doc, status, error) if doc is not None else None
        self._publish(owner, event)
        if note is not None:
            self._publish(owner, note)
        if self.on_finish:
            self.on_finish(status)

    def requeue_interrupted(self) -> int:
        """Jobs left running by a crash go back to the queue, except those run ``max_attempts`` times: failed."""
        with unit_of_work(self.sessions) as session:
            exhausted = session.execute(
                select(IngestionJob.id, IngestionJob.attempts).where(
                    IngestionJob.status == "running", IngestionJob.attempts >= self.max_attempts
                )
            ).all()
        for job_id, attempts in exhausted:
            self._give_up(job_id, attempts)
        with unit_of_work(self.sessions) as session:
            done = session.execute(
                update(IngestionJob)
                .where(IngestionJob.status == "running")
                .values(status="queued", updated_at=utcnow())
            )
            return int(done.rowcount)  # type: ignore[attr-defined]

    def get(self, job_id: str) -> Job | None:
        with unit_of_work(self.sessions) as session:
            row = session.get(IngestionJob, job_id)
            return _job(row) if row else None

    def document_exists(self, doc_id: str) -> bool:
        with unit_of_work(self.sessions) as session:
            return session.get(Document, doc_id) is not None


def _finished_notification(doc: Document, status: str, error: str | None) -> dict[str, Any]:
    if status == "succeeded":
        return notification(
            "document_ready",
            f"« {doc.title} » est prêt : {doc.chunks} passage(s) dans la base de connaissances.",
            documentId=doc.id,
        )
    return notification(
        "document_failed", f"L'ingestion de « {doc.title} » a échoué : {error or 'erreur inconnue'}", documentId=doc.id
    )
