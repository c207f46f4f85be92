"""JSON shapes of assessments and attempts; students' views never carry answer keys before they submit."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, ConfigDict, Field, field_validator, model_validator

from platform_api.core.schemas import ApiModel


def _finite(value: Any, depth: int = 0) -> Any:
    """``value`` if every number in it is finite (JSON's ``1e999`` reads as infinity); nesting is bounded."""
    if depth > 5:
        raise ValueError("answers are nested too deeply")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("numbers must be finite")
    if isinstance(value, list):
        for item in value:
            _finite(item, depth + 1)
    elif isinstance(value, dict):
        for item in value.values():
            _finite(item, depth + 1)
    return value


class _FiniteModel(ApiModel):
    model_config = ConfigDict(allow_inf_nan=False)


QuestionType = Literal["single_choice", "multiple_choice", "numeric", "short_text", "code"]
AssessmentType = Literal["quiz", "tp", "exam", "project"]


class QuestionIn(_FiniteModel):
    id: str | None = Field(None, max_length=64)
    type: QuestionType
    prompt: str = Field(min_length=1, max_length=10_000)
    options: list[str] = Field(default_factory=list, max_length=20)
    answer: Any = None
    tolerance: float = Field(0.0, ge=0)
    points: float = Field(1.0, gt=0, le=100)
    explanation: str | None = Field(None, max_length=10_000)

    @field_validator("answer")
    @classmethod
    def _finite_answer(cls, value: Any) -> Any:
        return _finite(value)

    @model_validator(mode="after")
    def _check_answer(self) -> QuestionIn:
        n = len(self.options)
        if self.type in ("single_choice", "multiple_choice") and n < 2:
            raise ValueError("a choice question needs at least two options")
        if self.type == "single_choice" and not (isinstance(self.answer, int) and 0 <= self.answer < n):
            raise ValueError("the answer of a single choice question is the index of the right option")
        if self.type == "multiple_choice" and not (
            isinstance(self.answer, list)
            and self.answer
            and all(isinstance(i, int) and 0 <= i < n for i in self.answer)
        ):
            raise ValueError("the answer of a multiple choice question is the list of the right options' indexes")
        if self.type == "numeric" and (isinstance(self.answer, bool) or not isinstance(self.answer, int | float)):
            raise ValueError("the answer of a numeric question is a number")
        if (
            self.type == "short_text"
            and self.answer is not None
            and not (isinstance(self.answer, list) and all(isinstance(a, str) for a in self.answer))
        ):
            raise ValueError("the answer of a short text question is a list of accepted answers, or null")
        if self.type == "code" and self.answer is not None and not isinstance(self.answer, str):
            raise ValueError("the answer of a code question is a reference solution, or null")
        return self


class AssessmentCreate(ApiModel):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=10_000)
    type: AssessmentType
    class_id: str
    course_id: str | None = None
    section_ids: list[str] = Field(default_factory=list, max_length=100)
    document_ids: list[str] = Field(default_factory=list, max_length=50)
    questions: list[QuestionIn] = Field(default_factory=list, max_length=200)
    time_limit_minutes: int | None = Field(None, ge=1, le=24 * 60)
    max_attempts: int = Field(1, ge=1, le=100)
    opens_at: AwareDatetime | None = None
    closes_at: AwareDatetime | None = None
    published: bool = False


class AssessmentUpdate(ApiModel):
    """Only the fields sent change; ``null`` clears a nullable field (description, course, time limit, dates) and
    is refused (422) for the others, which an assessment always has."""

    title: str = Field(None, min_length=1, max_length=200)  # type: ignore[assignment]
    description: str | None = Field(None, max_length=10_000)
    course_id: str | None = None
    section_ids: list[str] = Field(None, max_length=100)  # type: ignore[arg-type]
    document_ids: list[str] = Field(None, max_length=50)  # type: ignore[arg-type]
    questions: list[QuestionIn] = Field(None, max_length=200)  # type: ignore[arg-type]
    time_limit_minutes: int | None = Field(None, ge=1, le=24 * 60)
    max_attempts: int = Field(None, ge=1, le=100)  # type: ignore[assignment]
    opens_at: AwareDatetime | None = None
    closes_at: AwareDatetime | None = None


class PublishIn(ApiModel):
    published: bool = True


class QuestionOut(ApiModel):
    """A question as a student sees it before submitting: no answer, no explanation."""

    id: str
    type: str
    prompt: str
    options: list[str]
    points: float


class QuestionKey(QuestionOut):
    answer: Any = None
    tolerance: float = 0.0
    explanation: str | None = None


class AttemptSummary(ApiModel):
    id: str
    attempt_no: int
    status: str
    score: float | None
    max_score: float
    started_at: datetime
    submitted_at: datetime | None


class AssessmentOut(ApiModel):
    id: str
    title: str
    description: str
    type: str
    class_id: str
    course_id: str | None
    section_ids: list[str]
    time_limit_minutes: int | None
    max_attempts: int
    opens_at: datetime | None
    closes_at: datetime | None
    published: bool
    question_count: int
    max_score: float
    created_by: str | None = None
    questions: list[QuestionOut] | None = None
    answer_key: list[QuestionKey] | None = None  # teachers and admins only
    document_ids: list[str] | None = None  # teachers and admins only
    my_attempts: list[AttemptSummary] | None = None  # students only


class AnswersIn(ApiModel):
    answers: dict[str, Any] = Field(default_factory=dict, max_length=500)

    @field_validator("answers")
    @classmethod
    def _finite_answers(cls, value: dict[str, Any]) -> dict[str, Any]:
        return dict(_finite(value))


class QuestionGrade(_FiniteModel):
    points: float = Field(ge=0)
    feedback: str | None = Field(None, max_length=5000)


class GradeIn(ApiModel):
    grades: dict[str, QuestionGrade] = Field(default_factory=dict)
    feedback: str | None = Field(None, max_length=10_000)


class AttemptOut(ApiModel):
    id: str
    assessment_id: str
    student_id: str
    attempt_no: int
    status: str
    answers: dict[str, Any]
    started_at: datetime
    deadline_at: datetime | None
    submitted_at: datetime | None
    late: bool
    score: float | None = None
    max_score: float
    needs_grading: bool = False
    feedback: str | None = None
    grades: dict[str, Any] | None = None  # after submission
    questions: list[QuestionOut] | None = None  # while in progress
    corrections: list[QuestionKey] | None = None  # after submission, once released
    # submitted, but the answer key and per-question grades wait until no attempt is left or the assessment closes
    corrections_withheld: bool = False
