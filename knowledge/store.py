"""The vector store: one interface, two Qdrant backends (embedded ``qdrant_edge`` and ``qdrant-client``).

A chunk is a point with a named dense vector, a named sparse vector (IDF modifier) and a payload. Versions of a
document are swapped by the ``state`` payload field (``staged`` while written, then ``live``), so a half-written
version is never visible. (A keyword, not a bool: ``qdrant_edge`` 0.9 does not match bool payloads.)
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from knowledge.text import Sparse

DENSE = "dense"
SPARSE = "sparse"
# Payload fields that searches filter on; each gets an index.
KEYWORD_FIELDS = (
    "doc_id",
    "source",
    "source_kind",
    "level",
    "course",
    "chapter",
    "content_type",
    "visibility",
    "owner_id",
    "class_ids",
    "programme_items",
    "content_hash",
    "state",
)
INTEGER_FIELDS = ("doc_version", "chunk_index", "page")


@dataclass(frozen=True)
class Match:
    """``key`` equals ``value`` (for list payloads: contains it)."""

    key: str
    value: str | int | bool


@dataclass(frozen=True)
class MatchAny:
    """``key`` equals one of ``values``."""

    key: str
    values: tuple[str, ...] | tuple[int, ...]


@dataclass(frozen=True)
class Filter:
    """A boolean filter over payload fields, translated to each backend's own filter type."""

    must: tuple[Condition, ...] = ()
    should: tuple[Condition, ...] = ()
    must_not: tuple[Condition, ...] = ()

    def and_(self, *conditions: Condition) -> Filter:
        return Filter(self.must + conditions, self.should, self.must_not)


Condition = Match | MatchAny | Filter


@dataclass
class ChunkPoint:
    """One chunk ready to store."""

    id: str
    dense: list[float]
    sparse: Sparse
    payload: dict[str, Any]


@dataclass
class Hit:
    """A search result."""

    id: str
    score: float
    payload: dict[str, Any] = field(default_factory=dict)


class VectorStore(Protocol):
    """What ingestion and retrieval need from a vector database."""

    def upsert(self, points: Sequence[ChunkPoint]) -> None: ...

    def set_payload(self, flt: Filter, payload: dict[str, Any]) -> None: ...

    def delete(self, flt: Filter) -> None: ...

    def count(self, flt: Filter | None = None) -> int: ...

    def scroll(self, flt: Filter | None = None, limit: int | None = None) -> Iterator[dict[str, Any]]: ...

    def hybrid_search(
        self, dense: list[float], sparse: Sparse, flt: Filter | None, limit: int, prefetch: int
    ) -> list[Hit]: ...

    def dense_search(self, dense: list[float], flt: Filter | None, limit: int) -> list[Hit]: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class FusionConfig:
    """Weighted reciprocal rank fusion of the dense and sparse result lists."""

    k: int = 60
    dense_weight: float = 1.0
    sparse_weight: float = 1.0


