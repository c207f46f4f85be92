"""`nexus bench chat-load`, small: many SSE chats at once against a real `nexus serve`, every one ends cleanly.

The bench itself starts the server (a subprocess on the embedded default: SQLite, the embedded Qdrant engine of a
data dir holding one curriculum chapter, in-process jobs, extractive answers, rate limits on) and holds 20 chats
at once for a few seconds from this process. Asserted: no HTTP refusal, no transport error, no stream cut without
its final event, and the report's counts add up. How fast is the bench's business, not this test's.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest.config import IngestSettings
from ingest.pipeline import Ingestor
from knowledge.config import KnowledgeSettings
from knowledge.factory import open_knowledge
from platform_api.bench import bench_chat_load

pytestmark = [pytest.mark.slow]

CHAPTER = Path(__file__).resolve().parents[2] / "knowledge" / "curriculum" / "terminale"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir whose knowledge base holds the chapter on stacks and queues."""
    data = tmp_path_factory.mktemp("charge") / "data"
    chapter = next(CHAPTER.rglob("*pile*.md"))
    runtime = open_knowledge(KnowledgeSettings(data_dir=data, embedding_threads=1))
    try:
        result = Ingestor(runtime.store, runtime.embedder, IngestSettings()).ingest_file(chapter, chapter.name)
        assert result.status == "ingested", result
    finally:
        runtime.close()
    return data


def test_twenty_concurrent_sse_chats_all_end_with_done_or_error(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEXUS_EMBEDDING_THREADS", "1")
    report = bench_chat_load(tmp_path, clients=20, duration_s=4, users=10, data_dir=data_dir, log=lambda _: None)
    results = report["results"]
    assert results["errors"] == 0, results["non_done_kinds"]
    assert results["streams"] >= 20  # every client asked at least once
    assert results["streams_completed"] == results["streams"]  # each ended with `done` or a clean `error`
    assert results["done"] + results["error_events"] == results["streams"]
    assert results["done"] > 0
    assert results["first_event_p50_ms"] is not None  # every stream got its `sources` event
    assert results["rss_mb"]["max"] >= results["rss_mb"]["start"] > 0
    written = json.loads((tmp_path / "bench-chat-load.json").read_text(encoding="utf-8"))
    assert written["results"]["streams"] == results["streams"]
