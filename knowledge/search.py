"""Hybrid search over the knowledge base, with access and level filters built from who asks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from knowledge.embedder import Embedder
from knowledge.store import Filter, Match, MatchAny, VectorStore
from knowledge.text import SparseEncoder, normalize_query


@dataclass(frozen=True)
class SearchScope:
    """What a search may return: built from the authenticated user, never from the question.

    ``user_id``/``class_ids`` add the user's own and their classes' documents to the public ones; ``None`` for
    ``user_id`` with ``unrestricted=True`` is an administrator or a script that sees everything.
    """

    levels: tuple[str, ...] = ()
    user_id: str | None = None
    class_ids: tuple[str, ...] = ()
    unrestricted: bool = False
    content_types: tuple[str, ...] = ()
    exclude_content_types: tuple[str, ...] = ()
    exclude_doc_ids: tuple[str, ...] = ()
    hidden_answer_docs: tuple[str, ...] = ()
    doc_ids: tuple[str, ...] = ()
    courses: tuple[str, ...] = ()

    def to_filter(self) -> Filter:
        must: list[Any] = [Match("state", "live")]
        must_not: list[Any] = []
        if not self.unrestricted:
            access: list[Any] = [Match("visibility", "public")]
            if self.class_ids:
                access.append(Filter(must=(Match("visibility", "class"), MatchAny("class_ids", self.class_ids))))
            if self.user_id:
                access.append(Match("owner_id", self.user_id))
            must.append(Filter(should=tuple(access)))
        if self.levels:
            must.append(MatchAny("level", self.levels))
        if self.content_types:
            must.append(MatchAny("content_type", self.content_types))
        if self.doc_ids:
            must.append(MatchAny("doc_id", self.doc_ids))
        if self.courses:
            must.append(MatchAny("course", self.courses))
        if self.exclude_content_types:
            must_not.append(MatchAny("content_type", self.exclude_content_types))
        if self.exclude_doc_ids:
            must_not.append(MatchAny("doc_id", self.exclude_doc_ids))
        if self.hidden_answer_docs:  # answer keys of assessments still open to the asker
            must_not.append(
                Filter(must=(MatchAny("doc_id", self.hidden_answer_docs), Match("content_type", "corrige")))
            )
        return Filter(must=tuple(must), must_not=tuple(must_not))


@dataclass
class SearchHit:
    """A retrieved chunk with what a citation needs."""

    id: str
    score: float
    doc_id: str
    source: str
    title: str
    section_path: list[str]
    page: int | None
    text: str
    payload: dict[str, Any] = field(default_factory=dict)

    def location(self) -> str | None:
        """Where the passage is, said to a person: "page 3", "diapositive 2", "cellule 5", OCR said as such."""
        if self.page is None:
            return None
        where = f"{self.payload.get('page_unit') or 'page'} {self.page}"
        return where + (", texte reconnu par OCR" if self.payload.get("ocr") else "")

    def to_json(self) -> dict[str, Any]:
        return {
            "doc_id": self.doc_id,
            "source": self.source,
            "title": self.title,
            "section_path": self.section_path,
            "page": self.page,
            "score": round(self.score, 6),
            "text": self.text,
        }


class KnowledgeBase:
    """Dense + sparse hybrid search fused by RRF, over one vector store.

    Args:
        store: the vector store.
        embedder: the dense model the store was filled with.
        sparse: the sparse encoder the store was filled with.

    Example:
        >>> kb = KnowledgeBase(store, embedder, SparseEncoder())
        >>> hits = kb.search("c'est quoi une pile ?", k=5, scope=SearchScope(levels=("terminale",)))
    """

    def __init__(self, store: VectorStore, embedder: Embedder, sparse: SparseEncoder | None = None) -> None:
        self.store = store
        self.embedder = embedder
        self.sparse = sparse or SparseEncoder()

    def search(
        self, query: str, k: int = 5, scope: SearchScope | None = None, prefetch: int | None = None
    ) -> list[SearchHit]:
        """The ``k`` best live chunks for ``query`` within ``scope``."""
        if k < 1:
            raise ValueError(f"k must be >= 1. Currently, k is {k}")
        if not query.strip():
            return []
        dense = self.embedder.embed_query(normalize_query(query))
        return self.search_vectors(query, dense, k, scope, prefetch)

    def search_vectors(
        self, query: str, dense: list[float], k: int, scope: SearchScope | None = None, prefetch: int | None = None
    ) -> list[SearchHit]:
        """Like :meth:`search` with the query already embedded (the tutor embeds once, searches several ways)."""
        scope = scope or SearchScope(unrestricted=True)
        limit = k + 8  # room to drop an old version still live for a few milliseconds during a swap
        hits = self.store.hybrid_search(
            dense, self.sparse.encode_query(query), scope.to_filter(), limit, prefetch or max(50, 4 * k)
        )
        return latest_versions([to_search_hit(h.id, h.score, h.payload) for h in hits])[:k]


def to_search_hit(point_id: str, score: float, payload: dict[str, Any]) -> SearchHit:
    return SearchHit(
        id=point_id,
        score=score,
        doc_id=str(payload.get("doc_id", "")),
        source=str(payload.get("source", "")),
        title=str(payload.get("title", "")),
        section_path=list(payload.get("section_path") or []),
        page=payload.get("page"),
        text=str(payload.get("text", "")),
        payload=payload,
    )


def latest_versions(hits: Sequence[SearchHit]) -> list[SearchHit]:
    """Drop hits of a document's older version (both are live between a swap's two steps)."""
    newest: dict[str, int] = {}
    for hit in hits:
        version = int(hit.payload.get("doc_version", 0))
        newest[hit.doc_id] = max(version, newest.get(hit.doc_id, version))
    return [h for h in hits if int(h.payload.get("doc_version", 0)) == newest[h.doc_id]]


def merge_chunks(chunks: list[dict[str, Any]], depth: int | None = None) -> tuple[str, list[tuple[int, int]]]:
    """Chunks sorted by offset joined into one text without their overlaps; each chunk's span in it.

    With ``depth`` (the length of the section path asked for), the headings of sub-sections deeper than it are
    written as Markdown headings where a chunk starts a new one, so the text keeps its structure.
    """
    out: list[str] = []
    length = 0
    cursor: int | None = None  # end offset, in the parsed document, of what ``out`` holds last
    spans: list[tuple[int, int]] = []
    path: list[str] | None = None
    for chunk in chunks:
        if depth is not None:
            here = [str(p) for p in chunk.get("section_path") or []]
            if here != path and len(here) > depth:
                heading = "#" * min(2 + len(here) - depth, 6) + " " + " ".join(here[-1].split())
                out.append(("\n\n" if out else "") + heading)
                length += len(out[-1])
                cursor = None
            path = here
        text = str(chunk.get("text", ""))
        start, end = int(chunk.get("start") or 0), int(chunk.get("end") or 0)
        exact = end - start == len(text)
        if cursor is not None and exact and start < cursor:
            overlap = cursor - start
            begin = length - overlap
            if end > cursor:
                tail = text[overlap:]
                out.append(tail)
                length += len(tail)
                cursor = end
            spans.append((begin, begin + len(text)))
            continue
        if out:
            out.append("\n\n")
            length += 2
        spans.append((length, length + len(text)))
        out.append(text)
        length += len(text)
        cursor = end if exact else None
    return "".join(out), spans
