"""Settings of the tutor (answer backend, retrieval sizes), read from ``NEXUS_*`` variables and ``.env``."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class TutorSettings(BaseSettings):
    """How ARIA retrieves and answers."""

    model_config = SettingsConfigDict(env_prefix="NEXUS_", env_file=".env", extra="ignore")

    llm_backend: Literal["extractive", "openai"] = Field(
        "extractive", description="Answer backend: extractive (offline, grounded) or openai (any compatible server)."
    )
    openai_base_url: str | None = Field(None, description="Base URL of the OpenAI-compatible server (unset: OpenAI).")
    openai_api_key: SecretStr | None = Field(None, description="API key of the OpenAI-compatible server.")
    openai_model: str = Field("gpt-4o-mini", description="Model name sent to the OpenAI-compatible server.")
    llm_timeout_s: float = Field(60.0, gt=0, description="Timeout of one LLM call, in seconds.")
    llm_max_tokens: int = Field(700, ge=16, description="Most tokens an LLM answer may have.")
    retrieval_k: int = Field(5, ge=1, le=20, description="Passages given to the answer.")
    context_tokens: int = Field(1800, ge=200, description="Token budget of the passages in the prompt.")
    memory_turns: int = Field(6, ge=0, description="Recent messages put in the prompt; older ones are summarised.")
    min_confidence: float = Field(
        0.40, ge=0, le=1, description="Below this retrieval confidence, ARIA says it is not sure."
    )


@lru_cache
def get_tutor_settings() -> TutorSettings:
    """The process-wide settings; tests build their own instead."""
    return TutorSettings()
