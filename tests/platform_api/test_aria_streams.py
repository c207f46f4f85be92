"""ARIA's streams against a real server on loopback: a client that leaves mid-stream, two first questions at once."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import uvicorn

from platform_api.app import create_app
from tests.platform_api.conftest import Api, make_settings
from tutor.types import DoneEvent, SourcesEvent, TokenEvent


class SlowTutor:
    """Two tokens, then a long pause (the client leaves during it); "fin" answers at once."""

    async def stream(self, question: str, profile: Any, history: Any = (), context: Any = None) -> AsyncIterator[Any]:
        import anyio

        yield SourcesEvent([])
        yield TokenEvent("Une pile ")
        yield TokenEvent("est LIFO")
        if question != "fin":
            for _ in range(300):  # tokens keep coming while the client is gone
                await anyio.sleep(0.01)
                yield TokenEvent(".")
        yield DoneEvent("Une pile est LIFO", 0.9, [], {"responseTime": 0.1, "tokensUsed": 3, "model": "lent"})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(api_factory: Any) -> Iterator[tuple[str, Api]]:
    base: Api = api_factory()
    app = create_app(
        make_settings(str(base.platform.settings.database_url), base.platform.settings.data_dir),
        runtime=base.platform.knowledge,
        tutor=SlowTutor(),
    )
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=srv.run, name="aria-stream-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        assert thread.is_alive(), "the test server stopped while starting"
        assert time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", base
    srv.should_exit = True
    thread.join(timeout=15)


def _messages(url: str, headers: dict[str, str], session_id: str, count: int) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    for _ in range(100):
        messages = httpx.get(f"{url}/api/aria/sessions/{session_id}/messages", headers=headers).json()
        if isinstance(messages, list) and len(messages) >= count:
            break
        time.sleep(0.05)
    return messages


def test_an_sse_client_leaving_after_the_first_token_leaves_the_question_and_a_partial_answer(
    server: tuple[str, Api], caplog: pytest.LogCaptureFixture
) -> None:
    url, api = server
    student = api.user("student")
    headers = api.auth(student)
    with caplog.at_level(logging.WARNING), httpx.Client(timeout=10) as client:
        body = {"sessionId": "depart-sse", "message": "c'est quoi une pile ?"}
        with client.stream("POST", f"{url}/api/aria/chat/stream", headers=headers, json=body) as response:
            assert response.status_code == 200
            for line in response.iter_lines():
                if line.startswith("event: token"):
                    break  # the client leaves after the first token
        messages = _messages(url, headers, "depart-sse", 2)
        assert [m["role"] for m in messages] == ["user", "assistant"]
        assert messages[0]["content"] == "c'est quoi une pile ?"
        assert messages[1]["content"].startswith("Une pile ")
        assert messages[1]["metadata"] == {"interrupted": True}
        # the conversation goes on, still alternating question and answer
        done = client.post(f"{url}/api/aria/chat", headers=headers, json={"sessionId": "depart-sse", "message": "fin"})
        assert done.status_code == 200
        roles = [m["role"] for m in _messages(url, headers, "depart-sse", 4)]
        assert roles == ["user", "assistant", "user", "assistant"]
    time.sleep(0.5)  # the server's teardown of the left stream
    noisy = [r for r in caplog.records if "BrokenResource" in r.getMessage() or r.exc_info]
    assert not noisy, [r.getMessage() for r in noisy]


def test_two_first_questions_at_once_in_the_same_new_session(server: tuple[str, Api]) -> None:
    url, api = server
    student = api.user("student")
    headers = api.auth(student)
    results: list[int] = []

    def ask() -> None:
        body = {"sessionId": "course-au-depart", "message": "fin"}
        results.append(httpx.post(f"{url}/api/aria/chat", headers=headers, json=body, timeout=30).status_code)

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200, 200, 200, 200]
    roles = [m["role"] for m in _messages(url, headers, "course-au-depart", 8)]
    assert sorted(roles) == ["assistant"] * 4 + ["user"] * 4  # every question kept with its answer
