"""JSON shapes of progress."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from platform_api.core.schemas import ApiModel


class ProgressUpdate(ApiModel):
    course_id: str = Field(min_length=1, max_length=64)
    section_id: str = Field(min_length=1, max_length=255)
    completed: bool = False


class SectionProgress(ApiModel):
    course_id: str
    section_id: str
    status: str
    score: float | None
    visits: int
    opened_at: datetime
    completed_at: datetime | None
    updated_at: datetime


class CourseProgress(ApiModel):
    course_id: str
    title: str
    level: str
    category: str
    completed_sections: int
    opened_sections: int
    total_sections: int
    percent: float
    average_score: float | None
    last_activity: datetime | None


class ProgressDetail(ApiModel):
    course: CourseProgress
    sections: list[SectionProgress]
