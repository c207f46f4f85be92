"""Settings of the code sandbox, read from ``NEXUS_SANDBOX_*`` variables and ``.env``."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class SandboxSettings(BaseSettings):
    """Limits of one sandboxed run (student code or reference solution against an exercise's tests)."""

    model_config = SettingsConfigDict(env_prefix="NEXUS_SANDBOX_", env_file=".env", extra="ignore")

    python: str = Field(
        "/usr/bin/python3", description="Interpreter run inside the sandbox; it must live under /usr (bound read-only)."
    )
    cpu_seconds: int = Field(5, ge=1, le=120, description="CPU time of one run (RLIMIT_CPU), in seconds.")
    wall_seconds: float = Field(10.0, gt=0, le=300, description="Wall-clock time of one run before it is killed.")
    test_seconds: float = Field(2.0, gt=0, le=60, description="Time of one test (and of loading the code).")
    memory_mb: int = Field(256, ge=64, le=8192, description="Address space of one run (RLIMIT_AS), in MiB.")
    output_kb: int = Field(64, ge=1, le=10240, description="Output (stdout + stderr) kept; more kills the run.")
    processes: int = Field(16, ge=2, le=256, description="Processes of one run (RLIMIT_NPROC, own uid per run).")


@lru_cache
def get_sandbox_settings() -> SandboxSettings:
    """The process-wide settings; tests build their own instead."""
    return SandboxSettings()
