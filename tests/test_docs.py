"""The README documents every setting and every CLI command (datasette's test_docs idea)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer
from typer.main import get_command

from ingest.config import IngestSettings
from knowledge.config import KnowledgeSettings
from nexus_cli.main import app
from platform_api.core.config import PlatformSettings
from tutor.config import TutorSettings
from tutor.practice.config import SandboxSettings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
SETTINGS = [
    f"{cls.model_config.get('env_prefix', 'NEXUS_')}{name}".upper()
    for cls in (KnowledgeSettings, IngestSettings, TutorSettings, PlatformSettings, SandboxSettings)
    for name in cls.model_fields
]


def cli_commands() -> list[str]:
    def walk(cmd: object, prefix: str) -> list[str]:
        sub = getattr(cmd, "commands", None)
        if not sub:
            return [prefix]
        return [name for key, c in sorted(sub.items()) for name in walk(c, f"{prefix} {key}")]

    return walk(get_command(app), "nexus")


@pytest.mark.parametrize("setting", SETTINGS)
def test_every_setting_is_in_the_readme(setting: str) -> None:
    assert re.search(rf"`{setting}`", README), f"{setting} is missing from the README settings table"


@pytest.mark.parametrize("command", cli_commands())
def test_every_cli_command_is_in_the_readme(command: str) -> None:
    assert f"`{command}" in README, f"{command} is missing from the README"


def test_the_two_setup_commands_are_documented() -> None:
    assert "make run" in README
    assert "make test" in README
    assert isinstance(app, typer.Typer)
