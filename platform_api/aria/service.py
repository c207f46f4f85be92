"""ARIA in the platform: the learner profile from the token, sessions and messages, persistence of answers.

Everything that touches the database runs in a worker thread, before the first byte of a stream and after its
last one; the tutor streams in between. The question is committed before the first byte and its answer after the
last one, so a server killed mid-answer leaves the question alone in the session: later turns skip it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import anyio
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from knowledge.search import merge_chunks
from knowledge.store import Match
from platform_api.aria.exceptions import SessionNotFound, SourceNotFound
from platform_api.aria.models import AriaMessage, AriaSession
from platform_api.aria.repository import AriaRepository
from platform_api.aria.schemas import SourceView
from platform_api.assessments.service import hidden_answer_keys
from platform_api.classes.repository import ClassRepository
from platform_api.core.db import new_id, unit_of_work, utcnow
from platform_api.core.state import Platform
from platform_api.courses.repository import CourseRepository
from platform_api.users.models import User
from platform_api.users.repository import UserRepository
from tutor.retrieval import scope_for
from tutor.types import ChatContext, DoneEvent, ErrorEvent, LearnerProfile, SourcesEvent, TokenEvent, Turn, TutorEvent

HISTORY_MESSAGES = 20


@dataclass
class Prepared:
    """What a question needs before the tutor runs: who asks, where the answer goes, what came before."""

    user_id: str
    session_id: str
    question: str
    profile: LearnerProfile
    history: list[Turn]
    context: ChatContext | None
    asked_at: datetime
    question_id: str  # the question's stored message


@dataclass
class Outcome:
    """What the stream produced, to persist at its end (or when the client leaves)."""

    parts: list[str] = field(default_factory=list)
    done: DoneEvent | None = None
    error: ErrorEvent | None = None
    first_token_s: float | None = None


def learner_profile(db: Session, user: User) -> LearnerProfile:
    """Role, level, classes and hidden answer keys, from the database: never from the message."""
    classes = ClassRepository(db)
    hidden = hidden_answer_keys(db, user)
    if user.role == "student":
        profile = UserRepository(db).profile(user.id)
        level = profile.class_level if profile else None
        return LearnerProfile(
            role="student",
            user_id=user.id,
            level=level if level in ("premiere", "terminale") else None,  # type: ignore[arg-type]
            class_ids=tuple(classes.class_ids_of_student(user.id)),
            hidden_doc_ids=hidden,
        )
    if user.role == "teacher":
        return LearnerProfile(
            role="teacher", user_id=user.id, class_ids=tuple(c.id for c in classes.of_teacher(user.id))
        )
    if user.role == "admin":
        return LearnerProfile(role="admin", user_id=user.id)
    return LearnerProfile(role="parent", user_id=user.id, hidden_doc_ids=hidden)


def own_session(db: Session, user_id: str, session_id: str) -> AriaSession:
    session = AriaRepository(db).session(session_id)
    if session is None or session.user_id != user_id:
        raise SessionNotFound()
    return session


def prepare(
    db: Session,
    user: User,
    session_id: str | None,
    question: str,
    course_id: str | None = None,
    hints_only: bool = False,
) -> Prepared:
    """Get or create the caller's session (someone else's answers 404), build the profile, load the history."""
    repo = AriaRepository(db)
    session_id = session_id or new_id()
    session = repo.session(session_id)
    if session is None:
        try:
            with db.begin_nested():  # two first questions at once in the same new session: one insert wins
                session = repo.add_session(
                    AriaSession(id=session_id, user_id=user.id, title=_title(question), course_id=course_id)
                )
        except IntegrityError:
            session = repo.session(session_id)
    if session is None or session.user_id != user.id:
        raise SessionNotFound()
    kb_course = None
    if course_id:
        course = CourseRepository(db).get(course_id)
        kb_course = course.kb_course if course is not None and course.published else None
    history = answered_turns(repo.messages(session.id, HISTORY_MESSAGES))
    context = ChatContext(current_course=kb_course, hints_only=hints_only) if (kb_course or hints_only) else None
    profile = learner_profile(db, user)
    asked_at = utcnow()
    # Stored now, committed before the first byte: a crash mid-answer (kill -9) still leaves the question.
    stored = repo.add_message(
        AriaMessage(session_id=session.id, role="user", content=question.strip(), created_at=asked_at)
    )
    return Prepared(user.id, session.id, question.strip(), profile, history, context, asked_at, stored.id)


def answered_turns(messages: Sequence[AriaMessage]) -> list[Turn]:
    """The conversation as question-answer pairs, for the tutor's history.

    A question without an answer (its server was killed mid-answer, or it is still being answered in another
    tab) and an answer whose question fell out of the window are left out, so the history alternates user and
    assistant turns as chat templates require.
    """
    turns: list[Turn] = []
    pending: AriaMessage | None = None
    for message in messages:
        if message.role == "user":
            pending = message
        elif pending is not None:
            turns += [Turn(role="user", content=pending.content), Turn(role="assistant", content=message.content)]
            pending = None
    return turns


def _title(question: str) -> str:
    text = " ".join(question.split())
    return text[:80] + ("…" if len(text) > 80 else "")


def persist(db: Session, prepared: Prepared, outcome: Outcome, interrupted: bool = False) -> AriaMessage | None:
    """Store the answer after its question, so a session alternates question and answer.

    A failed answer stores nothing and removes its question (it can be asked again); an interrupted one stores
    what was streamed, marked as interrupted.
    """
    repo = AriaRepository(db)
    if outcome.done is None and not (interrupted and outcome.parts):
        repo.delete_message(prepared.question_id)
        return None
    session = repo.session(prepared.session_id)
    if session is None:  # the session was deleted meanwhile (account erased)
        return None
    now = max(utcnow(), prepared.asked_at + timedelta(microseconds=1))  # the answer always sorts after
    done = outcome.done
    meta: dict[str, Any] = dict(done.metadata) if done else {"interrupted": True}
    if done is not None and done.refused:
        meta["refused"] = True
    answer = repo.add_message(
        AriaMessage(
            session_id=session.id,
            role="assistant",
            content=done.response if done else "".join(outcome.parts),
            sources=[s.to_json() for s in done.sources] if done else [],
            confidence=done.confidence if done else None,
            meta=meta,
            created_at=now,
        )
    )
    session.updated_at = now
    return answer


async def run(platform: Platform, prepared: Prepared, outcome: Outcome, channel: str) -> AsyncIterator[TutorEvent]:
    """Stream the tutor's events, recording them in ``outcome``; persists when the stream ends or is cut."""
    started = anyio.current_time()
    finished = False
    try:
        async for event in platform.tutor.stream(
            prepared.question, prepared.profile, prepared.history, prepared.context
        ):
            if isinstance(event, TokenEvent):
                if outcome.first_token_s is None:
                    outcome.first_token_s = anyio.current_time() - started
                    platform.metrics.chat_ttft.labels(channel).observe(outcome.first_token_s)
                outcome.parts.append(event.text)
            elif isinstance(event, DoneEvent):
                outcome.done = event
            elif isinstance(event, ErrorEvent):
                outcome.error = event
            yield event
        finished = True
    finally:
        # Shielded: a client that leaves mid-stream cancels us, and the session must still end consistent.
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(lambda: save(platform, prepared, outcome, interrupted=not finished))
        label = (
            "interrupted"
            if not finished
            else "error"
            if outcome.error
            else "refused"
            if outcome.done and outcome.done.refused
            else "answered"
        )
        platform.metrics.chats.labels(channel, label).inc()


