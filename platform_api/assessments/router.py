"""Routes of assessments and attempts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from platform_api.assessments import schemas, service
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
from platform_api.assessments.repository import AssessmentRepository
from platform_api.classes.exceptions import ClassNotFound
from platform_api.core.deps import CurrentUser, PlatformDep, SessionDep, SettingsDep, StudentUser, TeacherUser
from platform_api.core.errors import Forbidden, responses
from platform_api.documents.exceptions import DocumentNotFound
from platform_api.notifications.service import notify_after_commit

router = APIRouter(prefix="/api/assessments", tags=["assessments"])
attempts_router = APIRouter(prefix="/api/attempts", tags=["assessments"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=responses(Forbidden, ClassNotFound, DocumentNotFound, InvalidAssessment),
)
def create_assessment(
    body: schemas.AssessmentCreate, user: TeacherUser, db: SessionDep, platform: PlatformDep
) -> schemas.AssessmentOut:
    """A quiz, tp, exam or project for one of the teacher's classes (attached documents: ones the teacher sees)."""
    return service.to_out(db, user, service.create(db, platform.knowledge.store, user, body))


@router.get("")
def list_assessments(
    user: CurrentUser, db: SessionDep, class_id: Annotated[str | None, Query(alias="classId")] = None
) -> list[schemas.AssessmentOut]:
    """Teachers: their classes' assessments; students: the published ones of their classes; admins: all."""
    return [service.to_out(db, user, a) for a in service.list_for(db, user, class_id)]


@router.get("/{assessment_id}", responses=responses(AssessmentNotFound))
def read_assessment(assessment_id: str, user: CurrentUser, db: SessionDep) -> schemas.AssessmentOut:
    """Students get the questions without answers; teachers and admins get the answer key."""
    assessment = service.visible(db, user, assessment_id)
    out = service.to_out(db, user, assessment)
    if out.answer_key is None:
        out.questions = service.student_questions(assessment)
    return out


@router.patch(
    "/{assessment_id}", responses=responses(AssessmentNotFound, DocumentNotFound, HasAttempts, InvalidAssessment)
)
def update_assessment(
    assessment_id: str, body: schemas.AssessmentUpdate, user: TeacherUser, db: SessionDep, platform: PlatformDep
) -> schemas.AssessmentOut:
    assessment = service.managed(db, user, assessment_id)
    return service.to_out(db, user, service.update(db, platform.knowledge.store, user, assessment, body))


@router.post("/{assessment_id}/publish", responses=responses(AssessmentNotFound))
def publish_assessment(
    assessment_id: str, user: TeacherUser, db: SessionDep, body: schemas.PublishIn | None = None
) -> schemas.AssessmentOut:
    assessment = service.managed(db, user, assessment_id)
    assessment.published = body.published if body else True
    db.flush()
    return service.to_out(db, user, assessment)


@router.delete("/{assessment_id}", status_code=status.HTTP_204_NO_CONTENT, responses=responses(AssessmentNotFound))
def delete_assessment(assessment_id: str, user: TeacherUser, db: SessionDep) -> Response:
    AssessmentRepository(db).delete(service.managed(db, user, assessment_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{assessment_id}/results", responses=responses(AssessmentNotFound))
def assessment_results(assessment_id: str, user: TeacherUser, db: SessionDep) -> list[schemas.AttemptOut]:
    """Every attempt at the assessment, with answers and grades (teachers of the class, admins)."""
    return service.results(db, user, assessment_id)


@router.post(
    "/{assessment_id}/attempts",
    status_code=status.HTTP_201_CREATED,
    responses=responses(AssessmentNotFound, AssessmentClosed, NoAttemptsLeft),
)
def start_attempt(assessment_id: str, user: StudentUser, db: SessionDep, settings: SettingsDep) -> schemas.AttemptOut:
    """Start (or resume) an attempt; the deadline is set by the server from the time limit."""
    attempt = service.start_attempt(db, user, assessment_id, settings.attempt_grace_seconds)
    assessment = AssessmentRepository(db).get(attempt.assessment_id)
    assert assessment is not None
    return service.attempt_view(db, user, assessment, attempt)


@attempts_router.get("/{attempt_id}", responses=responses(AttemptNotFound))
def read_attempt(attempt_id: str, user: CurrentUser, db: SessionDep) -> schemas.AttemptOut:
    assessment, attempt = service.visible_attempt(db, user, attempt_id)
    return service.attempt_view(db, user, assessment, attempt)


@attempts_router.put("/{attempt_id}/answers", responses=responses(AttemptNotFound, AttemptFinished, TimeUp))
def save_answers(
    attempt_id: str, body: schemas.AnswersIn, user: StudentUser, db: SessionDep, settings: SettingsDep
) -> schemas.AttemptOut:
    """Save answers while the attempt is running (refused once the time is up)."""
    attempt = service.save_answers(db, user, attempt_id, body.answers, settings.attempt_grace_seconds)
    assessment, _ = service.own_attempt(db, user, attempt.id)
    return service.attempt_view(db, user, assessment, attempt)


@attempts_router.post("/{attempt_id}/submit", responses=responses(AttemptNotFound, AttemptFinished))
def submit_attempt(
    attempt_id: str, user: StudentUser, db: SessionDep, settings: SettingsDep, body: schemas.AnswersIn | None = None
) -> schemas.AttemptOut:
    """Hand in and get the grade of objective questions with the corrections."""
    attempt = service.submit(db, user, attempt_id, body.answers if body else {}, settings.attempt_grace_seconds)
    assessment, _ = service.own_attempt(db, user, attempt.id)
    return service.attempt_view(db, user, assessment, attempt)


@attempts_router.post("/{attempt_id}/grade", responses=responses(AttemptNotFound, NotSubmitted, InvalidAssessment))
def grade_attempt(
    attempt_id: str, body: schemas.GradeIn, user: TeacherUser, db: SessionDep, platform: PlatformDep
) -> schemas.AttemptOut:
    """Teacher grading and feedback for code and open questions (or to override an automatic grade);
    the student is notified live (``GET /api/events``) once the grade is saved."""
    assessment, attempt = service.grade(db, user, attempt_id, body)
    notify_after_commit(
        db,
        platform.events,
        attempt.student_id,
        "attempt_graded",
        f"Ta copie de « {assessment.title} » a été corrigée.",
        assessmentId=assessment.id,
        attemptId=attempt.id,
    )
    return service.attempt_out(assessment, attempt)
