"""SQL of courses."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from platform_api.courses.models import Course


class CourseRepository:
    def __init__(self, db: Session) -> None:
        self.db = db

    def get(self, course_id: str) -> Course | None:
        return self.db.get(Course, course_id)

    def add(self, course: Course) -> Course:
        self.db.add(course)
        self.db.flush()
        return course

    def delete(self, course: Course) -> None:
        self.db.delete(course)
        self.db.flush()

    def by_ids(self, ids: Sequence[str]) -> dict[str, Course]:
        if not ids:
            return {}
        return {c.id: c for c in self.db.scalars(select(Course).where(Course.id.in_(ids))).all()}

    def page(
        self,
        visible: ColumnElement[bool],
        level: str | None,
        category: str | None,
        search: str | None,
        offset: int,
        limit: int,
    ) -> tuple[Sequence[Course], int]:
        conditions = [visible]
        if level:
            conditions.append(Course.level == level)
        if category:
            conditions.append(Course.category == category)
        if search:
            conditions.append(Course.title.ilike(f"%{search}%"))
        query = select(Course).where(and_(*conditions))
        total = self.db.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = self.db.scalars(query.order_by(Course.level, Course.category, Course.title).offset(offset).limit(limit))
        return rows.all(), total

    @staticmethod
    def visible_to(user_id: str | None, is_admin: bool) -> ColumnElement[bool]:
        if is_admin:
            return Course.id.is_not(None)
        if user_id is None:
            return Course.published.is_(True)
        return or_(Course.published.is_(True), Course.owner_id == user_id)

    def all_published(self) -> Sequence[Course]:
        return self.db.scalars(select(Course).where(Course.published.is_(True))).all()
