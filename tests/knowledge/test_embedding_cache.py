"""The embedding cache: each distinct passage text embedded once, across files, versions and owners."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from ingest.config import IngestSettings
from ingest.pipeline import DocumentOptions, Ingestor
from knowledge.config import KnowledgeSettings
from knowledge.embedder import HashEmbedder, build_embedder
from knowledge.embedding_cache import CachedEmbedder, EmbeddingCache, model_id
from knowledge.store import EdgeStore
from tests.conftest import CURRICULUM

CHAPTER = CURRICULUM / "terminale" / "structures-de-donnees" / "piles.md"


class CountingEmbedder(HashEmbedder):
    """A HashEmbedder that counts the passages it really embeds."""

    def __init__(self) -> None:
        super().__init__(dim=64)
        self.embedded: list[str] = []

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        self.embedded.extend(texts)
        return super().embed_documents(texts)


@pytest.fixture
def counting() -> CountingEmbedder:
    return CountingEmbedder()


@pytest.fixture
def cached(tmp_path: Path, counting: CountingEmbedder) -> CachedEmbedder:
    return CachedEmbedder(counting, EmbeddingCache(tmp_path / "embeddings.sqlite", counting.dim))


def ingestor_for(tmp_path: Path, embedder: CachedEmbedder) -> Ingestor:
    store = EdgeStore(tmp_path / "shard", embedder.dim)
    return Ingestor(store, embedder, IngestSettings(chunk_tokens=120, chunk_overlap=16, embed_batch=8))


def test_a_text_is_embedded_once_and_served_the_same_vector(cached: CachedEmbedder, counting: CountingEmbedder) -> None:
    first = cached.embed_documents(["une pile", "une file", "une pile"])
    assert counting.embedded == ["une pile", "une file"]  # the duplicate inside the batch too
    again = cached.embed_documents(["une file", "une pile"])
    assert counting.embedded == ["une pile", "une file"]
    assert again[0] == pytest.approx(first[1], abs=1e-6)
    assert again[1] == pytest.approx(first[0], abs=1e-6)
    assert (cached.stats.hits, cached.stats.misses) == (3, 2)


def test_the_key_changes_with_the_model_and_the_text(tmp_path: Path) -> None:
    small, large = HashEmbedder(dim=16), HashEmbedder(dim=32)
    assert model_id(small) != model_id(large)
    a = CachedEmbedder(small, EmbeddingCache(tmp_path / "a.sqlite", 16))
    assert a.key("pile") != a.key("pile ")
    assert a.key("pile") == a.key("pile")
    b = CachedEmbedder(large, EmbeddingCache(tmp_path / "b.sqlite", 32))
    assert a.key("pile") != b.key("pile")
    with pytest.raises(ValueError, match="16-d"):
        CachedEmbedder(large, EmbeddingCache(tmp_path / "a.sqlite", 16))


def test_the_cache_is_bounded_least_recently_used_first(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path / "c.sqlite", 2, max_entries=3)
    cache.put_many([(b"a", [1, 0]), (b"b", [0, 1]), (b"c", [1, 1])])
    assert cache.get_many([b"a"])  # "a" is now the most recently used
    cache.put_many([(b"d", [0, 0])])
    assert len(cache) == 3
    assert set(cache.get_many([b"a", b"b", b"c", b"d"])) == {b"a", b"c", b"d"}
    assert cache.prune({b"a"}) == 2
    assert set(cache.get_many([b"a", b"c", b"d"])) == {b"a"}


def test_a_duplicate_file_costs_no_embedding(
    tmp_path: Path, cached: CachedEmbedder, counting: CountingEmbedder
) -> None:
    ingestor = ingestor_for(tmp_path, cached)
    copy = tmp_path / "copie" / "piles-copie.md"
    copy.parent.mkdir()
    shutil.copy(CHAPTER, copy)
    first = ingestor.ingest_file(CHAPTER, "piles.md")
    embedded = len(counting.embedded)
    # the same bytes as another owner's private upload: another document, no embedding at all
    second = ingestor.ingest_file(copy, "copie/piles-copie.md", DocumentOptions(doc_id="autre", owner_id="prof-2"))
    assert first.status == second.status == "ingested"
    assert first.chunks == second.chunks > 3
    assert len(counting.embedded) == embedded
    ingestor.store.close()


def test_a_one_line_edit_re_embeds_only_the_passages_it_touched(
    tmp_path: Path, cached: CachedEmbedder, counting: CountingEmbedder
) -> None:
    ingestor = ingestor_for(tmp_path, cached)
    edited = tmp_path / "piles.md"
    text = CHAPTER.read_text(encoding="utf-8")
    edited.write_text(text, encoding="utf-8")
    first = ingestor.ingest_file(edited, "piles.md", DocumentOptions(doc_id="piles"))
    before = len(counting.embedded)
    lines = text.splitlines()
    middle = next(i for i in range(len(lines) // 2, len(lines)) if len(lines[i]) > 60 and not lines[i].startswith("#"))
    lines[middle] = lines[middle] + " Une phrase ajoutée par le professeur."
    edited.write_text("\n".join(lines) + "\n", encoding="utf-8")
    second = ingestor.ingest_file(edited, "piles.md", DocumentOptions(doc_id="piles"))
    assert second.status == "ingested"
    assert second.version == (first.version or 0) + 1
    re_embedded = len(counting.embedded) - before
    assert 1 <= re_embedded <= 3, f"{re_embedded} of {second.chunks} passages embedded again"
    ingestor.store.close()


def test_a_crash_mid_ingest_keeps_the_cache_consistent(
    tmp_path: Path, cached: CachedEmbedder, counting: CountingEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingestor = ingestor_for(tmp_path, cached)
    real_upsert, calls = ingestor.store.upsert, []

    def failing_upsert(points: object) -> None:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disque plein")
        real_upsert(points)  # type: ignore[arg-type]

    monkeypatch.setattr(ingestor.store, "upsert", failing_upsert)
    with pytest.raises(RuntimeError):
        ingestor.ingest_file(CHAPTER, "piles.md")
    assert len(counting.embedded) == 16  # two batches of 8 embedded, the second never stored
    monkeypatch.setattr(ingestor.store, "upsert", real_upsert)
    result = ingestor.ingest_file(CHAPTER, "piles.md")
    assert result.status == "ingested"
    assert result.chunks > 16
    # the retry serves both batches from the cache: over the crash and the retry, each passage embedded once
    assert len(counting.embedded) == result.chunks
    texts = counting.embedded[:16]
    assert np.allclose(cached.embed_documents(texts), HashEmbedder(dim=64).embed_documents(texts), atol=1e-6)
    ingestor.store.close()


def test_the_settings_put_the_cache_in_the_data_dir_and_can_turn_it_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import knowledge.embedder as embedder_module

    monkeypatch.setattr(embedder_module, "build_model", lambda settings: HashEmbedder(dim=8))
    on = build_embedder(KnowledgeSettings(data_dir=tmp_path))
    assert isinstance(on, CachedEmbedder)
    assert on.cache.path == tmp_path / "embeddings.sqlite"
    assert not isinstance(build_embedder(KnowledgeSettings(data_dir=tmp_path, embedding_cache=False)), CachedEmbedder)