def save(platform: Platform, prepared: Prepared, outcome: Outcome, interrupted: bool) -> AriaMessage | None:
    with unit_of_work(platform.sessions) as db:
        return persist(db, prepared, outcome, interrupted)


def sources_json(event: SourcesEvent | DoneEvent) -> list[dict[str, Any]]:
    return [s.to_json() for s in event.sources]


MAX_SOURCE_CHUNKS = 2000


def source_view(
    platform: Platform,
    db: Session,
    user: User,
    doc_id: str,
    page: int | None,
    section: list[str],
    snippet: str | None,
) -> SourceView:
    """The cited page (PDF) or section of a document the caller may read, the cited passage located in it.

    Access is the caller's ARIA scope (public, their classes, their own uploads; no hidden answer keys), so a
    citation opens exactly what ARIA could have cited to them; anything else is :class:`SourceNotFound`.
    """
    scope = scope_for(learner_profile(db, user))
    flt = scope.to_filter().and_(Match("doc_id", doc_id))
    chunks = list(platform.knowledge.store.scroll(flt, MAX_SOURCE_CHUNKS))
    if chunks:
        newest = max(int(c.get("doc_version", 0)) for c in chunks)
        chunks = [c for c in chunks if int(c.get("doc_version", 0)) == newest]
    if page is not None:
        chunks = [c for c in chunks if c.get("page") == page]
    if section:
        chunks = [c for c in chunks if list(c.get("section_path") or [])[: len(section)] == section]
    if not chunks:
        raise SourceNotFound()
    chunks.sort(key=lambda c: (int(c.get("start") or 0), int(c.get("chunk_index") or 0)))
    text, spans = merge_chunks(chunks, None if page is not None else len(section))
    highlight = None
    wanted = " ".join((snippet or "").split()).rstrip("…").strip()
    if wanted:
        for chunk, span in zip(chunks, spans, strict=True):
            # a cited passage may be several chunks of one section merged: its snippet then runs past the first
            own = " ".join(str(chunk.get("text", "")).split())
            if own.startswith(wanted) or (own and wanted.startswith(own)):
                highlight = list(span)
                break
    first = chunks[0]
    return SourceView(
        doc_id=doc_id,
        title=str(first.get("title", "")),
        source=str(first.get("source", "")),
        page=page,
        section_path=section,
        text=text,
        highlight=highlight,
        passages=len(chunks),
    )
