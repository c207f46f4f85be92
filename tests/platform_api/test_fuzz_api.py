"""Schemathesis against the app's own OpenAPI, in-process, as every role: no 5xx, every 4xx in the error shape.

Bounded for CI: EXAMPLES cases per operation (schema-conforming and schema-violating ones, each sent by a role
drawn among student, parent, teacher, admin and nobody), derandomized so every run sends the same requests (about
320 per backend). The longer, seeded run is ``nexus bench fuzz``. Operations left out (endless SSE streams) are
listed in platform_api/fuzz.py with the reason. The regression tests below pin each server error the fuzzer found.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from platform_api.fuzz import EXCLUDED, FuzzReport, contract_problem, fuzz, seed
from tests.platform_api.conftest import Api, _clean

EXAMPLES = 4


@pytest.fixture(scope="module")
def report(shared_api: Api) -> Iterator[FuzzReport]:
    auth, known = seed(shared_api.client, shared_api.platform)
    yield fuzz(shared_api.client, auth, EXAMPLES, known_ids=known)
    _clean(shared_api.platform)


def describe(report: FuzzReport) -> str:
    lines = [
        f"{f.status} {f.operation} as {f.role}: {f.problem}\n    {f.request}\n    -> {f.body}" for f in report.findings
    ]
    return "\n".join(lines[:30])


def test_no_server_error_and_every_4xx_in_the_documented_shape(report: FuzzReport) -> None:
    assert report.server_errors == 0, describe(report)
    assert report.findings == [], describe(report)


def test_every_operation_but_the_streams_was_fuzzed(report: FuzzReport, shared_api: Api) -> None:
    schema = shared_api.client.get("/openapi.json").json()
    operations = {f"{m.upper()} {p}" for p, item in schema["paths"].items() for m in item if m != "parameters"}
    assert set(report.excluded) == {f"{m} {p}" for m, p in EXCLUDED}
    assert set(report.per_operation) == operations - set(report.excluded)
    starved = sorted(op for op, sent in report.per_operation.items() if sent == 0)
    assert starved == [], starved
    assert report.requests >= len(report.per_operation) * 2
    assert {401, 404, 422} <= set(report.statuses)  # anonymous, unknown ids and broken bodies were all sent


@pytest.mark.parametrize(
    ("status", "content_type", "body", "expected"),
    [
        (200, "application/json", "{}", None),
        (404, "application/json", '{"error": "not_found", "detail": "Ressource introuvable."}', None),
        (500, "application/json", '{"error": "internal_error", "detail": "Une erreur interne."}', "server error"),
        (404, "application/json", '{"detail": "Not Found"}', "shape"),
        (422, "application/json", '{"error": "validation_error", "detail": "Field required"}', "French"),
        (400, "application/json", '{"error": "Bad Request", "detail": "Requête invalide."}', "snake_case"),
        (400, "text/plain", "Invalid HTTP request", "not JSON"),
        (400, "application/json", "[1, 2]", "shape"),
    ],
)
def test_the_contract_check_has_teeth(status: int, content_type: str, body: str, expected: str | None) -> None:
    problem = contract_problem(status, content_type, body)
    if expected is None:
        assert problem is None
    else:
        assert problem is not None
        assert expected in problem, problem


def test_a_finding_is_reported_not_raised() -> None:
    """The fuzzer reports a broken answer: an app whose 404s are FastAPI's English ones gets findings."""
    from fastapi import FastAPI, HTTPException
    from fastapi.testclient import TestClient

    app = FastAPI()

    @app.get("/api/things/{thing_id}")
    def thing(thing_id: int) -> dict[str, Any]:
        if thing_id > 0:
            raise HTTPException(404)
        return {"id": thing_id}

    with TestClient(app) as client:
        found = fuzz(client, {}, 20)
    assert found.requests > 0
    assert any(f.status in (404, 422) for f in found.findings)  # {"detail": ...} without an error code


# --- What the fuzzer found ----------------------------------------------------------------------------------------


def test_nul_characters_in_a_body_are_refused_not_a_server_error(api: Api) -> None:
    """PostgreSQL text cannot hold NUL: a chat question with one was a DataError (500) on PostgreSQL, stored on
    SQLite. Every JSON body refuses NUL characters with a 422, on both backends."""
    student, teacher = api.user("student"), api.user("teacher")
    sessions = f"SELECT COUNT(*) FROM aria_sessions WHERE user_id = '{student.id}'"
    classes = f"SELECT COUNT(*) FROM classes WHERE teacher_id = '{teacher.id}'"
    chat = api.post("/api/aria/chat", as_=student, json={"message": "C'est quoi une pile ?\x00"})
    assert chat.status_code == 422, chat.text
    body = chat.json()
    assert body["error"] == "validation_error"
    assert "message" in body["detail"]
    nested = api.post("/api/classes", as_=teacher, json={"name": "Terminale\x00 NSI"})
    assert nested.status_code == 422, nested.text
    assert api.sql(sessions)[0][0] == 0
    assert api.sql(classes)[0][0] == 0
    # The same requests without the NUL character go through.
    assert api.post("/api/aria/chat", as_=student, json={"message": "C'est quoi une pile ?"}).status_code == 200
    assert api.post("/api/classes", as_=teacher, json={"name": "Terminale NSI"}).status_code == 201


@pytest.mark.parametrize("url", ["/api/courses?search=pile%00", "/api/courses/abc%00def", "/api/courses?level=%00"])
def test_nul_characters_in_the_url_are_refused_not_a_server_error(api: Api, url: str) -> None:
    student = api.user("student")
    response = api.get(url, as_=student)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "nul_character"
    assert contract_problem(response.status_code, response.headers["content-type"], response.text) is None
