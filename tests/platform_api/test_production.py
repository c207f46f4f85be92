"""Production concerns: rate limits on real Redis, headers, CORS, request ids, metrics, readiness, personal data."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest

from knowledge.store import Filter, Match
from tests.platform_api.conftest import PASSWORD, REDIS_URL, SESSION_TAG, Api, unavailable
from tests.platform_api.test_documents import COURSE, upload, wait_ready


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A Redis key prefix of our own (other people use the same server), removed afterwards."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except Exception as exc:
        unavailable("Redis", exc)
    prefix = f"aria_test_{SESSION_TAG}_{secrets.token_hex(3)}"
    yield prefix
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    client.close()


CONTRACT_LIMITS = {
    "rate_limit_login": "5/5 minutes",
    "rate_limit_register": "3/hour",
    "rate_limit_chat": "20/minute",
    "rate_limit_api": "100/minute",
}


def test_rate_limits_on_redis(api_factory: Any, redis_prefix: str) -> None:
    api: Api = api_factory(redis_url=REDIS_URL, redis_prefix=redis_prefix, **CONTRACT_LIMITS)
    assert type(api.platform.limiter.storage).__name__ == "RedisStorage"
    for _ in range(5):
        assert api.client.post("/api/auth/login", json={"email": "a@exemple.fr", "password": "x1"}).status_code == 401
    blocked = api.client.post("/api/auth/login", json={"email": "a@exemple.fr", "password": "x1"})
    assert blocked.status_code == 429
    assert blocked.json()["error"] == "rate_limited"
    assert "réessaie dans" in blocked.json()["detail"]
    assert 1 <= int(blocked.headers["Retry-After"]) <= 300
    body = {"password": PASSWORD, "firstName": "A", "lastName": "B", "role": "parent"}
    codes = [
        api.client.post("/api/auth/register", json={**body, "email": f"p{i}@exemple.fr"}).status_code for i in range(4)
    ]
    assert codes == [201, 201, 201, 429]
    import redis

    keys = list(redis.Redis.from_url(REDIS_URL).scan_iter(f"{redis_prefix}*"))
    assert keys  # the counters live in Redis, under our prefix
    # a second app on the same Redis shares the counters (several API processes behind a load balancer)
    twin: Api = api_factory(redis_url=REDIS_URL, redis_prefix=redis_prefix, **CONTRACT_LIMITS)
    assert twin.client.post("/api/auth/login", json={"email": "a@exemple.fr", "password": "x1"}).status_code == 429


def test_chat_and_api_limits(api_factory: Any, redis_prefix: str) -> None:
    api: Api = api_factory(
        redis_url=REDIS_URL, redis_prefix=redis_prefix, rate_limit_chat="2/minute", rate_limit_api="6/minute"
    )
    student = api.user("student")
    codes = [api.post("/api/aria/chat", as_=student, json={"message": "pile ?"}).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    more = [api.get("/api/auth/me", as_=student).status_code for _ in range(4)]
    assert more[-1] == 429
    assert more[0] == 200


def test_security_headers_request_id_and_cors(api_factory: Any) -> None:
    api: Api = api_factory(cors_origins="https://app.nexus-reussite.fr")
    response = api.client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    generated = api.client.get("/health", headers={"X-Request-ID": "bad id with spaces"}).headers["x-request-id"]
    assert generated != "bad id with spaces"
    assert len(generated) == 32
    preflight = api.client.options(
        "/api/auth/login",
        headers={"Origin": "https://app.nexus-reussite.fr", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.headers["access-control-allow-origin"] == "https://app.nexus-reussite.fr"
    other = api.client.get("/health", headers={"Origin": "https://pirate.example"})
    assert "access-control-allow-origin" not in other.headers
    missing = api.client.get("/api/nulle-part")
    assert missing.status_code == 404
    assert missing.json() == {"error": "not_found", "detail": "Ressource introuvable."}
    docs = api.client.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()
    assert api.client.get("/openapi.json").json()["paths"]["/api/aria/chat"]


def test_metrics(api_factory: Any) -> None:
    token = secrets.token_urlsafe(32)
    api: Api = api_factory(metrics_token=token)
    student = api.user("student")
    api.post("/api/aria/chat", as_=student, json={"message": "C'est quoi une pile ?"})
    api.get("/api/courses/terminale-structures-de-donnees", as_=student)
    text = api.client.get("/metrics", headers={"Authorization": f"Bearer {token}"}).text
    assert 'nexus_http_requests_total{method="GET",route="/api/courses/{course_id}",status="200"}' in text
    assert "nexus_http_request_duration_seconds_bucket" in text
    assert 'nexus_aria_time_to_first_token_seconds_count{channel="json"}' in text
    assert 'nexus_aria_chats_total{channel="json",outcome="answered"}' in text
    assert 'nexus_ingestion_jobs_current{status="queued"}' in text


def test_ready_is_503_when_a_dependency_is_down(api_factory: Any) -> None:
    healthy: Api = api_factory()
    assert healthy.client.get("/ready").json()["checks"] == {"database": "ok", "vectors": "ok"}
    no_redis: Api = api_factory(redis_url="redis://127.0.0.1:1/0")
    down = no_redis.client.get("/ready")
    assert down.status_code == 503
    assert down.json()["checks"]["redis"].startswith("error")
    no_db: Api = api_factory(database_url="postgresql+psycopg://postgres@127.0.0.1:1/absente", ingest_worker=False)
    down = no_db.client.get("/ready")
    assert down.status_code == 503
    assert down.json()["checks"]["database"].startswith("error")
    assert no_db.client.get("/health").status_code == 200


class BrokenStore:
    def count(self, flt: Any = None) -> int:
        raise ConnectionError("qdrant is down")

    def close(self) -> None:
        pass


def test_ready_is_503_when_the_vector_store_is_down(api_factory: Any, knowledge: Any) -> None:
    from fastapi.testclient import TestClient

    from knowledge.factory import KnowledgeRuntime
    from platform_api.app import create_app
    from tests.platform_api.conftest import make_settings

    base: Api = api_factory()
    broken = KnowledgeRuntime(None, knowledge.embedder, BrokenStore(), knowledge.kb)  # type: ignore[arg-type]
    settings = make_settings(str(base.platform.settings.database_url), base.platform.settings.data_dir)
    with TestClient(create_app(settings.model_copy(update={"ingest_worker": False}), runtime=broken)) as client:
        down = client.get("/ready")
    assert down.status_code == 503
    assert down.json()["checks"]["vectors"] == "error: ConnectionError"


def test_export_then_erase_a_user_everywhere(clean_api: Api) -> None:
    api = clean_api
    teacher = api.user("teacher")
    klass = api.post("/api/classes", as_=teacher, json={"name": "Tle"}).json()
    student = api.user("student")
    api.post("/api/classes/join", as_=student, json={"joinCode": klass["joinCode"]})
    api.post("/api/aria/chat", as_=student, json={"sessionId": "mes-revisions", "message": "C'est quoi une pile ?"})
    api.post(
        "/api/progress",
        as_=student,
        json={
            "courseId": "terminale-structures-de-donnees",
            "sectionId": "terminale/structures-de-donnees/piles#cours",
        },
    )
    login = api.client.post("/api/auth/login", json={"email": student.email, "password": PASSWORD}).json()

    export = api.get("/api/users/me/export", as_=student).json()
    assert export["user"]["email"] == student.email
    assert export["data"]["ariaSessions"][0]["id"] == "mes-revisions"
    assert len(export["data"]["ariaSessions"][0]["messages"]) == 2
    assert export["data"]["progress"]
    assert export["data"]["classes"][0]["id"] == klass["id"]
    assert export["data"]["tokens"]
    assert "token_hash" not in str(export)

    # a teacher's erasure takes their uploads' vectors with it
    doc = upload(api, teacher, "graphes.md", COURSE.encode(), visibility="private").json()
    assert wait_ready(api, teacher, doc["id"])["status"] == "succeeded"
    store = api.platform.knowledge.store
    assert store.count(Filter(must=(Match("doc_id", doc["id"]),))) > 0
    assert api.delete(f"/api/users/{teacher.id}", as_=student).status_code == 404  # not theirs to erase
    admin = api.user("admin")
    assert api.delete(f"/api/users/{teacher.id}", as_=admin).status_code == 204
    assert store.count(Filter(must=(Match("doc_id", doc["id"]),))) == 0
    assert not list(api.platform.settings.upload_dir.iterdir())

    assert api.delete(f"/api/users/{student.id}", as_=student).status_code == 204
    for table, column in (
        ("users", "id"),
        ("aria_sessions", "user_id"),
        ("auth_tokens", "user_id"),
        ("student_progress", "user_id"),
        ("class_members", "student_id"),
    ):
        assert api.sql(f"SELECT COUNT(*) FROM {table} WHERE {column} = '{student.id}'")[0][0] == 0, table
    assert api.sql("SELECT COUNT(*) FROM aria_messages")[0][0] == 0
    gone = api.client.post("/api/auth/refresh", json={"refreshToken": login["refreshToken"]})
    assert gone.status_code == 401
    assert api.get("/api/auth/me", as_=student).status_code == 401
    last_admin = api.delete(f"/api/users/{admin.id}", as_=admin)
    assert last_admin.status_code == 409
    assert last_admin.json()["error"] == "last_admin"
    time.sleep(0)
