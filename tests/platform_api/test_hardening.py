"""Regression tests of the outside audit of issue 15 (auth, logs, mails, metrics, search, uploads)."""

from __future__ import annotations

import secrets
import socket
import stat
import threading
import time
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import structlog
import uvicorn

from knowledge.factory import KnowledgeRuntime
from platform_api.app import create_app
from platform_api.core.config import PLACEHOLDER_SECRET
from platform_api.core.mail import ConsoleMailSender, Mail
from platform_api.core.security import TokenService
from tests.platform_api.conftest import PASSWORD, Api, make_settings


def forged(secret: str, user_id: str, role: str = "admin", **extra: Any) -> str:
    now = int(time.time())
    claims = {"sub": user_id, "type": "access", "jti": secrets.token_hex(8), "iat": now, "exp": now + 600, "role": role}
    with warnings.catch_warnings():  # the placeholder is shorter than PyJWT likes: that is the point
        warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
        return jwt.encode(claims | extra, secret, "HS256")


def me(api: Api, token: str) -> int:
    return int(api.client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code)


# --- 1. The signing key -------------------------------------------------------------------------------------------


def test_a_default_app_refuses_tokens_signed_with_the_placeholder(api_factory: Any) -> None:
    """Critical: with NEXUS_JWT_SECRET unset, an admin token forged with the placeholder listed every user."""
    api: Api = api_factory(jwt_secret=None, environment="development")
    admin = api.user("admin")
    token = forged(PLACEHOLDER_SECRET, admin.id)
    assert me(api, token) == 401
    assert api.client.get("/api/users", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert me(api, api.tokens[admin.id]) == 200  # the app's own tokens work


def test_the_generated_key_is_private_and_survives_a_restart(api_factory: Any) -> None:
    from platform_api.core.security import SECRET_FILE

    first: Api = api_factory(jwt_secret=None)
    folder = first.platform.settings.secrets_dir
    key_file = folder / SECRET_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    key = key_file.read_text().strip()
    assert len(key) >= 32
    student = first.user("student")
    second: Api = api_factory(jwt_secret=None)  # a restart on the same data dir
    assert key_file.read_text().strip() == key
    assert me(second, first.tokens[student.id]) == 200
    assert me(second, forged(key, student.id, role="student")) == 200


def test_processes_starting_together_share_one_key(tmp_path: Path) -> None:
    from platform_api.core.security import SECRET_FILE, load_or_create_secret

    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: load_or_create_secret(tmp_path / "secrets"), range(16)))
    assert len(keys) == 1
    assert [p.name for p in (tmp_path / "secrets").iterdir()] == [SECRET_FILE]  # no temporary file left


def test_a_broken_key_file_stops_the_start_with_a_clear_message(tmp_path: Path) -> None:
    from platform_api.core.security import SECRET_FILE, load_or_create_secret

    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / SECRET_FILE).write_text("trop-court\n")
    with pytest.raises(ValueError, match="at least 32 characters.*delete the file"):
        load_or_create_secret(tmp_path / "secrets")


def test_rotation_keeps_old_tokens_until_they_expire_and_signs_with_the_new_key(api_factory: Any) -> None:
    old, new = secrets.token_urlsafe(48), secrets.token_urlsafe(48)
    api: Api = api_factory(jwt_secret=new, jwt_previous_secrets=old)
    student = api.user("student")
    assert me(api, forged(old, student.id, role="student")) == 200  # issued before the rotation
    expired = forged(old, student.id, role="student", exp=int(time.time()) - 5)
    assert me(api, expired) == 401
    assert me(api, forged(secrets.token_urlsafe(48), student.id)) == 401
    session = api.client.post("/api/auth/login", json={"email": student.email, "password": PASSWORD}).json()
    TokenService(new).verify(session["accessToken"], "access")  # signed with the new key...
    with pytest.raises(Exception, match="Jeton invalide"):
        TokenService(old).verify(session["accessToken"], "access")  # ...not the old one
    rotated_out: Api = api_factory(jwt_secret=new)  # the previous key removed one lifetime later
    assert me(rotated_out, forged(old, student.id, role="student")) == 401


