"""Ingestion jobs with a persisted status (queued, running, succeeded, failed), run by an in-process worker.

The status lives in a SQLite file of the data dir, so it survives a crash: jobs found ``running`` when a worker
starts were interrupted and go back to the queue; a failed job can be retried. Handlers are idempotent (the
pipeline skips unchanged documents and overwrites its own staged points), so running a job twice is safe.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from ingest.errors import IngestInterrupted

JobStatus = Literal["queued", "running", "succeeded", "failed"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS ingest_jobs (
    id TEXT PRIMARY KEY,
    params TEXT NOT NULL,
    status TEXT NOT NULL,
    progress INTEGER NOT NULL DEFAULT 0,
    total INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    result TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_ingest_jobs_status ON ingest_jobs (status, created_at);
"""


@dataclass
class Job:
    """One ingestion job as stored."""

    id: str
    params: dict[str, Any]
    status: JobStatus
    progress: int
    total: int
    error: str | None
    result: dict[str, Any] | None
    attempts: int
    created_at: str
    updated_at: str


def too_many_attempts(attempts: int) -> str:
    """The French reason of a job failed for good after ``attempts`` interrupted runs."""
    return (
        f"L'ingestion a été interrompue {attempts} fois (arrêt ou panne du serveur pendant le traitement) : "
        "le fichier en est sans doute la cause, elle n'est plus relancée automatiquement."
    )


def _now() -> str:
    return datetime.now(UTC).isoformat()


class JobStore:
    """Jobs in a SQLite file; safe to share between threads and processes on one machine.

    Args:
        path: the database file (its folder is created).
        max_attempts: runs of a job interrupted by a crash before it is failed instead of queued again.

    Example:
        >>> store = JobStore(tmp_path / "jobs.sqlite")
        >>> job = store.enqueue({"path": "cours.pdf"})
        >>> store.get(job.id).status
        'queued'
    """

    def __init__(self, path: Path, max_attempts: int = 3) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.max_attempts = max_attempts
        with closing(self._connect()) as db, db:
            db.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA journal_mode=WAL")
        return db

    def enqueue(self, params: dict[str, Any], job_id: str | None = None) -> Job:
        job_id = job_id or uuid.uuid4().hex
        now = _now()
        with closing(self._connect()) as db:
            db.execute(
                "INSERT INTO ingest_jobs (id, params, status, created_at, updated_at) VALUES (?, ?, 'queued', ?, ?)",
                (job_id, json.dumps(params), now, now),
            )
        job = self.get(job_id)
        assert job is not None
        return job

    def get(self, job_id: str) -> Job | None:
        with closing(self._connect()) as db:
            row = db.execute("SELECT * FROM ingest_jobs WHERE id = ?", (job_id,)).fetchone()
        return _job(row) if row else None

    def list(self, status: JobStatus | None = None, limit: int = 100) -> list[Job]:
        query = "SELECT * FROM ingest_jobs" + (" WHERE status = ?" if status else "") + " ORDER BY created_at LIMIT ?"
        args: tuple[Any, ...] = (status, limit) if status else (limit,)
        with closing(self._connect()) as db:
            return [_job(r) for r in db.execute(query, args).fetchall()]

    def claim(self) -> Job | None:
        """Take the oldest queued job and mark it running, atomically (BEGIN IMMEDIATE locks out other claimers)."""
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            row = db.execute(
                "SELECT id FROM ingest_jobs WHERE status = 'queued' ORDER BY created_at LIMIT 1"
            ).fetchone()
            if row is None:
                db.execute("COMMIT")
                return None
            db.execute(
                "UPDATE ingest_jobs SET status = 'running', attempts = attempts + 1, updated_at = ? WHERE id = ?",
                (_now(), row["id"]),
            )
            db.execute("COMMIT")
        return self.get(row["id"])

    def progress(self, job_id: str, done: int, total: int) -> None:
        with closing(self._connect()) as db:
            db.execute(
                "UPDATE ingest_jobs SET progress = ?, total = ?, updated_at = ? WHERE id = ?",
                (done, total, _now(), job_id),
            )

    def finish(self, job_id: str, status: JobStatus, result: dict[str, Any] | None, error: str | None) -> None:
        with closing(self._connect()) as db:
            db.execute(
                "UPDATE ingest_jobs SET status = ?, result = ?, error = ?, updated_at = ? WHERE id = ?",
                (status, json.dumps(result) if result is not None else None, error, _now(), job_id),
            )

    def requeue_interrupted(self) -> int:
        """Jobs left ``running`` by a crashed worker go back to the queue; returns how many.

        A job already run ``max_attempts`` times is failed instead: a file that kills its worker would otherwise
        kill every start.
        """
        now = _now()
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            for row in db.execute(
                "SELECT id, attempts FROM ingest_jobs WHERE status = 'running' AND attempts >= ?", (self.max_attempts,)
            ).fetchall():
                reason = too_many_attempts(row["attempts"])
                result = {"status": "failed", "code": "too_many_attempts", "reason": reason}
                db.execute(
                    "UPDATE ingest_jobs SET status = 'failed', error = ?, result = ?, updated_at = ? WHERE id = ?",
                    (reason, json.dumps(result), now, row["id"]),
                )
            cur = db.execute(
                "UPDATE ingest_jobs SET status = 'queued', updated_at = ? WHERE status = 'running'", (now,)
            )
            db.execute("COMMIT")
            return cur.rowcount

    def retry(self, job_id: str) -> bool:
        """Put a failed job back in the queue."""
        with closing(self._connect()) as db:
            cur = db.execute(
                "UPDATE ingest_jobs SET status = 'queued', error = NULL, progress = 0, attempts = 0, updated_at = ? "
                "WHERE id = ? AND status = 'failed'",
                (_now(), job_id),
            )
            return cur.rowcount == 1


