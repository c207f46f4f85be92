"""SQL of progress rows."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from platform_api.core.db import new_id, utcnow
from platform_api.progress.models import StudentProgress


class ProgressRepository:
    def __init__(self, db: Session) -> None:
        self.db = db

    def row(self, user_id: str, course_id: str, section_id: str) -> StudentProgress | None:
        return self.db.scalar(
            select(StudentProgress).where(
                StudentProgress.user_id == user_id,
                StudentProgress.course_id == course_id,
                StudentProgress.section_id == section_id,
            )
        )

    def ensure(self, user_id: str, course_id: str, section_id: str, visits: int = 1) -> tuple[StudentProgress, bool]:
        """The row, inserted when missing; safe when two requests race (INSERT ... ON CONFLICT DO NOTHING).

        Returns the row and whether this call created it.
        """
        dialect = self.db.get_bind().dialect.name
        insert_fn = postgresql_insert if dialect == "postgresql" else sqlite_insert
        now = utcnow()
        created = self.db.execute(
            insert_fn(StudentProgress)
            .values(
                id=new_id(),
                user_id=user_id,
                course_id=course_id,
                section_id=section_id,
                status="opened",
                visits=visits,
                opened_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["user_id", "course_id", "section_id"])
            .returning(StudentProgress.id)
        ).first()
        row = self.row(user_id, course_id, section_id)
        assert row is not None
        return row, created is not None

    def add(self, row: StudentProgress) -> StudentProgress:
        self.db.add(row)
        self.db.flush()
        return row

    def of_user(self, user_id: str, course_id: str | None = None) -> Sequence[StudentProgress]:
        query = select(StudentProgress).where(StudentProgress.user_id == user_id)
        if course_id:
            query = query.where(StudentProgress.course_id == course_id)
        return self.db.scalars(query.order_by(StudentProgress.updated_at.desc())).all()

    def of_users(self, user_ids: Sequence[str]) -> Sequence[StudentProgress]:
        if not user_ids:
            return []
        return self.db.scalars(select(StudentProgress).where(StudentProgress.user_id.in_(user_ids))).all()
