"""deploy/nginx.conf: accepted by a real nginx (`nginx -t`), streams proxied unbuffered with long timeouts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.deploy.conftest import run
from tests.deploy.inventory import DEPLOY

NGINX_CONF = DEPLOY / "nginx.conf"
TEXT = NGINX_CONF.read_text(encoding="utf-8")


def nginx_test(nginx_bin: Path, conf: Path, prefix: Path) -> tuple[int, str]:
    # -p: temp folders and the pid file go to a scratch prefix, not to the machine's /var.
    result = run([nginx_bin, "-t", "-q", "-p", f"{prefix}/", "-c", conf])
    return result.returncode, result.stderr


def location(path: str) -> str:
    match = re.search(rf"location\s+(?:=\s+)?{re.escape(path)}\s*\{{(?P<body>[^}}]*)\}}", TEXT)
    assert match, f"no location {path} in nginx.conf"
    return match["body"]


def seconds(body: str, directive: str) -> int:
    match = re.search(rf"^\s*{directive}\s+(\d+)s?;", body, re.MULTILINE)
    assert match, f"{directive} missing"
    return int(match[1])


def test_nginx_accepts_the_config(nginx_bin: Path, tmp_path: Path) -> None:
    code, stderr = nginx_test(nginx_bin, NGINX_CONF, tmp_path)
    assert code == 0, stderr


def test_the_check_has_teeth(nginx_bin: Path, tmp_path: Path) -> None:
    broken = tmp_path / "nginx.conf"
    broken.write_text(TEXT.replace("proxy_buffering off;", "proxy_buffering maybe;", 1))
    code, stderr = nginx_test(nginx_bin, broken, tmp_path)
    assert code != 0
    assert "proxy_buffering" in stderr


def test_sse_is_not_buffered() -> None:
    body = location("/api/aria/chat/stream")
    assert re.search(r"proxy_buffering\s+off;", body)
    assert re.search(r"proxy_cache\s+off;", body)
    assert seconds(body, "proxy_read_timeout") >= 3600


def test_websocket_upgrade() -> None:
    body = location("/ws/")
    assert re.search(r"proxy_set_header\s+Upgrade\s+\$http_upgrade;", body)
    assert re.search(r"proxy_set_header\s+Connection\s+\$connection_upgrade;", body)
    assert seconds(body, "proxy_read_timeout") >= 3600
    # A location with its own proxy_set_header inherits none: the forwarding headers must be repeated.
    for header in ("Host", "X-Forwarded-For", "X-Forwarded-Proto"):
        assert re.search(rf"proxy_set_header\s+{header}\s", body), header


@pytest.mark.parametrize("path", ["/api/aria/chat/stream", "/ws/", "/"])
def test_every_location_reaches_the_api_replicas(path: str) -> None:
    assert re.search(r"proxy_pass\s+http://aria_api;", location(path))


def test_upstream_follows_the_replicas() -> None:
    assert re.search(r"server\s+api:8000\s+resolve;", TEXT)
    assert re.search(r"resolver\s+127\.0\.0\.11\b", TEXT)
    assert re.search(r"proxy_http_version\s+1\.1;", TEXT)
