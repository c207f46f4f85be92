"""The production queue (procrastinate on PostgreSQL) within one process: transactional enqueue, the worker's task,
stalled-job retry. The same across real processes, with a SIGKILL, is in tests/scale/test_multiprocess.py."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from platform_api.core.db import unit_of_work
from platform_api.core.events import Event
from platform_api.documents import service
from platform_api.documents.queue import QUEUE, TASK, build_worker_app, conninfo, retry_stalled_once
from platform_api.documents.repository import SqlJobQueue
from platform_api.documents.worker import job_runner
from platform_api.users.models import User
from tests.platform_api.conftest import Api
from tests.platform_api.test_documents import COURSE, upload


class RecordingBus:
    """Keeps what is published (the worker only publishes)."""

    def __init__(self) -> None:
        self.published: list[tuple[str, Event]] = []

    def publish(self, channel: str, event: Event) -> None:
        self.published.append((channel, event))

    def subscribe(self, channel: str) -> Any:
        raise NotImplementedError

    def start(self) -> None:
        return None

    def close(self) -> None:
        return None


@pytest.fixture
def pg_api(api_factory: Any, backend: str) -> Iterator[Api]:
    """An app with NEXUS_QUEUE=procrastinate (PostgreSQL only); the queue's tables are emptied afterwards."""
    if backend != "postgresql":
        pytest.skip("procrastinate runs on PostgreSQL only")
    api: Api = api_factory(queue="procrastinate", ingest_worker=True)  # the thread must not start anyway
    yield api
    execute(api, "DELETE FROM procrastinate_jobs")
    execute(api, "DELETE FROM procrastinate_workers")


def execute(api: Api, statement: str) -> None:
    with unit_of_work(api.platform.sessions) as db:
        db.execute(text(statement))


def procrastinate_jobs(api: Api) -> list[Any]:
    return api.sql("SELECT status, task_name, queue_name, args, attempts FROM procrastinate_jobs ORDER BY id")


def run_worker_until_idle(api: Api, bus: RecordingBus) -> None:
    queue = SqlJobQueue(api.platform.sessions, events=bus)
    handle = job_runner(queue, service.ingestion_handler(api.platform.ingestor, queue))
    app = build_worker_app(api.platform.settings, handle)
    app.run_worker(
        queues=[QUEUE], wait=False, install_signal_handlers=False, listen_notify=False, delete_jobs="successful"
    )


def test_settings_refuse_procrastinate_without_postgresql(tmp_path: Any) -> None:
    from pydantic import ValidationError

    from platform_api.core.config import PlatformSettings

    with pytest.raises(ValidationError, match="NEXUS_QUEUE=procrastinate needs a PostgreSQL"):
        PlatformSettings(queue="procrastinate", data_dir=tmp_path, _env_file=None)
    assert conninfo("postgresql+psycopg://u:p@db:5432/aria") == "postgresql://u:p@db:5432/aria"


def test_upload_is_queued_in_its_own_transaction(pg_api: Api) -> None:
    api = pg_api
    teacher = api.user("teacher")
    created = upload(api, teacher, "graphes.md", COURSE.encode())
    assert created.status_code == 202, created.text
    job_id = created.json()["job"]["id"]
    [(status, task, queue_name, args, attempts)] = procrastinate_jobs(api)
    assert (status, task, queue_name, args, attempts) == ("todo", TASK, QUEUE, {"job_id": job_id}, 0)
    # No worker thread in the API with this queue: the job waits for `nexus worker`.
    assert api.get(f"/api/documents/{created.json()['id']}/status", as_=teacher).json()["status"] == "queued"


def test_a_rolled_back_upload_leaves_no_job(pg_api: Api) -> None:
    api = pg_api
    teacher = api.user("teacher")

    def failing_upload() -> None:
        with unit_of_work(api.platform.sessions) as db:
            user = db.get(User, teacher.id)
            assert user is not None
            service.create(db, api.platform, user, "graphes.md", COURSE.encode(), "private", [], [], None)
            assert db.execute(text("SELECT count(*) FROM procrastinate_jobs")).scalar() == 1  # in the transaction
            raise RuntimeError("a failure after the insert")

    with pytest.raises(RuntimeError, match="after the insert"):
        failing_upload()
    assert procrastinate_jobs(api) == []
    assert api.sql("SELECT count(*) FROM ingestion_jobs") == [(0,)]
    assert api.sql("SELECT count(*) FROM documents") == [(0,)]


def test_the_worker_task_runs_the_job_and_publishes_its_progress(pg_api: Api) -> None:
    api = pg_api
    teacher = api.user("teacher")
    doc = upload(api, teacher, "graphes.md", COURSE.encode()).json()
    bus = RecordingBus()
    run_worker_until_idle(api, bus)
    status = api.get(f"/api/documents/{doc['id']}/status", as_=teacher).json()
    assert status["status"] == "succeeded", status
    assert status["attempts"] == 1
    assert procrastinate_jobs(api) == []  # delivered: the ingestion_jobs row keeps the outcome
    channels = {channel for channel, _ in bus.published}
    assert channels == {f"user:{teacher.id}"}
    kinds = [(e["type"], e.get("status") or e.get("kind")) for _, e in bus.published]
    assert kinds[0] == ("ingestion", "running")
    assert ("ingestion", "succeeded") in kinds
    assert kinds[-1] == ("notification", "document_ready")
    progress = [e for _, e in bus.published if e["type"] == "ingestion" and e["status"] == "running"]
    assert progress[-1]["progress"] == progress[-1]["total"] > 0
    # A second delivery of the same job (at least once) finds it finished and does nothing.
    queue = SqlJobQueue(api.platform.sessions)
    assert queue.claim_job(status["id"]) is None


def test_a_stalled_job_is_retried_and_run_again(pg_api: Api) -> None:
    """A worker took the job, marked it running and died: once its heartbeat is old, the job runs again."""
    api = pg_api
    teacher = api.user("teacher")
    doc = upload(api, teacher, "graphes.md", COURSE.encode()).json()
    job_id = doc["job"]["id"]
    # What the dead worker did before dying: register, fetch the job, claim the row.
    [(worker_id,)] = api.sql("SELECT procrastinate_register_worker_v1()")
    api.sql(f"SELECT id FROM procrastinate_fetch_job_v2(ARRAY['{QUEUE}'], {worker_id})")
    assert SqlJobQueue(api.platform.sessions).claim_job(job_id) is not None
    assert [row[0] for row in procrastinate_jobs(api)] == ["doing"]

    app = build_worker_app(api.platform.settings, lambda _job_id: None)

    async def sweep() -> int:
        async with app.open_async():
            return await retry_stalled_once(app, stalled_s=30)

    assert asyncio.run(sweep()) == 0  # its heartbeat is fresh: it may still be working
    execute(api, f"UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 hour' WHERE id = {worker_id}")
    assert asyncio.run(sweep()) == 1
    assert [row[0] for row in procrastinate_jobs(api)] == ["todo"]

    run_worker_until_idle(api, RecordingBus())
    status = api.get(f"/api/documents/{doc['id']}/status", as_=teacher).json()
    assert status["status"] == "succeeded", status
    assert status["attempts"] == 2
    assert api.get(f"/api/documents/{doc['id']}", as_=teacher).json()["status"] == "ready"