def _job(row: sqlite3.Row) -> Job:
    return Job(
        id=row["id"],
        params=json.loads(row["params"]),
        status=row["status"],
        progress=row["progress"],
        total=row["total"],
        error=row["error"],
        result=json.loads(row["result"]) if row["result"] else None,
        attempts=row["attempts"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


Handler = Callable[[Job, Callable[[int, int], None]], dict[str, Any]]


class JobQueue(Protocol):
    """What a worker needs from where jobs are kept (this SQLite file, or the platform's SQL tables)."""

    def claim(self) -> Job | None: ...

    def progress(self, job_id: str, done: int, total: int) -> None: ...

    def finish(self, job_id: str, status: JobStatus, result: dict[str, Any] | None, error: str | None) -> None: ...

    def requeue_interrupted(self) -> int: ...

    def get(self, job_id: str) -> Job | None: ...


def run_job(store: JobQueue, handler: Handler, job: Job) -> Job | None:
    """Run one claimed job with the handler and record how it ended; the code every kind of worker shares.

    The handler returns a result dict; a result with ``status == "failed"`` or an exception fails the job.
    """
    try:
        result = handler(job, lambda done, total: store.progress(job.id, done, total))
    except IngestInterrupted:  # the service is stopping: left running, queued again at the next start
        return store.get(job.id)
    except Exception as exc:  # a job must never take the worker down with it
        store.finish(job.id, "failed", None, f"{type(exc).__name__}: {exc}")
    else:
        failed = result.get("status") == "failed"
        store.finish(job.id, "failed" if failed else "succeeded", result, result.get("reason"))
    return store.get(job.id)


class Worker:
    """Runs queued jobs with a handler; in a background thread (``start``) or until the queue is empty (``drain``).

    The handler returns a result dict; a result with ``status == "failed"`` or an exception fails the job.
    """

    def __init__(
        self,
        store: JobQueue,
        handler: Handler,
        poll_seconds: float = 0.5,
        interrupt: Callable[[], None] | None = None,
    ) -> None:
        self.store = store
        self.handler = handler
        self.poll_seconds = poll_seconds
        self.interrupt = interrupt  # called by stop() to end a running job now (kill the parsing child)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_one(self) -> Job | None:
        job = self.store.claim()
        if job is None:
            return None
        return run_job(self.store, self.handler, job)

    def drain(self) -> list[Job]:
        done = []
        while (job := self.run_one()) is not None:
            done.append(job)
        return done

    def start(self) -> None:
        self.store.requeue_interrupted()
        self._thread = threading.Thread(target=self._loop, name="ingest-worker", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            if self.run_one() is None:
                self._stop.wait(self.poll_seconds)

    def stop(self) -> None:
        self._stop.set()
        if self.interrupt is not None:
            self.interrupt()
        if self._thread:
            self._thread.join(timeout=30)
