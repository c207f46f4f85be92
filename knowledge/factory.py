"""Build the long-lived knowledge components (embedder, store, knowledge base) from settings."""

from __future__ import annotations

from dataclasses import dataclass

from knowledge.config import KnowledgeSettings
from knowledge.embedder import Embedder, build_embedder
from knowledge.search import KnowledgeBase
from knowledge.store import VectorStore, open_store
from knowledge.text import SparseEncoder


@dataclass
class KnowledgeRuntime:
    """Everything that reads or writes the vector store, built once per process."""

    settings: KnowledgeSettings
    embedder: Embedder
    store: VectorStore
    kb: KnowledgeBase

    def close(self) -> None:
        self.store.close()


def open_knowledge(settings: KnowledgeSettings, embedder: Embedder | None = None) -> KnowledgeRuntime:
    """Load the embedder and open the store the settings name."""
    embedder = embedder or build_embedder(settings)
    store = open_store(settings, embedder.dim)
    return KnowledgeRuntime(settings, embedder, store, KnowledgeBase(store, embedder, SparseEncoder()))
