"""The tutor's public types: who asks, the conversation, the streamed events and the final answer."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Role = Literal["student", "parent", "teacher", "admin"]
Level = Literal["premiere", "terminale"]


@dataclass(frozen=True)
class LearnerProfile:
    """Who asks, from the authenticated user, never from the message."""

    role: Role
    user_id: str | None = None
    level: Level | None = None
    class_ids: tuple[str, ...] = ()
    # Documents whose answer keys a student must not see (assessments open to them); filled by the platform.
    hidden_doc_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChatContext:
    """Optional context of a question."""

    current_course: str | None = None
    hints_only: bool = False


@dataclass(frozen=True)
class Turn:
    """One message of the conversation."""

    role: Literal["user", "assistant"]
    content: str


@dataclass
class Source:
    """A cited passage, numbered as in the answer (``[n]``)."""

    n: int
    doc_id: str
    source: str
    title: str
    section_path: list[str]
    page: int | None
    snippet: str
    score: float
    level: list[str] = field(default_factory=list)
    course: str | None = None
    location: str | None = None  # "page 3", "diapositive 2", "cellule 5", with ", texte reconnu par OCR"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SourcesEvent:
    """Sent first: the passages the answer may cite."""

    sources: list[Source]
    type: Literal["sources"] = "sources"


@dataclass
class TokenEvent:
    """A piece of the answer text."""

    text: str
    type: Literal["token"] = "token"


@dataclass
class DoneEvent:
    """The end of an answer: the checked response, its confidence and the sources actually cited."""

    response: str
    confidence: float
    sources: list[Source]
    metadata: dict[str, Any]
    refused: bool = False
    type: Literal["done"] = "done"


@dataclass
class ErrorEvent:
    """A failure, as the last event of a stream (never a silent cut)."""

    code: str
    message: str
    type: Literal["error"] = "error"


TutorEvent = SourcesEvent | TokenEvent | DoneEvent | ErrorEvent
