"""Events that cross processes: the in-memory bus, the Redis pub/sub bus (real Redis), publishing after commit.

The SSE route itself is exercised against real servers in tests/scale/test_multiprocess.py (an infinite stream
needs a real socket to be hung up); here only its refusals are checked."""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from platform_api.core.db import build_engine, build_sessionmaker, unit_of_work
from platform_api.core.events import MemoryEventBus, RedisEventBus, publish_after_commit
from tests.platform_api.conftest import REDIS_URL, SESSION_TAG, Api, unavailable


async def test_memory_bus_delivers_from_threads_to_subscribers_of_the_channel() -> None:
    bus = MemoryEventBus()
    async with bus.subscribe("user:a") as mine, bus.subscribe("user:b") as other:
        thread = threading.Thread(target=bus.publish, args=("user:a", {"type": "notification", "n": 1}))
        thread.start()
        thread.join()
        assert await asyncio.wait_for(mine.get(), 2) == {"type": "notification", "n": 1}
        assert other.queue.empty()
    assert bus.subscriber_count() == 0


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except Exception as exc:
        unavailable("Redis", exc)
    yield f"aria_test_{SESSION_TAG}_{secrets.token_hex(3)}"
    client.close()


async def test_redis_bus_crosses_instances_and_stays_within_its_prefix(redis_prefix: str) -> None:
    """Two buses stand for two processes: what one publishes, the other's subscribers get, once."""
    publisher = RedisEventBus(REDIS_URL, redis_prefix, listen=False)  # as the worker process
    listener = RedisEventBus(REDIS_URL, redis_prefix)  # as an API process
    stranger = RedisEventBus(REDIS_URL, redis_prefix + "_other")  # another deployment on the same Redis
    await asyncio.to_thread(listener.start)
    await asyncio.to_thread(stranger.start)
    try:
        async with listener.subscribe("user:42") as sub, stranger.subscribe("user:42") as foreign:
            publisher.publish("user:42", {"type": "ingestion", "progress": 3})
            publisher.publish("user:43", {"type": "ingestion", "progress": 9})
            assert await asyncio.wait_for(sub.get(), 5) == {"type": "ingestion", "progress": 3}
            await asyncio.sleep(0.3)
            assert sub.queue.empty()
            assert foreign.queue.empty()
    finally:
        for bus in (publisher, listener, stranger):
            await asyncio.to_thread(bus.close)


def test_a_redis_outage_does_not_fail_the_publisher() -> None:
    bus = RedisEventBus("redis://127.0.0.1:1/0", "nowhere", listen=False)
    bus.publish("user:1", {"type": "notification"})  # logged, not raised
    bus.close()


def test_publish_after_commit_publishes_committed_work_only(tmp_path: Path) -> None:
    published: list[tuple[str, Any]] = []

    class Recorder(MemoryEventBus):
        def publish(self, channel: str, event: dict[str, Any]) -> None:
            published.append((channel, event))

    bus = Recorder()
    sessions = build_sessionmaker(build_engine(f"sqlite:///{tmp_path / 'events.sqlite'}"))

    def failing_request() -> None:
        with unit_of_work(sessions) as db:
            db.execute(text("SELECT 1"))
            publish_after_commit(db, bus, "user:1", {"n": "rolled back"})
            raise RuntimeError("the request failed")

    with pytest.raises(RuntimeError):
        failing_request()
    assert published == []
    with unit_of_work(sessions) as db:
        db.execute(text("SELECT 1"))
        publish_after_commit(db, bus, "user:1", {"n": 1})
        publish_after_commit(db, bus, "user:2", {"n": 2})
        assert published == []  # not before the commit
    assert published == [("user:1", {"n": 1}), ("user:2", {"n": 2})]


def test_the_event_stream_needs_a_valid_token(clean_api: Api) -> None:
    api = clean_api
    assert api.client.get("/api/events").status_code == 401
    assert api.client.get("/api/events", params={"token": "not-a-token"}).status_code == 401
    refresh = api.platform.tokens.issue(api.user("student").id, "refresh")[0]
    assert api.client.get("/api/events", params={"token": refresh}).status_code == 401


def test_the_app_uses_redis_pub_sub_when_redis_is_configured(api_factory: Any, redis_prefix: str) -> None:
    api: Api = api_factory(redis_url=REDIS_URL, redis_prefix=redis_prefix)
    assert isinstance(api.platform.events, RedisEventBus)
    assert api.platform.events.prefix == f"{redis_prefix}:events:"


def test_grading_notifies_the_student_after_the_commit(clean_api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.platform_api.test_domains import create_quiz, teacher_with_class

    api = clean_api
    published: list[tuple[str, Any]] = []
    monkeypatch.setattr(api.platform.events, "publish", lambda channel, event: published.append((channel, event)))
    teacher, student, class_id = teacher_with_class(api)
    quiz = create_quiz(api, teacher, class_id)
    attempt = api.post(f"/api/assessments/{quiz['id']}/attempts", as_=student).json()
    answers = {"q5": "def depiler(p):\n    return p.pop()"}
    api.post(f"/api/attempts/{attempt['id']}/submit", as_=student, json={"answers": answers})
    refused = api.post(f"/api/attempts/{attempt['id']}/grade", as_=teacher, json={"grades": {"q5": {"points": 9}}})
    assert refused.status_code == 400
    assert published == []  # a refused grade notifies nobody
    graded = api.post(f"/api/attempts/{attempt['id']}/grade", as_=teacher, json={"grades": {"q5": {"points": 2}}})
    assert graded.status_code == 200, graded.text
    [(channel, event)] = published
    assert channel == f"user:{student.id}"
    assert event["type"] == "notification"
    assert event["kind"] == "attempt_graded"
    assert event["attemptId"] == attempt["id"]
    assert "Piles" in event["message"]
