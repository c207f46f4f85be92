"""deploy/compose.yaml: valid for Compose v2 (`docker compose config`), and shaped as issue 8 asks."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.conftest import COMPOSE_FILE, ENV_EXAMPLE, compose_env, run

APP_SERVICES = ("api", "worker", "migrate")


def test_compose_config_is_valid(compose_bin: Path, tmp_path: Path) -> None:
    env = compose_env(tmp_path, ARIA_ENV_FILE=ENV_EXAMPLE.name)
    result = run([compose_bin, "-f", COMPOSE_FILE, "--env-file", ENV_EXAMPLE, "config", "-q"], env)
    assert result.returncode == 0, result.stderr


def test_compose_config_through_the_docker_cli_plugin(compose_bin: Path, tmp_path: Path) -> None:
    """The same check as `docker compose` runs it, with the binary as a CLI plugin under $DOCKER_CONFIG."""
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("no docker CLI on this machine; the standalone compose binary covers the check")
    env = compose_env(tmp_path, ARIA_ENV_FILE=ENV_EXAMPLE.name)
    plugins = Path(env["DOCKER_CONFIG"]) / "cli-plugins"
    plugins.mkdir()
    (plugins / "docker-compose").symlink_to(compose_bin)
    version = run([docker, "compose", "version"], env)
    assert version.returncode == 0, version.stderr
    assert "v2." in version.stdout
    result = run([docker, "compose", "-f", COMPOSE_FILE, "--env-file", ENV_EXAMPLE, "config", "-q"], env)
    assert result.returncode == 0, result.stderr


def test_the_check_has_teeth(compose_bin: Path, tmp_path: Path) -> None:
    """A broken file fails: the validation is not a command that always exits 0."""
    broken = tmp_path / "compose.yaml"
    broken.write_text(COMPOSE_FILE.read_text(encoding="utf-8").replace("restart: unless-stopped", "restart: []", 1))
    env = compose_env(tmp_path, ARIA_ENV_FILE=str(ENV_EXAMPLE))
    result = run([compose_bin, "-f", broken, "--env-file", ENV_EXAMPLE, "config", "-q"], env)
    assert result.returncode != 0
    assert "restart must be a string" in result.stderr


@pytest.mark.parametrize("variable", ["POSTGRES_PASSWORD", "REDIS_PASSWORD", "NEXUS_QDRANT_API_KEY"])
def test_a_missing_password_stops_compose(compose_bin: Path, tmp_path: Path, variable: str) -> None:
    lines = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    env_file = tmp_path / "partial.env"
    env_file.write_text("\n".join(line for line in lines if not line.startswith(f"{variable}=")) + "\n")
    env = compose_env(tmp_path, ARIA_ENV_FILE=str(env_file))
    result = run([compose_bin, "-f", COMPOSE_FILE, "--env-file", env_file, "config", "-q"], env)
    assert result.returncode != 0
    assert variable in result.stderr


def test_services(compose_config: dict[str, Any]) -> None:
    assert set(compose_config["services"]) == {"api", "worker", "migrate", "nginx", "postgres", "redis", "qdrant"}


def test_api_runs_several_stateless_replicas(compose_config: dict[str, Any]) -> None:
    api = compose_config["services"]["api"]
    assert int(api["deploy"]["replicas"]) >= 2
    assert "ports" not in api, "replicas share no host port: nginx is the way in"
    assert "container_name" not in api


def test_roles_of_the_one_image(compose_config: dict[str, Any]) -> None:
    services = compose_config["services"]
    assert services["api"]["command"][:1] == ["serve"]
    assert services["worker"]["command"] == ["worker"]
    assert services["migrate"]["command"] == ["migrate"]
    images = {services[name]["image"] for name in APP_SERVICES}
    assert len(images) == 1
    for name in APP_SERVICES:
        assert services[name]["build"]["dockerfile"] == "deploy/Dockerfile"
        assert Path(services[name]["build"]["context"]) == COMPOSE_FILE.parent.parent


def test_app_waits_for_migrations_and_healthy_services(compose_config: dict[str, Any]) -> None:
    services = compose_config["services"]
    for name in ("api", "worker"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        for backing in ("postgres", "redis", "qdrant"):
            assert depends[backing]["condition"] == "service_healthy"
    assert services["migrate"]["restart"] == "no"


def test_backing_services(compose_config: dict[str, Any]) -> None:
    services = compose_config["services"]
    assert services["postgres"]["image"].startswith("postgres:15")
    assert services["redis"]["image"].startswith("redis:7")
    assert services["qdrant"]["image"].startswith("qdrant/qdrant:")
    assert services["nginx"]["image"].startswith("nginx:")


@pytest.mark.parametrize("service", ["api", "nginx", "postgres", "redis", "qdrant"])
def test_healthchecks(compose_config: dict[str, Any], service: str) -> None:
    check = compose_config["services"][service]["healthcheck"]
    assert not check.get("disable")
    assert check["test"]


@pytest.mark.parametrize(
    ("service", "target"),
    [("postgres", "/var/lib/postgresql/data"), ("redis", "/data"), ("qdrant", "/qdrant/storage")]
    + [(name, "/data") for name in APP_SERVICES],
)
def test_state_lives_in_named_volumes(compose_config: dict[str, Any], service: str, target: str) -> None:
    mounts = {m["target"]: m for m in compose_config["services"][service]["volumes"]}
    assert mounts[target]["type"] == "volume"
    assert mounts[target]["source"] in compose_config["volumes"]


def test_nginx_gets_the_repository_config(compose_config: dict[str, Any]) -> None:
    nginx = compose_config["services"]["nginx"]
    mounts = {m["target"]: m for m in nginx["volumes"]}
    assert Path(mounts["/etc/nginx/nginx.conf"]["source"]) == COMPOSE_FILE.parent / "nginx.conf"
    assert mounts["/etc/nginx/nginx.conf"]["read_only"] is True
    assert [p["target"] for p in nginx["ports"]] == [80]


def test_backing_services_are_not_reachable_from_outside(compose_config: dict[str, Any]) -> None:
    assert compose_config["networks"]["backend"]["internal"] is True
    for name in ("postgres", "redis", "qdrant"):
        service = compose_config["services"][name]
        assert set(service["networks"]) == {"backend"}
        assert "ports" not in service


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_services_read_the_env_file(service: str) -> None:
    """Compose resolves env_file paths, so the raw file is read for the reference itself."""
    import yaml

    raw = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    env_files = raw["services"][service]["env_file"]
    assert env_files == [{"path": "${ARIA_ENV_FILE:-.env}", "required": True}]
