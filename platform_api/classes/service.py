"""Classes: creation by teachers, students added by email or joining with a code."""

from __future__ import annotations

from sqlalchemy.orm import Session

from platform_api.classes import schemas
from platform_api.classes.exceptions import ClassNotFound, InvalidJoinCode, StudentNotFound
from platform_api.classes.models import SchoolClass
from platform_api.classes.repository import ClassRepository
from platform_api.users import service as users
from platform_api.users.models import User
from platform_api.users.repository import UserRepository


def manages(user: User, klass: SchoolClass) -> bool:
    return user.role == "admin" or (user.role == "teacher" and klass.teacher_id == user.id)


def managed_class(db: Session, user: User, class_id: str) -> SchoolClass:
    """A class the user teaches (or any, for admins); 404 otherwise."""
    klass = ClassRepository(db).get(class_id)
    if klass is None or not manages(user, klass):
        raise ClassNotFound()
    return klass


def visible_class(db: Session, user: User, class_id: str) -> SchoolClass:
    """A class the user teaches or belongs to (any, for admins); 404 otherwise."""
    repo = ClassRepository(db)
    klass = repo.get(class_id)
    if klass is None:
        raise ClassNotFound()
    if manages(user, klass) or (user.role == "student" and repo.member(class_id, user.id) is not None):
        return klass
    raise ClassNotFound()


def to_out(user: User, klass: SchoolClass, count: int) -> schemas.ClassOut:
    out = schemas.ClassOut.model_validate(klass)
    out.student_count = count
    if not manages(user, klass):
        out.join_code = None
    return out


def create(db: Session, user: User, data: schemas.ClassCreate) -> SchoolClass:
    return ClassRepository(db).add(
        SchoolClass(
            name=data.name.strip(),
            level=data.level,
            school_year=data.school_year,
            teacher_id=user.id,
            join_code=users.new_code(),
        )
    )


def update(db: Session, klass: SchoolClass, data: schemas.ClassUpdate) -> SchoolClass:
    for field in ("name", "level", "school_year"):
        value = getattr(data, field)
        if value is not None:
            setattr(klass, field, value)
    db.flush()
    return klass


def list_for(db: Session, user: User) -> list[SchoolClass]:
    repo = ClassRepository(db)
    if user.role == "admin":
        return list(repo.all())
    if user.role == "teacher":
        return list(repo.of_teacher(user.id))
    if user.role == "student":
        return list(repo.of_student(user.id))
    return []


def add_student_by_email(db: Session, klass: SchoolClass, email: str) -> User:
    student = UserRepository(db).by_email(email)
    if student is None or student.role != "student":
        raise StudentNotFound()
    repo = ClassRepository(db)
    if repo.member(klass.id, student.id) is None:
        repo.add_member(klass.id, student.id)
    return student


def join(db: Session, student: User, code: str) -> SchoolClass:
    repo = ClassRepository(db)
    klass = repo.by_code(code)
    if klass is None:
        raise InvalidJoinCode()
    if repo.member(klass.id, student.id) is None:
        repo.add_member(klass.id, student.id)
    return klass


def remove_student(db: Session, klass: SchoolClass, student_id: str) -> None:
    repo = ClassRepository(db)
    member = repo.member(klass.id, student_id)
    if member is None:
        raise StudentNotFound("Cet élève n'est pas dans la classe.")
    repo.remove_member(member)


def new_join_code(db: Session, klass: SchoolClass) -> SchoolClass:
    klass.join_code = users.new_code()
    db.flush()
    return klass
