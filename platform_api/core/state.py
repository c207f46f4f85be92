"""The long-lived clients of one app instance, built in the lifespan and handed out by dependencies."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from ingest.pipeline import Ingestor
from knowledge.factory import KnowledgeRuntime
from platform_api.core.config import PlatformSettings
from platform_api.core.events import EventBus, MemoryEventBus
from platform_api.core.mail import MailSender
from platform_api.core.metrics import Metrics
from platform_api.core.ratelimit import RateLimiter
from platform_api.core.security import TokenService


class JobDispatcher(Protocol):
    """Hands a queued ingestion job to the queue, inside the transaction that created it."""

    def dispatch(self, db: Session, job_id: str) -> None: ...


class PolledTable:
    """The in-process queue: the worker thread polls the ``ingestion_jobs`` table, nothing to hand over."""

    def dispatch(self, db: Session, job_id: str) -> None:  # noqa: ARG002 - the protocol's signature
        return None


@dataclass
class Platform:
    """Everything a request may need beyond its own data."""

    settings: PlatformSettings
    engine: Engine
    sessions: sessionmaker[Session]
    tokens: TokenService
    limiter: RateLimiter
    mailer: MailSender
    metrics: Metrics
    knowledge: KnowledgeRuntime
    ingestor: Ingestor
    tutor: Any  # tutor.engine.Tutor; typed loosely so tests may hand in a fake
    redis: Any = None  # redis.Redis when NEXUS_REDIS_URL is set
    events: EventBus = field(default_factory=MemoryEventBus)  # Redis pub/sub when NEXUS_REDIS_URL is set
    dispatcher: JobDispatcher = field(default_factory=PolledTable)  # procrastinate with NEXUS_QUEUE=procrastinate
