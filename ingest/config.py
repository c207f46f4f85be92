"""Settings of the ingestion pipeline, read from ``NEXUS_*`` variables and ``.env``."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class IngestSettings(BaseSettings):
    """Limits and chunking of ingestion."""

    model_config = SettingsConfigDict(env_prefix="NEXUS_", env_file=".env", extra="ignore")

    max_file_mb: float = Field(50.0, gt=0, description="Largest file accepted for ingestion, in megabytes.")
    chunk_tokens: int = Field(300, ge=32, le=512, description="Token budget of a chunk (embedding model tokens).")
    chunk_overlap: int = Field(40, ge=0, le=128, description="Tokens a chunk repeats from the previous one.")
    embed_batch: int = Field(32, ge=1, le=512, description="Chunks embedded and upserted per batch.")

    @property
    def max_bytes(self) -> int:
        return int(self.max_file_mb * 1_000_000)


@lru_cache
def get_ingest_settings() -> IngestSettings:
    """The process-wide settings; tests build their own instead."""
    return IngestSettings()
