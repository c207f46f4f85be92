"""JSON shapes of courses, as in the published contract."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from platform_api.core.schemas import ApiModel, Pagination
from platform_api.users.schemas import Level


class CourseSummary(ApiModel):
    id: str
    title: str
    description: str
    level: str
    category: str
    source: str
    published: bool
    read_only: bool
    owner_id: str | None
    estimated_time: int
    chapter_count: int
    updated_at: datetime


class CourseDetail(CourseSummary):
    content: dict[str, Any]
    prerequisites: list[Any]
    objectives: list[Any]


class CoursePage(ApiModel):
    courses: list[CourseSummary]
    pagination: Pagination


class SectionIn(ApiModel):
    id: str | None = Field(None, max_length=120)
    title: str = Field(min_length=1, max_length=200)
    content: str = Field("", max_length=100_000)


class ChapterIn(ApiModel):
    id: str | None = Field(None, max_length=120)
    title: str = Field(min_length=1, max_length=200)
    sections: list[SectionIn] = Field(default_factory=list, max_length=100)


class ContentIn(ApiModel):
    chapters: list[ChapterIn] = Field(default_factory=list, max_length=100)


class CourseCreate(ApiModel):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=5000)
    level: Level
    category: str = Field(min_length=1, max_length=64)
    content: ContentIn = Field(default_factory=ContentIn)
    prerequisites: list[str] = Field(default_factory=list, max_length=50)
    objectives: list[str] = Field(default_factory=list, max_length=50)
    estimated_time: int = Field(0, ge=0, le=100_000)


class CourseUpdate(ApiModel):
    title: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=5000)
    level: Level | None = None
    category: str | None = Field(None, min_length=1, max_length=64)
    content: ContentIn | None = None
    prerequisites: list[str] | None = None
    objectives: list[str] | None = None
    estimated_time: int | None = Field(None, ge=0, le=100_000)


class PublishIn(ApiModel):
    published: bool = True
