"""Assessments: authoring, attempts with server-side time limits, auto-grading and teacher grading."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from knowledge.search import SearchScope
from knowledge.store import Match, VectorStore
from platform_api.assessments import schemas
from platform_api.assessments.exceptions import (
    AssessmentClosed,
    AssessmentNotFound,
    AttemptFinished,
    AttemptNotFound,
    HasAttempts,
    InvalidAssessment,
    NoAttemptsLeft,
    NotSubmitted,
    TimeUp,
)
from platform_api.assessments.grading import grade_attempt
from platform_api.assessments.models import Assessment, AssessmentResult
from platform_api.assessments.repository import AssessmentRepository
from platform_api.classes import service as classes
from platform_api.classes.repository import ClassRepository
from platform_api.core.db import new_id, unit_of_work, utcnow
from platform_api.courses.repository import CourseRepository
from platform_api.documents.exceptions import DocumentNotFound
from platform_api.documents.repository import DocumentRepository
from platform_api.progress import service as progress
from platform_api.users.models import User
from platform_api.users.repository import UserRepository
from tutor.retrieval import scope_for
from tutor.types import LearnerProfile


def _questions(items: list[schemas.QuestionIn]) -> list[dict[str, Any]]:
    out, seen = [], set()
    for q in items:
        qid = q.id or new_id()[:12]
        if qid in seen:
            raise InvalidAssessment(f"Deux questions ont le même identifiant : {qid}.")
        seen.add(qid)
        out.append(
            {
                "id": qid,
                "type": q.type,
                "prompt": q.prompt,
                "options": q.options,
                "answer": q.answer,
                "tolerance": q.tolerance,
                "points": q.points,
                "explanation": q.explanation,
            }
        )
    return out


def _check_window(opens_at: datetime | None, closes_at: datetime | None) -> None:
    if opens_at and closes_at and closes_at <= opens_at:
        raise InvalidAssessment("La date de fermeture doit suivre la date d'ouverture.")


def _check_course(db: Session, course_id: str | None) -> None:
    if course_id and CourseRepository(db).get(course_id) is None:
        raise InvalidAssessment("Le cours indiqué n'existe pas.")


def check_documents(db: Session, store: VectorStore, user: User, doc_ids: list[str]) -> list[str]:
    """The attached documents, once each, if ``user`` may see every one; :class:`DocumentNotFound` otherwise.

    A teacher may attach their own uploads, public ones and those shared with a class they teach (admins: any
    upload), and what the knowledge base lets them cite (the curriculum chapters).
    """
    wanted = list(dict.fromkeys(doc_ids))
    documents = DocumentRepository(db)
    taught = set() if user.role == "admin" else {c.id for c in ClassRepository(db).of_teacher(user.id)}
    scope = scope_for(
        LearnerProfile(role="admin", user_id=user.id)
        if user.role == "admin"
        else LearnerProfile(role="teacher", user_id=user.id, class_ids=tuple(sorted(taught)))
    )
    for doc_id in wanted:
        doc = documents.get(doc_id)
        if doc is not None:
            if not (
                user.role == "admin"
                or doc.owner_id == user.id
                or doc.visibility == "public"
                or (doc.visibility == "class" and taught & set(doc.class_ids or []))
            ):
                raise DocumentNotFound()
        elif not store.count(scope.to_filter().and_(Match("doc_id", doc_id))):
            raise DocumentNotFound()
    return wanted


def manages(db: Session, user: User, assessment: Assessment) -> bool:
    if user.role == "admin":
        return True
    klass = ClassRepository(db).get(assessment.class_id)
    return klass is not None and classes.manages(user, klass)


def managed(db: Session, user: User, assessment_id: str) -> Assessment:
    assessment = AssessmentRepository(db).get(assessment_id)
    if assessment is None or not manages(db, user, assessment):
        raise AssessmentNotFound()
    return assessment


def visible(db: Session, user: User, assessment_id: str) -> Assessment:
    """Managers see their assessments; students see published ones of their classes; 404 otherwise."""
    assessment = AssessmentRepository(db).get(assessment_id)
    if assessment is None:
        raise AssessmentNotFound()
    if manages(db, user, assessment):
        return assessment
    if (
        user.role == "student"
        and assessment.published
        and ClassRepository(db).member(assessment.class_id, user.id) is not None
    ):
        return assessment
    raise AssessmentNotFound()


def hidden_answer_keys(db: Session, user: User | None, now: datetime | None = None) -> tuple[str, ...]:
    """The documents whose answer keys (``corrige`` passages) ``user`` must not read now.

    The one source of this rule, for every path that shows document text (ARIA's retrieval, the cited-source
    view, course pages, the public search): the documents attached to an assessment of the student's classes
    (a parent: their children's) from the moment it is attached until it closes. Teachers and admins: none.
    ``None`` is an anonymous caller (the public search): any student may be behind it, so every class counts.
    """
    now = now or utcnow()
    repo = AssessmentRepository(db)
    if user is None:
        return tuple(repo.unclosed_document_ids(None, now))
    classes_repo = ClassRepository(db)
    if user.role == "student":
        class_ids = classes_repo.class_ids_of_student(user.id)
    elif user.role == "parent":
        children = UserRepository(db).child_ids(user.id)
        class_ids = sorted({c for child in children for c in classes_repo.class_ids_of_student(child)})
    else:
        return ()
    return tuple(repo.unclosed_document_ids(class_ids, now))


def public_search_scope(sessions: sessionmaker[Session], levels: tuple[str, ...] = ()) -> SearchScope:
    """The scope of a search without an account (the home page, ``/api/search``): public material, without the
    answer keys of any document attached to an assessment that has not closed."""
    with unit_of_work(sessions) as db:
        return SearchScope(levels=levels, hidden_answer_docs=hidden_answer_keys(db, None))


def corrections_released(db: Session, assessment: Assessment, student_id: str, now: datetime | None = None) -> bool:
    """Whether a student's attempts may show the answer key and the per-question grades.

    Only once the assessment is closed or the student has used every attempt (none in progress): corrections
    seen after a first attempt would otherwise give the answers to the next one.
    """
    now = now or utcnow()
    if assessment.closes_at is not None and assessment.closes_at <= now:
        return True
    attempts = AssessmentRepository(db).attempts_of(assessment.id, student_id)
    return len(attempts) >= assessment.max_attempts and all(a.submitted_at is not None for a in attempts)


def is_open(assessment: Assessment, now: datetime) -> bool:
    return (
        assessment.published
        and (assessment.opens_at is None or assessment.opens_at <= now)
        and (assessment.closes_at is None or now < assessment.closes_at)
    )


def create(db: Session, store: VectorStore, user: User, data: schemas.AssessmentCreate) -> Assessment:
    classes.managed_class(db, user, data.class_id)
    _check_window(data.opens_at, data.closes_at)
    _check_course(db, data.course_id)
    document_ids = check_documents(db, store, user, data.document_ids)
    return AssessmentRepository(db).add(
        Assessment(
            title=data.title.strip(),
            description=data.description,
            type=data.type,
            class_id=data.class_id,
            created_by=user.id,
            course_id=data.course_id,
            section_ids=data.section_ids,
            document_ids=document_ids,
            questions=_questions(data.questions),
            time_limit_minutes=data.time_limit_minutes,
            max_attempts=data.max_attempts,
            opens_at=data.opens_at,
            closes_at=data.closes_at,
            published=data.published,
        )
    )


def update(
    db: Session, store: VectorStore, user: User, assessment: Assessment, data: schemas.AssessmentUpdate
) -> Assessment:
    fields = data.model_dump(exclude_unset=True)
    if "document_ids" in fields:
        fields["document_ids"] = check_documents(db, store, user, data.document_ids or [])
    if "description" in fields and fields["description"] is None:
        fields["description"] = ""  # null clears it
    if "questions" in fields:
        if AssessmentRepository(db).count_attempts(assessment.id):
            raise HasAttempts()
        assessment.questions = _questions(data.questions or [])
    if "course_id" in fields:
        _check_course(db, data.course_id)
    for field in (
        "title",
        "description",
        "course_id",
        "section_ids",
        "document_ids",
        "time_limit_minutes",
        "max_attempts",
        "opens_at",
        "closes_at",
    ):
        if field in fields:
            setattr(assessment, field, fields[field])
    _check_window(assessment.opens_at, assessment.closes_at)
    db.flush()
    return assessment


def max_score(assessment: Assessment) -> float:
    return float(sum(float(q.get("points", 1.0)) for q in assessment.questions))


def student_questions(assessment: Assessment) -> list[schemas.QuestionOut]:
    return [schemas.QuestionOut.model_validate(q) for q in assessment.questions]


def answer_key(assessment: Assessment) -> list[schemas.QuestionKey]:
    return [schemas.QuestionKey.model_validate(q) for q in assessment.questions]


def to_out(db: Session, user: User, assessment: Assessment) -> schemas.AssessmentOut:
    out = schemas.AssessmentOut(
        id=assessment.id,
        title=assessment.title,
        description=assessment.description,
        type=assessment.type,
        class_id=assessment.class_id,
        course_id=assessment.course_id,
        section_ids=list(assessment.section_ids or []),
        time_limit_minutes=assessment.time_limit_minutes,
        max_attempts=assessment.max_attempts,
        opens_at=assessment.opens_at,
        closes_at=assessment.closes_at,
        published=assessment.published,
        question_count=len(assessment.questions),
        max_score=max_score(assessment),
        created_by=assessment.created_by,
    )
    if manages(db, user, assessment):
        out.answer_key = answer_key(assessment)
        out.document_ids = list(assessment.document_ids or [])
    elif user.role == "student":
        out.my_attempts = [
            schemas.AttemptSummary.model_validate(a)
            for a in AssessmentRepository(db).attempts_of(assessment.id, user.id)
        ]
    return out


def list_for(db: Session, user: User, class_id: str | None) -> list[Assessment]:
    repo = AssessmentRepository(db)
    if user.role == "admin":
        items = list(repo.all())
    elif user.role == "teacher":
        items = list(repo.in_classes([c.id for c in ClassRepository(db).of_teacher(user.id)], False))
    elif user.role == "student":
        items = list(repo.in_classes(ClassRepository(db).class_ids_of_student(user.id), True))
    else:
        items = []
    return [a for a in items if class_id is None or a.class_id == class_id]


# attempts


def _deadline(assessment: Assessment, started: datetime) -> datetime | None:
    candidates = []
    if assessment.time_limit_minutes:
        candidates.append(started + timedelta(minutes=assessment.time_limit_minutes))
    if assessment.closes_at:
        candidates.append(assessment.closes_at)
    return min(candidates) if candidates else None


def _expired(attempt: AssessmentResult, now: datetime, grace_s: int) -> bool:
    return attempt.deadline_at is not None and now > attempt.deadline_at + timedelta(seconds=grace_s)


def start_attempt(db: Session, student: User, assessment_id: str, grace_s: int) -> AssessmentResult:
    """A new attempt (or the one in progress), with its deadline fixed by the server."""
    assessment = visible(db, student, assessment_id)
    if student.role != "student":
        raise AssessmentNotFound()
    now = utcnow()
    repo = AssessmentRepository(db)
    attempts = list(repo.attempts_of(assessment.id, student.id))
    current = next((a for a in attempts if a.status == "in_progress"), None)
    if current is not None:
        if not _expired(current, now, grace_s):
            return current
        finalize(db, assessment, current, now, late=True)
    if not is_open(assessment, now):
        raise AssessmentClosed()
    if len(attempts) >= assessment.max_attempts:
        raise NoAttemptsLeft()
    return repo.add_attempt(
        AssessmentResult(
            assessment_id=assessment.id,
            student_id=student.id,
            attempt_no=len(attempts) + 1,
            started_at=now,
            deadline_at=_deadline(assessment, now),
            max_score=max_score(assessment),
        )
    )


def own_attempt(db: Session, student: User, attempt_id: str) -> tuple[Assessment, AssessmentResult]:
    repo = AssessmentRepository(db)
    attempt = repo.attempt(attempt_id)
    if attempt is None or attempt.student_id != student.id:
        raise AttemptNotFound()
    assessment = repo.get(attempt.assessment_id)
    if assessment is None:
        raise AttemptNotFound()
    return assessment, attempt


def _clean_answers(assessment: Assessment, answers: dict[str, Any]) -> dict[str, Any]:
    ids = {q["id"] for q in assessment.questions}
    unknown = sorted(set(answers) - ids)
    if unknown:
        raise InvalidAssessment(f"Réponse à une question inconnue : {', '.join(unknown[:5])}.")
    for key, value in answers.items():
        if isinstance(value, str) and len(value) > 50_000:
            raise InvalidAssessment(f"La réponse à la question {key} est trop longue.")
    return answers


def save_answers(
    db: Session, student: User, attempt_id: str, answers: dict[str, Any], grace_s: int
) -> AssessmentResult:
    assessment, attempt = own_attempt(db, student, attempt_id)
    if attempt.status != "in_progress":
        raise AttemptFinished()
    now = utcnow()
    if _expired(attempt, now, grace_s):
        finalize(db, assessment, attempt, now, late=True)
        raise TimeUp()
    attempt.answers = {**attempt.answers, **_clean_answers(assessment, answers)}
    db.flush()
    return attempt


def submit(db: Session, student: User, attempt_id: str, answers: dict[str, Any], grace_s: int) -> AssessmentResult:
    """Hand in: answers sent after the deadline (plus grace) are ignored, the saved ones are graded."""
    assessment, attempt = own_attempt(db, student, attempt_id)
    if attempt.status != "in_progress":
        raise AttemptFinished()
    now = utcnow()
    late = _expired(attempt, now, grace_s)
    if not late:
        attempt.answers = {**attempt.answers, **_clean_answers(assessment, answers)}
    finalize(db, assessment, attempt, now, late=late)
    return attempt


def finalize(db: Session, assessment: Assessment, attempt: AssessmentResult, now: datetime, late: bool) -> None:
    grades, score, total, needs = grade_attempt(assessment.questions, attempt.answers)
    attempt.grades = grades
    attempt.score = score
    attempt.max_score = total
    attempt.needs_grading = needs
    attempt.late = late
    attempt.submitted_at = now
    attempt.status = "submitted" if needs else "graded"
    db.flush()
    progress.record_assessment(
        db, attempt.student_id, assessment.course_id, assessment.section_ids, score / total if total else 0.0
    )


def visible_attempt(db: Session, user: User, attempt_id: str) -> tuple[Assessment, AssessmentResult]:
    """The student's own attempt, a managed assessment's attempt, or a linked child's submitted one."""
    repo = AssessmentRepository(db)
    attempt = repo.attempt(attempt_id)
    if attempt is None:
        raise AttemptNotFound()
    assessment = repo.get(attempt.assessment_id)
    if assessment is None:
        raise AttemptNotFound()
    if attempt.student_id == user.id or manages(db, user, assessment):
        return assessment, attempt
    if (
        user.role == "parent"
        and attempt.submitted_at is not None
        and UserRepository(db).link(user.id, attempt.student_id) is not None
    ):
        return assessment, attempt
    raise AttemptNotFound()


def attempt_out(assessment: Assessment, attempt: AssessmentResult, released: bool = True) -> schemas.AttemptOut:
    """An attempt as its reader sees it; ``released``: the answer key and per-question grades may be shown (see
    :func:`corrections_released`; managers always get them)."""
    out = schemas.AttemptOut(
        id=attempt.id,
        assessment_id=attempt.assessment_id,
        student_id=attempt.student_id,
        attempt_no=attempt.attempt_no,
        status=attempt.status,
        answers=attempt.answers,
        started_at=attempt.started_at,
        deadline_at=attempt.deadline_at,
        submitted_at=attempt.submitted_at,
        late=attempt.late,
        max_score=attempt.max_score,
    )
    if attempt.submitted_at is None:
        out.questions = student_questions(assessment)  # no answer key before submission, whoever asks
    else:
        out.score = attempt.score
        out.needs_grading = attempt.needs_grading
        out.feedback = attempt.feedback
        if released:
            out.grades = attempt.grades
            out.corrections = answer_key(assessment)
        else:
            out.corrections_withheld = True
    return out


def attempt_view(db: Session, user: User, assessment: Assessment, attempt: AssessmentResult) -> schemas.AttemptOut:
    """:func:`attempt_out` for ``user``: managers see everything, the student and their parents see the
    corrections once they are released."""
    released = manages(db, user, assessment) or corrections_released(db, assessment, attempt.student_id)
    return attempt_out(assessment, attempt, released)


def grade(db: Session, teacher: User, attempt_id: str, data: schemas.GradeIn) -> tuple[Assessment, AssessmentResult]:
    repo = AssessmentRepository(db)
    attempt = repo.attempt(attempt_id)
    if attempt is None:
        raise AttemptNotFound()
    assessment = repo.get(attempt.assessment_id)
    if assessment is None or not manages(db, teacher, assessment):
        raise AttemptNotFound()
    if attempt.submitted_at is None:
        raise NotSubmitted()
    grades = {k: dict(v) for k, v in attempt.grades.items()}
    for qid, given in data.grades.items():
        if qid not in grades:
            raise InvalidAssessment(f"Question inconnue : {qid}.")
        if given.points > grades[qid]["max"]:
            raise InvalidAssessment(f"La question {qid} vaut au plus {grades[qid]['max']} point(s).")
        grades[qid].update(
            points=given.points, correct=given.points >= grades[qid]["max"], needsGrading=False, feedback=given.feedback
        )
    attempt.grades = grades
    attempt.score = sum(float(g["points"]) for g in grades.values())
    attempt.needs_grading = any(g["needsGrading"] for g in grades.values())
    attempt.feedback = data.feedback if data.feedback is not None else attempt.feedback
    attempt.status = "submitted" if attempt.needs_grading else "graded"
    attempt.graded_by = teacher.id
    attempt.graded_at = utcnow()
    db.flush()
    ratio = attempt.score / attempt.max_score if attempt.max_score else 0.0
    progress.record_assessment(db, attempt.student_id, assessment.course_id, assessment.section_ids, ratio)
    return assessment, attempt


def results(db: Session, user: User, assessment_id: str) -> list[schemas.AttemptOut]:
    assessment = managed(db, user, assessment_id)
    return [attempt_out(assessment, a) for a in AssessmentRepository(db).attempts_for([assessment.id])]
