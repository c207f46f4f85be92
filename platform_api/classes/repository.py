"""SQL of classes and their members."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from platform_api.classes.models import ClassInvitation, ClassMember, SchoolClass
from platform_api.users.models import User


class ClassRepository:
    def __init__(self, db: Session) -> None:
        self.db = db

    def get(self, class_id: str) -> SchoolClass | None:
        return self.db.get(SchoolClass, class_id)

    def by_code(self, code: str) -> SchoolClass | None:
        return self.db.scalar(select(SchoolClass).where(SchoolClass.join_code == code.strip().upper()))

    def add(self, klass: SchoolClass) -> SchoolClass:
        self.db.add(klass)
        self.db.flush()
        return klass

    def delete(self, klass: SchoolClass) -> None:
        self.db.delete(klass)
        self.db.flush()

    def all(self) -> Sequence[SchoolClass]:
        return self.db.scalars(select(SchoolClass).order_by(SchoolClass.name, SchoolClass.id)).all()

    def of_teacher(self, teacher_id: str) -> Sequence[SchoolClass]:
        return self.db.scalars(
            select(SchoolClass).where(SchoolClass.teacher_id == teacher_id).order_by(SchoolClass.name, SchoolClass.id)
        ).all()

    def of_student(self, student_id: str) -> Sequence[SchoolClass]:
        return self.db.scalars(
            select(SchoolClass)
            .join(ClassMember, ClassMember.class_id == SchoolClass.id)
            .where(ClassMember.student_id == student_id)
            .order_by(SchoolClass.name, SchoolClass.id)
        ).all()

    def class_ids_of_student(self, student_id: str) -> list[str]:
        return list(self.db.scalars(select(ClassMember.class_id).where(ClassMember.student_id == student_id)).all())

    def member(self, class_id: str, student_id: str) -> ClassMember | None:
        return self.db.get(ClassMember, (class_id, student_id))

    def add_member(self, class_id: str, student_id: str) -> ClassMember:
        member = ClassMember(class_id=class_id, student_id=student_id)
        self.db.add(member)
        self.db.flush()
        return member

    def remove_member(self, member: ClassMember) -> None:
        self.db.delete(member)
        self.db.flush()

    def students(self, class_id: str) -> Sequence[User]:
        return self.db.scalars(
            select(User)
            .join(ClassMember, ClassMember.student_id == User.id)
            .where(ClassMember.class_id == class_id)
            .order_by(User.last_name, User.first_name, User.id)
        ).all()

    def member_counts(self, class_ids: Sequence[str]) -> dict[str, int]:
        if not class_ids:
            return {}
        rows = self.db.execute(
            select(ClassMember.class_id, func.count())
            .where(ClassMember.class_id.in_(class_ids))
            .group_by(ClassMember.class_id)
        ).all()
        return {cid: int(n) for cid, n in rows}

    def teaches_student(self, teacher_id: str, student_id: str) -> bool:
        found = self.db.scalar(
            select(ClassMember.student_id)
            .join(SchoolClass, SchoolClass.id == ClassMember.class_id)
            .where(SchoolClass.teacher_id == teacher_id, ClassMember.student_id == student_id)
            .limit(1)
        )
        return found is not None

    # invitations
    def invitation(self, invitation_id: str) -> ClassInvitation | None:
        return self.db.get(ClassInvitation, invitation_id)

    def invitation_to(self, class_id: str, email: str) -> ClassInvitation | None:
        return self.db.scalar(
            select(ClassInvitation).where(ClassInvitation.class_id == class_id, ClassInvitation.email == email)
        )

    def add_invitation(self, invitation: ClassInvitation) -> ClassInvitation:
        self.db.add(invitation)
        self.db.flush()
        return invitation

    def delete_invitation(self, invitation: ClassInvitation) -> None:
        self.db.delete(invitation)
        self.db.flush()

    def invitations_of_class(self, class_id: str, now: datetime) -> Sequence[ClassInvitation]:
        return self.db.scalars(
            select(ClassInvitation)
            .where(ClassInvitation.class_id == class_id, ClassInvitation.expires_at > now)
            .order_by(ClassInvitation.created_at, ClassInvitation.id)
        ).all()

    def invitations_for_email(self, email: str, now: datetime) -> Sequence[tuple[ClassInvitation, SchoolClass]]:
        rows = self.db.execute(
            select(ClassInvitation, SchoolClass)
            .join(SchoolClass, SchoolClass.id == ClassInvitation.class_id)
            .where(ClassInvitation.email == email, ClassInvitation.expires_at > now)
            .order_by(ClassInvitation.created_at, ClassInvitation.id)
        ).all()
        return [(invitation, klass) for invitation, klass in rows]

    def delete_expired_invitations(self, now: datetime) -> int:
        result = self.db.execute(delete(ClassInvitation).where(ClassInvitation.expires_at <= now))
        return int(getattr(result, "rowcount", 0) or 0)

    def delete_invitations_for_email(self, email: str) -> int:
        """Every invitation addressed to ``email`` (the erasure of that account)."""
        result = self.db.execute(delete(ClassInvitation).where(ClassInvitation.email == email))
        return int(getattr(result, "rowcount", 0) or 0)
