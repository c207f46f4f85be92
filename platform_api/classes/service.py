"""Classes: creation by teachers, students joining with a code or accepting an invitation sent to their email.

A teacher never enrols a student alone: adding by email sends an invitation that the student accepts (consent),
and the answer is the same whether or not an account has that address.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from platform_api.classes import schemas
from platform_api.classes.exceptions import ClassNotFound, InvalidJoinCode, InvitationNotFound, StudentNotFound
from platform_api.classes.models import ClassInvitation, ClassMember, SchoolClass
from platform_api.classes.repository import ClassRepository
from platform_api.core.db import utcnow
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


INVITATION_DAYS = 30


def invitation_sent(email: str, expires_at: datetime) -> schemas.InvitationSent:
    return schemas.InvitationSent(
        message=(
            f"Invitation envoyée à {email}. Si cette adresse est celle d'un compte élève, l'invitation apparaît dans "
            "son espace : l'élève rejoint la classe quand il l'accepte."
        ),
        email=email,
        expires_at=expires_at,
    )


def invite_by_email(db: Session, klass: SchoolClass, teacher: User, email: str) -> tuple[datetime, str | None]:
    """Invite an address into the class; the expiry and the id of the student to notify (if there is one).

    The invitation is stored for any address, so nothing the teacher sees depends on whether an account exists.
    """
    email = email.strip().lower()
    now = utcnow()
    expires = now + timedelta(days=INVITATION_DAYS)
    repo = ClassRepository(db)
    repo.delete_expired_invitations(now)
    student = UserRepository(db).by_email(email)
    is_student = student is not None and student.role == "student" and student.is_active
    if student is not None and is_student and repo.member(klass.id, student.id) is not None:
        return expires, None  # already in the class (and on the teacher's list)
    invitation = repo.invitation_to(klass.id, email)
    if invitation is None:
        try:
            with db.begin_nested():
                repo.add_invitation(
                    ClassInvitation(class_id=klass.id, email=email, invited_by=teacher.id, expires_at=expires)
                )
        except IntegrityError:  # the same invitation sent twice at once
            invitation = repo.invitation_to(klass.id, email)
    if invitation is not None:
        invitation.expires_at = expires
        invitation.invited_by = teacher.id
        db.flush()
    return expires, student.id if student is not None and is_student else None


def pending_invitations(db: Session, klass: SchoolClass) -> list[schemas.InvitationOut]:
    pending = ClassRepository(db).invitations_of_class(klass.id, utcnow())
    return [schemas.InvitationOut.model_validate(i) for i in pending]


def my_invitations(db: Session, student: User) -> list[schemas.MyInvitation]:
    repo = ClassRepository(db)
    rows = [
        (i, k) for i, k in repo.invitations_for_email(student.email, utcnow()) if repo.member(k.id, student.id) is None
    ]
    teachers = UserRepository(db)
    out = []
    for invitation, klass in rows:
        teacher = teachers.get(klass.teacher_id) if klass.teacher_id else None
        out.append(
            schemas.MyInvitation(
                id=invitation.id,
                class_id=klass.id,
                class_name=klass.name,
                level=klass.level,
                school_year=klass.school_year,
                teacher_name=f"{teacher.first_name} {teacher.last_name}" if teacher else None,
                created_at=invitation.created_at,
                expires_at=invitation.expires_at,
            )
        )
    return out


def _own_invitation(db: Session, student: User, invitation_id: str) -> ClassInvitation:
    invitation = ClassRepository(db).invitation(invitation_id)
    if invitation is None or invitation.email != student.email.lower() or invitation.expires_at <= utcnow():
        raise InvitationNotFound()
    return invitation


def _enrol(db: Session, class_id: str, student: User) -> None:
    """Make the student a member (idempotent, and safe when two requests do it at once)."""
    repo = ClassRepository(db)
    if repo.member(class_id, student.id) is None:
        try:
            with db.begin_nested():
                db.add(ClassMember(class_id=class_id, student_id=student.id))
        except IntegrityError:
            pass  # the other request made the membership
    invitation = repo.invitation_to(class_id, student.email.lower())
    if invitation is not None:
        repo.delete_invitation(invitation)


def accept_invitation(db: Session, student: User, invitation_id: str) -> SchoolClass:
    invitation = _own_invitation(db, student, invitation_id)
    klass = ClassRepository(db).get(invitation.class_id)
    if klass is None:
        raise InvitationNotFound()
    _enrol(db, klass.id, student)
    return klass


def decline_invitation(db: Session, student: User, invitation_id: str) -> None:
    ClassRepository(db).delete_invitation(_own_invitation(db, student, invitation_id))


def cancel_invitation(db: Session, klass: SchoolClass, invitation_id: str) -> None:
    repo = ClassRepository(db)
    invitation = repo.invitation(invitation_id)
    if invitation is None or invitation.class_id != klass.id:
        raise InvitationNotFound()
    repo.delete_invitation(invitation)


def join(db: Session, student: User, code: str) -> SchoolClass:
    klass = ClassRepository(db).by_code(code)
    if klass is None:
        raise InvalidJoinCode()
    _enrol(db, klass.id, student)
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
