"""SQL of users, student profiles and parent links."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from platform_api.users.models import ParentLink, StudentProfile, User


class UserRepository:
    def __init__(self, db: Session) -> None:
        self.db = db

    def get(self, user_id: str) -> User | None:
        return self.db.get(User, user_id)

    def by_email(self, email: str) -> User | None:
        return self.db.scalar(select(User).where(User.email == email.strip().lower()))

    def add(self, user: User) -> User:
        self.db.add(user)
        self.db.flush()
        return user

    def page(self, role: str | None, offset: int, limit: int) -> tuple[Sequence[User], int]:
        query = select(User)
        if role:
            query = query.where(User.role == role)
        total = self.db.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = self.db.scalars(query.order_by(User.created_at, User.id).offset(offset).limit(limit)).all()
        return rows, total

    def count_admins(self) -> int:
        return self.db.scalar(select(func.count()).where(User.role == "admin")) or 0

    def delete(self, user: User) -> None:
        self.db.delete(user)
        self.db.flush()

    # student profiles
    def profile(self, user_id: str) -> StudentProfile | None:
        return self.db.get(StudentProfile, user_id)

    def profiles(self, user_ids: Sequence[str]) -> dict[str, StudentProfile]:
        if not user_ids:
            return {}
        rows = self.db.scalars(select(StudentProfile).where(StudentProfile.user_id.in_(user_ids))).all()
        return {p.user_id: p for p in rows}

    def profile_by_code(self, code: str) -> StudentProfile | None:
        return self.db.scalar(select(StudentProfile).where(StudentProfile.parent_code == code.strip().upper()))

    def add_profile(self, profile: StudentProfile) -> StudentProfile:
        self.db.add(profile)
        self.db.flush()
        return profile

    # parent links
    def link(self, parent_id: str, student_id: str) -> ParentLink | None:
        return self.db.get(ParentLink, (parent_id, student_id))

    def add_link(self, parent_id: str, student_id: str) -> ParentLink:
        link = ParentLink(parent_id=parent_id, student_id=student_id)
        self.db.add(link)
        self.db.flush()
        return link

    def remove_link(self, link: ParentLink) -> None:
        self.db.delete(link)
        self.db.flush()

    def children(self, parent_id: str) -> Sequence[User]:
        return self.db.scalars(
            select(User)
            .join(ParentLink, ParentLink.student_id == User.id)
            .where(ParentLink.parent_id == parent_id)
            .order_by(User.first_name, User.id)
        ).all()

    def child_ids(self, parent_id: str) -> set[str]:
        return set(self.db.scalars(select(ParentLink.student_id).where(ParentLink.parent_id == parent_id)).all())

    def parents(self, student_id: str) -> Sequence[User]:
        return self.db.scalars(
            select(User).join(ParentLink, ParentLink.parent_id == User.id).where(ParentLink.student_id == student_id)
        ).all()
