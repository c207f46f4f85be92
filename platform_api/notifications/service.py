"""Build and publish the events a person's page listens to (``GET /api/events``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from platform_api.core.db import utcnow
from platform_api.core.events import Event, EventBus, publish_after_commit, user_channel


def percent(progress: int, total: int, status: str) -> float:
    """Share of the passages embedded; 100 once the job succeeded (an unchanged document has nothing to embed)."""
    if total:
        return round(100 * progress / total, 1)
    return 100.0 if status == "succeeded" else 0.0


def ingestion_event(
    document_id: str | None, job_id: str, status: str, progress: int, total: int, attempts: int
) -> Event:
    """Where the ingestion of an upload stands (published by whichever process runs the job)."""
    return {
        "type": "ingestion",
        "documentId": document_id,
        "jobId": job_id,
        "status": status,
        "progress": progress,
        "total": total,
        "percent": percent(progress, total, status),
        "attempts": attempts,
    }


def notification(kind: str, message: str, **data: Any) -> Event:
    """Something a person should know about (``kind`` is a stable code, ``message`` French text)."""
    return {"type": "notification", "kind": kind, "message": message, "at": utcnow().isoformat(), **data}


def notify(bus: EventBus, user_id: str, kind: str, message: str, **data: Any) -> None:
    """Publish a notification now (the caller has committed what it is about)."""
    bus.publish(user_channel(user_id), notification(kind, message, **data))


def notify_after_commit(db: Session, bus: EventBus, user_id: str, kind: str, message: str, **data: Any) -> None:
    """Publish a notification when the request's transaction commits."""
    publish_after_commit(db, bus, user_channel(user_id), notification(kind, message, **data))
