"""ARIA's engine: one async entry point that streams typed events, and a non-streaming helper on top.

Order of a stream: ``sources`` (what the answer may cite), ``token``... (the answer, citations checked as they
stream), then ``done`` (checked response, confidence, cited sources, metadata); a failure is a final ``error``.
Retrieval and every blocking call run before the first byte, in a worker thread.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence

import anyio

from knowledge.search import KnowledgeBase, SearchHit
from tutor import guardrails, prompts
from tutor.backends import AnswerBackend, AnswerRequest, OpenAIBackend, build_backend, words
from tutor.citations import CitationChecker
from tutor.config import TutorSettings
from tutor.injection import OutputFilter, sanitize_hits
from tutor.memory import split_history
from tutor.retrieval import Retrieved, Retriever, condense
from tutor.types import (
    ChatContext,
    DoneEvent,
    ErrorEvent,
    LearnerProfile,
    Source,
    SourcesEvent,
    TokenEvent,
    Turn,
    TutorEvent,
)

_HINTS = (
    "indice",
    "piste",
    "sans la solution",
    "sans me donner la réponse",
    "sans donner la réponse",
    "un coup de pouce",
)


def to_source(n: int, hit: SearchHit) -> Source:
    snippet = " ".join(hit.text.split())
    return Source(
        n=n,
        doc_id=hit.doc_id,
        source=hit.source,
        title=hit.title,
        section_path=hit.section_path,
        page=hit.page,
        snippet=snippet[:280] + ("…" if len(snippet) > 280 else ""),
        score=round(hit.score, 5),
        level=list(hit.payload.get("level") or []),
        course=hit.payload.get("course"),
        location=hit.location(),
    )


class Tutor:
    """ARIA: retrieve with the learner's policy, answer with a backend, check citations, refuse what it must.

    Args:
        kb: the knowledge base.
        settings: backend and retrieval settings.
        backend: an answer backend (built from the settings otherwise).

    Example:
        >>> tutor = Tutor(kb)
        >>> done = await tutor.answer("c'est quoi une pile ?", LearnerProfile(role="student", level="terminale"))
        >>> done.sources[0].title
        'Les piles'
    """

    def __init__(
        self, kb: KnowledgeBase, settings: TutorSettings | None = None, backend: AnswerBackend | None = None
    ) -> None:
        self.settings = settings or TutorSettings()
        self.retriever = Retriever(kb, self.settings)
        self.backend = backend or build_backend(self.settings)

    async def stream(
        self,
        question: str,
        profile: LearnerProfile,
        history: Sequence[Turn] = (),
        context: ChatContext | None = None,
    ) -> AsyncIterator[TutorEvent]:
        """Stream the answer to ``question`` as typed events."""
        started = time.perf_counter()
        question = question.strip()
        if not question:
            yield ErrorEvent("empty_question", "La question est vide : écris ta question sur la NSI.")
            return
        pending: tuple[CitationChecker, OutputFilter] | None = None  # what was checked but held back, if it fails
        try:
            verdict = guardrails.check(question)
            if verdict:
                async for event in self._refuse(verdict.category, started):
                    yield event
                return
            retrieved = await self._retrieve(question, profile, history, context)
            follow_up = retrieved.query != question  # the conversation so far was about NSI
            if retrieved.confidence < 0.25 and not follow_up and not guardrails.has_nsi_vocabulary(question):
                async for event in self._refuse("hors_sujet", started, retrieved):
                    yield event
                return
            # passages are untrusted quotations: what they say to the assistant goes before anyone reads them
            hits = sanitize_hits(retrieved.hits)
            sources = [to_source(n, hit) for n, hit in enumerate(hits, start=1)]
            before_llm = time.perf_counter() - started
            yield SourcesEvent(sources)
            summary, recent = split_history(history, self.settings.memory_turns)
            hints = (context.hints_only if context else False) or any(h in question.lower() for h in _HINTS)
            request = AnswerRequest(
                question=question,
                query=retrieved.query,
                profile=profile,
                hits=hits,
                recent=recent,
                summary=summary,
                out_of_level=retrieved.out_of_level,
                hints_only=hints,
                confident=retrieved.confidence >= self.settings.min_confidence,
            )
            checker = CitationChecker(set(range(1, len(sources) + 1)))
            output = OutputFilter(h.text for h in hits)
            pending = (checker, output)
            parts: list[str] = []
            first_token: float | None = None
            async for delta in self.backend.generate(request):
                clean = output.feed(checker.feed(delta))
                if clean:
                    first_token = first_token or time.perf_counter() - started
                    parts.append(clean)
                    yield TokenEvent(clean)
            pending = None
            tail = output.feed(checker.flush()) + output.flush()
            if tail:
                parts.append(tail)
                yield TokenEvent(tail)
            response = "".join(parts).strip()
            final = CitationChecker(checker.valid)  # the citations the output filter left
            final.feed(response)
            final.flush()
            cited = [sources[n - 1] for n in final.cited]
            yield DoneEvent(
                response=response,
                confidence=retrieved.confidence,
                sources=cited,
                metadata={
                    "responseTime": round(time.perf_counter() - started, 4),
                    "tokensUsed": sum(request.usage.values()),
                    "model": self.backend.model,
                    "timeToFirstToken": round(first_token or 0.0, 4),
                    "overheadBeforeLlm": round(before_llm, 4),
                    "query": retrieved.query,
                    "outOfLevel": retrieved.out_of_level,
                    "retrieval": {k: round(v, 4) for k, v in retrieved.timings.items()},
                },
            )
        except Exception as exc:  # a failure mid-stream ends with an error event, never a silent cut
            if pending:  # the words the output filter still held are checked and go first: the partial answer
                checker, output = pending
                tail = output.feed(checker.flush()) + output.flush()
                if tail.strip():
                    yield TokenEvent(tail)
            yield ErrorEvent(_error_code(exc), "ARIA n'a pas pu terminer sa réponse. Réessaie dans un instant.")

    async def answer(
        self,
        question: str,
        profile: LearnerProfile,
        history: Sequence[Turn] = (),
        context: ChatContext | None = None,
    ) -> DoneEvent:
        """The final event of :meth:`stream`; raises ``RuntimeError`` with the message of an error event."""
        async for event in self.stream(question, profile, history, context):
            if isinstance(event, DoneEvent):
                return event
            if isinstance(event, ErrorEvent):
                raise RuntimeError(f"{event.code}: {event.message}")
        raise RuntimeError("the stream ended without a final event")

    async def _retrieve(
        self, question: str, profile: LearnerProfile, history: Sequence[Turn], context: ChatContext | None
    ) -> Retrieved:
        if history and isinstance(self.backend, OpenAIBackend) and condense(question, history) != question:
            # a follow-up: the LLM writes the standalone question, rules are the fallback
            try:
                standalone = await self.backend.condense(question, history)
                return await anyio.to_thread.run_sync(lambda: self.retriever.retrieve(standalone, profile, (), context))
            except Exception:  # noqa: S110 - the rules below still give a usable query
                pass
        return await anyio.to_thread.run_sync(lambda: self.retriever.retrieve(question, profile, history, context))

    async def _refuse(
        self, category: str, started: float, retrieved: Retrieved | None = None
    ) -> AsyncIterator[TutorEvent]:
        yield SourcesEvent([])
        text = prompts.refusal(category)
        for piece in words(text):
            yield TokenEvent(piece)
        yield DoneEvent(
            response=text,
            confidence=retrieved.confidence if retrieved else 0.0,
            sources=[],
            metadata={
                "responseTime": round(time.perf_counter() - started, 4),
                "tokensUsed": 0,
                "model": "garde-fou",
                "refusal": category,
            },
            refused=True,
        )


def _error_code(exc: Exception) -> str:
    name = type(exc).__name__
    if "Timeout" in name:
        return "llm_timeout"
    if "Connection" in name:
        return "llm_unreachable"
    return "answer_failed"
