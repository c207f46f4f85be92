"""The ingestion pipeline: parse, chunk, embed, upsert as a staged version, swap it live, drop the old one.

The swap keeps every document searchable: a new version is written with ``state=staged`` (invisible), turned
``live`` in one filtered update, and only then are older versions deleted. A failure at any point leaves the
previous version live and complete; leftovers of a failed attempt are removed by the next one.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ingest.chunker import Chunk, Chunker
from ingest.classify import content_type
from ingest.config import IngestSettings
from ingest.errors import IngestError
from ingest.isolation import DEFAULT_TARGET, POOL, limits_from
from ingest.parsers import SUPPORTED, ParsedDocument
from knowledge.embedder import Embedder
from knowledge.store import ChunkPoint, Filter, Match, VectorStore
from knowledge.text import SparseEncoder, fold

LEVELS = ("premiere", "terminale")
Visibility = Literal["public", "class", "private"]
POINT_NAMESPACE = uuid.UUID("6f1c1f5e-8a44-4c0e-9d0b-0c3a7d1e2b55")
PIPELINE_VERSION = "2"  # bump when parsing or chunking changes what a file becomes


@dataclass(frozen=True)
class DocumentOptions:
    """Who owns a document and who may read it; empty ``levels`` means the front matter's, else both."""

    levels: tuple[str, ...] = ()
    visibility: Visibility = "public"
    owner_id: str | None = None
    class_ids: tuple[str, ...] = ()
    course: str | None = None
    doc_id: str | None = None
    collection: str | None = None  # what a folder given to ``nexus ingest`` is named, part of the derived id

    @classmethod
    def from_params(cls, params: dict[str, Any], default_visibility: Visibility = "public") -> DocumentOptions:
        """The options stored in an ingestion job's parameters."""
        return cls(
            levels=tuple(params.get("levels") or ()),
            visibility=params.get("visibility", default_visibility),
            owner_id=params.get("owner_id"),
            class_ids=tuple(params.get("class_ids") or ()),
            course=params.get("course"),
            doc_id=params.get("doc_id"),
            collection=params.get("collection"),
        )

    def __post_init__(self) -> None:
        bad = [lv for lv in self.levels if lv not in LEVELS]
        if bad:
            raise ValueError(f"levels must be among {LEVELS}. Currently, levels is {self.levels}")
        if self.visibility == "class" and not self.class_ids:
            raise ValueError("visibility 'class' needs at least one class id")
        if self.visibility == "private" and not self.owner_id:
            raise ValueError("visibility 'private' needs an owner id")


@dataclass
class IngestResult:
    """What happened to one file."""

    source: str
    status: Literal["ingested", "skipped", "failed"]
    doc_id: str | None = None
    version: int | None = None
    chunks: int = 0
    reason: str | None = None
    code: str | None = None
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)


ProgressCallback = Callable[[int, int], None]


def content_type_for(section_path: Sequence[str], filename: str | None = None) -> str:
    """cours, exemple, exercice or corrige, from the headings and labels above a chunk and its file's name."""
    return content_type(section_path, filename)


def embedding_text(title: str, section_path: Sequence[str], text: str) -> str:
    """What is embedded: the chunk with its title and headings, so a passage carries its context."""
    heading = " > ".join([title, *section_path])
    return f"{heading}\n\n{text}"