class EdgeStore:
    """Qdrant's embedded engine (``qdrant_edge``), a shard in a local folder: the default, fast on one machine.

    Args:
        path: shard folder (created when missing).
        dim: dense vector size.
        fusion: RRF parameters.

    Example:
        >>> store = EdgeStore(tmp_path / "shard", dim=384)
        >>> store.count()
        0
    """

    def __init__(self, path: Path, dim: int, fusion: FusionConfig | None = None) -> None:
        import qdrant_edge as qe

        if dim < 1:
            raise ValueError(f"dim must be >= 1. Currently, dim is {dim}")
        self._qe = qe
        self.fusion = fusion or FusionConfig()
        self._lock = threading.RLock()
        config = qe.EdgeConfig(
            vectors={DENSE: qe.EdgeVectorParams(size=dim, distance=qe.Distance.Cosine)},
            sparse_vectors={SPARSE: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)},
        )
        self.path, self._config = path, config
        _recover_compaction(path)
        path.mkdir(parents=True, exist_ok=True)
        if any(path.iterdir()):
            self._shard = qe.EdgeShard.load(str(path), config)
        else:
            self._shard = qe.EdgeShard.create(str(path), config)
            self._create_indexes(self._shard)

    def _create_indexes(self, shard: Any) -> None:
        qe = self._qe
        schema = qe.PayloadSchemaType
        for name in KEYWORD_FIELDS:
            shard.update(qe.UpdateOperation.create_field_index(name, schema.Keyword))
        for name in INTEGER_FIELDS:
            shard.update(qe.UpdateOperation.create_field_index(name, schema.Integer))

    def compact(self) -> None:
        """Make deletions physical: rewrite the shard with its remaining points only, then swap the folders.

        Does nothing when no point was deleted since the last compaction (a ``<shard>.deleted`` file says so).

        A deleted point's payload (the passage text) stays in its segment until a vacuum, and in the WAL until the
        WAL segment rotates; neither can be scrubbed in place, so an erasure copies the live points into a new
        shard (its WAL holds only them) and removes the old folder. Searches wait meanwhile (about a second per
        10,000 passages). A crash midway leaves the old shard or the new one whole: ``__init__`` recovers.
        """
        qe = self._qe
        fresh, old, deleted = (_sibling(self.path, s) for s in ("compact", "old", "deleted"))
        with self._lock:
            if not deleted.exists():
                return  # nothing deleted since the last compaction
            self._shard.flush()
            shutil.rmtree(fresh, ignore_errors=True)
            shard = qe.EdgeShard.create(str(fresh), self._config)
            self._create_indexes(shard)
            offset: Any = None
            while True:
                request = qe.ScrollRequest(offset=offset, limit=512, with_payload=True, with_vector=True)
                records, offset = self._shard.scroll(request)
                if records:
                    points = [qe.Point(id=r.id, vector=r.vector, payload=r.payload) for r in records]
                    shard.update(qe.UpdateOperation.upsert_points(points))
                if offset is None or not records:
                    break
            shard.flush()
            shard.close()
            self._shard.close()
            self.path.rename(old)
            fresh.rename(self.path)
            shutil.rmtree(old)
            self._shard = qe.EdgeShard.load(str(self.path), self._config)
            deleted.unlink()

    def _filter(self, flt: Filter | None) -> Any:
        if flt is None:
            return None
        qe = self._qe

        def cond(c: Condition) -> Any:
            if isinstance(c, Filter):
                return self._filter(c)
            if isinstance(c, Match):
                return qe.FieldCondition(key=c.key, match=qe.MatchValue(c.value))
            return qe.FieldCondition(key=c.key, match=qe.MatchAny(list(c.values)))

        return qe.Filter(
            must=[cond(c) for c in flt.must] or None,
            should=[cond(c) for c in flt.should] or None,
            must_not=[cond(c) for c in flt.must_not] or None,
        )

    def upsert(self, points: Sequence[ChunkPoint]) -> None:
        qe = self._qe
        records = [
            qe.Point(
                id=p.id,
                vector={DENSE: p.dense, SPARSE: qe.SparseVector(p.sparse.indices, p.sparse.values)},
                payload=p.payload,
            )
            for p in points
        ]
        with self._lock:
            self._shard.update(qe.UpdateOperation.upsert_points(records))

    def set_payload(self, flt: Filter, payload: dict[str, Any]) -> None:
        with self._lock:
            self._shard.update(self._qe.UpdateOperation.set_payload_by_filter(self._filter(flt), payload))

    def delete(self, flt: Filter) -> None:
        with self._lock:
            self._shard.update(self._qe.UpdateOperation.delete_points_by_filter(self._filter(flt)))
            _sibling(self.path, "deleted").touch()  # a file, so that a restart still knows: compact() has work

    def count(self, flt: Filter | None = None) -> int:
        with self._lock:
            return int(self._shard.count(self._qe.CountRequest(exact=True, filter=self._filter(flt))))

    def scroll(self, flt: Filter | None = None, limit: int | None = None) -> Iterator[dict[str, Any]]:
        offset: Any = None
        returned = 0
        while True:
            page = 256 if limit is None else min(256, limit - returned)
            if page <= 0:
                return
            request = self._qe.ScrollRequest(offset=offset, limit=page, filter=self._filter(flt), with_payload=True)
            with self._lock:
                records, offset = self._shard.scroll(request)
            for record in records:
                returned += 1
                yield dict(record.payload or {})
            if offset is None or not records:
                return

    def hybrid_search(
        self, dense: list[float], sparse: Sparse, flt: Filter | None, limit: int, prefetch: int
    ) -> list[Hit]:
        qe = self._qe
        f = self._filter(flt)
        prefetches = [qe.Prefetch(limit=prefetch, query=qe.Query.Nearest(dense, using=DENSE), filter=f)]
        if sparse.indices:
            sparse_query = qe.Query.Nearest(qe.SparseVector(sparse.indices, sparse.values), using=SPARSE)
            prefetches.append(qe.Prefetch(limit=prefetch, query=sparse_query, filter=f))
        weights = [self.fusion.dense_weight, self.fusion.sparse_weight][: len(prefetches)]
        request = qe.QueryRequest(
            limit=limit,
            query=qe.Fusion.Rrf(k=self.fusion.k, weights=weights),
            prefetches=prefetches,
            filter=f,
            with_payload=True,
        )
        with self._lock:
            points = self._shard.query(request)
        return [Hit(str(p.id), float(p.score), dict(p.payload or {})) for p in points]

    def dense_search(self, dense: list[float], flt: Filter | None, limit: int) -> list[Hit]:
        qe = self._qe
        request = qe.QueryRequest(
            limit=limit, query=qe.Query.Nearest(dense, using=DENSE), filter=self._filter(flt), with_payload=True
        )
        with self._lock:
            points = self._shard.query(request)
        return [Hit(str(p.id), float(p.score), dict(p.payload or {})) for p in points]

    def optimize(self) -> None:
        """Merge segments and build the HNSW index now rather than on the first searches."""
        with self._lock:
            self._shard.optimize()

    def close(self) -> None:
        with self._lock:
            self._shard.flush()
            self._shard.close()


