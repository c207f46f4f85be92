"""The web service: the platform API (auth, users, classes, courses, progress, assessments, documents, ARIA).

Long-lived clients are built once in the lifespan: the database engine, the knowledge runtime (embedder and
vector store), the tutor, the rate limiter (Redis or memory), the event bus (Redis pub/sub or memory), the job
dispatcher, the retention thread and, with the in-process queue, the ingestion worker thread (`nexus worker` runs
procrastinate jobs).
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from limits.storage import Storage

from ingest.config import IngestSettings
from ingest.isolation import POOL as PARSERS
from ingest.jobs import Worker
from ingest.pipeline import Ingestor
from knowledge.config import KnowledgeSettings
from knowledge.embedder import Embedder
from knowledge.factory import KnowledgeRuntime, open_knowledge
from platform_api.aria.router import router as aria_router
from platform_api.aria.router import ws_router as aria_ws_router
from platform_api.assessments.router import attempts_router
from platform_api.assessments.router import router as assessments_router
from platform_api.auth.router import router as auth_router
from platform_api.classes.router import router as classes_router
from platform_api.core.config import PlatformSettings
from platform_api.core.db import build_engine, build_sessionmaker
from platform_api.core.deps import ApiRateLimit
from platform_api.core.errors import install_error_handlers
from platform_api.core.events import build_event_bus
from platform_api.core.logging import configure_logging
from platform_api.core.mail import ConsoleMailSender, MailSender
from platform_api.core.metrics import Metrics
from platform_api.core.middleware import BodySizeLimitMiddleware, NulCharacterMiddleware, RequestContextMiddleware
from platform_api.core.ratelimit import RateLimiter
from platform_api.core.security import build_token_service
from platform_api.core.state import JobDispatcher, Platform, PolledTable
from platform_api.core.system import router as system_router
from platform_api.courses.router import router as courses_router
from platform_api.documents.repository import SqlJobQueue
from platform_api.documents.router import jobs_router
from platform_api.documents.router import router as documents_router
from platform_api.documents.service import ingestion_handler
from platform_api.notifications.router import router as notifications_router
from platform_api.progress.dashboard_router import router as dashboard_router
from platform_api.progress.router import router as progress_router
from platform_api.retention.service import RetentionScheduler, run_retention
from platform_api.users.router import links_router
from platform_api.users.router import router as users_router
from platform_api.web.router import install_web

API_ROUTERS = (
    auth_router,
    users_router,
    links_router,
    classes_router,
    courses_router,
    progress_router,
    dashboard_router,
    assessments_router,
    attempts_router,
    documents_router,
    jobs_router,
    aria_router,
    notifications_router,
)


class LockedEmbedder:
    """Serialises calls to an embedder shared by request threads and the ingestion worker."""

    def __init__(self, inner: Embedder) -> None:
        self._inner = inner
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def embed_documents(self, texts: Any) -> list[list[float]]:
        with self._lock:
            return self._inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        with self._lock:
            return self._inner.embed_query(text)

    def count_tokens(self, text: str) -> int:
        with self._lock:
            return self._inner.count_tokens(text)


def _open_knowledge(settings: KnowledgeSettings) -> KnowledgeRuntime:
    from knowledge.embedder import build_embedder

    embedder = LockedEmbedder(build_embedder(settings))
    return open_knowledge(settings, embedder)


def _default_tutor(runtime: KnowledgeRuntime) -> Any:
    from tutor.engine import Tutor

    return Tutor(runtime.kb)


def create_app(
    settings: PlatformSettings | None = None,
    *,
    knowledge_settings: KnowledgeSettings | None = None,
    runtime: KnowledgeRuntime | None = None,
    tutor: Any = None,
    tutor_factory: Callable[[KnowledgeRuntime], Any] | None = None,
    mailer: MailSender | None = None,
    limiter_storage: Storage | None = None,
) -> FastAPI:
    """Build the app; clients are opened in the lifespan (a knowledge runtime or tutor may be handed in by tests)."""
    settings = settings or PlatformSettings()
    metrics = Metrics()
    configure_logging(settings.json_logs, settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # First: a bad or unreadable signing key stops the start before anything is opened.
        tokens = await anyio.to_thread.run_sync(build_token_service, settings)
        owned = runtime is None
        if runtime is not None:
            rt = runtime
        else:
            rt = await anyio.to_thread.run_sync(
                _open_knowledge, knowledge_settings or KnowledgeSettings(data_dir=settings.data_dir)
            )
        engine = build_engine(settings.sqlalchemy_url)
        sessions = build_sessionmaker(engine)
        redis_client = None
        if settings.redis_url:
            import redis

            redis_client = redis.Redis.from_url(settings.redis_url, socket_timeout=2, socket_connect_timeout=2)
        # Events cross replicas through Redis pub/sub: one listener thread per process fans them out.
        events = build_event_bus(settings.redis_url, settings.redis_prefix)
        await anyio.to_thread.run_sync(events.start)
        dispatcher: JobDispatcher = PolledTable()
        if settings.queue == "procrastinate":
            from platform_api.documents.queue import ProcrastinateDispatch

            dispatcher = ProcrastinateDispatch(settings.sqlalchemy_url)
        ingestor = Ingestor(rt.store, rt.embedder, IngestSettings())
        platform = Platform(
            settings=settings,
            engine=engine,
            sessions=sessions,
            tokens=tokens,
            limiter=RateLimiter(settings, limiter_storage),
            mailer=mailer or ConsoleMailSender(redact=settings.environment == "production"),
            metrics=metrics,
            knowledge=rt,
            ingestor=ingestor,
            tutor=tutor or (tutor_factory or _default_tutor)(rt),
            redis=redis_client,
            events=events,
            dispatcher=dispatcher,
        )
        app.state.platform = platform
        app.state.knowledge = rt
        worker = None
        if settings.ingest_worker and settings.queue == "inprocess":  # procrastinate jobs run in `nexus worker`
            queue = SqlJobQueue(
                sessions,
                on_finish=lambda status: metrics.ingestion_jobs.labels(status).inc(),
                events=events,
                max_attempts=ingestor.settings.ingest_max_attempts,
            )
            # on shutdown (SIGTERM) the parsing child is killed: the server stops now, the job runs again later
            worker = Worker(queue, ingestion_handler(ingestor, queue), interrupt=PARSERS.shutdown)
            await anyio.to_thread.run_sync(worker.start)
        retention = None
        if settings.retention_interval_hours > 0:  # 0: a CronJob runs `nexus retention run` instead
            retention = RetentionScheduler(
                lambda: run_retention(sessions, engine, settings, ingestor, "schedule"),
                settings.retention_interval_hours * 3600,
            )
            retention.start()
        try:
            yield
        finally:
            if retention is not None:
                await anyio.to_thread.run_sync(retention.stop)
            if worker is not None:
                await anyio.to_thread.run_sync(worker.stop)
            if redis_client is not None:
                redis_client.close()
            await anyio.to_thread.run_sync(events.close)
            engine.dispose()
            if owned:
                rt.close()

    app = FastAPI(
        title="ARIA — Nexus Réussite",
        description="API de la plateforme Nexus Réussite : comptes, classes, cours, progression, évaluations, "
        "documents et ARIA, le tuteur NSI.",
        version="0.1.0",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.include_router(system_router)
    for router in API_ROUTERS:
        app.include_router(router, dependencies=[ApiRateLimit])
    app.include_router(aria_ws_router)
    install_web(app)
    if settings.cors_origin_list:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origin_list,
            allow_credentials=True,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After"],
        )
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_upload_bytes + 1_000_000)
    app.add_middleware(NulCharacterMiddleware)
    app.add_middleware(RequestContextMiddleware, metrics=metrics, hsts=settings.environment == "production")
    return app
