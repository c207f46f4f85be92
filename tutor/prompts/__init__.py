"""ARIA's prompt files (French) and the helpers that fill them."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

PROMPTS = Path(__file__).parent


@lru_cache
def load(name: str) -> str:
    """A prompt file's text."""
    return (PROMPTS / name).read_text(encoding="utf-8").strip()


@lru_cache
def refusal(category: str) -> str:
    """The kind French refusal of a category."""
    messages: dict[str, str] = yaml.safe_load((PROMPTS / "refusals.yaml").read_text(encoding="utf-8"))
    return messages[category]
