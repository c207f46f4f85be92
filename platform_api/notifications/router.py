"""``GET /api/events``: the caller's live events (ingestion progress, notifications) over Server-Sent Events."""

from __future__ import annotations

from collections.abc import AsyncIterable
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Query
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.sse import EventSourceResponse, ServerSentEvent

from platform_api.core.db import unit_of_work
from platform_api.core.deps import PlatformDep, user_from_token
from platform_api.core.errors import InvalidToken, Unauthenticated, responses
from platform_api.core.events import user_channel
from platform_api.core.state import Platform

router = APIRouter(prefix="/api/events", tags=["notifications"])
_bearer = HTTPBearer(auto_error=False)


def _user_id(platform: Platform, token: str) -> str:
    with unit_of_work(platform.sessions) as db:
        return user_from_token(db, platform, token).id


async def events_user(
    platform: PlatformDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    token: Annotated[str | None, Query(description="Access token, for EventSource clients that send no header")] = None,
) -> str:
    """The caller's id, from the Authorization header or ``?token=`` (browsers' EventSource sets no header)."""
    raw = credentials.credentials if credentials is not None else token
    if not raw:
        raise Unauthenticated()
    return await anyio.to_thread.run_sync(lambda: _user_id(platform, raw))


@router.get("", response_class=EventSourceResponse, responses=responses(Unauthenticated, InvalidToken))
async def stream_events(
    platform: PlatformDep, user_id: Annotated[str, Depends(events_user)]
) -> AsyncIterable[ServerSentEvent]:
    """Live events for the caller, from any API replica: ``ready`` once subscribed, then ``ingestion``
    (documentId, jobId, status, progress, total, percent) and ``notification`` (kind, message, at...).

    Delivery is at most once: what happened while the page was closed is read back from the REST routes.
    """
    async with platform.events.subscribe(user_channel(user_id)) as subscription:
        yield ServerSentEvent(event="ready", data={"userId": user_id})
        while True:  # ends when the client goes: the server cancels the stream (FastAPI sends keep-alive pings)
            event = await subscription.get()
            yield ServerSentEvent(event=str(event.get("type", "message")), data=event)
