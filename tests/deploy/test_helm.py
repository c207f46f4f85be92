"""deploy/helm/aria: linted and rendered by Helm (helm-python-sdk), manifests checked by kubernetes-validate."""

from __future__ import annotations

import base64
from typing import Any

import pytest
import yaml

from tests.deploy.helm import CHART, RELEASE, VALUE_SETS, find, manifests, render

# The oldest Kubernetes the chart claims (Chart.yaml kubeVersion) and the newest schemas kubernetes-validate has.
KUBE_VERSIONS = ("1.29.0", "1.37.0")
FULL = RELEASE  # the release name holds the chart name, so Helm uses it alone
MISSING_DEPENDENCY = "chart directory is missing these dependencies: qdrant"


@pytest.fixture(scope="module", params=sorted(VALUE_SETS))
def value_set(request: pytest.FixtureRequest) -> tuple[str, list[dict[str, Any]]]:
    name: str = request.param
    return name, manifests(render(VALUE_SETS[name]))


@pytest.fixture(scope="module")
def bundled() -> list[dict[str, Any]]:
    return manifests(render(VALUE_SETS["bundled-qdrant"]))


def container(doc: dict[str, Any]) -> dict[str, Any]:
    containers = doc["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    result: dict[str, Any] = containers[0]
    return result


@pytest.mark.parametrize("values", sorted(VALUE_SETS))
@pytest.mark.parametrize("kube", ["v1.29.0", None])
def test_helm_lint(values: str, kube: str | None) -> None:
    """Lint findings are data: no error, and no warning but the dependency that cannot be fetched offline."""
    import helm_python as helm

    helm.disable_logging()
    report = helm.lint(CHART, VALUE_SETS[values], kube_version=kube)
    assert report["errors"] == []
    warnings = [m["error"] for m in report["messages"] if m["severity"] >= 2]
    assert warnings in ([], [MISSING_DEPENDENCY]), warnings


def test_the_qdrant_dependency_is_declared_and_conditional() -> None:
    import helm_python as helm

    chart = yaml.safe_load((CHART / "Chart.yaml").read_text(encoding="utf-8"))
    (dependency,) = chart["dependencies"]
    assert dependency["name"] == "qdrant"
    assert dependency["repository"] == "https://qdrant.github.io/qdrant-helm"
    assert dependency["condition"] == "qdrant.enabled"
    # Not vendored here (no network to fetch it): `helm dependency build` does it before an install.
    statuses = {d["name"]: d["status"] for d in helm.dependency_list(CHART)}
    assert statuses["qdrant"] in {"missing", "ok"}


def test_values_qdrant_describe_a_three_node_cluster() -> None:
    qdrant = yaml.safe_load((CHART / "values-qdrant.yaml").read_text(encoding="utf-8"))["qdrant"]
    assert qdrant["enabled"] is True
    assert qdrant["replicaCount"] == 3
    assert qdrant["config"]["cluster"]["enabled"] is True
    assert qdrant["podDisruptionBudget"]["enabled"] is True
    assert qdrant["apiKey"] is True


@pytest.mark.parametrize("kube", KUBE_VERSIONS)
def test_manifests_match_the_kubernetes_schemas(value_set: tuple[str, list[dict[str, Any]]], kube: str) -> None:
    """`kubernetes-validate --strict`: unknown fields are errors too."""
    from kubernetes_validate import utils

    _, docs = value_set
    assert docs
    for doc in docs:
        try:
            utils.validate(doc, kube, strict=True)
        except utils.ValidationError as exc:
            pytest.fail(f"{doc['kind']}/{doc['metadata']['name']} (Kubernetes {kube}): {exc.message} at {exc.path}")


def test_kubernetes_validate_has_teeth(bundled: list[dict[str, Any]]) -> None:
    from kubernetes_validate import utils

    deployment = find(bundled, "Deployment", f"{FULL}-api")
    broken = yaml.safe_load(yaml.safe_dump(deployment))
    container(broken)["livenessProbe"]["httpGet"]["pathh"] = "/health"
    with pytest.raises(utils.ValidationError):
        utils.validate(broken, KUBE_VERSIONS[-1], strict=True)


def test_default_values_refuse_to_render_without_the_required_settings() -> None:
    import helm_python as helm

    with pytest.raises(helm.HelmRenderError, match=r"NEXUS_QDRANT_URL|NEXUS_DATABASE_URL"):
        render({})


@pytest.mark.parametrize("missing", ["NEXUS_DATABASE_URL", "NEXUS_REDIS_URL", "NEXUS_JWT_SECRET"])
def test_required_secrets(missing: str) -> None:
    import helm_python as helm

    values = yaml.safe_load(yaml.safe_dump(VALUE_SETS["bundled-qdrant"]))
    values["secrets"][missing] = ""
    with pytest.raises(helm.HelmRenderError, match=missing):
        render(values)


def test_api_deployment(bundled: list[dict[str, Any]]) -> None:
    api = find(bundled, "Deployment", f"{FULL}-api")
    main = container(api)
    assert main["args"][:1] == ["serve"]
    assert main["livenessProbe"]["httpGet"]["path"] == "/health"
    assert main["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert main["startupProbe"]["httpGet"]["path"] == "/health"
    assert main["securityContext"]["allowPrivilegeEscalation"] is False
    assert api["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
    assert "replicas" not in api["spec"], "the HPA owns the replica count"
    assert api["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


def test_hpa_and_pdb_cover_the_api(bundled: list[dict[str, Any]]) -> None:
    api = find(bundled, "Deployment", f"{FULL}-api")
    hpa = find(bundled, "HorizontalPodAutoscaler", f"{FULL}-api")
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": f"{FULL}-api"}
    assert hpa["spec"]["minReplicas"] >= 2
    pdb = find(bundled, "PodDisruptionBudget", f"{FULL}-api")
    assert pdb["spec"]["selector"]["matchLabels"] == api["spec"]["selector"]["matchLabels"]
    assert pdb["spec"]["minAvailable"] < hpa["spec"]["minReplicas"], "a drain must be able to move a pod"


def test_fixed_replicas_without_the_hpa() -> None:
    docs = manifests(render(VALUE_SETS["external-qdrant"]))
    assert find(docs, "Deployment", f"{FULL}-api")["spec"]["replicas"] == 3
    assert not [d for d in docs if d["kind"] == "HorizontalPodAutoscaler"]


def test_worker_deployment(bundled: list[dict[str, Any]]) -> None:
    worker = container(find(bundled, "Deployment", f"{FULL}-worker"))
    assert worker["args"] == ["worker"]


def test_retention_runs_nightly_as_a_cronjob_not_in_the_api_pods(bundled: list[dict[str, Any]]) -> None:
    cron = find(bundled, "CronJob", f"{FULL}-retention")
    assert cron["spec"]["schedule"] == "30 2 * * *"
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    pod = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (retention,) = pod["containers"]
    assert retention["args"] == ["retention", "run"]
    api = container(find(bundled, "Deployment", f"{FULL}-api"))
    assert retention["envFrom"] == api["envFrom"]  # the same database, Qdrant and periods as the API
    config = find(bundled, "ConfigMap", FULL)["data"]
    assert config["NEXUS_RETENTION_INTERVAL_HOURS"] == "0"
    assert config["NEXUS_RETENTION_CONVERSATIONS_DAYS"] == "365"
    off = manifests(render({**VALUE_SETS["bundled-qdrant"], "retention": {"enabled": False}}))
    assert not [d for d in off if d["kind"] == "CronJob"]


def test_migrations_run_as_a_pre_install_and_pre_upgrade_hook(bundled: list[dict[str, Any]]) -> None:
    job = find(bundled, "Job", f"{FULL}-migrations")
    assert set(job["metadata"]["annotations"]["helm.sh/hook"].split(",")) == {"pre-install", "pre-upgrade"}
    assert container(job)["args"] == ["migrate"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    # Hooks run before the release's objects exist: what the Job reads must be hooks created before it.
    job_weight = int(job["metadata"]["annotations"]["helm.sh/hook-weight"])
    for ref in container(job)["envFrom"]:
        kind, source = ("ConfigMap", ref["configMapRef"]) if "configMapRef" in ref else ("Secret", ref["secretRef"])
        dependency = find(bundled, kind, source["name"])
        assert "pre-install" in dependency["metadata"]["annotations"]["helm.sh/hook"]
        assert int(dependency["metadata"]["annotations"]["helm.sh/hook-weight"]) < job_weight


def test_ingress_streams_sse_and_websockets(bundled: list[dict[str, Any]]) -> None:
    ingress = find(bundled, "Ingress", FULL)
    annotations = ingress["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/proxy-buffering"] == "off"
    assert int(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600
    assert int(annotations["nginx.ingress.kubernetes.io/proxy-send-timeout"]) >= 3600
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == f"{FULL}-api"
    find(bundled, "Service", f"{FULL}-api")


def test_bundled_qdrant_is_found_by_name_and_key(bundled: list[dict[str, Any]]) -> None:
    config = find(bundled, "ConfigMap", FULL)["data"]
    assert config["NEXUS_QDRANT_URL"] == f"http://{RELEASE}-qdrant:6333"
    for name in (f"{FULL}-api", f"{FULL}-worker"):
        env = {e["name"]: e for e in container(find(bundled, "Deployment", name))["env"]}
        ref = env["NEXUS_QDRANT_API_KEY"]["valueFrom"]["secretKeyRef"]
        assert ref == {"name": f"{RELEASE}-qdrant-apikey", "key": "api-key"}


def test_external_qdrant_and_existing_secret() -> None:
    docs = manifests(render(VALUE_SETS["external-qdrant"]))
    assert find(docs, "ConfigMap", FULL)["data"]["NEXUS_QDRANT_URL"] == "https://qdrant.example.org:6333"
    assert not [d for d in docs if d["kind"] == "Secret"], "existingSecret: the chart renders no Secret"
    api = container(find(docs, "Deployment", f"{FULL}-api"))
    assert {"secretRef": {"name": "aria-managed"}} in api["envFrom"]
    assert "NEXUS_QDRANT_API_KEY" not in {e["name"] for e in api["env"]}
    job = container(find(docs, "Job", f"{FULL}-migrations"))
    assert {"secretRef": {"name": "aria-managed"}} in job["envFrom"]


def test_secret_holds_the_secrets(bundled: list[dict[str, Any]]) -> None:
    secret = find(bundled, "Secret", FULL)
    decoded = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    assert decoded["NEXUS_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert decoded["NEXUS_REDIS_URL"].startswith("redis://")
    assert len(decoded["NEXUS_JWT_SECRET"]) >= 32


def test_pods_roll_when_settings_change() -> None:
    values = yaml.safe_load(yaml.safe_dump(VALUE_SETS["bundled-qdrant"]))
    before = find(manifests(render(values)), "Deployment", f"{FULL}-api")
    values["config"]["NEXUS_RETRIEVAL_K"] = "7"
    after = find(manifests(render(values)), "Deployment", f"{FULL}-api")

    def checksum(deployment: dict[str, Any]) -> str:
        value: str = deployment["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
        return value

    assert checksum(before) != checksum(after)
