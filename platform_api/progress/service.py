"""Progress: sections opened and completed, assessment scores, per-course summaries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from sqlalchemy.orm import Session

from platform_api.core.db import utcnow
from platform_api.core.errors import BadRequest
from platform_api.courses import service as courses
from platform_api.courses.models import Course
from platform_api.courses.repository import CourseRepository
from platform_api.progress import schemas
from platform_api.progress.models import StudentProgress
from platform_api.progress.repository import ProgressRepository
from platform_api.users.models import User


class UnknownSection(BadRequest):
    code = "unknown_section"
    message = "Cette section n'existe pas dans ce cours."


def record_visit(db: Session, student: User, data: schemas.ProgressUpdate) -> StudentProgress:
    """A student opened (or finished) a section of a course they can see."""
    course = courses.visible_course(db, student, data.course_id)
    if data.section_id not in courses.section_ids(course):
        raise UnknownSection()
    repo = ProgressRepository(db)
    now = utcnow()
    row, created = repo.ensure(student.id, course.id, data.section_id)
    if not created:
        row.visits += 1
        row.updated_at = now
    if data.completed and row.status != "completed":
        row.status = "completed"
        row.completed_at = now
    db.flush()
    return row


def record_assessment(
    db: Session, student_id: str, course_id: str | None, section_ids: Iterable[str], ratio: float
) -> None:
    """A finished assessment: its sections count as completed and keep the best score."""
    if not course_id:
        return
    repo = ProgressRepository(db)
    now = utcnow()
    for section_id in list(section_ids) or [f"assessments#{course_id}"]:
        row, _ = repo.ensure(student_id, course_id, section_id, visits=0)
        row.score = ratio if row.score is None else max(row.score, ratio)
        if row.status != "completed":
            row.status = "completed"
            row.completed_at = now
        row.updated_at = now
    db.flush()


def summaries(db: Session, rows: Sequence[StudentProgress]) -> list[schemas.CourseProgress]:
    """One summary per course the rows touch."""
    by_course: dict[str, list[StudentProgress]] = defaultdict(list)
    for row in rows:
        by_course[row.course_id].append(row)
    found = CourseRepository(db).by_ids(list(by_course))
    return [summary(found[cid], by_course[cid]) for cid in by_course if cid in found]


def summary(course: Course, rows: Sequence[StudentProgress]) -> schemas.CourseProgress:
    sections = set(courses.section_ids(course))
    completed = {r.section_id for r in rows if r.status == "completed" and r.section_id in sections}
    opened = {r.section_id for r in rows if r.section_id in sections}
    scores = [r.score for r in rows if r.score is not None]
    return schemas.CourseProgress(
        course_id=course.id,
        title=course.title,
        level=course.level,
        category=course.category,
        completed_sections=len(completed),
        opened_sections=len(opened),
        total_sections=len(sections),
        percent=round(100 * len(completed) / len(sections), 1) if sections else 0.0,
        average_score=round(sum(scores) / len(scores), 3) if scores else None,
        last_activity=max((r.updated_at for r in rows), default=None),
    )