# --- 4. No token in the server log --------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(database_url: str, knowledge: KnowledgeRuntime, tmp_path: Path) -> Iterator[tuple[str, Any]]:
    """The app served by uvicorn as `nexus serve` starts it (uvicorn_config), on loopback."""
    from platform_api.core.logging import uvicorn_config

    settings = make_settings(database_url, tmp_path / "data", log_level="INFO")
    app = create_app(settings, runtime=knowledge, mailer=ConsoleMailSender())
    port = _free_port()
    server = uvicorn.Server(uvicorn_config(app, "127.0.0.1", port, timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "the server stopped while starting"
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", app
    server.should_exit = True
    thread.join(timeout=15)


def test_query_tokens_never_reach_the_server_log(capfd: pytest.CaptureFixture[str], served: tuple[str, Any]) -> None:
    """Medium: opening the events stream with ?token= wrote the access token in uvicorn's access line."""
    url, _ = served
    secret = "SECRET" + secrets.token_hex(16)
    for path in (f"/api/events?token={secret}", f"/reinitialiser-mot-de-passe?token={secret}"):
        httpx.get(url + path, timeout=10)
    time.sleep(0.2)  # let the log lines of the server thread reach the stream
    captured = capfd.readouterr()
    logs = captured.out + captured.err
    assert "/api/events" in logs  # the request was logged (so the check below has teeth)
    assert secret not in logs


def test_metrics_answer_the_loopback_scraper_only(served: tuple[str, Any], api_factory: Any) -> None:
    url, _ = served
    assert httpx.get(url + "/metrics", timeout=10).status_code == 200  # direct, from loopback
    proxied = httpx.get(url + "/metrics", headers={"X-Forwarded-For": "203.0.113.9"}, timeout=10)
    assert proxied.status_code == 404  # came through a proxy: somebody outside
    public: Api = api_factory()
    assert public.client.get("/metrics").status_code == 404  # not loopback ("testclient")
    token = secrets.token_urlsafe(32)
    guarded: Api = api_factory(metrics_token=token)
    assert guarded.client.get("/metrics").status_code == 404
    assert guarded.client.get("/metrics", headers={"Authorization": "Bearer " + "x" * 43}).status_code == 404
    ok = guarded.client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200
    assert "nexus_http_requests_total" in ok.text


# --- 5. Mails in the log ------------------------------------------------------------------------------------------


def test_production_masks_the_reset_link_in_the_log(
    database_url: str, knowledge: KnowledgeRuntime, tmp_path: Path
) -> None:
    """Medium: the console mailer wrote the password-reset link in clear to the log, in production too."""
    from fastapi.testclient import TestClient

    settings = make_settings(database_url, tmp_path / "data", environment="production", bcrypt_rounds=12)
    app = create_app(settings, runtime=knowledge)  # the default mailer, as production builds it
    with TestClient(app) as client:
        mailer = app.state.platform.mailer
        assert isinstance(mailer, ConsoleMailSender)
        api = Api(client, app.state.platform, mailer, "any")
        user = api.user("student")
        with structlog.testing.capture_logs() as logs:
            assert client.post("/api/auth/password/forgot", json={"email": user.email}).status_code == 200
        mail = mailer.outbox[-1]
        code = mail.body.split("Code : ")[1].split()[0]
        logged = [entry for entry in logs if entry["event"] == "mail"]
        assert logged
        assert code not in str(logged)
        assert "[masqué]" in logged[0]["body"]
        from tests.platform_api.conftest import _clean

        _clean(app.state.platform)


def test_development_keeps_the_link_in_the_console() -> None:
    mail = Mail("a@exemple.fr", "Sujet", "Lien : https://x/r?token=abc123\nCode : abc123\n", secrets=("abc123",))
    with structlog.testing.capture_logs() as logs:
        ConsoleMailSender().send(mail)
        ConsoleMailSender(redact=True).send(mail)
    assert "abc123" in logs[0]["body"]
    assert "abc123" not in logs[1]["body"]


# --- 7. The home page search --------------------------------------------------------------------------------------


def test_the_home_page_search_is_rate_limited(api_factory: Any) -> None:
    """Low: /?q= embedded and searched 150 times in 18 s without a 429."""
    api: Api = api_factory(rate_limit_search="3/minute")
    assert api.client.get("/").status_code == 200  # the page alone costs nothing and is not counted
    for _ in range(3):
        assert api.client.get("/", params={"q": "pile"}).status_code == 200
    limited = api.client.get("/", params={"q": "pile"})
    assert limited.status_code == 429
    assert "Trop de recherches" in limited.text
    assert "text/html" in limited.headers["content-type"]
    assert int(limited.headers["retry-after"]) >= 1
    assert api.client.get("/api/search", params={"q": "pile"}).status_code == 429  # one counter for both


# --- 8. Upload names and sizes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("c" * 300 + ".md", "c" * 252 + ".md"),
        ("co\x00urs\x07\x1f.pdf", "cours.pdf"),
        ("C:\\Users\\prof\\graphes.md", "graphes.md"),
        ("\x00\x00", "document"),
        ("..", "document"),
        ("a" * 250 + "." + "b" * 40, ("a" * 250 + "." + "b" * 40)[:255]),
    ],
)
def test_safe_filename(given: str, expected: str) -> None:
    from platform_api.documents.service import safe_filename

    assert safe_filename(given) == expected


