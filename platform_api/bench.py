"""``nexus bench api``: requests/s and latency percentiles of the API under concurrent load on loopback.

The server runs in its own process (uvicorn, the real app, a throw-away SQLite database, the knowledge base of
the data dir); this process is the load generator. Rate limits are off for the run, bcrypt keeps its real cost.
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
from pathlib import Path
from typing import Any

import httpx

from platform_api.core.config import PlatformSettings
from platform_api.core.db import build_engine, build_sessionmaker, unit_of_work
from platform_api.core.migrate import migrate
from platform_api.courses.service import seed_curriculum

PASSWORD = "bench-motdepasse-1"
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
        migrate(url)
        engine = build_engine(url)
        with unit_of_work(build_sessionmaker(engine)) as db:
            seed_curriculum(db)
        engine.dispose()
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
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
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
        migrate(url)
        engine = build_engine(url)
        with unit_of_work(build_sessionmaker(engine)) as db:
            seed_curriculum(db)
        engine.dispose()
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
