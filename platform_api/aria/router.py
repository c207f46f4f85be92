"""Routes of ARIA: chat (JSON), chat over SSE, chat over WebSocket, sessions and messages."""

from __future__ import annotations

import json
from collections.abc import AsyncIterable
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Query, Response, WebSocket, WebSocketDisconnect, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.sse import EventSourceResponse, ServerSentEvent

from platform_api.aria import schemas, service
from platform_api.aria.exceptions import AnswerFailed, SessionNotFound, SourceNotFound
from platform_api.aria.models import AriaSession
from platform_api.aria.repository import AriaRepository
from platform_api.core.db import unit_of_work, utcnow
from platform_api.core.deps import CurrentUser, PlatformDep, SessionDep, user_from_token
from platform_api.core.errors import AppError, InvalidToken, NotFound, RateLimited, Unauthenticated, responses
from platform_api.core.state import Platform
from platform_api.users.models import User
from platform_api.users.policy import visible_student
from tutor.types import DoneEvent, ErrorEvent, SourcesEvent, TokenEvent

router = APIRouter(prefix="/api/aria", tags=["aria"])
ws_router = APIRouter(tags=["aria"])
_bearer = HTTPBearer(auto_error=False)
WS_POLICY_VIOLATION = 1008


def _prepare_sync(platform: Platform, token: str, body: schemas.ChatIn) -> service.Prepared:
    ctx = body.context or schemas.ChatContextIn()
    with unit_of_work(platform.sessions) as db:
        user = user_from_token(db, platform, token)
        platform.limiter.hit("chat", f"user:{user.id}")
        return service.prepare(db, user, body.session_id, body.message, ctx.current_course, ctx.hints_only)


