"""Idempotent ingestion, safe version swaps, failure injection, deletion, jobs that survive a crash."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ingest.jobs import Job, JobStore, Worker
from ingest.pipeline import DocumentOptions, Ingestor, content_type_for, discover
from knowledge.search import KnowledgeBase, SearchScope
from knowledge.store import ChunkPoint, EdgeStore, Filter, Match

V1 = "# Les piles\n\n## Cours\n\n" + "\n\n".join(f"Paragraphe {i} : une pile est LIFO, version une." for i in range(30))
V2 = "# Les piles\n\n## Cours\n\n" + "\n\n".join(
    f"Paragraphe {i} : une pile est LIFO, version deux." for i in range(30)
)


def texts(kb: KnowledgeBase, query: str = "pile LIFO version", k: int = 50) -> list[str]:
    return [h.text for h in kb.search(query, k, SearchScope(unrestricted=True))]


def test_second_run_skips_and_a_change_replaces(tmp_path: Path, ingestor: Ingestor, edge_store: EdgeStore) -> None:
    path = tmp_path / "piles.md"
    path.write_text(V1)
    first = ingestor.ingest_file(path, "piles.md")
    assert first.status == "ingested"
    assert first.version == 1
    assert first.chunks > 2
    assert ingestor.ingest_file(path, "piles.md").status == "skipped"
    path.write_text(V2)
    second = ingestor.ingest_file(path, "piles.md")
    assert second.status == "ingested"
    assert second.version == 2
    assert second.doc_id == first.doc_id
    assert edge_store.count() == second.chunks  # the old version is gone
    kb = KnowledgeBase(edge_store, ingestor.embedder)
    assert all("version deux" in t for t in texts(kb))


class FailingStore:
    """Wraps a real store and fails the n-th upsert, as a crash or a full disk would."""

    def __init__(self, inner: EdgeStore, fail_at: int) -> None:
        self.inner, self.fail_at, self.calls = inner, fail_at, 0

    def upsert(self, points: list[ChunkPoint]) -> None:
        self.calls += 1
        if self.calls == self.fail_at:
            self.inner.upsert(points[: len(points) // 2])  # half a batch reaches the store, then it fails
            raise OSError("disque plein")
        self.inner.upsert(points)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_failure_mid_upsert_keeps_the_previous_version(
    tmp_path: Path, ingestor: Ingestor, edge_store: EdgeStore
) -> None:
    path = tmp_path / "piles.md"
    path.write_text(V1)
    ok = ingestor.ingest_file(path, "piles.md")
    kb = KnowledgeBase(edge_store, ingestor.embedder)
    before = sorted(texts(kb))
    path.write_text(V2)
    one_per_batch = ingestor.settings.model_copy(update={"embed_batch": 1})
    broken = Ingestor(FailingStore(edge_store, fail_at=2), ingestor.embedder, one_per_batch)  # type: ignore[arg-type]
    with pytest.raises(OSError, match="disque plein"):
        broken.ingest_bytes("piles.md", path.read_bytes(), "piles.md", DocumentOptions())
    # the previous version is whole and alone in the results; the partial new one is invisible
    assert sorted(texts(kb)) == before
    assert edge_store.count(Filter(must=(Match("state", "live"),))) == ok.chunks
    assert edge_store.count(Filter(must=(Match("state", "staged"),))) > 0
    # a retry completes and cleans up the leftovers
    retried = ingestor.ingest_file(path, "piles.md")
    assert retried.status == "ingested"
    assert edge_store.count() == retried.chunks
    assert all("version deux" in t for t in texts(kb))


class CrashAfterSwapStore:
    """Wraps a real store and dies between the swap's two steps: the new version is live, the old one not deleted."""

    def __init__(self, inner: EdgeStore) -> None:
        self.inner = inner

    def delete(self, flt: Filter) -> None:
        if flt.must_not:
            raise KeyboardInterrupt("kill -9")
        self.inner.delete(flt)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_crash_inside_the_swap_is_finished_by_the_next_run(
    tmp_path: Path, ingestor: Ingestor, edge_store: EdgeStore
) -> None:
    path = tmp_path / "piles.md"
    path.write_text(V1)
    ingestor.ingest_file(path, "piles.md")
    path.write_text(V2)
    crashing = Ingestor(CrashAfterSwapStore(edge_store), ingestor.embedder, ingestor.settings)
    with pytest.raises(KeyboardInterrupt):
        crashing.ingest_bytes("piles.md", path.read_bytes(), "piles.md", DocumentOptions())
    live = edge_store.scroll(Filter(must=(Match("state", "live"),)), 1000)
    assert {p["doc_version"] for p in live} == {1, 2}  # the crash's state: two versions live
    again = ingestor.ingest_file(path, "piles.md")
    assert again.status in ("skipped", "ingested")
    # one version left, the new one: nothing duplicated, nothing old searchable
    versions = {p["doc_version"] for p in edge_store.scroll(Filter(must=(Match("doc_id", str(again.doc_id)),)), 1000)}
    assert versions == {2}
    kb = KnowledgeBase(edge_store, ingestor.embedder)
    assert all("version deux" in t for t in texts(kb))


