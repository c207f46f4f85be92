"""Base of the API's JSON models: camelCase on the wire (the published contract), snake_case in Python."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator
from pydantic.alias_generators import to_camel


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_holds_nul(v) for v in value)
    return False


class ApiModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, from_attributes=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul_character(cls, value: Any) -> Any:
        """No text of the API holds a NUL character: PostgreSQL cannot store one (a 500), SQLite stored it."""
        if _holds_nul(value):
            raise ValueError("caractère nul (\\u0000) interdit")
        return value


class Pagination(ApiModel):
    page: int
    limit: int
    total: int
    pages: int


class Message(ApiModel):
    success: bool = True
    message: str
