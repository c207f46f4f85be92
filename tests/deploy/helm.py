"""Render the Helm chart offline with helm-python-sdk (Helm embedded as a library), as `helm template` would."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from tests.deploy.inventory import DEPLOY

CHART = DEPLOY / "helm" / "aria"
RELEASE = "aria"
NAMESPACE = "aria"


def load_values(*files: Path) -> dict[str, Any]:
    """Values files merged left to right, like repeated `-f`."""
    merged: dict[str, Any] = {}
    for path in files:
        merged = merge(merged, yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    return merged


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


CI_VALUES = load_values(CHART / "ci" / "ci-values.yaml")
VALUE_SETS: dict[str, dict[str, Any]] = {
    # The 3-node Qdrant cluster of the official chart (its own manifests need `helm dependency build`).
    "bundled-qdrant": load_values(CHART / "values-qdrant.yaml", CHART / "ci" / "ci-values.yaml"),
    # An external Qdrant, secrets managed outside the chart, a fixed replica count, an existing volume.
    "external-qdrant": merge(
        CI_VALUES,
        {
            "config": {"NEXUS_QDRANT_URL": "https://qdrant.example.org:6333"},
            "existingSecret": "aria-managed",
            "api": {"autoscaling": {"enabled": False}, "replicaCount": 3},
            "persistence": {"existingClaim": "aria-uploads"},
        },
    ),
}


def render(values: dict[str, Any]) -> dict[str, str]:
    """Template path -> rendered text (hooks included, NOTES.txt too)."""
    import helm_python as helm

    helm.disable_logging()
    with helm.Chart.load(CHART) as chart:
        return chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)


def manifests(rendered: dict[str, str]) -> list[dict[str, Any]]:
    return [
        doc
        for path, text in sorted(rendered.items())
        if path.endswith((".yaml", ".yml"))
        for doc in yaml.safe_load_all(text)
        if doc
    ]


def find(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    matches = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind}/{name}: {len(matches)} found"
    return matches[0]
