"""JSON shapes of documents and ingestion jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from platform_api.core.schemas import ApiModel


class JobOut(ApiModel):
    id: str
    document_id: str | None
    status: str
    progress: int
    total: int
    percent: float
    error: str | None
    result: dict[str, Any] | None
    attempts: int
    created_at: datetime
    updated_at: datetime


class DocumentOut(ApiModel):
    id: str
    owner_id: str
    filename: str
    title: str
    format: str
    size_bytes: int
    visibility: str
    class_ids: list[str]
    levels: list[str]
    status: str
    chunks: int
    error: str | None
    error_code: str | None
    created_at: datetime
    updated_at: datetime
    job: JobOut | None = None
