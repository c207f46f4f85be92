"""JSON shapes of ARIA, as in the published contract."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from pydantic import Field

from platform_api.core.schemas import ApiModel

SESSION_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
SESSION_ID_PATTERN_RE = re.compile(SESSION_ID_PATTERN)


class ChatContextIn(ApiModel):
    current_course: str | None = Field(None, max_length=64)
    user_level: str | None = Field(None, max_length=16)  # informative: the level used is the one on the profile
    hints_only: bool = False


class ChatIn(ApiModel):
    session_id: str | None = Field(None, pattern=SESSION_ID_PATTERN)
    message: str = Field(min_length=1, max_length=4000)
    context: ChatContextIn | None = None


class ChatOut(ApiModel):
    session_id: str
    response: str
    confidence: float
    sources: list[dict[str, Any]]
    metadata: dict[str, Any]
    refused: bool = False


class SessionOut(ApiModel):
    id: str
    title: str
    course_id: str | None
    message_count: int
    created_at: datetime
    updated_at: datetime


class MessageOut(ApiModel):
    id: str
    role: str
    content: str
    sources: list[dict[str, Any]]
    confidence: float | None
    metadata: dict[str, Any] = Field(default_factory=dict, validation_alias="meta")
    created_at: datetime


class SourceView(ApiModel):
    """The text of a cited section or PDF page, with the cited passage's offsets in it."""

    doc_id: str
    title: str
    source: str
    page: int | None
    section_path: list[str]
    text: str
    highlight: list[int] | None = None  # [start, end) of the cited passage in ``text``
    passages: int
