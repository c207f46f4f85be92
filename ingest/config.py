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
    parse_timeout_seconds: float = Field(
        300.0, gt=0, description="Wall time one file may take to parse, OCR included (child process killed when over)."
    )
    parse_memory_mb: int = Field(
        1024, ge=128, description="Address space the parsing child process may use for one file, in megabytes."
    )
    max_pdf_pages: int = Field(1000, ge=1, description="A PDF with more pages is refused.")
    max_text_chars: int = Field(
        2_000_000, ge=1000, description="A file whose extracted text is longer (in characters) is refused."
    )
    ingest_max_attempts: int = Field(
        3, ge=1, description="Runs of an ingestion job interrupted by a crash before it is failed for good."
    )

    @property
    def max_bytes(self) -> int:
        return int(self.max_file_mb * 1_000_000)


@lru_cache
def get_ingest_settings() -> IngestSettings:
    """The process-wide settings; tests build their own instead."""
    return IngestSettings()
