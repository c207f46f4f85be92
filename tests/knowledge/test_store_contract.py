"""One contract, two backends: the embedded engine and qdrant-client (local mode speaks the server's API)."""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from qdrant_client import QdrantClient

from knowledge.embedder import HashEmbedder
from knowledge.search import KnowledgeBase, SearchScope
from knowledge.store import ChunkPoint, ClientStore, EdgeStore, Filter, Match, MatchAny, VectorStore
from knowledge.text import SparseEncoder

EMB = HashEmbedder(dim=48)
ENC = SparseEncoder()
CORPUS = [
    (
        "d1",
        "premiere",
        "public",
        [],
        None,
        "cours",
        "Une pile est une structure LIFO : on empile et on dépile au sommet.",
    ),
    ("d1", "premiere", "public", [], None, "exercice", "Écrire une fonction qui inverse une pile."),
    ("d2", "terminale", "public", [], None, "cours", "Une file est une structure FIFO : on enfile en queue."),
    ("d3", "terminale", "class", ["c1"], "t1", "corrige", "Corrigé : la pile vide renvoie une erreur."),
    ("d4", "terminale", "private", [], "u9", "cours", "Notes privées sur les arbres binaires de recherche."),
    ("d5", "premiere", "public", [], None, "cours", "Le tri par insertion insère chaque élément à sa place."),
    ("d6", "terminale", "public", [], None, "cours", "Le routage RIP compte les sauts entre routeurs."),
]


def points() -> list[ChunkPoint]:
    out = []
    for i, (doc, level, vis, classes, owner, ctype, text) in enumerate(CORPUS):
        payload = {
            "doc_id": doc,
            "doc_version": 1,
            "chunk_index": i,
            "state": "live",
            "level": [level],
            "visibility": vis,
            "class_ids": classes,
            "owner_id": owner,
            "content_type": ctype,
            "text": text,
            "source": f"{doc}.md",
            "title": doc,
            "section_path": ["Cours"],
        }
        out.append(
            ChunkPoint(
                str(uuid.uuid5(uuid.NAMESPACE_OID, str(i))), EMB.embed_query(text), ENC.encode_document(text), payload
            )
        )
    return out


@pytest.fixture(params=["edge", "client"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[VectorStore]:
    s: VectorStore
    if request.param == "edge":
        s = EdgeStore(tmp_path / "edge", EMB.dim)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "payload indexes have no effect in local mode"
            s = ClientStore(QdrantClient(path=str(tmp_path / "client")), "chunks", EMB.dim)
    s.upsert(points())
    yield s
    s.close()


def search(store: VectorStore, query: str, scope: SearchScope, k: int = 5) -> list[str]:
    return [h.text for h in KnowledgeBase(store, EMB, ENC).search(query, k, scope)]


def test_counts_and_filters(store: VectorStore) -> None:
    assert store.count() == len(CORPUS)
    assert store.count(Filter(must=(Match("doc_id", "d1"),))) == 2
    assert store.count(Filter(must=(Match("class_ids", "c1"),))) == 1
    assert store.count(Filter(must=(MatchAny("level", ("premiere",)),))) == 3
    assert store.count(Filter(must_not=(MatchAny("content_type", ("corrige", "exercice")),))) == 5


def test_hybrid_search_finds_the_matching_passage(store: VectorStore) -> None:
    assert search(store, "pile LIFO empiler sommet", SearchScope(unrestricted=True), k=1) == [CORPUS[0][6]]


def test_access_scope_public_class_owner(store: VectorStore) -> None:
    anonymous = search(store, "pile arbres", SearchScope(), k=10)
    assert not any("Corrigé" in t or "privées" in t for t in anonymous)
    member = search(store, "pile", SearchScope(class_ids=("c1",)), k=10)
    assert any("Corrigé" in t for t in member)
    assert not any("privées" in t for t in member)
    owner = search(store, "arbres binaires", SearchScope(user_id="u9"), k=10)
    assert any("privées" in t for t in owner)


def test_level_and_content_type_filters(store: VectorStore) -> None:
    hits = search(store, "pile file tri", SearchScope(levels=("premiere",), unrestricted=True), k=10)
    assert hits
    assert all(t in {c[6] for c in CORPUS if c[1] == "premiere"} for t in hits)
    no_keys = search(store, "pile", SearchScope(class_ids=("c1",), exclude_content_types=("corrige",)), k=10)
    assert not any("Corrigé" in t for t in no_keys)


def test_staged_points_are_invisible(store: VectorStore) -> None:
    store.set_payload(Filter(must=(Match("doc_id", "d2"),)), {"state": "staged"})
    assert CORPUS[2][6] not in search(store, "file FIFO", SearchScope(unrestricted=True), k=10)


def test_delete_by_filter_and_scroll(store: VectorStore) -> None:
    store.delete(Filter(must=(Match("doc_id", "d1"),)))
    assert store.count() == len(CORPUS) - 2
    docs = {p["doc_id"] for p in store.scroll()}
    assert docs == {"d2", "d3", "d4", "d5", "d6"}
    assert len(list(store.scroll(limit=2))) == 2


def test_both_backends_return_the_same_ranking(tmp_path: Path) -> None:
    edge = EdgeStore(tmp_path / "e", EMB.dim)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        client = ClientStore(QdrantClient(":memory:"), "c", EMB.dim)
    for s in (edge, client):
        s.upsert(points())
    for query in ("pile LIFO", "structure file", "tri insertion élément", "routeurs sauts"):
        scope = SearchScope(unrestricted=True)
        assert search(edge, query, scope) == search(client, query, scope), query
    edge.close()
    client.close()


def _files_with(root: Path, marker: bytes) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and marker in p.read_bytes())


def test_compaction_removes_deleted_text_from_the_files_and_keeps_the_rest(store: VectorStore, tmp_path: Path) -> None:
    """Deleted payloads stay in the segments and the WAL until ``compact``; after it, search works as before."""
    secret = "Confidentiel zanzibar : les notes d'Élise."
    store.upsert(
        [
            ChunkPoint(
                str(uuid.uuid4()),
                EMB.embed_query(secret),
                ENC.encode_document(secret),
                {**points()[0].payload, "doc_id": "d9", "text": secret},
            )
        ]
    )
    store.delete(Filter(must=(Match("doc_id", "d9"),)))
    if isinstance(store, EdgeStore):  # qdrant_edge keeps it in the segment and the WAL, as the audit found
        assert _files_with(tmp_path, b"zanzibar")
    compact = getattr(store, "compact")  # noqa: B009 - both backends have it; the protocol does not require it
    compact()
    assert _files_with(tmp_path, b"zanzibar") == []
    assert store.count() == len(CORPUS)
    # payload indexes, sparse vectors and filters survive the rewrite
    assert search(store, "pile LIFO empiler sommet", SearchScope(unrestricted=True), k=1) == [CORPUS[0][6]]
    assert store.count(Filter(must=(Match("class_ids", "c1"),))) == 1
    compact()  # nothing deleted since: a no-op


def test_an_interrupted_compaction_keeps_a_whole_shard(tmp_path: Path) -> None:
    edge = EdgeStore(tmp_path / "edge", EMB.dim)
    edge.upsert(points())
    edge.close()
    (tmp_path / "edge").rename(tmp_path / "edge.old")  # a crash between the two renames
    (tmp_path / "edge.compact").mkdir()
    recovered = EdgeStore(tmp_path / "edge", EMB.dim)
    assert recovered.count() == len(CORPUS)
    assert not (tmp_path / "edge.old").exists()
    assert not (tmp_path / "edge.compact").exists()
    recovered.close()
