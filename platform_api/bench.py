"""``nexus bench api`` and ``nexus bench chat-load``: the API under concurrent load on loopback.

The server runs in its own process (the real app, a throw-away SQLite database, the knowledge base of the data
dir); this process is the load generator. ``bench api``: requests/s and latency percentiles, rate limits off.
``bench chat-load``: many SSE chats held at once (`nexus serve`, rate limits on and sized to the run), how each
stream ended, the time to its ``sources`` event and the server's memory. bcrypt keeps its real cost.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform as host
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from platform_api.core.config import PlatformSettings
from platform_api.core.db import build_engine, build_sessionmaker, unit_of_work
from platform_api.core.migrate import migrate
from platform_api.courses.service import seed_curriculum

PASSWORD = "bench-motdepasse-1"
_SOURCE_ROOT = Path(__file__).resolve().parent.parent  # where this code's packages are: the server runs the same
QUESTIONS = [
    "C'est quoi une pile ?",
    "Comment fonctionne le tri par insertion ?",
    "À quoi sert une clé primaire ?",
    "Quelle est la différence entre une pile et une file ?",
    "Comment parcourir un arbre binaire en profondeur ?",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


async def _load(
    name: str, requests: int, concurrency: int, call: Callable[[int], Awaitable[httpx.Response]]
) -> dict[str, Any]:
    latencies: list[float] = []
    errors: dict[str, int] = {}
    counter = iter(range(requests))

    async def worker() -> None:
        for i in counter:
            started = time.perf_counter()
            kind = None
            try:
                response = await call(i)
                if response.status_code >= 400:
                    kind = f"{response.status_code} {response.json().get('error', '')}".strip()
            except (httpx.HTTPError, ValueError) as exc:
                kind = type(exc).__name__
            latencies.append(time.perf_counter() - started)
            if kind:
                errors[kind] = errors.get(kind, 0) + 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return {
        "scenario": name,
        "requests": requests,
        "concurrency": concurrency,
        "errors": sum(errors.values()),
        "error_kinds": errors,
        "seconds": round(elapsed, 3),
        "requests_per_s": round(requests / elapsed, 1),
        "p50_ms": round(1000 * statistics.median(latencies), 1),
        "p95_ms": round(1000 * _percentile(latencies, 0.95), 1),
    }


async def _scenarios(
    base: str, users: int, concurrency: int, requests: int, chat_requests: int
) -> list[dict[str, Any]]:
    timeout = httpx.Timeout(120.0)
    limits = httpx.Limits(max_connections=concurrency * 2)
    async with httpx.AsyncClient(base_url=base, timeout=timeout, limits=limits) as client:
        tokens: list[str] = []
        for i in range(users):
            email = f"eleve{i}@bench.fr"
            await client.post(
                "/api/auth/register",
                json={
                    "email": email,
                    "password": PASSWORD,
                    "firstName": "Élève",
                    "lastName": str(i),
                    "role": "student",
                    "classLevel": "terminale",
                },
            )
            login = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
            login.raise_for_status()
            tokens.append(login.json()["accessToken"])
        heads = [{"Authorization": f"Bearer {t}"} for t in tokens]
        course = (await client.get("/api/courses/terminale-structures-de-donnees", headers=heads[0])).json()
        sections = [s["id"] for ch in course["content"]["chapters"] for s in ch["sections"]]

        results = [
            await _load(
                "login",
                max(concurrency, requests // 5),
                concurrency,
                lambda i: client.post(
                    "/api/auth/login", json={"email": f"eleve{i % users}@bench.fr", "password": PASSWORD}
                ),
            ),
            await _load(
                "course_list",
                requests,
                concurrency,
                lambda i: client.get("/api/courses", params={"level": "terminale"}, headers=heads[i % users]),
            ),
            await _load(
                "progress_update",
                requests,
                concurrency,
                lambda i: client.post(
                    "/api/progress",
                    headers=heads[i % users],
                    json={"courseId": course["id"], "sectionId": sections[i % len(sections)], "completed": i % 2 == 0},
                ),
            ),
            await _load(
                "chat_extractive",
                chat_requests,
                concurrency,
                lambda i: client.post(
                    "/api/aria/chat", headers=heads[i % users], json={"message": QUESTIONS[i % len(QUESTIONS)]}
                ),
            ),
        ]
    return results


def bench_api(
    out: Path,
    concurrency: int = 8,
    requests: int = 400,
    chat_requests: int = 100,
    users: int = 20,
    data_dir: Path | None = None,
    log: Callable[[str], None] = print,
    database_url: str | None = None,
) -> dict[str, Any]:
    """Start the API in a subprocess, load it from this process, write ``bench-api.json`` under ``out``.

    ``database_url`` names an empty database to use (PostgreSQL, say); by default a throw-away SQLite file.
    """
    settings = PlatformSettings()
    data = data_dir or settings.data_dir
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        _seeded_database(url)
        port = _free_port()
        env = {
            **os.environ,
            "NEXUS_DATA_DIR": str(data),
            "NEXUS_DATABASE_URL": url,
            "NEXUS_RATE_LIMITS_ENABLED": "false",
            "NEXUS_INGEST_WORKER": "false",
            "NEXUS_LLM_BACKEND": "extractive",
            "NEXUS_LOG_LEVEL": "WARNING",
            "NEXUS_ENVIRONMENT": "development",
            "NEXUS_JWT_SECRET": secrets.token_urlsafe(48),
        }
        env.pop("NEXUS_REDIS_URL", None)
        server = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "platform_api.app:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            env=env,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(base, server)
            log(f"serveur prêt sur {base} (pid {server.pid}) ; charge : {concurrency} clients simultanés")
            results = asyncio.run(_scenarios(base, users, concurrency, requests, chat_requests))
        finally:
            _stop(server)
    report = {
        "benchmark": "api",
        "machine": {"cpus": os.cpu_count(), "python": host.python_version()},
        "server": f"uvicorn, 1 process, {url.split(':', 1)[0]}, extractive answers, rate limits off, "
        f"bcrypt cost {settings.bcrypt_rounds}",
        "results": results,
    }
    out.mkdir(parents=True, exist_ok=True)
    name = "bench-api.json" if database_url is None else f"bench-api-{url.split(':', 1)[0].split('+')[0]}.json"
    (out / name).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return report


def _seeded_database(url: str) -> None:
    """Migrate the (empty) database at ``url`` and seed the curriculum's courses, as `nexus init` does."""
    migrate(url)
    engine = build_engine(url)
    with unit_of_work(build_sessionmaker(engine)) as db:
        seed_curriculum(db)
    engine.dispose()


