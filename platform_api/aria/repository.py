"""SQL of ARIA sessions and messages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from platform_api.aria.models import AriaMessage, AriaSession


class AriaRepository:
    def __init__(self, db: Session) -> None:
        self.db = db

    def session(self, session_id: str) -> AriaSession | None:
        return self.db.get(AriaSession, session_id)

    def add_session(self, session: AriaSession) -> AriaSession:
        self.db.add(session)
        self.db.flush()
        return session

    def sessions_of(self, user_id: str, limit: int = 100) -> Sequence[AriaSession]:
        return self.db.scalars(
            select(AriaSession)
            .where(AriaSession.user_id == user_id)
            .order_by(AriaSession.updated_at.desc())
            .limit(limit)
        ).all()

    def message_counts(self, session_ids: Sequence[str]) -> dict[str, int]:
        if not session_ids:
            return {}
        rows = self.db.execute(
            select(AriaMessage.session_id, func.count())
            .where(AriaMessage.session_id.in_(session_ids))
            .group_by(AriaMessage.session_id)
        ).all()
        return {sid: int(n) for sid, n in rows}

    def messages(self, session_id: str, limit: int | None = None) -> list[AriaMessage]:
        """The session's messages in order; with ``limit``, only the last ones."""
        query = select(AriaMessage).where(AriaMessage.session_id == session_id)
        if limit is None:
            return list(self.db.scalars(query.order_by(AriaMessage.created_at, AriaMessage.id)).all())
        rows = self.db.scalars(query.order_by(AriaMessage.created_at.desc(), AriaMessage.id.desc()).limit(limit)).all()
        return list(reversed(rows))

    def add_message(self, message: AriaMessage) -> AriaMessage:
        self.db.add(message)
        self.db.flush()
        return message

    def delete_message(self, message_id: str) -> None:
        self.db.execute(delete(AriaMessage).where(AriaMessage.id == message_id))

    def answers_of_users(self, user_ids: Sequence[str], since: datetime, limit: int = 2000) -> Sequence[AriaMessage]:
        """ARIA's answers to these users since a date, newest first (their sources tell what was asked about)."""
        if not user_ids:
            return []
        return self.db.scalars(
            select(AriaMessage)
            .join(AriaSession, AriaSession.id == AriaMessage.session_id)
            .where(AriaSession.user_id.in_(user_ids), AriaMessage.role == "assistant", AriaMessage.created_at >= since)
            .order_by(AriaMessage.created_at.desc())
            .limit(limit)
        ).all()
