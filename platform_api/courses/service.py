"""Courses: seeding the curriculum (read-only), listing, and teachers' own courses."""

from __future__ import annotations

import math
import re
from collections.abc import Collection
from typing import Any

from sqlalchemy.orm import Session

from ingest.pipeline import content_type_for
from platform_api.core.db import new_id
from platform_api.core.schemas import Pagination
from platform_api.courses import schemas
from platform_api.courses.curriculum import curriculum_courses
from platform_api.courses.exceptions import CourseNotFound, CourseReadOnly
from platform_api.courses.models import Course
from platform_api.courses.repository import CourseRepository
from platform_api.users.models import User


def seed_curriculum(db: Session) -> dict[str, int]:
    """Insert or update the curriculum courses from the chapter files; unchanged ones are left alone."""
    repo = CourseRepository(db)
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for row in curriculum_courses():
        existing = repo.get(row["id"])
        if existing is None:
            repo.add(Course(**row))
            counts["created"] += 1
        elif existing.content_hash != row["content_hash"]:
            for key, value in row.items():
                setattr(existing, key, value)
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
    db.flush()
    return counts


def _summary_fields(course: Course) -> dict[str, Any]:
    return {
        "id": course.id,
        "title": course.title,
        "description": course.description,
        "level": course.level,
        "category": course.category,
        "source": course.source,
        "published": course.published,
        "read_only": course.source == "curriculum",
        "owner_id": course.owner_id,
        "estimated_time": course.estimated_minutes,
        "chapter_count": len((course.content or {}).get("chapters", [])),
        "updated_at": course.updated_at,
    }


def summary(course: Course) -> schemas.CourseSummary:
    return schemas.CourseSummary(**_summary_fields(course))


def detail(course: Course, hidden_chapters: Collection[str] = ()) -> schemas.CourseDetail:
    """A course with its content; the answer keys of ``hidden_chapters`` (documents whose keys the reader must not
    see now, :func:`platform_api.assessments.service.hidden_answer_keys`) are left out."""
    return schemas.CourseDetail(
        **_summary_fields(course),
        content=without_answer_keys(course.content or {"chapters": []}, hidden_chapters),
        prerequisites=list(course.prerequisites or []),
        objectives=list(course.objectives or []),
    )


_MD_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")
_FENCE = re.compile(r"^[ \t]{0,3}(```|~~~)")


def without_answer_keys(content: dict[str, Any], hidden_chapters: Collection[str]) -> dict[str, Any]:
    """``content`` without the answer keys of these chapters: sections and sub-sections whose heading marks an
    answer key, by the rule ingestion labels ``corrige`` passages with (so a page hides what ARIA hides)."""
    if not hidden_chapters:
        return content
    chapters = []
    for chapter in content.get("chapters") or []:
        if chapter.get("id") not in hidden_chapters:
            chapters.append(chapter)
            continue
        sections = [
            {**section, "content": _strip_answer_keys(str(section.get("content", "")), [str(section.get("title", ""))])}
            for section in chapter.get("sections") or []
            if content_type_for([str(section.get("title", ""))]) != "corrige"
        ]
        chapters.append({**chapter, "sections": sections})
    return {**content, "chapters": chapters}


def _strip_answer_keys(markdown: str, path: list[str]) -> str:
    """Markdown without the sub-sections (heading and body) that are answer keys."""
    out: list[str] = []
    skipping: int | None = None  # level of the answer-key heading being skipped
    fenced = False
    for line in markdown.splitlines(keepends=True):
        heading = None if fenced else _MD_HEADING.match(line.rstrip("\n"))
        if _FENCE.match(line):
            fenced = not fenced
        if heading:
            level = len(heading.group(1))
            if skipping is not None and level <= skipping:
                skipping = None
            if skipping is None and content_type_for([*path, heading.group(2)]) == "corrige":
                skipping = level
        if skipping is None:
            out.append(line)
    return "".join(out)


def can_edit(user: User, course: Course) -> bool:
    return user.role == "admin" or (user.role == "teacher" and course.owner_id == user.id)


def visible_course(db: Session, user: User, course_id: str) -> Course:
    course = CourseRepository(db).get(course_id)
    if course is None or not (course.published or can_edit(user, course)):
        raise CourseNotFound()
    return course


def editable_course(db: Session, user: User, course_id: str) -> Course:
    course = visible_course(db, user, course_id)
    if course.source == "curriculum":
        raise CourseReadOnly()
    if not can_edit(user, course):
        raise CourseNotFound()
    return course


def list_courses(
    db: Session, user: User, level: str | None, category: str | None, search: str | None, page: int, limit: int
) -> schemas.CoursePage:
    repo = CourseRepository(db)
    visible = repo.visible_to(user.id if user.role == "teacher" else None, user.role == "admin")
    rows, total = repo.page(visible, level, category, search, (page - 1) * limit, limit)
    return schemas.CoursePage(
        courses=[summary(c) for c in rows],
        pagination=Pagination(page=page, limit=limit, total=total, pages=math.ceil(total / limit) if total else 0),
    )


def _content(course_key: str, content: schemas.ContentIn) -> dict[str, Any]:
    chapters = []
    for i, ch in enumerate(content.chapters, start=1):
        chapter_id = ch.id or f"{course_key}/ch{i}"
        chapters.append(
            {
                "id": chapter_id,
                "title": ch.title,
                "sections": [
                    {"id": s.id or f"{chapter_id}#s{j}", "title": s.title, "content": s.content}
                    for j, s in enumerate(ch.sections, start=1)
                ],
            }
        )
    return {"chapters": chapters}


def create(db: Session, user: User, data: schemas.CourseCreate) -> Course:
    course_id = new_id()
    return CourseRepository(db).add(
        Course(
            id=course_id,
            title=data.title.strip(),
            description=data.description,
            level=data.level,
            category=data.category,
            source="teacher",
            kb_course=None,
            owner_id=user.id,
            published=False,
            content=_content(course_id, data.content),
            prerequisites=data.prerequisites,
            objectives=data.objectives,
            estimated_minutes=data.estimated_time,
        )
    )


def update(db: Session, course: Course, data: schemas.CourseUpdate) -> Course:
    for field, column in (
        ("title", "title"),
        ("description", "description"),
        ("level", "level"),
        ("category", "category"),
        ("prerequisites", "prerequisites"),
        ("objectives", "objectives"),
        ("estimated_time", "estimated_minutes"),
    ):
        value = getattr(data, field)
        if value is not None:
            setattr(course, column, value)
    if data.content is not None:
        course.content = _content(course.id, data.content)
    db.flush()
    return course


def section_ids(course: Course) -> list[str]:
    return [s["id"] for ch in (course.content or {}).get("chapters", []) for s in ch.get("sections", [])]
