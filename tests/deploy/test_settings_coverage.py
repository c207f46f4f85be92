"""Every setting the app reads reaches every way of deploying it: .env.example, compose.yaml, the Helm chart.

The settings are found in the code (every pydantic-settings class with the NEXUS_ prefix in the project's
packages), so a new field fails here until the deployment files carry it."""

from __future__ import annotations

import base64
import secrets
from typing import Any

import pytest
from dotenv import dotenv_values
from pydantic_settings import BaseSettings

from tests.deploy.conftest import ENV_EXAMPLE
from tests.deploy.helm import CHART, VALUE_SETS, find, load_values, manifests, render
from tests.deploy.inventory import PREFIX, app_settings, env_example_entries, settings_classes

SETTINGS = app_settings()
ASSIGNED, DOCUMENTED = env_example_entries()
CHART_VALUES = load_values(CHART / "values.yaml")
APP_SERVICES = ("api", "worker", "migrate")
PLACEHOLDER = "change-me"


def test_the_inventory_finds_every_settings_class() -> None:
    names = {cls.__name__ for cls in settings_classes()}
    assert {"KnowledgeSettings", "IngestSettings", "TutorSettings"} <= names
    assert {"NEXUS_QDRANT_SHARDS", "NEXUS_QDRANT_REPLICATION_FACTOR", "NEXUS_QDRANT_WRITE_CONSISTENCY"} <= set(SETTINGS)


@pytest.mark.parametrize("env", sorted(SETTINGS))
def test_in_env_example(env: str) -> None:
    assert env in ASSIGNED or env in DOCUMENTED, f"{env} ({', '.join(SETTINGS[env].owners)}) is not in {ENV_EXAMPLE}"


@pytest.mark.parametrize("env", sorted(SETTINGS))
def test_in_compose(env: str, compose_config: dict[str, Any]) -> None:
    """Assigned in .env.example: each app container gets it; only documented (commented): the app's default."""
    for service in APP_SERVICES:
        environment = compose_config["services"][service]["environment"]
        if env in ASSIGNED:
            assert env in environment, f"{env} does not reach the {service} container"
        else:
            assert env in DOCUMENTED, f"{env} is neither set nor documented for compose"


@pytest.mark.parametrize("env", sorted(SETTINGS))
def test_in_chart_values(env: str) -> None:
    config, secret = CHART_VALUES["config"], CHART_VALUES["secrets"]
    assert (env in config) != (env in secret), f"{env} must be in exactly one of config and secrets of values.yaml"
    if SETTINGS[env].secret:
        assert env in secret, f"{env} is a secret: it belongs in `secrets`, rendered into a Secret"


@pytest.mark.parametrize("values", sorted(VALUE_SETS))
def test_chart_renders_every_given_setting(values: str) -> None:
    """The ConfigMap and the Secret carry every non-empty value: nothing is lost between values and the pod."""
    merged = {**CHART_VALUES["config"], **CHART_VALUES["secrets"]}
    for section in ("config", "secrets"):
        merged |= VALUE_SETS[values].get(section, {})
    expected = {k for k, v in merged.items() if v not in (None, "")} | {"NEXUS_QDRANT_URL"}
    rendered = chart_environment(values)
    if VALUE_SETS[values].get("existingSecret"):
        expected -= set(CHART_VALUES["secrets"])
    assert expected <= set(rendered), sorted(expected - set(rendered))


@pytest.mark.parametrize(
    ("source", "names"),
    [
        (".env.example", {n for n in {*ASSIGNED, *DOCUMENTED} if n.startswith(PREFIX)}),
        ("values.yaml", {*CHART_VALUES["config"], *CHART_VALUES["secrets"]}),
    ],
)
def test_no_stale_setting(source: str, names: set[str]) -> None:
    """A NEXUS_* name the app does not read is a typo or a leftover: it would be silently ignored."""
    assert names - set(SETTINGS) == set(), f"{source} sets variables no settings class reads"


def test_secrets_in_env_example_are_placeholders() -> None:
    for env, setting in SETTINGS.items():
        if setting.secret and env in ASSIGNED:
            assert ASSIGNED[env].startswith(PLACEHOLDER), f"{env} must be a {PLACEHOLDER} placeholder"


def validate_environment(environment: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Build every settings class from exactly this environment, as the app would at start-up."""
    import os

    for name in list(os.environ):
        if name.startswith(PREFIX):
            monkeypatch.delenv(name)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    for cls in settings_classes():
        settings: BaseSettings = cls(_env_file=None)
        assert settings is not None


def test_env_example_is_valid_for_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    """With its change-me values replaced (as the runbook asks), .env.example starts the app's settings."""
    values = {k: v or "" for k, v in dotenv_values(ENV_EXAMPLE).items()}
    token = secrets.token_hex(32)
    environment = {k: (token if v.startswith(PLACEHOLDER) else v) for k, v in values.items() if k.startswith(PREFIX)}
    validate_environment(environment, monkeypatch)


def test_env_example_placeholder_jwt_key_is_refused_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    """Left as it is, the placeholder signing key stops a production start (the platform refuses it)."""
    from pydantic import ValidationError

    values = {k: v or "" for k, v in dotenv_values(ENV_EXAMPLE).items() if k.startswith(PREFIX)}
    assert values["NEXUS_ENVIRONMENT"] == "production"
    with pytest.raises(ValidationError, match="NEXUS_JWT_SECRET"):
        validate_environment(values, monkeypatch)


def chart_environment(values: str) -> dict[str, str]:
    docs = manifests(render(VALUE_SETS[values]))
    environment = dict(find(docs, "ConfigMap", "aria")["data"])
    for doc in docs:
        if doc["kind"] == "Secret" and doc["metadata"]["name"] == "aria":
            environment |= {k: base64.b64decode(v).decode() for k, v in doc["data"].items()}
    return environment


def test_chart_environment_is_valid_for_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    validate_environment(chart_environment("bundled-qdrant"), monkeypatch)
