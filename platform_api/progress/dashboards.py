"""Dashboards: a student's (progress by theme, recent activity, weak spots), a parent's, a teacher's class."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from platform_api.aria.repository import AriaRepository
from platform_api.assessments import service as assessments
from platform_api.assessments.repository import AssessmentRepository
from platform_api.classes.models import SchoolClass
from platform_api.classes.repository import ClassRepository
from platform_api.core.db import utcnow
from platform_api.courses.models import Course
from platform_api.courses.repository import CourseRepository
from platform_api.progress import service as progress
from platform_api.progress.repository import ProgressRepository
from platform_api.users.models import User
from platform_api.users.repository import UserRepository

WEAK = 0.5
TOPIC_DAYS = 30


def student_dashboard(db: Session, student: User) -> dict[str, Any]:
    rows = ProgressRepository(db).of_user(student.id)
    courses = progress.summaries(db, rows)
    repo = AssessmentRepository(db)
    results = list(repo.results_of_student(student.id, 50))
    found = repo.by_ids(list({r.assessment_id for r in results}))
    titles = section_titles(CourseRepository(db).by_ids(list({r.course_id for r in rows})).values())
    activity: list[dict[str, Any]] = [
        {
            "type": "section",
            "courseId": r.course_id,
            "sectionId": r.section_id,
            "title": titles.get(r.section_id, ""),
            "status": r.status,
            "at": r.updated_at,
        }
        for r in rows[:10]
    ]
    activity += [
        {
            "type": "assessment",
            "assessmentId": r.assessment_id,
            "title": found[r.assessment_id].title if r.assessment_id in found else "",
            "score": r.score,
            "maxScore": r.max_score,
            "at": r.submitted_at,
        }
        for r in results[:10]
    ]
    sessions = AriaRepository(db).sessions_of(student.id, 10)
    activity += [{"type": "aria", "sessionId": s.id, "title": s.title, "at": s.updated_at} for s in sessions]
    activity.sort(key=lambda a: a["at"], reverse=True)
    weak: list[dict[str, Any]] = []
    released = {a.id for a in found.values() if assessments.corrections_released(db, a, student.id)}
    for r in results:
        a = found.get(r.assessment_id)
        if a is None or a.id not in released:  # which questions were missed would tell the next attempt's answers
            continue
        for q in a.questions:
            g = (r.grades or {}).get(q["id"])
            if g and g.get("correct") is False:
                weak.append(
                    {
                        "assessmentId": a.id,
                        "assessmentTitle": a.title,
                        "questionId": q["id"],
                        "prompt": q["prompt"][:200],
                        "courseId": a.course_id,
                    }
                )
    weak_sections = [
        {"courseId": r.course_id, "sectionId": r.section_id, "title": titles.get(r.section_id, ""), "score": r.score}
        for r in rows
        if r.score is not None and r.score < WEAK
    ]
    class_ids = ClassRepository(db).class_ids_of_student(student.id)
    now = utcnow()
    attempted = {r.assessment_id for r in results}
    upcoming = [
        {"id": a.id, "title": a.title, "type": a.type, "closesAt": a.closes_at}
        for a in repo.in_classes(class_ids, True)
        if assessments.is_open(a, now) and a.id not in attempted
    ]
    profile = UserRepository(db).profile(student.id)
    return {
        "student": {
            "id": student.id,
            "firstName": student.first_name,
            "lastName": student.last_name,
            "classLevel": profile.class_level if profile else None,
        },
        "progressByTheme": [c.model_dump(mode="json", by_alias=True) for c in courses],
        "recentActivity": [{**a, "at": a["at"].isoformat() if a["at"] else None} for a in activity[:15]],
        "weakSpots": {"questions": weak[:20], "sections": weak_sections[:20]},
        "openAssessments": upcoming,
        "averageScore": _average([r.score / r.max_score for r in results if r.score is not None and r.max_score]),
    }


def section_titles(courses: Iterable[Course]) -> dict[str, str]:
    """``chapter › section`` of every section of these courses, by section id (for people, not slugs)."""
    out: dict[str, str] = {}
    for course in courses:
        for chapter in (course.content or {}).get("chapters") or []:
            for section in chapter.get("sections") or []:
                if section.get("id"):
                    out[str(section["id"])] = f"{chapter.get('title', '')} › {section.get('title', '')}"
    return out


def parent_dashboard(db: Session, parent: User) -> dict[str, Any]:
    children = UserRepository(db).children(parent.id)
    out = []
    for child in children:
        board = student_dashboard(db, child)
        sessions = AriaRepository(db).sessions_of(child.id, 10)
        counts = AriaRepository(db).message_counts([s.id for s in sessions])
        board["ariaSessions"] = [
            {"id": s.id, "title": s.title, "messageCount": counts.get(s.id, 0), "updatedAt": s.updated_at.isoformat()}
            for s in sessions
        ]
        out.append(board)
    return {"children": out}


def class_dashboard(db: Session, klass: SchoolClass) -> dict[str, Any]:
    students = ClassRepository(db).students(klass.id)
    ids = [s.id for s in students]
    rows_by_student: dict[str, list[Any]] = defaultdict(list)
    for row in ProgressRepository(db).of_users(ids):
        rows_by_student[row.user_id].append(row)
    assessments_list = list(AssessmentRepository(db).in_classes([klass.id], False))
    attempts = [a for a in AssessmentRepository(db).attempts_for([a.id for a in assessments_list]) if a.submitted_at]
    by_student: dict[str, list[float]] = defaultdict(list)
    for att in attempts:
        if att.score is not None and att.max_score:
            by_student[att.student_id].append(att.score / att.max_score)
    student_rows: list[dict[str, Any]] = []
    for s in students:
        summaries = progress.summaries(db, rows_by_student.get(s.id, []))
        student_rows.append(
            {
                "id": s.id,
                "firstName": s.first_name,
                "lastName": s.last_name,
                "coursesStarted": len(summaries),
                "sectionsCompleted": sum(c.completed_sections for c in summaries),
                "averageScore": _average(by_student.get(s.id, [])),
                "lastActivity": max((r.updated_at for r in rows_by_student.get(s.id, [])), default=None),
            }
        )
    missed: list[dict[str, Any]] = []
    overview = []
    for a in assessments_list:
        mine = [t for t in attempts if t.assessment_id == a.id]
        overview.append(
            {
                "id": a.id,
                "title": a.title,
                "type": a.type,
                "published": a.published,
                "submissions": len(mine),
                "toGrade": sum(t.needs_grading for t in mine),
                "averageScore": _average([t.score / t.max_score for t in mine if t.score is not None and t.max_score]),
            }
        )
        for q in a.questions:
            graded = [t.grades.get(q["id"]) for t in mine if t.grades.get(q["id"], {}).get("correct") is not None]
            if graded:
                wrong = sum(1 for g in graded if g and g.get("correct") is False)
                missed.append(
                    {
                        "assessmentId": a.id,
                        "assessmentTitle": a.title,
                        "questionId": q["id"],
                        "prompt": q["prompt"][:200],
                        "answered": len(graded),
                        "missRate": round(wrong / len(graded), 3),
                    }
                )
    missed.sort(key=lambda m: (-m["missRate"], -m["answered"]))
    return {
        "class": {"id": klass.id, "name": klass.name, "level": klass.level, "studentCount": len(students)},
        "students": [
            {**r, "lastActivity": r["lastActivity"].isoformat() if r["lastActivity"] else None} for r in student_rows
        ],
        "assessments": overview,
        "mostMissedQuestions": [m for m in missed if m["missRate"] > 0][:10],
        **aria_topics(db, ids),
    }


def aria_topics(db: Session, student_ids: list[str]) -> dict[str, Any]:
    """What the students asked ARIA about most over the last days: the course each answer cited first.

    Only aggregates leave this function (a topic and a count), never a student's question.
    """
    answers = AriaRepository(db).answers_of_users(student_ids, utcnow() - timedelta(days=TOPIC_DAYS))
    counts: Counter[tuple[str, str]] = Counter()
    for answer in answers:
        first = (answer.sources or [None])[0]
        if isinstance(first, dict) and first.get("title"):
            counts[(str(first.get("doc_id", "")), str(first["title"]))] += 1
        else:
            counts[("", "Hors cours ou sans source")] += 1
    return {
        "ariaQuestions": len(answers),
        "ariaTopics": [
            {"docId": doc_id, "title": title, "questions": n} for (doc_id, title), n in counts.most_common(8)
        ],
        "ariaTopicDays": TOPIC_DAYS,
    }


def _average(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 3) if values else None
