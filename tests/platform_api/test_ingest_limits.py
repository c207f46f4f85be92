"""The platform's ingestion under hostile files: interrupted jobs are capped, a bomb fails alone, shutdown is quick.

Run on SQLite and PostgreSQL (the ``database_url`` fixture)."""

from __future__ import annotations

import threading
from typing import Any

from platform_api.documents.repository import SqlJobQueue
from tests.ingest import nasty
from tests.ingest.test_isolation import alive
from tests.platform_api.conftest import Api
from tests.platform_api.test_documents import COURSE, upload


def test_an_interrupted_job_is_failed_after_max_attempts(api_factory: Any) -> None:
    """The in-process worker: each start requeues what a crash left running, three times at most."""
    api: Api = api_factory(ingest_worker=False)
    teacher = api.user("teacher")
    doc = upload(api, teacher, "bombe.md", COURSE.encode()).json()
    for attempt in (1, 2, 3):
        queue = SqlJobQueue(api.platform.sessions, max_attempts=3)  # a new start of the server
        assert queue.requeue_interrupted() == (0 if attempt == 1 else 1)
        job = queue.claim()  # ...which dies while running the job
        assert job is not None
        assert job.attempts == attempt
    assert SqlJobQueue(api.platform.sessions, max_attempts=3).requeue_interrupted() == 0
    status = api.get(f"/api/documents/{doc['id']}/status", as_=teacher).json()
    assert (status["status"], status["attempts"]) == ("failed", 3)
    assert "interrompue 3 fois" in status["error"]
    document = api.get(f"/api/documents/{doc['id']}", as_=teacher).json()
    assert (document["status"], document["errorCode"]) == ("failed", "too_many_attempts")
    assert SqlJobQueue(api.platform.sessions).claim() is None


def test_a_redelivered_job_is_failed_after_max_attempts(api_factory: Any) -> None:
    """The procrastinate path: a stalled job handed out again runs at most max_attempts times."""
    api: Api = api_factory(ingest_worker=False)
    teacher = api.user("teacher")
    doc = upload(api, teacher, "bombe.md", COURSE.encode()).json()
    queue = SqlJobQueue(api.platform.sessions, max_attempts=2)
    assert queue.claim_job(doc["job"]["id"]) is not None
    assert queue.claim_job(doc["job"]["id"]) is not None  # its worker died: delivered again
    assert queue.claim_job(doc["job"]["id"]) is None  # a third delivery gives up
    status = api.get(f"/api/documents/{doc['id']}/status", as_=teacher).json()
    assert (status["status"], status["attempts"]) == ("failed", 2)
    assert "interrompue 2 fois" in status["error"]


def test_a_bomb_upload_fails_alone_and_the_api_stays_responsive(api: Api) -> None:
    teacher = api.user("teacher")
    bomb = upload(api, teacher, "rires.md", nasty.billion_laughs()).json()
    good = upload(api, teacher, "piles.md", COURSE.encode()).json()
    statuses = {}
    for doc in (bomb, good):
        for _ in range(600):
            status = api.get(f"/api/documents/{doc['id']}/status", as_=teacher).json()
            if status["status"] in ("succeeded", "failed"):
                break
            threading.Event().wait(0.05)
        statuses[doc["id"]] = status
    assert statuses[bomb["id"]]["status"] == "failed"
    assert "alias YAML" in statuses[bomb["id"]]["error"]
    assert statuses[good["id"]]["status"] == "succeeded"


def test_closing_the_app_kills_a_parse_in_progress(api_factory: Any) -> None:
    """SIGTERM runs the lifespan's shutdown: the worker stops at once, the parsing child is killed."""
    api: Api = api_factory()
    api.platform.ingestor.parse_target = "tests.ingest.nasty:sleepy"
    teacher = api.user("teacher")
    doc = upload(api, teacher, "lent.md", COURSE.encode()).json()
    from ingest.isolation import POOL

    for _ in range(600):
        if api.get(f"/api/documents/{doc['id']}/status", as_=teacher).json()["status"] == "running" and POOL.pids():
            break
        threading.Event().wait(0.05)
    pids = POOL.pids()
    assert pids
    api.client.__exit__(None, None, None)  # the lifespan's shutdown, as uvicorn runs it on SIGTERM
    for pid in pids:
        assert not alive(pid)
    rows = api.sql(f"SELECT status FROM ingestion_jobs WHERE id = '{doc['job']['id']}'")
    assert rows == [("running",)]  # queued again at the next start, not failed
