"""JSON shapes of classes."""

from __future__ import annotations

from datetime import datetime

from pydantic import EmailStr, Field

from platform_api.core.schemas import ApiModel
from platform_api.users.schemas import Level, UserOut


class ClassCreate(ApiModel):
    name: str = Field(min_length=1, max_length=120)
    level: Level | None = None
    school_year: str | None = Field(None, max_length=16)


class ClassUpdate(ApiModel):
    name: str | None = Field(None, min_length=1, max_length=120)
    level: Level | None = None
    school_year: str | None = Field(None, max_length=16)


class ClassOut(ApiModel):
    id: str
    name: str
    level: str | None
    school_year: str | None
    teacher_id: str | None
    join_code: str | None = None  # only for the class's teacher and admins
    student_count: int = 0
    created_at: datetime


class ClassDetail(ClassOut):
    students: list[UserOut] = []


class AddStudent(ApiModel):
    email: EmailStr


class JoinClass(ApiModel):
    join_code: str = Field(min_length=4, max_length=16)
