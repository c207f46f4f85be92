"""`nexus bench chat-load`, small: many SSE chats at once against a real `nexus serve`, every one ends cleanly.

The bench itself starts the server (a subprocess on the embedded default: SQLite, the embedded Qdrant engine of a
data dir holding a short course on stacks, in-process jobs, extractive answers, rate limits on) and holds 20 chats
at once for a few seconds from this process. Asserted: no HTTP refusal, no transport error, no stream cut without
its final event, and the report's counts add up. How fast is the bench's business, not this test's.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest.config import IngestSettings
from ingest.pipeline import DocumentOptions, Ingestor
from knowledge.config import KnowledgeSettings
from knowledge.factory import open_knowledge
from platform_api.bench import bench_chat_load

pytestmark = [pytest.mark.slow]

COURSE = """# Piles et files

## Les piles

Une pile est une structure de données LIFO : le dernier élément empilé est le premier dépilé. On empile avec
`empiler(p, x)` et on dépile avec `depiler(p)` ; les deux opérations coûtent un temps constant.

## Les files

Une file est une structure FIFO : le premier élément enfilé est le premier défilé, comme une file d'attente.
Avec deux piles, on obtient une file dont le défilement coûte un temps constant amorti.

## Le tri par insertion

Le tri par insertion parcourt le tableau et insère chaque élément à sa place parmi les précédents, déjà triés.
Sa complexité est quadratique dans le pire cas et linéaire sur un tableau déjà trié.
"""


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir whose knowledge base holds a short course (three sections)."""
    data = tmp_path_factory.mktemp("charge") / "data"
    runtime = open_knowledge(KnowledgeSettings(data_dir=data, embedding_threads=1))
    try:
        ingestor = Ingestor(runtime.store, runtime.embedder, IngestSettings())
        result = ingestor.ingest_bytes("piles.md", COURSE.encode(), "piles.md", DocumentOptions())
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
