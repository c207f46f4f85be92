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


class InvitationOut(ApiModel):
    """A pending invitation, as the class's teacher sees it (the address they typed)."""

    id: str
    email: str
    created_at: datetime
    expires_at: datetime


class ClassDetail(ClassOut):
    students: list[UserOut] = []
    invitations: list[InvitationOut] = []  # pending ones, for the class's teacher and admins


class InvitationSent(ApiModel):
    """The same answer whether or not an account has this address (an email is not an oracle)."""

    success: bool = True
    message: str
    email: str
    expires_at: datetime


class MyInvitation(ApiModel):
    """An invitation addressed to the student, to accept or decline."""

    id: str
    class_id: str
    class_name: str
    level: str | None
    school_year: str | None
    teacher_name: str | None
    created_at: datetime
    expires_at: datetime


class AddStudent(ApiModel):
    email: EmailStr


class JoinClass(ApiModel):
    join_code: str = Field(min_length=4, max_length=16)