async def prepared_chat(
    body: schemas.ChatIn,
    platform: PlatformDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> service.Prepared:
    """Authenticate, rate-limit, load the session and the profile: all before the first byte."""
    if credentials is None:
        raise Unauthenticated()
    token = credentials.credentials
    return await anyio.to_thread.run_sync(lambda: _prepare_sync(platform, token, body))


PreparedChat = Annotated[service.Prepared, Depends(prepared_chat)]


@router.post("/chat", responses=responses(Unauthenticated, SessionNotFound, RateLimited, AnswerFailed))
async def chat(prepared: PreparedChat, platform: PlatformDep) -> schemas.ChatOut:
    """Ask ARIA and get the whole answer at once."""
    outcome = service.Outcome()
    async for _event in service.run(platform, prepared, outcome, "json"):
        pass
    if outcome.done is None:
        raise AnswerFailed(outcome.error.message if outcome.error else None)
    done = outcome.done
    return schemas.ChatOut(
        session_id=prepared.session_id,
        response=done.response,
        confidence=done.confidence,
        sources=service.sources_json(done),
        metadata=done.metadata,
        refused=done.refused,
    )


@router.post(
    "/chat/stream",
    response_class=EventSourceResponse,
    responses=responses(Unauthenticated, SessionNotFound, RateLimited),
)
async def chat_stream(prepared: PreparedChat, platform: PlatformDep) -> AsyncIterable[ServerSentEvent]:
    """Ask ARIA over Server-Sent Events: ``sources``, ``token``..., then ``done`` (or ``error``)."""
    outcome = service.Outcome()
    async for event in service.run(platform, prepared, outcome, "sse"):
        if isinstance(event, SourcesEvent):
            yield ServerSentEvent(
                event="sources", data={"sessionId": prepared.session_id, "sources": service.sources_json(event)}
            )
        elif isinstance(event, TokenEvent):
            yield ServerSentEvent(event="token", data={"text": event.text})
        elif isinstance(event, DoneEvent):
            yield ServerSentEvent(
                event="done",
                data={
                    "sessionId": prepared.session_id,
                    "response": event.response,
                    "confidence": event.confidence,
                    "sources": service.sources_json(event),
                    "metadata": event.metadata,
                    "refused": event.refused,
                },
            )
        elif isinstance(event, ErrorEvent):
            yield ServerSentEvent(event="error", data={"error": event.code, "detail": event.message})


@router.get("/sessions")
def list_sessions(user: CurrentUser, db: SessionDep) -> list[schemas.SessionOut]:
    """The caller's conversations, most recent first."""
    return _session_list(db, user.id)


def _session_list(db: SessionDep, user_id: str) -> list[schemas.SessionOut]:
    repo = AriaRepository(db)
    sessions = repo.sessions_of(user_id)
    counts = repo.message_counts([s.id for s in sessions])
    return [_session_out(s, counts.get(s.id, 0)) for s in sessions]


def _session_out(session: AriaSession, count: int) -> schemas.SessionOut:
    return schemas.SessionOut(
        id=session.id,
        title=session.title,
        course_id=session.course_id,
        message_count=count,
        created_at=session.created_at,
        updated_at=session.updated_at,
    )


@router.get("/sessions/{session_id}/messages", responses=responses(SessionNotFound))
def list_messages(session_id: str, user: CurrentUser, db: SessionDep) -> list[schemas.MessageOut]:
    """The messages of one of the caller's conversations (404 for anyone else's)."""
    session = service.own_session(db, user.id, session_id)
    return [schemas.MessageOut.model_validate(m) for m in AriaRepository(db).messages(session.id)]


@router.delete("/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT, responses=responses(SessionNotFound))
def delete_session(session_id: str, user: CurrentUser, db: SessionDep) -> Response:
    db.delete(service.own_session(db, user.id, session_id))
    db.flush()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/sources", responses=responses(SourceNotFound))
def read_source(
    user: CurrentUser,
    db: SessionDep,
    platform: PlatformDep,
    doc_id: Annotated[str, Query(alias="docId", min_length=1, max_length=255)],
    page: Annotated[int | None, Query(ge=1, le=100_000)] = None,
    section: Annotated[list[str] | None, Query(max_length=20)] = None,
    snippet: Annotated[str | None, Query(max_length=400)] = None,
) -> schemas.SourceView:
    """The section or PDF page a citation points to, with the cited passage located (what ARIA may cite only)."""
    return service.source_view(platform, db, user, doc_id, page, section or [], snippet)


@router.get("/students/{student_id}/sessions", responses=responses(NotFound))
def student_sessions(student_id: str, user: CurrentUser, db: SessionDep) -> list[schemas.SessionOut]:
    """Summaries (title, size, dates, no content) of a student's conversations, for their parents and teachers."""
    visible_student(db, user, student_id)
    return _session_list(db, student_id)


# WebSocket


def _ws_auth_sync(platform: Platform, token: str, session_id: str) -> str:
    with unit_of_work(platform.sessions) as db:
        user = user_from_token(db, platform, token)
        existing = AriaRepository(db).session(session_id)
        if existing is not None and existing.user_id != user.id:
            raise SessionNotFound()
        return user.id


def _ws_prepare_sync(
    platform: Platform, user_id: str, session_id: str, content: str, course: str | None
) -> service.Prepared:
    with unit_of_work(platform.sessions) as db:
        user = db.get(User, user_id)
        if user is None or not user.is_active:
            raise InvalidToken()
        platform.limiter.hit("chat", f"user:{user.id}")
        return service.prepare(db, user, session_id, content, course)


async def _first_token(websocket: WebSocket, wait_s: float) -> str | None:
    try:
        with anyio.fail_after(wait_s):
            message = await websocket.receive_text()
        data = json.loads(message)
    except (TimeoutError, WebSocketDisconnect, ValueError):
        return None
    if not isinstance(data, dict) or data.get("type") != "auth" or not isinstance(data.get("token"), str):
        return None
    return str(data["token"])


@ws_router.websocket("/ws/aria/{session_id}")
async def aria_websocket(websocket: WebSocket, session_id: str) -> None:
    """Chat over a WebSocket; authenticate with ``?token=`` or a first ``{"type": "auth", "token"}`` message."""
    platform: Platform = websocket.app.state.platform
    await websocket.accept()
    if not schemas.SESSION_ID_PATTERN_RE.match(session_id):
        await websocket.close(WS_POLICY_VIOLATION, "identifiant de conversation invalide")
        return
    token = websocket.query_params.get("token") or await _first_token(websocket, platform.settings.ws_auth_timeout_s)
    if not token:
        await websocket.close(WS_POLICY_VIOLATION, "authentification requise")
        return
    try:
        user_id = await anyio.to_thread.run_sync(lambda: _ws_auth_sync(platform, token, session_id))
    except AppError as exc:
        await websocket.close(WS_POLICY_VIOLATION, exc.code)
        return
    await websocket.send_json({"type": "connected", "sessionId": session_id})
    try:
        while True:
            await _ws_turn(websocket, platform, user_id, session_id)
    except WebSocketDisconnect:
        return


async def _ws_turn(websocket: WebSocket, platform: Platform, user_id: str, session_id: str) -> None:
    raw = await websocket.receive_text()
    try:
        data: Any = json.loads(raw)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        await websocket.send_json({"type": "error", "error": "invalid_message", "detail": "Message JSON attendu."})
        return
    if data.get("type") == "ping":
        await websocket.send_json({"type": "pong"})
        return
    content = data.get("content")
    if data.get("type") != "user_message" or not isinstance(content, str) or not content.strip() or len(content) > 4000:
        await websocket.send_json(
            {
                "type": "error",
                "error": "invalid_message",
                "detail": 'Envoie {"type": "user_message", "content": ta question} (4 000 caractères au plus).',
            }
        )
        return
    course = data.get("context", {}).get("currentCourse") if isinstance(data.get("context"), dict) else None
    try:
        prepared = await anyio.to_thread.run_sync(
            lambda: _ws_prepare_sync(
                platform, user_id, session_id, content, course if isinstance(course, str) else None
            )
        )
    except RateLimited as exc:
        await websocket.send_json(
            {"type": "error", "error": exc.code, "detail": exc.message, "retryAfter": exc.retry_after}
        )
        return
    except AppError as exc:
        await websocket.close(WS_POLICY_VIOLATION, exc.code)
        raise WebSocketDisconnect(WS_POLICY_VIOLATION) from exc
    await websocket.send_json({"type": "typing", "isTyping": True})
    outcome = service.Outcome()
    async for event in service.run(platform, prepared, outcome, "websocket"):
        if isinstance(event, SourcesEvent):
            await websocket.send_json({"type": "sources", "sources": service.sources_json(event)})
        elif isinstance(event, TokenEvent):
            await websocket.send_json({"type": "token", "content": event.text})
        elif isinstance(event, ErrorEvent):
            await websocket.send_json({"type": "error", "error": event.code, "detail": event.message})
    await websocket.send_json({"type": "typing", "isTyping": False})
    if outcome.done is not None:
        done = outcome.done
        await websocket.send_json(
            {
                "type": "ai_response",
                "sessionId": session_id,
                "content": done.response,
                "confidence": done.confidence,
                "sources": service.sources_json(done),
                "metadata": done.metadata,
                "refused": done.refused,
                "timestamp": utcnow().isoformat(),
            }
        )
