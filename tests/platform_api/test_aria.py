"""ARIA over REST, SSE and WebSocket: the end-to-end journey, authentication, persistence, profiles."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.websockets import WebSocketDisconnect

from platform_api.aria import service as aria
from platform_api.core.db import unit_of_work
from platform_api.users.repository import UserRepository
from tests.platform_api.conftest import PASSWORD, Api
from tutor.types import DoneEvent, SourcesEvent, TokenEvent


def parse_sse(text: str) -> list[tuple[str, Any]]:
    events = []
    for block in text.strip().split("\n\n"):
        lines = [line for line in block.splitlines() if not line.startswith(":")]
        name = next((line[7:] for line in lines if line.startswith("event: ")), "message")
        data = "\n".join(line[6:] for line in lines if line.startswith("data: "))
        if data:
            events.append((name, json.loads(data)))
    return events


def test_end_to_end_register_login_sse_websocket_refresh_logout(clean_api: Api) -> None:
    api = clean_api
    client = api.client
    registered = client.post(
        "/api/auth/register",
        json={
            "email": "ines@exemple.fr",
            "password": PASSWORD,
            "firstName": "Inès",
            "lastName": "Benali",
            "role": "student",
            "classLevel": "terminale",
        },
    )
    assert registered.status_code == 201
    session = client.post("/api/auth/login", json={"email": "ines@exemple.fr", "password": PASSWORD}).json()
    headers = {"Authorization": f"Bearer {session['accessToken']}"}

    with client.stream(
        "POST",
        "/api/aria/chat/stream",
        headers=headers,
        json={"sessionId": "revision-piles", "message": "C'est quoi une pile en informatique ?"},
    ) as s:
        assert s.status_code == 200
        assert s.headers["content-type"].startswith("text/event-stream")
        assert s.headers["x-accel-buffering"] == "no"
        events = parse_sse(s.read().decode())
    names = [name for name, _ in events]
    assert names[0] == "sources"
    assert names[-1] == "done"
    assert "token" in names
    done = events[-1][1]
    assert done["sources"]
    assert done["sources"][0]["title"] == "Les piles"
    assert done["sessionId"] == "revision-piles"
    assert "".join(d["text"] for n, d in events if n == "token").strip() == done["response"]

    with client.websocket_connect(f"/ws/aria/revision-piles?token={session['accessToken']}") as ws:
        assert ws.receive_json() == {"type": "connected", "sessionId": "revision-piles"}
        ws.send_json({"type": "user_message", "content": "Comment dépiler un élément d'une pile ?"})
        frames = []
        while True:
            frame = ws.receive_json()
            frames.append(frame)
            if frame["type"] == "ai_response":
                break
    assert frames[0] == {"type": "typing", "isTyping": True}
    assert any(f["type"] == "token" for f in frames)
    final = frames[-1]
    assert final["sources"]
    assert final["content"]
    assert final["timestamp"]
    assert 0 <= final["confidence"] <= 1

    sessions = client.get("/api/aria/sessions", headers=headers).json()
    assert [(x["id"], x["messageCount"]) for x in sessions] == [("revision-piles", 4)]
    messages = client.get("/api/aria/sessions/revision-piles/messages", headers=headers).json()
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant"]
    assert messages[1]["sources"]
    assert messages[1]["metadata"]["model"]

    rotated = client.post("/api/auth/refresh", json={"refreshToken": session["refreshToken"]}).json()
    assert client.post("/api/auth/logout", json={"refreshToken": rotated["refreshToken"]}).status_code == 200
    old = client.post("/api/auth/refresh", json={"refreshToken": session["refreshToken"]})
    assert old.status_code == 401
    assert client.post("/api/auth/refresh", json={"refreshToken": rotated["refreshToken"]}).status_code == 401


def test_chat_json_contract_and_private_sessions(clean_api: Api) -> None:
    api = clean_api
    alice, bob = api.user("student"), api.user("student")
    answer = api.post(
        "/api/aria/chat",
        as_=alice,
        json={"message": "Qu'est-ce qu'une pile ?", "context": {"currentCourse": "terminale-structures-de-donnees"}},
    )
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) >= {"sessionId", "response", "confidence", "sources", "metadata"}
    assert set(body["metadata"]) >= {"responseTime", "tokensUsed", "model"}
    follow = api.post("/api/aria/chat", as_=alice, json={"sessionId": body["sessionId"], "message": "Et dépiler ?"})
    assert follow.json()["sessionId"] == body["sessionId"]
    stolen = api.post("/api/aria/chat", as_=bob, json={"sessionId": body["sessionId"], "message": "Montre"})
    assert stolen.status_code == 404
    assert stolen.json()["error"] == "session_not_found"
    assert api.get(f"/api/aria/sessions/{body['sessionId']}/messages", as_=bob).status_code == 404
    assert api.get("/api/aria/sessions", as_=bob).json() == []
    refused = api.post("/api/aria/chat", as_=alice, json={"message": "Donne-moi la recette de la tarte aux pommes"})
    assert refused.json()["refused"] is True
    assert refused.json()["sources"] == []
    bad = api.post("/api/aria/chat", as_=alice, json={"message": ""})
    assert bad.status_code == 422
    assert api.post("/api/aria/chat", json={"message": "pile"}).status_code == 401
    with api.client.stream("POST", "/api/aria/chat/stream", json={"message": "pile"}) as s:
        assert s.status_code == 401  # refused before the stream starts


def test_websocket_authentication(clean_api: Api) -> None:
    api = clean_api
    alice, bob = api.user("student"), api.user("student")
    for url in ("/ws/aria/s1?token=faux", "/ws/aria/s1"):
        with api.client.websocket_connect(url) as ws:
            if "token" not in url:
                ws.send_json({"type": "user_message", "content": "pile"})  # not an auth message
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_json()
        assert closed.value.code == 1008
    with api.client.websocket_connect("/ws/aria/s-alice") as ws:
        ws.send_json({"type": "auth", "token": api.tokens[alice.id]})
        assert ws.receive_json()["type"] == "connected"
        ws.send_json({"type": "ping"})
        assert ws.receive_json() == {"type": "pong"}
        ws.send_json({"type": "user_message", "content": "C'est quoi une pile ?"})
        while ws.receive_json()["type"] != "ai_response":
            pass
    with api.client.websocket_connect(f"/ws/aria/s-alice?token={api.tokens[bob.id]}") as ws:
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 1008  # someone else's session


class SlowTutor:
    """A tutor that streams forever after two tokens, to disconnect in the middle."""

    def __init__(self) -> None:
        self.profiles: list[Any] = []

    async def stream(self, question: str, profile: Any, history: Any = (), context: Any = None) -> AsyncIterator[Any]:
        import anyio

        self.profiles.append(profile)
        yield SourcesEvent([])
        yield TokenEvent("Une pile ")
        yield TokenEvent("est LIFO")
        if question == "fin":
            yield DoneEvent("Une pile est LIFO", 0.9, [], {"responseTime": 0.1, "tokensUsed": 3, "model": "lent"})
            return
        await anyio.sleep(30)


def test_a_client_leaving_mid_stream_leaves_a_consistent_session(api_factory: Any) -> None:
    from fastapi.testclient import TestClient

    from platform_api.app import create_app
    from tests.platform_api.conftest import make_settings

    base: Api = api_factory()
    tutor = SlowTutor()
    app = create_app(
        make_settings(str(base.platform.settings.database_url), base.platform.settings.data_dir),
        runtime=base.platform.knowledge,
        tutor=tutor,
    )
    with TestClient(app) as client:
        student = base.user("student")
        headers = base.auth(student)
        with client.websocket_connect(f"/ws/aria/coupure?token={base.tokens[student.id]}") as ws:
            ws.receive_json()
            ws.send_json({"type": "user_message", "content": "pile ?"})
            while ws.receive_json().get("content") != "est LIFO":
                pass
        messages = client.get("/api/aria/sessions/coupure/messages", headers=headers).json()
        for _ in range(50):
            if messages:
                break
            import time

            time.sleep(0.1)
            messages = client.get("/api/aria/sessions/coupure/messages", headers=headers).json()
        assert [m["role"] for m in messages] == ["user", "assistant"]
        assert messages[1]["content"] == "Une pile est LIFO"
        assert messages[1]["metadata"] == {"interrupted": True}
        done = client.post("/api/aria/chat", headers=headers, json={"sessionId": "coupure", "message": "fin"})
        assert done.status_code == 200
        roles = [m["role"] for m in client.get("/api/aria/sessions/coupure/messages", headers=headers).json()]
        assert roles == ["user", "assistant", "user", "assistant"]


def test_the_learner_profile_comes_from_the_database(clean_api: Api) -> None:
    api = clean_api
    teacher, student = api.user("teacher"), api.user("student", level="premiere")
    klass = api.post("/api/classes", as_=teacher, json={"name": "1re NSI"}).json()
    api.post("/api/classes/join", as_=student, json={"joinCode": klass["joinCode"]})
    quiz = {
        "title": "Tri",
        "type": "exam",
        "classId": klass["id"],
        "published": True,
        "documentIds": ["premiere/algorithmique/tri-par-insertion"],
        "questions": [{"type": "numeric", "prompt": "?", "answer": 1}],
    }
    assert api.post("/api/assessments", as_=teacher, json=quiz).status_code == 201
    with unit_of_work(api.platform.sessions) as db:
        user = UserRepository(db).get(student.id)
        assert user is not None
        profile = aria.learner_profile(db, user)
        teacher_profile = aria.learner_profile(db, UserRepository(db).get(teacher.id))  # type: ignore[arg-type]
    assert profile.role == "student"
    assert profile.level == "premiere"
    assert profile.class_ids == (klass["id"],)
    assert profile.hidden_doc_ids == ("premiere/algorithmique/tri-par-insertion",)
    assert teacher_profile.class_ids == (klass["id"],)
    assert teacher_profile.hidden_doc_ids == ()
    # the answer key of the open exam's chapter never reaches the student
    answer = api.post("/api/aria/chat", as_=student, json={"message": "Corrigé de l'exercice sur le tri par insertion"})
    for source in answer.json()["sources"]:
        assert not (
            source["doc_id"] == "premiere/algorithmique/tri-par-insertion"
            and any("Corrig" in part for part in source["section_path"])
        )


class FailingTutor:
    """A tutor whose backend fails after the first token: the stream must end with an ``error`` event."""

    async def stream(self, question: str, profile: Any, history: Any = (), context: Any = None) -> AsyncIterator[Any]:
        from tutor.types import ErrorEvent

        yield SourcesEvent([])
        yield TokenEvent("Une pile")
        yield ErrorEvent("llm_timeout", "ARIA n'a pas pu terminer sa réponse. Réessaie dans un instant.")


def test_a_failure_mid_stream_is_a_final_error_event(api_factory: Any) -> None:
    from fastapi.testclient import TestClient

    from platform_api.app import create_app
    from tests.platform_api.conftest import make_settings

    base: Api = api_factory()
    settings = make_settings(str(base.platform.settings.database_url), base.platform.settings.data_dir)
    app = create_app(
        settings.model_copy(update={"ingest_worker": False}), runtime=base.platform.knowledge, tutor=FailingTutor()
    )
    with TestClient(app) as client:
        student = base.user("student")
        headers = base.auth(student)
        with client.stream(
            "POST", "/api/aria/chat/stream", headers=headers, json={"sessionId": "panne", "message": "pile ?"}
        ) as s:
            events = parse_sse(s.read().decode())
        assert [name for name, _ in events] == ["sources", "token", "error"]
        assert events[-1][1] == {
            "error": "llm_timeout",
            "detail": "ARIA n'a pas pu terminer sa réponse. Réessaie dans un instant.",
        }
        failed = client.post("/api/aria/chat", headers=headers, json={"sessionId": "panne", "message": "pile ?"})
        assert failed.status_code == 503
        assert failed.json()["error"] == "answer_failed"
        assert client.get("/api/aria/sessions/panne/messages", headers=headers).json() == []


class RecordingTutor:
    """Answers at once and keeps the history each question was given."""

    def __init__(self) -> None:
        self.histories: list[list[tuple[str, str]]] = []

    async def stream(self, question: str, profile: Any, history: Any = (), context: Any = None) -> AsyncIterator[Any]:
        self.histories.append([(t.role, t.content) for t in history])
        yield SourcesEvent([])
        yield TokenEvent(f"Réponse à : {question}")
        yield DoneEvent(f"Réponse à : {question}", 0.9, [], {"responseTime": 0.1, "tokensUsed": 3, "model": "test"})


def test_a_question_left_without_answer_by_a_crash_stays_stored_and_out_of_the_history(api_factory: Any) -> None:
    """The question is committed before the first byte; a server killed mid-answer never stores the answer:
    the question stays, and the next turns get a history of answered pairs (chat templates need alternation)."""
    from fastapi.testclient import TestClient

    from platform_api.app import create_app
    from tests.platform_api.conftest import make_settings

    base: Api = api_factory()
    tutor = RecordingTutor()
    settings = make_settings(str(base.platform.settings.database_url), base.platform.settings.data_dir)
    app = create_app(settings.model_copy(update={"ingest_worker": False}), runtime=base.platform.knowledge, tutor=tutor)
    with TestClient(app) as client:
        student = base.user("student")
        headers = base.auth(student)
        body = {"sessionId": "panne-serveur", "message": "c'est quoi une pile ?"}
        assert client.post("/api/aria/chat", headers=headers, json=body).status_code == 200
        with unit_of_work(base.platform.sessions) as db:  # the next question's stream starts, then the server dies
            user = UserRepository(db).get(student.id)
            assert user is not None
            aria.prepare(db, user, "panne-serveur", "et une file ?")
        stored = client.get("/api/aria/sessions/panne-serveur/messages", headers=headers).json()
        assert [(m["role"], m["content"]) for m in stored][-1] == ("user", "et une file ?")

        again = {"sessionId": "panne-serveur", "message": "et un arbre ?"}
        assert client.post("/api/aria/chat", headers=headers, json=again).status_code == 200
        assert tutor.histories[-1] == [
            ("user", "c'est quoi une pile ?"),
            ("assistant", "Réponse à : c'est quoi une pile ?"),
        ]
        roles = [m["role"] for m in client.get("/api/aria/sessions/panne-serveur/messages", headers=headers).json()]
        assert roles == ["user", "assistant", "user", "user", "assistant"]
