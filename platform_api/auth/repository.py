"""SQL of stored tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from platform_api.auth.models import AuthToken


class TokenRepository:
    def __init__(self, db: Session) -> None:
        self.db = db

    def add(self, token: AuthToken) -> AuthToken:
        self.db.add(token)
        self.db.flush()
        return token

    def by_hash(self, kind: str, token_hash: str) -> AuthToken | None:
        return self.db.scalar(select(AuthToken).where(AuthToken.kind == kind, AuthToken.token_hash == token_hash))

    def revoke_family(self, family_id: str, when: datetime) -> None:
        self.db.execute(
            update(AuthToken)
            .where(AuthToken.family_id == family_id, AuthToken.revoked_at.is_(None))
            .values(revoked_at=when)
        )
        self.db.flush()

    def revoke_user(self, user_id: str, kind: str, when: datetime) -> None:
        self.db.execute(
            update(AuthToken)
            .where(AuthToken.user_id == user_id, AuthToken.kind == kind, AuthToken.revoked_at.is_(None))
            .values(revoked_at=when)
        )
        self.db.flush()