def _sibling(path: Path, suffix: str) -> Path:
    return path.with_name(f"{path.name}.{suffix}")


def _recover_compaction(path: Path) -> None:
    """After a crash during :meth:`EdgeStore.compact`: keep the whole shard, remove the other copy."""
    fresh, old = _sibling(path, "compact"), _sibling(path, "old")
    if not path.exists() and old.exists():
        old.rename(path)  # the crash came between the two renames: the old shard is whole
    shutil.rmtree(fresh, ignore_errors=True)
    shutil.rmtree(old, ignore_errors=True)


def compact_store(store: VectorStore) -> None:
    """Make a store's deletions physical where the backend needs it (see ``EdgeStore.compact``)."""
    compact = getattr(store, "compact", None)
    if compact is not None:
        compact()


class ClientStore:
    """A Qdrant server or cluster through ``qdrant-client`` (or its local mode, which speaks the same API).

    Args:
        client: a ``QdrantClient``.
        collection: collection name (created when missing, with shards and replication from the arguments).
        dim: dense vector size.

    Example:
        >>> store = ClientStore(QdrantClient(":memory:"), "chunks", dim=384)
        >>> store.count()
        0
    """

    def __init__(
        self,
        client: Any,
        collection: str,
        dim: int,
        fusion: FusionConfig | None = None,
        shards: int = 1,
        replication_factor: int = 1,
        write_consistency: int = 1,
    ) -> None:
        from qdrant_client import models

        self._m = models
        self.client = client
        self.collection = collection
        self.fusion = fusion or FusionConfig()
        if not client.collection_exists(collection):
            client.create_collection(
                collection,
                vectors_config={DENSE: models.VectorParams(size=dim, distance=models.Distance.COSINE)},
                sparse_vectors_config={SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)},
                shard_number=shards,
                replication_factor=replication_factor,
                write_consistency_factor=write_consistency,
            )
            for name in KEYWORD_FIELDS:
                client.create_payload_index(collection, name, models.PayloadSchemaType.KEYWORD)
            for name in INTEGER_FIELDS:
                client.create_payload_index(collection, name, models.PayloadSchemaType.INTEGER)

    def _filter(self, flt: Filter | None) -> Any:
        if flt is None:
            return None
        m = self._m

        def cond(c: Condition) -> Any:
            if isinstance(c, Filter):
                return self._filter(c)
            if isinstance(c, Match):
                return m.FieldCondition(key=c.key, match=m.MatchValue(value=c.value))
            return m.FieldCondition(key=c.key, match=m.MatchAny(any=list(c.values)))

        return m.Filter(
            must=[cond(c) for c in flt.must] or None,
            should=[cond(c) for c in flt.should] or None,
            must_not=[cond(c) for c in flt.must_not] or None,
        )

    def upsert(self, points: Sequence[ChunkPoint]) -> None:
        m = self._m
        records = [
            m.PointStruct(
                id=p.id,
                vector={DENSE: p.dense, SPARSE: m.SparseVector(indices=p.sparse.indices, values=p.sparse.values)},
                payload=p.payload,
            )
            for p in points
        ]
        self.client.upsert(self.collection, records, wait=True)

    def set_payload(self, flt: Filter, payload: dict[str, Any]) -> None:
        self.client.set_payload(self.collection, payload, points=self._filter(flt), wait=True)

    def delete(self, flt: Filter) -> None:
        self.client.delete(self.collection, points_selector=self._m.FilterSelector(filter=self._filter(flt)), wait=True)

    def count(self, flt: Filter | None = None) -> int:
        return int(self.client.count(self.collection, count_filter=self._filter(flt), exact=True).count)

    def scroll(self, flt: Filter | None = None, limit: int | None = None) -> Iterator[dict[str, Any]]:
        offset: Any = None
        returned = 0
        while True:
            page = 256 if limit is None else min(256, limit - returned)
            if page <= 0:
                return
            records, offset = self.client.scroll(
                self.collection, scroll_filter=self._filter(flt), limit=page, offset=offset, with_payload=True
            )
            for record in records:
                returned += 1
                yield dict(record.payload or {})
            if offset is None or not records:
                return

    def hybrid_search(
        self, dense: list[float], sparse: Sparse, flt: Filter | None, limit: int, prefetch: int
    ) -> list[Hit]:
        m = self._m
        f = self._filter(flt)
        prefetches = [m.Prefetch(query=dense, using=DENSE, limit=prefetch, filter=f)]
        if sparse.indices:
            sparse_query = m.SparseVector(indices=sparse.indices, values=sparse.values)
            prefetches.append(m.Prefetch(query=sparse_query, using=SPARSE, limit=prefetch, filter=f))
        weights = [self.fusion.dense_weight, self.fusion.sparse_weight][: len(prefetches)]
        result = self.client.query_points(
            self.collection,
            prefetch=prefetches,
            query=m.RrfQuery(rrf=m.Rrf(k=self.fusion.k, weights=weights)),
            query_filter=f,
            limit=limit,
            with_payload=True,
        )
        return [Hit(str(p.id), float(p.score), dict(p.payload or {})) for p in result.points]

    def dense_search(self, dense: list[float], flt: Filter | None, limit: int) -> list[Hit]:
        result = self.client.query_points(
            self.collection, query=dense, using=DENSE, query_filter=self._filter(flt), limit=limit, with_payload=True
        )
        return [Hit(str(p.id), float(p.score), dict(p.payload or {})) for p in result.points]

    def compact(self) -> None:
        """Make deletions physical in qdrant-client's local mode (a folder path instead of a URL).

        Local mode keeps each collection's points pickled in ``collection/<name>/storage.sqlite`` and deletes a
        point with a ``DELETE``, which leaves its bytes in SQLite's free pages until a ``VACUUM``. A Qdrant server
        vacuums its own segments (its optimizer); nothing to do from here.
        """
        local = getattr(self.client, "_client", None)
        collection = getattr(local, "collections", {}).get(self.collection)
        persistence = getattr(collection, "storage", None)
        connection = getattr(persistence, "storage", None)
        if connection is not None:
            connection.execute("VACUUM")

    def close(self) -> None:
        self.client.close()


def open_store(settings: Any, dim: int, fusion: FusionConfig | None = None) -> VectorStore:
    """The store the settings name: a Qdrant server when ``qdrant_url`` is set, else the embedded engine."""
    if settings.qdrant_url:
        from qdrant_client import QdrantClient

        key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
        return ClientStore(
            QdrantClient(url=settings.qdrant_url, api_key=key, timeout=30),
            settings.qdrant_collection,
            dim,
            fusion,
            shards=settings.qdrant_shards,
            replication_factor=settings.qdrant_replication_factor,
            write_consistency=settings.qdrant_write_consistency,
        )
    return EdgeStore(settings.vector_dir / settings.qdrant_collection, dim, fusion)
