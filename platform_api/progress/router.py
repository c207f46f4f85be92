"""Routes of progress."""

from __future__ import annotations

from fastapi import APIRouter

from platform_api.core.deps import CurrentUser, SessionDep, StudentUser
from platform_api.core.errors import Forbidden, NotFound, responses
from platform_api.courses.exceptions import CourseNotFound
from platform_api.courses.repository import CourseRepository
from platform_api.progress import schemas, service
from platform_api.progress.repository import ProgressRepository
from platform_api.users.policy import visible_student

router = APIRouter(prefix="/api/progress", tags=["progress"])


@router.post("", responses=responses(Forbidden, CourseNotFound, service.UnknownSection))
def update_progress(body: schemas.ProgressUpdate, user: StudentUser, db: SessionDep) -> schemas.ProgressDetail:
    """Record that the student opened a section (``completed``: finished it)."""
    row = service.record_visit(db, user, body)
    course = CourseRepository(db).get(row.course_id)
    assert course is not None
    rows = ProgressRepository(db).of_user(user.id, course.id)
    return schemas.ProgressDetail(
        course=service.summary(course, rows),
        sections=[schemas.SectionProgress.model_validate(r) for r in rows],
    )


@router.get("/me")
def my_progress(user: StudentUser, db: SessionDep) -> list[schemas.CourseProgress]:
    return service.summaries(db, ProgressRepository(db).of_user(user.id))


@router.get("/students/{student_id}", responses=responses(NotFound))
def student_progress(student_id: str, user: CurrentUser, db: SessionDep) -> list[schemas.CourseProgress]:
    """A student's progress: themself, their parents, their teachers, admins."""
    visible_student(db, user, student_id)
    return service.summaries(db, ProgressRepository(db).of_user(student_id))


@router.get("/students/{student_id}/courses/{course_id}", responses=responses(NotFound))
def student_course_progress(
    student_id: str, course_id: str, user: CurrentUser, db: SessionDep
) -> schemas.ProgressDetail:
    visible_student(db, user, student_id)
    course = CourseRepository(db).get(course_id)
    if course is None:
        raise CourseNotFound()
    rows = ProgressRepository(db).of_user(student_id, course_id)
    return schemas.ProgressDetail(
        course=service.summary(course, rows), sections=[schemas.SectionProgress.model_validate(r) for r in rows]
    )