def test_a_long_name_keeps_its_extension_and_the_job_succeeds(clean_api: Api) -> None:
    """Low: a name over 255 characters lost its extension and the job failed "sans extension"."""
    from tests.platform_api.test_documents import COURSE, wait_ready

    api = clean_api
    teacher = api.user("teacher")
    name = "cours-" + "tres-" * 70 + "long.md"
    created = api.post("/api/documents", as_=teacher, files={"file": (name, COURSE.encode(), "text/markdown")})
    assert created.status_code == 202, created.text
    doc = created.json()
    assert doc["filename"].endswith(".md")
    assert len(doc["filename"]) == 255
    assert wait_ready(api, teacher, doc["id"])["status"] == "succeeded"


def test_control_characters_are_stripped_from_file_names(clean_api: Api) -> None:
    """Low: NUL characters in file names were stored."""
    api = clean_api
    teacher = api.user("teacher")
    boundary = "x" + secrets.token_hex(8)
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="no\x00tes\x01.md"\r\n'
        f"Content-Type: text/markdown\r\n\r\n# Notes\n\nUn texte.\n\r\n--{boundary}--\r\n"
    ).encode()
    headers = api.auth(teacher) | {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    created = api.client.post("/api/documents", content=body, headers=headers)
    assert created.status_code == 202, created.text
    assert created.json()["filename"] == "notes.md"
    assert api.sql("SELECT filename FROM documents") == [("notes.md",)]


def test_a_chunked_upload_over_the_limit_gets_413(api_factory: Any) -> None:
    """Low: an oversized upload without Content-Length got FastAPI's 400 instead of 413."""
    api: Api = api_factory(max_upload_mb=1)
    teacher = api.user("teacher")
    boundary = "x" + secrets.token_hex(8)

    def chunks() -> Iterator[bytes]:
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="gros.md"\r\n'
            "Content-Type: text/markdown\r\n\r\n"
        ).encode()
        for _ in range(40):  # 2.6 MB, over the 1 MB + 1 MB of envelope the middleware allows
            yield b"mot " * 16_384
        yield f"\r\n--{boundary}--\r\n".encode()

    headers = api.auth(teacher) | {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    response = api.client.post("/api/documents", content=chunks(), headers=headers)
    assert response.status_code == 413, response.text
    assert response.json()["error"] == "file_too_large"
    assert "trop volumineuse" in response.json()["detail"]