def _stop(server: subprocess.Popen[bytes], timeout_s: float = 30.0) -> None:
    server.terminate()
    try:
        server.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        server.kill()


def _wait_ready(base: str, server: subprocess.Popen[bytes], timeout_s: float = 180.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the API server exited with code {server.returncode}")
        try:
            if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"the API server was not ready after {timeout_s:.0f} s")


# --------------------------------------------------------------------------------------------- chat load

LOAD_QUESTIONS = [
    *QUESTIONS,
    "Et pour une file ?",
    "Donne-moi un exemple de fonction récursive.",
    "Qu'est-ce qu'un algorithme glouton ?",
    "Comment écrire une requête SQL avec une jointure ?",
    "C'est quoi la complexité d'une recherche dichotomique ?",
    "À quoi sert le protocole TCP ?",
    "Comment représenter un graphe en Python ?",
]
QUESTIONS_PER_SESSION = 4  # a client starts a new conversation after this many questions
LOAD_PASSWORD = "charge-motdepasse-1"


@dataclass
class StreamRecord:
    """One SSE chat as the client saw it."""

    client: int
    started: float
    first_event_s: float | None = None  # the `sources` event
    seconds: float | None = None
    end: str = "incomplete"  # done | error (a clean `error` event) | http | transport | incomplete
    detail: str = ""
    tokens: int = 0