class Ingestor:
    """Ingest files into a vector store, idempotently.

    Args:
        store: the vector store.
        embedder: the dense model.
        settings: limits and chunking.
        sparse: the French sparse encoder.

    Example:
        >>> ingestor = Ingestor(store, embedder, IngestSettings())
        >>> ingestor.ingest_file(Path("cours/piles.md"), "piles.md").status
        'ingested'
    """

    def __init__(
        self,
        store: VectorStore,
        embedder: Embedder,
        settings: IngestSettings | None = None,
        sparse: SparseEncoder | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.settings = settings or IngestSettings()
        self.sparse = sparse or SparseEncoder()
        budget = min(self.settings.chunk_tokens, embedder.max_tokens - 64)
        self.chunker = Chunker(embedder.count_tokens, budget, min(self.settings.chunk_overlap, budget // 2 - 1))
        self.parse_target = DEFAULT_TARGET  # "module:function" run in the parsing child (tests swap it)

    def fingerprint(self, data: bytes, options: DocumentOptions) -> str:
        """Changes whenever the file, its options, the model or the chunking change."""
        h = hashlib.sha256(data)
        h.update(
            json.dumps(
                [
                    options.levels,
                    options.visibility,
                    options.owner_id,
                    sorted(options.class_ids),
                    options.course,
                    self.embedder.name,
                    self.chunker.max_tokens,
                    self.chunker.overlap_tokens,
                    PIPELINE_VERSION,
                ]
            ).encode()
        )
        return h.hexdigest()

    def live_version(self, doc_id: str) -> dict[str, Any] | None:
        """Payload of one live chunk of the document, or None."""
        return next(iter(self.store.scroll(Filter(must=(Match("doc_id", doc_id), Match("state", "live"))), 1)), None)

    def ingest_file(
        self, path: Path, source: str, options: DocumentOptions | None = None, progress: ProgressCallback | None = None
    ) -> IngestResult:
        """Ingest one file; never raises for a bad file, the result says why it failed."""
        started = time.perf_counter()
        options = options or DocumentOptions()
        try:
            data = path.read_bytes()
            result = self.ingest_bytes(path.name, data, source, options, progress)
        except IngestError as exc:
            result = IngestResult(source, "failed", options.doc_id, reason=exc.reason, code=exc.code)
        except OSError as exc:
            result = IngestResult(
                source, "failed", options.doc_id, reason=f"Lecture impossible : {exc.strerror}", code="unreadable"
            )
        result.seconds = time.perf_counter() - started
        return result

    def ingest_bytes(
        self,
        filename: str,
        data: bytes,
        source: str,
        options: DocumentOptions,
        progress: ProgressCallback | None = None,
    ) -> IngestResult:
        """Ingest a file's bytes; raises :class:`IngestError` for an unusable file."""
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        # in a child process with a time and memory budget: a hostile file fails alone, the service goes on
        doc = POOL.parse(Path(filename), data, limits_from(self.settings), self.parse_target)
        timings["parse"] = time.perf_counter() - t0
        chapter_id = curriculum_id(doc, Path(filename).stem)
        doc_id = options.doc_id or chapter_id or derive_doc_id(source, options.owner_id, options.collection)
        fingerprint = self.fingerprint(data, options)
        live = self.live_version(doc_id)
        if live and live.get("content_hash") == fingerprint:
            version = int(live.get("doc_version", 0))
            # A crash between the swap's two steps leaves an older version live beside this one: finish the swap.
            others = Filter(must=(Match("doc_id", doc_id),), must_not=(Match("doc_version", version),))
            if self.store.count(others):
                self.store.delete(others)
            return IngestResult(source, "skipped", doc_id, version, timings=timings)
        t0 = time.perf_counter()
        chunks = self.chunker.chunk(doc)
        timings["chunk"] = time.perf_counter() - t0
        if not chunks:
            raise IngestError("Aucun passage exploitable n'a été trouvé dans le fichier.", "no_chunks")
        # A failed earlier attempt may have left staged points: they are never visible, drop them now.
        self.store.delete(Filter(must=(Match("doc_id", doc_id), Match("state", "staged"))))
        version = int(live.get("doc_version", 0)) + 1 if live else 1
        base = self._base_payload(doc, doc_id, version, source, fingerprint, options, chapter_id is not None)
        timings["embed"] = timings["upsert"] = 0.0
        batch = self.settings.embed_batch
        for offset in range(0, len(chunks), batch):
            part = chunks[offset : offset + batch]
            t0 = time.perf_counter()
            texts = [embedding_text(doc.title, c.section_path, c.text) for c in part]
            dense = self.embedder.embed_documents(texts)
            sparse = [self.sparse.encode_document(t) for t in texts]
            timings["embed"] += time.perf_counter() - t0
            t0 = time.perf_counter()
            self.store.upsert(
                [
                    ChunkPoint(point_id(doc_id, version, c.index), d, s, self._payload(base, c, source, doc.ocr_pages))
                    for c, d, s in zip(part, dense, sparse, strict=True)
                ]
            )
            timings["upsert"] += time.perf_counter() - t0
            if progress:
                progress(min(offset + batch, len(chunks)), len(chunks))
        t0 = time.perf_counter()
        this_version = (Match("doc_id", doc_id), Match("doc_version", version))
        self.store.set_payload(Filter(must=this_version), {"state": "live"})
        self.store.delete(Filter(must=(Match("doc_id", doc_id),), must_not=(Match("doc_version", version),)))
        timings["swap"] = time.perf_counter() - t0
        if options.collection and not options.doc_id and chapter_id is None:
            self._drop_legacy(source, options.owner_id)
        return IngestResult(source, "ingested", doc_id, version, len(chunks), timings=timings)

    def _drop_legacy(self, source: str, owner_id: str | None) -> None:
        """Remove the copy a CLI run made before collections existed (its id had no collection), now replaced."""
        legacy = derive_doc_id(source, owner_id)
        old = self.live_version(legacy)
        if old and old.get("collection") is None and old.get("source") == source:
            self.delete(legacy)

    def _base_payload(
        self,
        doc: ParsedDocument,
        doc_id: str,
        version: int,
        source: str,
        fingerprint: str,
        options: DocumentOptions,
        is_curriculum: bool,
    ) -> dict[str, Any]:
        meta = doc.metadata
        levels = list(options.levels) or ([meta["level"]] if meta.get("level") in LEVELS else list(LEVELS))
        return {
            "doc_id": doc_id,
            "doc_version": version,
            "source": source,
            "source_kind": "curriculum" if is_curriculum else "upload",
            "title": doc.title,
            "level": levels,
            "course": options.course or (f"{meta['level']}/{meta['theme']}" if is_curriculum else None),
            "chapter": doc_id,
            "programme_items": [str(i) for i in meta.get("programme_items") or []],
            "visibility": options.visibility,
            "owner_id": options.owner_id,
            "class_ids": list(options.class_ids),
            "collection": options.collection,
            "page_unit": doc.page_unit,
            "content_hash": fingerprint,
            "state": "staged",
        }

    @staticmethod
    def _payload(base: dict[str, Any], chunk: Chunk, source: str, ocr_pages: Sequence[int] = ()) -> dict[str, Any]:
        return {
            **base,
            "chunk_index": chunk.index,
            "text": chunk.text,
            "section_path": list(chunk.section_path),
            "page": chunk.page,
            "start": chunk.start,
            "end": chunk.end,
            "content_type": content_type_for(chunk.section_path, source),
            "ocr": chunk.page is not None and chunk.page in ocr_pages,  # text recognised from a scanned page
        }

    def delete(self, doc_id: str) -> int:
        """Remove every point of a document, and its passages' cached vectors; returns how many there were."""
        flt = Filter(must=(Match("doc_id", doc_id),))
        count = self.store.count(flt)
        forget = getattr(self.embedder, "forget", None)  # a CachedEmbedder (also behind the API's lock)
        if count and forget is not None:
            forget(
                [
                    embedding_text(p.get("title", ""), p.get("section_path") or [], p.get("text", ""))
                    for p in self.store.scroll(flt)
                ]
            )
        self.store.delete(flt)
        return count


def curriculum_id(doc: ParsedDocument, stem: str) -> str | None:
    """A curriculum chapter's id (``level/theme/file-stem``) when the front matter says it is one.

    It does not depend on the folder given to ``nexus ingest``, so a chapter is one document however it is reached.
    """
    meta = doc.metadata
    if meta.get("level") in LEVELS and meta.get("theme") and "programme_items" in meta:
        return f"{meta['level']}/{meta['theme']}/{stem}"
    return None


def derive_doc_id(source: str, owner_id: str | None, collection: str | None = None) -> str:
    """A stable id from the owner, the collection and the source path, so re-ingesting the same file updates it.

    Without a collection the id is the one uploads always had; with one, two folders holding the same relative
    paths are distinct documents.
    """
    key = f"{owner_id or 'public'}:{source}" if collection is None else f"{owner_id or 'public'}:{collection}:{source}"
    return uuid.uuid5(POINT_NAMESPACE, key).hex[:16]


def default_collection(root: Path) -> str:
    """A folder's collection when ``--collection`` is not given: its name and a short hash of its absolute path.

    Stable across runs from any working directory, distinct for two folders of the same name. A file given
    directly belongs to its folder's collection.
    """
    folder = root.resolve() if root.is_dir() else root.resolve().parent
    name = re.sub(r"[^a-z0-9]+", "-", fold(folder.name)).strip("-") or "racine"
    return f"{name}-{hashlib.sha256(str(folder).encode()).hexdigest()[:8]}"


def point_id(doc_id: str, version: int, index: int) -> str:
    """Point ids derive from document, version and chunk index: re-running an upsert overwrites, never doubles."""
    return str(uuid.uuid5(POINT_NAMESPACE, f"{doc_id}:{version}:{index}"))


def discover(paths: Iterable[Path]) -> list[tuple[Path, str]]:
    """Files to ingest under the given files and folders (recursive), each with its source path.

    A file given directly keeps its name; a file found in a folder keeps its path relative to that folder.
    """
    found: list[tuple[Path, str]] = []
    for root in paths:
        if root.is_dir():
            for path in sorted(root.rglob("*")):
                if path.is_file() and path.suffix.lower() in SUPPORTED and not _hidden(path.relative_to(root)):
                    found.append((path, path.relative_to(root).as_posix()))
        else:
            found.append((root, root.name))
    return found


def _hidden(rel: Path) -> bool:
    return any(part.startswith(".") for part in rel.parts)
