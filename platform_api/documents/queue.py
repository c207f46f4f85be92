"""The production ingestion queue: procrastinate on PostgreSQL, run by ``nexus worker`` (``NEXUS_QUEUE=procrastinate``).

Why procrastinate: the job is deferred on the connection of the request's transaction, so the document row, its
``ingestion_jobs`` row and the queue entry commit or roll back together (no lost job, no orphan); PostgreSQL is
already the platform's durable store, so there is no second broker to run, back up and secure (Redis here keeps
nothing on disk). Delivery is at least once: workers send heartbeats, and a job whose worker stopped beating for
``NEXUS_WORKER_STALLED_SECONDS`` (killed, OOM, node lost) is handed out again by any live worker. Running a job
twice is safe because the ingestion pipeline is idempotent (fingerprints, staged versions swapped in at the end).

The procrastinate job only names the ``ingestion_jobs`` row; status, progress and results stay in that table, as
with the in-process queue, and the same code runs the job (``ingest.jobs.run_job`` with the platform's handler).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    import procrastinate

    from platform_api.core.config import PlatformSettings

log = structlog.get_logger("platform_api.queue")

TASK = "ingest_document"
QUEUE = "ingestion"


def conninfo(sqlalchemy_url: str) -> str:
    """The libpq connection string of a SQLAlchemy URL (``postgresql+psycopg://`` -> ``postgresql://``)."""
    url = make_url(sqlalchemy_url)
    if url.get_backend_name() != "postgresql":
        raise ValueError(f"procrastinate needs PostgreSQL. Currently, the database URL is {url.get_backend_name()}")
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class ProcrastinateDispatch:
    """Defers the procrastinate job of an ``ingestion_jobs`` row in the transaction that created the row.

    Args:
        sqlalchemy_url: the platform's PostgreSQL URL (the connector is never opened: the request's own
            connection carries the insert).
    """

    def __init__(self, sqlalchemy_url: str) -> None:
        import procrastinate

        self.app = procrastinate.App(connector=procrastinate.SyncPsycopgConnector(conninfo=conninfo(sqlalchemy_url)))

    def dispatch(self, db: Session, job_id: str) -> None:
        connection = db.connection().connection.driver_connection
        deferrer = self.app.configure_task(TASK, queue=QUEUE, connection=connection)
        deferrer.defer(job_id=job_id)


def build_worker_app(settings: PlatformSettings, handle: Callable[[str], None]) -> procrastinate.App:
    """A procrastinate app with the ingestion task; ``handle(job_id)`` runs one ``ingestion_jobs`` row."""
    import procrastinate

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo(settings.sqlalchemy_url)))

    # retry: an exception here means the database was unreachable while recording the outcome (the ingestion's
    # own failures are recorded as a failed job and do not raise), so try again a little later.
    @app.task(name=TASK, queue=QUEUE, retry=procrastinate.RetryStrategy(max_attempts=5, exponential_wait=2))
    def ingest_document(job_id: str) -> None:
        handle(job_id)

    return app


async def retry_stalled_once(app: procrastinate.App, stalled_s: float) -> int:
    """Hand out again the jobs of workers that stopped sending heartbeats; returns how many."""
    import procrastinate.exceptions

    retried = 0
    for job in await app.job_manager.get_stalled_jobs(queue=QUEUE, seconds_since_heartbeat=stalled_s):
        try:
            await app.job_manager.retry_job(job)
        except procrastinate.exceptions.ConnectorException:
            continue  # another worker retried it first
        retried += 1
        log.warning("stalled_job_retried", procrastinate_job=job.id, task_kwargs=job.task_kwargs)
    return retried


async def retry_stalled_jobs(app: procrastinate.App, stalled_s: float, stop: asyncio.Event) -> None:
    """Every live worker sweeps for stalled jobs (at-least-once delivery), a few times per stalled period."""
    import procrastinate.exceptions

    while not stop.is_set():
        try:
            await retry_stalled_once(app, stalled_s)
        except procrastinate.exceptions.ConnectorException as exc:
            log.warning("stalled_job_check_failed", error=str(exc)[:200])
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=max(0.5, stalled_s / 3))


async def run_worker(app: procrastinate.App, settings: PlatformSettings, concurrency: int, ready: Any = None) -> None:
    """Run the worker until SIGINT/SIGTERM (running jobs are finished first), with the stalled-job sweeper."""
    stalled_s = settings.worker_stalled_seconds
    stop = asyncio.Event()
    async with app.open_async():
        sweeper = asyncio.create_task(retry_stalled_jobs(app, stalled_s, stop), name="retry-stalled-jobs")
        worker = asyncio.create_task(
            app.run_worker_async(
                queues=[QUEUE],
                concurrency=concurrency,
                name=f"{socket.gethostname()}-{os.getpid()}",
                update_heartbeat_interval=max(0.5, stalled_s / 3),
                stalled_worker_timeout=stalled_s,
                # The ingestion_jobs row keeps the outcome: a delivered job leaves no row behind; failed
                # deliveries (the database was unreachable 5 times) stay for `procrastinate` inspection.
                delete_jobs="successful",
                install_signal_handlers=True,
            ),
            name="procrastinate-worker",
        )
        if ready is not None:
            ready()
        try:
            await worker
        finally:
            stop.set()
            await sweeper