async def _sse_chat(
    client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any], rec: StreamRecord
) -> None:
    """Ask one question over ``POST /api/aria/chat/stream`` and read the events until ``done`` or ``error``."""
    t0 = time.perf_counter()
    try:
        async with client.stream("POST", "/api/aria/chat/stream", headers=headers, json=body) as response:
            if response.status_code != 200:
                await response.aread()
                rec.end = "http"
                try:
                    rec.detail = f"{response.status_code} {response.json().get('error', '')}".strip()
                except ValueError:
                    rec.detail = str(response.status_code)
                return
            name = "message"
            async for line in response.aiter_lines():
                if line.startswith("event:"):
                    name = line.removeprefix("event:").strip()
                elif line.startswith("data:"):
                    if name == "sources" and rec.first_event_s is None:
                        rec.first_event_s = time.perf_counter() - t0
                    elif name == "token":
                        rec.tokens += 1
                    elif name in ("done", "error"):
                        rec.end = name
                        if name == "error":
                            rec.detail = str(json.loads(line.removeprefix("data:")).get("error", ""))
                    name = "message"
    except (httpx.HTTPError, ValueError) as exc:
        rec.end, rec.detail = "transport", type(exc).__name__
    finally:
        rec.seconds = time.perf_counter() - t0


async def _chat_client(
    client: httpx.AsyncClient, index: int, headers: dict[str, str], deadline: float, records: list[StreamRecord]
) -> None:
    """One simulated student: asks a question, reads the whole answer, asks the next one until the deadline."""
    asked = 0
    while time.perf_counter() < deadline:
        session = f"charge-{index}-{asked // QUESTIONS_PER_SESSION}"
        question = LOAD_QUESTIONS[(index + asked) % len(LOAD_QUESTIONS)]
        rec = StreamRecord(index, time.perf_counter())
        records.append(rec)
        await _sse_chat(client, headers, {"sessionId": session, "message": question}, rec)
        asked += 1