def test_bad_files_fail_alone(tmp_path: Path, ingestor: Ingestor) -> None:
    (tmp_path / "ok.md").write_text(V1)
    (tmp_path / "vide.txt").write_bytes(b"")
    (tmp_path / "faux.pdf").write_text("pas un pdf")
    (tmp_path / ".cache").mkdir()
    (tmp_path / ".cache" / "hidden.md").write_text(V1)
    results = {src: ingestor.ingest_file(p, src) for p, src in discover([tmp_path])}
    assert set(results) == {"ok.md", "vide.txt", "faux.pdf"}
    assert results["ok.md"].status == "ingested"
    assert results["vide.txt"].code == "empty_file"
    assert results["faux.pdf"].code == "type_mismatch"


def test_options_reach_the_payload_and_the_filters(tmp_path: Path, ingestor: Ingestor, edge_store: EdgeStore) -> None:
    path = tmp_path / "cours.md"
    path.write_text(
        "# Arbres\n\n## Exercices\n\n### Exercice 1\n\nCalculer la hauteur.\n\n## Corrigés\n\n"
        "### Corrigé de l'exercice 1\n\nLa hauteur vaut 3.\n"
    )
    options = DocumentOptions(levels=("terminale",), visibility="class", owner_id="t1", class_ids=("c1",))
    result = ingestor.ingest_file(path, "cours.md", options)
    payloads = list(edge_store.scroll())
    assert {p["content_type"] for p in payloads} == {"exercice", "corrige"}
    assert all(p["class_ids"] == ["c1"] and p["level"] == ["terminale"] for p in payloads)
    kb = KnowledgeBase(edge_store, ingestor.embedder)
    assert kb.search("hauteur", 5, SearchScope(class_ids=("c1",)))
    assert not kb.search("hauteur", 5, SearchScope(class_ids=("c2",)))
    assert ingestor.delete(result.doc_id or "") == len(payloads)
    assert edge_store.count() == 0


def test_invalid_options_are_refused() -> None:
    with pytest.raises(ValueError, match="class id"):
        DocumentOptions(visibility="class")
    with pytest.raises(ValueError, match="levels"):
        DocumentOptions(levels=("seconde",))


def test_content_type_from_headings() -> None:
    assert content_type_for(["Corrigés", "Corrigé de l'exercice 1"]) == "corrige"
    assert content_type_for(["Exercices", "Exercice 2 (★★)"]) == "exercice"
    assert content_type_for(["Cours", "Exemple : une pile"]) == "exemple"
    assert content_type_for(["Cours", "Définition"]) == "cours"


def test_jobs_survive_a_crash_and_can_be_retried(tmp_path: Path, ingestor: Ingestor) -> None:
    store = JobStore(tmp_path / "jobs.sqlite")
    (tmp_path / "a.md").write_text(V1)
    job = store.enqueue({"path": str(tmp_path / "a.md"), "source": "a.md"})
    bad = store.enqueue({"path": str(tmp_path / "absent.md"), "source": "absent.md"})
    claimed = store.claim()  # a worker takes a job, then the process dies
    assert claimed is not None
    assert claimed.id == job.id
    assert claimed.status == "running"
    reopened = JobStore(tmp_path / "jobs.sqlite")
    assert reopened.requeue_interrupted() == 1

    def handler(job: Job, progress: Any) -> dict[str, Any]:
        return ingestor.ingest_file(Path(job.params["path"]), job.params["source"], progress=progress).__dict__

    done = {j.id: j for j in Worker(reopened, handler).drain()}
    assert done[job.id].status == "succeeded"
    assert done[job.id].attempts == 2
    assert done[job.id].progress == done[job.id].total > 0
    assert done[bad.id].status == "failed"
    assert "Lecture impossible" in (done[bad.id].error or "")
    assert reopened.retry(bad.id)
    assert reopened.get(bad.id).status == "queued"
    assert not reopened.retry(job.id)  # only failed jobs are retried


def test_a_collection_replaces_the_copy_ingested_before_collections(
    tmp_path: Path, ingestor: Ingestor, edge_store: EdgeStore
) -> None:
    path = tmp_path / "cours.md"
    path.write_text(V1)
    legacy = ingestor.ingest_file(path, "cours.md")  # how `nexus ingest` identified it before collections
    kept = ingestor.ingest_file(path, "autre.md")
    current = ingestor.ingest_file(path, "cours.md", DocumentOptions(collection="cours-nsi-1234abcd"))
    assert current.status == "ingested"
    assert current.doc_id != legacy.doc_id
    assert ingestor.live_version(str(legacy.doc_id)) is None  # no duplicate left behind
    assert edge_store.count() == current.chunks + kept.chunks
    again = ingestor.ingest_file(path, "cours.md", DocumentOptions(collection="cours-nsi-1234abcd"))
    assert again.status == "skipped"
