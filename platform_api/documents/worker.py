"""``nexus worker``: the ingestion worker process of the production queue (procrastinate on PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import structlog

from ingest.config import IngestSettings
from ingest.errors import IngestInterrupted
from ingest.isolation import POOL
from ingest.jobs import Handler, run_job
from ingest.pipeline import Ingestor
from knowledge.config import KnowledgeSettings
from knowledge.embedder import build_embedder
from knowledge.factory import open_knowledge
from platform_api.core.config import PlatformSettings
from platform_api.core.db import build_engine, build_sessionmaker
from platform_api.core.events import build_event_bus
from platform_api.core.logging import configure_logging
from platform_api.documents.queue import build_worker_app, run_worker
from platform_api.documents.repository import SqlJobQueue
from platform_api.documents.service import ingestion_handler

log = structlog.get_logger("platform_api.worker")


def job_runner(queue: SqlJobQueue, handler: Handler) -> Callable[[str], None]:
    """The body of the procrastinate task: claim the ``ingestion_jobs`` row, run it as the in-process worker does."""

    def handle(job_id: str) -> None:
        job = queue.claim_job(job_id)
        if job is None:  # deleted, or finished by an earlier delivery: at-least-once means "maybe twice"
            log.info("ingestion_job_skipped", job_id=job_id)
            return
        done = run_job(queue, handler, job)
        log.info("ingestion_job_done", job_id=job_id, status=done.status if done else None, attempts=job.attempts)
        if done is not None and done.status == "running":  # interrupted by a shutdown: procrastinate retries it
            raise IngestInterrupted(f"ingestion job {job_id} interrupted")

    return handle


def serve_worker(
    settings: PlatformSettings,
    concurrency: int | None = None,
    knowledge_settings: KnowledgeSettings | None = None,
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Open the knowledge base and the database, then run ingestion jobs until SIGINT or SIGTERM.

    The process publishes each job's progress and a notification at its end on the owner's event channel (Redis
    when configured), where whichever API replica serves the owner's page picks them up.
    """
    from platform_api.app import LockedEmbedder  # the embedder is shared by the worker's job threads

    if settings.queue != "procrastinate":
        raise ValueError(
            "`nexus worker` runs the production queue: set NEXUS_QUEUE=procrastinate (and a PostgreSQL "
            f"NEXUS_DATABASE_URL). Currently, NEXUS_QUEUE is {settings.queue}, whose jobs the API runs itself "
            "(NEXUS_INGEST_WORKER=true)"
        )
    configure_logging(settings.json_logs, settings.log_level)
    ks = knowledge_settings or KnowledgeSettings(data_dir=settings.data_dir)
    runtime = open_knowledge(ks, LockedEmbedder(build_embedder(ks)))
    engine = build_engine(settings.sqlalchemy_url)
    bus = build_event_bus(settings.redis_url, settings.redis_prefix, listen=False)
    ingest_settings = IngestSettings()
    queue = SqlJobQueue(build_sessionmaker(engine), events=bus, max_attempts=ingest_settings.ingest_max_attempts)
    handler = ingestion_handler(Ingestor(runtime.store, runtime.embedder, ingest_settings), queue)

    handle = job_runner(queue, handler)
    workers = concurrency or settings.worker_concurrency

    def ready() -> None:
        log.info("worker_ready", concurrency=workers, stalled_seconds=settings.worker_stalled_seconds)
        if on_ready is not None:
            on_ready()

    try:
        asyncio.run(run_worker(build_worker_app(settings, handle), settings, workers, ready))
    finally:
        POOL.shutdown()
        bus.close()
        engine.dispose()
        runtime.close()
