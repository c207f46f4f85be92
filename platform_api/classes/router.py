"""Routes of classes."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from platform_api.classes import schemas, service
from platform_api.classes.exceptions import ClassNotFound, InvalidJoinCode, InvitationNotFound, StudentNotFound
from platform_api.classes.models import SchoolClass
from platform_api.classes.repository import ClassRepository
from platform_api.core.deps import CurrentUser, PlatformDep, SessionDep, StudentUser, TeacherUser
from platform_api.core.errors import Forbidden, responses
from platform_api.notifications.service import notify_after_commit
from platform_api.users import service as users
from platform_api.users.repository import UserRepository

router = APIRouter(prefix="/api/classes", tags=["classes"])


def _detail(db: SessionDep, user: CurrentUser, klass: SchoolClass) -> schemas.ClassDetail:
    repo = ClassRepository(db)
    students = repo.students(klass.id)
    out = schemas.ClassDetail.model_validate(service.to_out(user, klass, len(students)).model_dump())
    if service.manages(user, klass):
        profiles = UserRepository(db).profiles([s.id for s in students])
        out.students = [users.to_out(s, profiles.get(s.id)) for s in students]
        out.invitations = service.pending_invitations(db, klass)
    return out


@router.post("", status_code=status.HTTP_201_CREATED, responses=responses(Forbidden))
def create_class(body: schemas.ClassCreate, user: TeacherUser, db: SessionDep) -> schemas.ClassOut:
    klass = service.create(db, user, body)
    return service.to_out(user, klass, 0)


@router.get("")
def list_classes(user: CurrentUser, db: SessionDep) -> list[schemas.ClassOut]:
    """Teachers: their classes; students: the classes they belong to; admins: all."""
    classes = service.list_for(db, user)
    counts = ClassRepository(db).member_counts([c.id for c in classes])
    return [service.to_out(user, c, counts.get(c.id, 0)) for c in classes]


@router.post("/join", responses=responses(InvalidJoinCode, Forbidden))
def join_class(body: schemas.JoinClass, user: StudentUser, db: SessionDep) -> schemas.ClassOut:
    klass = service.join(db, user, body.join_code)
    return service.to_out(user, klass, len(ClassRepository(db).students(klass.id)))


@router.get("/invitations", responses=responses(Forbidden))
def my_invitations(user: StudentUser, db: SessionDep) -> list[schemas.MyInvitation]:
    """The invitations teachers sent to the student's email, to accept or decline."""
    return service.my_invitations(db, user)


@router.post("/invitations/{invitation_id}/accept", responses=responses(Forbidden, InvitationNotFound))
def accept_invitation(invitation_id: str, user: StudentUser, db: SessionDep) -> schemas.ClassOut:
    """Join the class of an invitation addressed to the student (their consent to the enrolment)."""
    klass = service.accept_invitation(db, user, invitation_id)
    return service.to_out(user, klass, len(ClassRepository(db).students(klass.id)))


@router.delete(
    "/invitations/{invitation_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=responses(Forbidden, InvitationNotFound),
)
def decline_invitation(invitation_id: str, user: StudentUser, db: SessionDep) -> Response:
    service.decline_invitation(db, user, invitation_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{class_id}", responses=responses(ClassNotFound))
def read_class(class_id: str, user: CurrentUser, db: SessionDep) -> schemas.ClassDetail:
    return _detail(db, user, service.visible_class(db, user, class_id))


@router.patch("/{class_id}", responses=responses(ClassNotFound))
def update_class(class_id: str, body: schemas.ClassUpdate, user: TeacherUser, db: SessionDep) -> schemas.ClassDetail:
    klass = service.update(db, service.managed_class(db, user, class_id), body)
    return _detail(db, user, klass)


@router.delete("/{class_id}", status_code=status.HTTP_204_NO_CONTENT, responses=responses(ClassNotFound))
def delete_class(class_id: str, user: TeacherUser, db: SessionDep) -> Response:
    ClassRepository(db).delete(service.managed_class(db, user, class_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{class_id}/join-code", responses=responses(ClassNotFound))
def regenerate_join_code(class_id: str, user: TeacherUser, db: SessionDep) -> schemas.ClassOut:
    klass = service.new_join_code(db, service.managed_class(db, user, class_id))
    return service.to_out(user, klass, len(ClassRepository(db).students(klass.id)))


@router.post("/{class_id}/students", status_code=status.HTTP_202_ACCEPTED, responses=responses(ClassNotFound))
def invite_student(
    class_id: str, body: schemas.AddStudent, user: TeacherUser, db: SessionDep, platform: PlatformDep
) -> schemas.InvitationSent:
    """Invite a student by email: they join the class when they accept. The answer is the same for any address."""
    klass = service.managed_class(db, user, class_id)
    email = str(body.email).strip().lower()
    expires, student_id = service.invite_by_email(db, klass, user, email)
    if student_id is not None:
        notify_after_commit(
            db,
            platform.events,
            student_id,
            "class_invitation",
            f"Tu es invité(e) dans la classe « {klass.name} » : accepte l'invitation pour la rejoindre.",
            classId=klass.id,
        )
    return service.invitation_sent(email, expires)


@router.delete(
    "/{class_id}/invitations/{invitation_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=responses(ClassNotFound, InvitationNotFound),
)
def cancel_invitation(class_id: str, invitation_id: str, user: TeacherUser, db: SessionDep) -> Response:
    service.cancel_invitation(db, service.managed_class(db, user, class_id), invitation_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete(
    "/{class_id}/students/{student_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=responses(ClassNotFound, StudentNotFound),
)
def remove_student(class_id: str, student_id: str, user: TeacherUser, db: SessionDep) -> Response:
    service.remove_student(db, service.managed_class(db, user, class_id), student_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
