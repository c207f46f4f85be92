"""JSON shapes of authentication, as in the published contract."""

from __future__ import annotations

from pydantic import EmailStr, Field

from platform_api.core.schemas import ApiModel
from platform_api.users.schemas import Level


class RegisterIn(ApiModel):
    email: EmailStr
    password: str = Field(min_length=1, max_length=256)
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    role: str = Field("student", max_length=16)
    phone: str | None = Field(None, max_length=32)
    class_level: Level | None = None


class RegisterOut(ApiModel):
    success: bool = True
    message: str
    user_id: str


class LoginIn(ApiModel):
    email: EmailStr
    password: str = Field(min_length=1, max_length=256)


class LoginUser(ApiModel):
    id: str
    email: str
    first_name: str
    last_name: str
    role: str


class LoginOut(ApiModel):
    success: bool = True
    user: LoginUser
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int


class RefreshIn(ApiModel):
    refresh_token: str = Field(min_length=1, max_length=2048)


class TokensOut(ApiModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int


class ForgotIn(ApiModel):
    email: EmailStr


class ResetIn(ApiModel):
    token: str = Field(min_length=10, max_length=256)
    password: str = Field(min_length=1, max_length=256)


class PasswordChangeIn(ApiModel):
    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=256)
