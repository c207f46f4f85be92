"""Object-level access rules on people: who may see a user and a student's data.

Objects a caller may not see answer 404, as if they did not exist (ids are not an oracle).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from platform_api.classes.repository import ClassRepository
from platform_api.users.exceptions import UserNotFound
from platform_api.users.models import User
from platform_api.users.repository import UserRepository


def can_view_student_data(db: Session, viewer: User, student_id: str) -> bool:
    """Admins: all; a student: themself; a parent: their linked children; a teacher: their classes' students."""
    if viewer.role == "admin" or viewer.id == student_id:
        return True
    if viewer.role == "parent":
        return UserRepository(db).link(viewer.id, student_id) is not None
    if viewer.role == "teacher":
        return ClassRepository(db).teaches_student(viewer.id, student_id)
    return False


def visible_student(db: Session, viewer: User, student_id: str) -> User:
    """The student ``viewer`` may see, or :class:`UserNotFound`."""
    student = UserRepository(db).get(student_id)
    if student is None or student.role != "student" or not can_view_student_data(db, viewer, student_id):
        raise UserNotFound()
    return student


def visible_user(db: Session, viewer: User, user_id: str) -> User:
    """A user ``viewer`` may see: themself, or a student they may see; admins see everyone."""
    user = UserRepository(db).get(user_id)
    if user is None:
        raise UserNotFound()
    if viewer.role == "admin" or viewer.id == user.id:
        return user
    if user.role == "student" and can_view_student_data(db, viewer, user.id):
        return user
    raise UserNotFound()