def rss_mb(pid: int) -> float | None:
    """Resident memory of a process in MB, from /proc (None when it is gone or not on Linux)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


async def _sample_rss(pid: int, every_s: float, samples: list[tuple[float, float]], stop: asyncio.Event) -> None:
    started = time.perf_counter()
    while True:
        value = rss_mb(pid)
        if value is not None:
            samples.append((round(time.perf_counter() - started, 1), value))
        try:
            await asyncio.wait_for(stop.wait(), every_s)
            return
        except TimeoutError:
            continue


async def _login_all(client: httpx.AsyncClient, emails: list[str], password: str, register: bool) -> list[str]:
    """Access tokens of these students, logged in through the API (8 at a time: bcrypt is the cost)."""
    gate = asyncio.Semaphore(8)

    async def one(i: int, email: str) -> str:
        async with gate:
            if register:
                await client.post(
                    "/api/auth/register",
                    json={
                        "email": email,
                        "password": password,
                        "firstName": "Élève",
                        "lastName": f"Charge {i}",
                        "role": "student",
                        "classLevel": "terminale" if i % 2 else "premiere",
                    },
                )
            response = await client.post("/api/auth/login", json={"email": email, "password": password})
            if response.status_code != 200:
                raise RuntimeError(f"login of {email} refused: {response.status_code} {response.text[:200]}")
            return str(response.json()["accessToken"])

    return list(await asyncio.gather(*(one(i, e) for i, e in enumerate(emails))))


async def _chat_load(
    base: str,
    emails: list[str],
    password: str,
    register: bool,
    clients: int,
    duration_s: float,
    pid: int | None,
    rss_every_s: float,
    log: Callable[[str], None],
) -> tuple[list[StreamRecord], list[tuple[float, float]], float]:
    timeout = httpx.Timeout(30.0, read=120.0)  # a stream silent for 2 minutes is a transport error
    limits = httpx.Limits(max_connections=clients + 16, max_keepalive_connections=clients + 16)
    async with httpx.AsyncClient(base_url=base, timeout=timeout, limits=limits) as client:
        tokens = await _login_all(client, emails, password, register)
        log(f"{len(tokens)} élèves connectés ; {clients} conversations simultanées pendant {duration_s:.0f} s")
        heads = [{"Authorization": f"Bearer {t}"} for t in tokens]
        records: list[StreamRecord] = []
        samples: list[tuple[float, float]] = []
        stop = asyncio.Event()
        sampler = asyncio.create_task(_sample_rss(pid, rss_every_s, samples, stop)) if pid else None
        started = time.perf_counter()
        deadline = started + duration_s
        await asyncio.gather(
            *(_chat_client(client, i, heads[i % len(heads)], deadline, records) for i in range(clients))
        )
        elapsed = time.perf_counter() - started
        if sampler is not None:
            stop.set()
            await sampler
            if pid and (last := rss_mb(pid)) is not None:
                samples.append((round(elapsed, 1), last))
    return records, samples, elapsed


def _seed_students(url: str, count: int, password: str, rounds: int) -> list[str]:
    """Students made in the database with one bcrypt hash of the real cost (computed once, verified at login)."""
    from platform_api.core.security import hash_password
    from platform_api.users.models import StudentProfile, User
    from platform_api.users.repository import UserRepository
    from platform_api.users.service import new_code

    hashed = hash_password(password, rounds)
    engine = build_engine(url)
    emails = [f"eleve-charge-{i}@bench.fr" for i in range(count)]
    with unit_of_work(build_sessionmaker(engine)) as db:
        repo = UserRepository(db)
        for i, email in enumerate(emails):
            user = repo.add(
                User(email=email, password_hash=hashed, first_name="Élève", last_name=f"Charge {i}", role="student")
            )
            level = "terminale" if i % 2 else "premiere"
            repo.add_profile(StudentProfile(user_id=user.id, class_level=level, parent_code=new_code()))
    engine.dispose()
    return emails


def _chat_load_report(
    records: list[StreamRecord], samples: list[tuple[float, float]], elapsed: float, clients: int, users: int
) -> dict[str, Any]:
    ends: dict[str, int] = {}
    kinds: dict[str, int] = {}
    for rec in records:
        ends[rec.end] = ends.get(rec.end, 0) + 1
        if rec.end not in ("done",):
            key = f"{rec.end} {rec.detail}".strip()
            kinds[key] = kinds.get(key, 0) + 1
    first = [r.first_event_s for r in records if r.first_event_s is not None]
    whole = [r.seconds for r in records if r.end == "done" and r.seconds is not None]
    completed = ends.get("done", 0) + ends.get("error", 0)
    rss = [mb for _, mb in samples]
    return {
        "clients": clients,
        "users": users,
        "seconds": round(elapsed, 1),
        "streams": len(records),
        "streams_completed": completed,
        "done": ends.get("done", 0),
        "error_events": ends.get("error", 0),
        "errors": len(records) - completed,  # HTTP refusals, transport errors, streams cut without a final event
        "ends": ends,
        "non_done_kinds": kinds,
        "streams_per_s": round(completed / elapsed, 2) if elapsed else 0.0,
        "first_event_p50_ms": round(1000 * statistics.median(first), 1) if first else None,
        "first_event_p95_ms": round(1000 * _percentile(first, 0.95), 1) if first else None,
        "stream_p50_ms": round(1000 * statistics.median(whole), 1) if whole else None,
        "stream_p95_ms": round(1000 * _percentile(whole, 0.95), 1) if whole else None,
        "rss_mb": {"start": rss[0], "max": max(rss), "end": rss[-1], "samples": samples} if rss else None,
    }


def bench_chat_load(
    out: Path,
    clients: int = 200,
    duration_s: float = 120.0,
    users: int | None = None,
    url: str | None = None,
    server_pid: int | None = None,
    data_dir: Path | None = None,
    database_url: str | None = None,
    rss_every_s: float = 2.0,
    log: Callable[[str], None] = print,
    results_name: str = "bench-chat-load.json",
) -> dict[str, Any]:
    """Hold ``clients`` SSE chats at once for ``duration_s`` seconds; write ``bench-chat-load.json`` under ``out``.

    Without ``url``, `nexus serve` is started in a subprocess on the embedded default (SQLite, embedded Qdrant of
    the data dir, in-process jobs, extractive answers) with a throw-away database (or the empty ``database_url``);
    with ``url``, that server is loaded and ``users`` students are registered on it (its login and registration
    limits must allow it), and ``server_pid`` names its process for the memory samples.
    """
    settings = PlatformSettings()
    users = users or clients
    data = data_dir or settings.data_dir
    limits_note = "the server's own"
    with tempfile.TemporaryDirectory() as tmp:
        server: subprocess.Popen[bytes] | None = None
        if url is None:
            db_url = database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
            _seeded_database(db_url)
            emails = _seed_students(db_url, users, LOAD_PASSWORD, settings.bcrypt_rounds)
            port = _free_port()
            # Rate limits stay on, sized to the run: every bench client comes from 127.0.0.1 (a school's students
            # come from many addresses) and asks again the moment its answer ends (a student reads it first).
            per_user = -(-clients // users)
            rate_limits = {
                "NEXUS_RATE_LIMIT_LOGIN": f"{users + 10}/minute",
                "NEXUS_RATE_LIMIT_API": f"{clients * 600}/minute",
                "NEXUS_RATE_LIMIT_CHAT": f"{per_user * 600}/minute",
            }
            limits_note = ", ".join(
                f"{k.removeprefix('NEXUS_RATE_LIMIT_').lower()} {v}" for k, v in rate_limits.items()
            )
            env = {
                **os.environ,
                "NEXUS_DATA_DIR": str(data),
                "NEXUS_DATABASE_URL": db_url,
                "NEXUS_LLM_BACKEND": "extractive",
                "NEXUS_LOG_LEVEL": "WARNING",
                "NEXUS_JWT_SECRET": secrets.token_urlsafe(48),
                "NEXUS_RATE_LIMITS_ENABLED": "true",
                "PYTHONPATH": os.pathsep.join(filter(None, [str(_SOURCE_ROOT), os.environ.get("PYTHONPATH")])),
                **rate_limits,
            }
            for unset in ("NEXUS_REDIS_URL", "NEXUS_QUEUE", "NEXUS_QDRANT_URL"):
                env.pop(unset, None)  # the embedded default: memory limits, in-process jobs, embedded Qdrant
            server = subprocess.Popen(  # noqa: S603 - our own interpreter and entry point
                [sys.executable, "-m", "nexus_cli.main", "serve", "--host", "127.0.0.1", "--port", str(port)],
                env=env,
                cwd=tmp,
                stdout=subprocess.DEVNULL,
            )
            url = f"http://127.0.0.1:{port}"
            server_pid = server.pid
            register = False
        else:
            emails = [f"eleve-charge-{secrets.token_hex(3)}-{i}@bench.fr" for i in range(users)]
            register = True
        try:
            if server is not None:
                _wait_ready(url, server)
                log(f"serveur prêt sur {url} (pid {server.pid})")
            records, samples, elapsed = asyncio.run(
                _chat_load(url, emails, LOAD_PASSWORD, register, clients, duration_s, server_pid, rss_every_s, log)
            )
        finally:
            if server is not None:
                _stop(server)
    report = {
        "benchmark": "chat-load",
        "machine": {"cpus": os.cpu_count(), "python": host.python_version()},
        "server": f"`nexus serve` at {url}, 1 process"
        if server is None
        else f"`nexus serve`, 1 process, "
        f"{db_url.split(':', 1)[0]}, embedded Qdrant of {data}, in-process jobs, extractive answers",
        "rate_limits": limits_note,
        "results": _chat_load_report(records, samples, elapsed, clients, users),
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / results_name).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return report


def bench_fuzz(
    out: Path,
    examples: int = 100,
    seed: int | None = None,
    log: Callable[[str], None] = print,
    database_url: str | None = None,
) -> dict[str, Any]:
    """Schemathesis on every operation, ``examples`` cases each, in-process; write ``bench-fuzz.json`` under ``out``.

    The app runs as the CI fuzz test builds it (platform_api/fuzz.py), on a throw-away SQLite database and a
    throw-away knowledge base (hashing embedder, two curriculum chapters: the API contract is under test, not the
    retrieval), rate limits out of the way. ``seed`` None is the derandomized run of CI, with more examples.
    ``database_url`` names an empty database to use instead (PostgreSQL, say).
    """
    from starlette.testclient import TestClient

    from ingest.config import IngestSettings
    from ingest.pipeline import Ingestor
    from knowledge.embedder import HashEmbedder
    from knowledge.factory import KnowledgeRuntime
    from knowledge.search import KnowledgeBase
    from knowledge.store import EdgeStore
    from platform_api.app import create_app
    from platform_api.fuzz import fuzz
    from platform_api.fuzz import seed as seed_rows
    from tutor.config import TutorSettings
    from tutor.engine import Tutor

    curriculum = Path(__file__).resolve().parent.parent / "knowledge" / "curriculum"
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'fuzz.sqlite'}"
        _seeded_database(url)
        embedder = HashEmbedder(dim=64)
        store = EdgeStore(Path(tmp) / "vectors", embedder.dim)
        ingestor = Ingestor(store, embedder, IngestSettings(chunk_tokens=200, chunk_overlap=20))
        for chapter in sorted(curriculum.rglob("*.md"))[:2]:
            ingestor.ingest_file(chapter, str(chapter.relative_to(curriculum)))
        runtime = KnowledgeRuntime(None, embedder, store, KnowledgeBase(store, embedder))  # type: ignore[arg-type]
        settings = PlatformSettings(
            environment="test",
            data_dir=Path(tmp) / "data",
            database_url=url,
            jwt_secret=secrets.token_urlsafe(48),
            bcrypt_rounds=4,
            rate_limits_enabled=False,
            ingest_worker=False,
            log_level="CRITICAL",
            _env_file=None,
        )
        extractive = TutorSettings(llm_backend="extractive", _env_file=None)
        app = create_app(settings, runtime=runtime, tutor_factory=lambda rt: Tutor(rt.kb, extractive))
        try:
            with TestClient(app) as client:
                auth, known = seed_rows(client, app.state.platform)
                log(f"fuzz : {examples} cas par opération, graine {seed if seed is not None else 'fixe (CI)'}")
                report = fuzz(client, auth, examples, seed=seed, known_ids=known, log=log)
        finally:
            store.close()
    result = {
        "benchmark": "fuzz",
        "machine": {"cpus": os.cpu_count(), "python": host.python_version()},
        "setup": f"schemathesis in-process (ASGI), {url.split(':', 1)[0]}, {examples} examples per operation, "
        f"seed {seed if seed is not None else 'derandomized'}",
        "requests_per_second": round(report.requests / report.seconds, 1) if report.seconds else 0.0,
        **report.summary(),
    }
    out.mkdir(parents=True, exist_ok=True)
    name = "bench-fuzz.json" if database_url is None else f"bench-fuzz-{url.split(':', 1)[0].split('+')[0]}.json"
    (out / name).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return result
