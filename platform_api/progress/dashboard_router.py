"""Routes of the dashboards."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from platform_api.classes import service as classes
from platform_api.classes.exceptions import ClassNotFound
from platform_api.core.deps import CurrentUser, ParentUser, SessionDep, StudentUser, TeacherUser
from platform_api.core.errors import Forbidden, NotFound, responses
from platform_api.progress import dashboards
from platform_api.users.policy import visible_student

router = APIRouter(prefix="/api/dashboard", tags=["dashboards"])


@router.get("/student", responses=responses(Forbidden))
def my_dashboard(user: StudentUser, db: SessionDep) -> dict[str, Any]:
    """Progress by theme, recent activity, weak spots and open assessments of the caller."""
    return dashboards.student_dashboard(db, user)


@router.get("/students/{student_id}", responses=responses(NotFound))
def student_dashboard(student_id: str, user: CurrentUser, db: SessionDep) -> dict[str, Any]:
    """A student's dashboard, for themself, their parents, their teachers and admins."""
    return dashboards.student_dashboard(db, visible_student(db, user, student_id))


@router.get("/parent", responses=responses(Forbidden))
def parent_dashboard(user: ParentUser, db: SessionDep) -> dict[str, Any]:
    """Each linked child's dashboard and ARIA session summaries."""
    return dashboards.parent_dashboard(db, user)


@router.get("/teacher")
def teacher_dashboard(user: TeacherUser, db: SessionDep) -> dict[str, Any]:
    """An overview of every class of the teacher (every class for admins)."""
    return {"classes": [dashboards.class_dashboard(db, c) for c in classes.list_for(db, user)]}


@router.get("/classes/{class_id}", responses=responses(ClassNotFound))
def class_dashboard(class_id: str, user: TeacherUser, db: SessionDep) -> dict[str, Any]:
    """Class overview and most-missed questions (the class's teacher, admins)."""
    return dashboards.class_dashboard(db, classes.managed_class(db, user, class_id))
