"""JSON shapes of users, profiles and parent links."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import EmailStr, Field

from platform_api.core.schemas import ApiModel, Pagination

Level = Literal["premiere", "terminale"]
RoleName = Literal["student", "parent", "teacher", "admin"]


class UserOut(ApiModel):
    id: str
    email: str
    first_name: str
    last_name: str
    role: str
    phone: str | None = None
    class_level: str | None = None
    is_active: bool = True
    created_at: datetime | None = None


class UserPage(ApiModel):
    users: list[UserOut]
    pagination: Pagination


class UserCreate(ApiModel):
    email: EmailStr
    password: str = Field(min_length=1, max_length=256)
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    role: RoleName
    phone: str | None = Field(None, max_length=32)
    class_level: Level | None = None


class UserUpdate(ApiModel):
    first_name: str | None = Field(None, min_length=1, max_length=100)
    last_name: str | None = Field(None, min_length=1, max_length=100)
    phone: str | None = Field(None, max_length=32)
    class_level: Level | None = None


class AdminUserUpdate(UserUpdate):
    is_active: bool | None = None


class ParentCode(ApiModel):
    parent_code: str


class LinkByCode(ApiModel):
    parent_code: str = Field(min_length=4, max_length=16)


class LinkCreate(ApiModel):
    parent_id: str
    student_id: str


class Export(ApiModel):
    exported_at: datetime
    user: dict[str, Any]
    data: dict[str, Any]
