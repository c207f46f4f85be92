"""Base of the API's JSON models: camelCase on the wire (the published contract), snake_case in Python."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class ApiModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, from_attributes=True)


class Pagination(ApiModel):
    page: int
    limit: int
    total: int
    pages: int


class Message(ApiModel):
    success: bool = True
    message: str
