"""Retention runs: delete what is older than its documented period, physically, and record the run.

What goes (periods from the ``NEXUS_RETENTION_*`` settings, see the README's data map):

- ARIA messages older than ``retention_conversations_days``, and the conversations left empty and untouched since;
- uploaded documents older than ``retention_uploads_days``, through the document deletion path (file, passages,
  vectors, cached embeddings, jobs), so an expired upload is no longer searchable;
- finished ingestion jobs (their logs and errors) older than ``retention_jobs_days``;
- refresh and password-reset tokens and class invitations past their own expiry.

Each run also compacts the embedded vector store, so the text of the documents deleted since the last run (by
their owners or by this run) leaves its files (``EdgeStore.compact``).

Run by a thread of the API process every ``retention_interval_hours`` (:class:`RetentionScheduler`) and by
``nexus retention run`` (a Kubernetes CronJob). Runs are idempotent: two replicas running at once only find less.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from ingest.pipeline import Ingestor
from knowledge.store import compact_store
from platform_api.core.config import PlatformSettings
from platform_api.core.db import scrub, unit_of_work, utcnow
from platform_api.documents.storage import remove_stored
from platform_api.retention.models import MaintenanceRun
from platform_api.retention.repository import RetentionRepository

log = structlog.get_logger("platform_api.retention")
FIRST_RUN_DELAY_S = 300.0  # after a start, let the API warm up (and tests finish) before the first run


@dataclass(frozen=True)
class Cutoffs:
    """Rows older than these instants are past their retention period."""

    conversations: datetime
    uploads: datetime
    jobs: datetime

    @classmethod
    def of(cls, settings: PlatformSettings, now: datetime) -> Cutoffs:
        return cls(
            conversations=now - timedelta(days=settings.retention_conversations_days),
            uploads=now - timedelta(days=settings.retention_uploads_days),
            jobs=now - timedelta(days=settings.retention_jobs_days),
        )


def _purge(db: Session, ingestor: Ingestor, upload_dir: Path, cutoffs: Cutoffs, now: datetime) -> dict[str, int]:
    repo = RetentionRepository(db)
    documents = repo.documents_before(cutoffs.uploads)
    for doc in documents:
        remove_stored(ingestor, upload_dir, doc)
        repo.delete_document(doc)
    # Every run (a no-op when nothing was deleted): what owners deleted since the last run leaves the files too.
    compact_store(ingestor.store)
    messages = repo.delete_messages_before(cutoffs.conversations)
    return {
        "documents": len(documents),
        "messages": messages,
        "sessions": repo.delete_empty_sessions_before(cutoffs.conversations),
        "jobs": repo.delete_finished_jobs_before(cutoffs.jobs),
        "tokens": repo.delete_expired_tokens(now),
        "invitations": repo.delete_expired_invitations(now),
    }


def run_retention(
    sessions: sessionmaker[Session],
    engine: Engine,
    settings: PlatformSettings,
    ingestor: Ingestor,
    trigger: str,
    now: datetime | None = None,
) -> MaintenanceRun:
    """One retention run, recorded in ``maintenance_runs`` (succeeded with its counts, or failed with the error)."""
    now = now or utcnow()
    with unit_of_work(sessions) as db:
        run = RetentionRepository(db).add_run(MaintenanceRun(kind="retention", trigger=trigger, started_at=now))
    counts: dict[str, Any] = {}
    error: str | None = None
    try:
        with unit_of_work(sessions) as db:
            counts = _purge(db, ingestor, settings.upload_dir, Cutoffs.of(settings, now), now)
        scrub(engine)
    except Exception as exc:  # recorded, and the next run tries again
        error = f"{type(exc).__name__}: {exc}"
        log.exception("retention_failed")
    with unit_of_work(sessions) as db:
        stored = RetentionRepository(db).get_run(run.id)
        assert stored is not None
        stored.status = "failed" if error else "succeeded"
        stored.counts, stored.error, stored.finished_at = counts, error, utcnow()
        db.flush()
        run = stored
    log.info("retention_run", trigger=trigger, status=run.status, **counts)
    return run


class RetentionScheduler:
    """A daemon thread that runs :func:`run_retention` every ``interval_s`` seconds until :meth:`stop`."""

    def __init__(self, run: Callable[[], object], interval_s: float, first_delay_s: float | None = None) -> None:
        if interval_s <= 0:
            raise ValueError(f"interval_s must be > 0. Currently, interval_s is {interval_s}")
        self._run, self.interval_s = run, interval_s
        self.first_delay_s = FIRST_RUN_DELAY_S if first_delay_s is None else first_delay_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="retention", daemon=True)

    def _loop(self) -> None:
        delay = self.first_delay_s
        while not self._stop.wait(delay):
            try:
                self._run()
            except Exception:  # a failed run is recorded by run_retention; the database may be down: go on
                log.exception("retention_run_crashed")
            delay = self.interval_s

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
