"""Conversation memory: a store interface (in-memory here; the platform provides the SQL one) and the summary
of older turns that keeps prompts short."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Protocol

from tutor.types import Turn


class ConversationStore(Protocol):
    """Where a session's messages are kept."""

    async def history(self, session_id: str) -> list[Turn]: ...

    async def append(self, session_id: str, turn: Turn) -> None: ...


class InMemoryConversationStore:
    """Sessions in a dict: the default for the CLI and tests."""

    def __init__(self) -> None:
        self._sessions: dict[str, list[Turn]] = defaultdict(list)

    async def history(self, session_id: str) -> list[Turn]:
        return list(self._sessions[session_id])

    async def append(self, session_id: str, turn: Turn) -> None:
        self._sessions[session_id].append(turn)


def split_history(history: Sequence[Turn], keep: int) -> tuple[str | None, list[Turn]]:
    """The last ``keep`` turns verbatim, and a one-paragraph French summary of the older ones."""
    if keep <= 0:
        recent: list[Turn] = []
        older = list(history)
    else:
        recent, older = list(history[-keep:]), list(history[:-keep])
    if not older:
        return None, recent
    asked = [t.content.strip().rstrip("?").strip() for t in older if t.role == "user"]
    summary = "Plus tôt dans la conversation, l'élève a demandé : " + " ; ".join(f"« {q[:120]} »" for q in asked) + "."
    return summary, recent
