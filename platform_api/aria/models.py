"""ARIA conversations: sessions and their messages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from platform_api.core.db import Base, IdMixin, TimestampMixin, utcnow


class AriaSession(TimestampMixin, Base):
    __tablename__ = "aria_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    course_id: Mapped[str | None] = mapped_column(String(64))


class AriaMessage(IdMixin, Base):
    __tablename__ = "aria_messages"

    session_id: Mapped[str] = mapped_column(ForeignKey("aria_sessions.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # user | assistant
    content: Mapped[str] = mapped_column(Text)
    sources: Mapped[list[Any]] = mapped_column(default=list)
    confidence: Mapped[float | None] = mapped_column(Float)
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
