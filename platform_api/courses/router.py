"""Routes of courses."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from platform_api.assessments.service import hidden_answer_keys
from platform_api.core.deps import CurrentUser, SessionDep, TeacherUser
from platform_api.core.errors import Forbidden, responses
from platform_api.courses import schemas, service
from platform_api.courses.exceptions import CourseNotFound, CourseReadOnly
from platform_api.courses.repository import CourseRepository

MAX_PAGE = 100_000  # far beyond any list; keeps the SQL offset a small integer (a 64-bit page number is a 500)

router = APIRouter(prefix="/api/courses", tags=["courses"])


@router.get("")
def list_courses(
    user: CurrentUser,
    db: SessionDep,
    level: Annotated[str | None, Query(pattern="^(premiere|terminale)$")] = None,
    category: Annotated[str | None, Query(max_length=64)] = None,
    search: Annotated[str | None, Query(max_length=100)] = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> schemas.CoursePage:
    """Published courses (and, for teachers, their drafts), filtered and paginated."""
    return service.list_courses(db, user, level, category, search, page, limit)


@router.get("/{course_id}", responses=responses(CourseNotFound))
def read_course(course_id: str, user: CurrentUser, db: SessionDep) -> schemas.CourseDetail:
    """A course with its chapters and sections (for a student, without the answer keys of an assessment's
    chapters until it closes)."""
    course = service.visible_course(db, user, course_id)
    return service.detail(course, hidden_answer_keys(db, user) if course.source == "curriculum" else ())


@router.post("", status_code=status.HTTP_201_CREATED, responses=responses(Forbidden))
def create_course(body: schemas.CourseCreate, user: TeacherUser, db: SessionDep) -> schemas.CourseDetail:
    """A new draft course owned by the teacher."""
    return service.detail(service.create(db, user, body))


@router.patch("/{course_id}", responses=responses(CourseNotFound, CourseReadOnly))
def update_course(
    course_id: str, body: schemas.CourseUpdate, user: TeacherUser, db: SessionDep
) -> schemas.CourseDetail:
    return service.detail(service.update(db, service.editable_course(db, user, course_id), body))


@router.post("/{course_id}/publish", responses=responses(CourseNotFound, CourseReadOnly))
def publish_course(
    course_id: str, user: TeacherUser, db: SessionDep, body: schemas.PublishIn | None = None
) -> schemas.CourseDetail:
    course = service.editable_course(db, user, course_id)
    course.published = body.published if body else True
    db.flush()
    return service.detail(course)


@router.delete(
    "/{course_id}", status_code=status.HTTP_204_NO_CONTENT, responses=responses(CourseNotFound, CourseReadOnly)
)
def delete_course(course_id: str, user: TeacherUser, db: SessionDep) -> Response:
    CourseRepository(db).delete(service.editable_course(db, user, course_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
