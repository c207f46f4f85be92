"""Performance benchmarks for ingestion and search; figures are printed and written under ``evals/results/``."""

from __future__ import annotations

import json
import platform
import random
import re
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from ingest.config import IngestSettings
from ingest.parsers import parse_bytes
from ingest.pipeline import Ingestor, discover, embedding_text
from knowledge.config import KnowledgeSettings
from knowledge.embedder import Embedder, build_embedder
from knowledge.search import KnowledgeBase, SearchScope
from knowledge.store import ChunkPoint, EdgeStore
from knowledge.text import SparseEncoder

BENCH_QUERIES = [
    "c'est quoi une pile ?",
    "comment convertir un nombre en binaire",
    "pourquoi 0.1 + 0.2 ne fait pas 0.3",
    "explique le tri par insertion",
    "c koi un arbre binaire de recherche",
    "différence entre GET et POST",
    "comment marche le protocole RIP",
    "à quoi sert une clé étrangère",
    "c'est quoi la récursivité",
    "comment on parcourt un graphe en largeur",
    "qu'est-ce que le complément à deux",
    "algorithme glouton rendu monnaie",
]


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation."""
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo, hi = int(pos), min(int(pos) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def _write(out: Path, name: str, report: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    report["machine"] = {"python": platform.python_version(), "cpu": platform.processor() or platform.machine()}
    report["date"] = datetime.now(UTC).isoformat(timespec="seconds")
    (out / f"bench-{name}.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))


def bench_ingest(corpus: list[Path], out: Path, console: Console, embedder: Embedder | None = None) -> dict[str, Any]:
    """Parse pages/s, embed chunks/s and end-to-end ingest chunks/s into a temporary embedded store."""
    settings = IngestSettings()
    files = discover(corpus)
    console.print(f"{len(files)} fichiers à analyser puis ingérer…")
    embedder = embedder or build_embedder(KnowledgeSettings())
    # parse only
    pages = 0
    t0 = time.perf_counter()
    for path, _ in files:
        doc = parse_bytes(path, path.read_bytes(), settings.max_bytes)
        pages += doc.pages or 1
    parse_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        store = EdgeStore(Path(tmp) / "bench", embedder.dim)
        ingestor = Ingestor(store, embedder, settings)
        t0 = time.perf_counter()
        results = [ingestor.ingest_file(path, source) for path, source in files]
        total_s = time.perf_counter() - t0
        store.close()
    chunks = sum(r.chunks for r in results)
    embed_s = sum(r.timings.get("embed", 0.0) for r in results)
    report = {
        "embedder": embedder.name,
        "files": len(files),
        "failed": sum(r.status == "failed" for r in results),
        "pages_or_files_parsed": pages,
        "parse_pages_per_s": round(pages / parse_s, 1),
        "chunks": chunks,
        "embed_chunks_per_s": round(chunks / embed_s, 1) if embed_s else None,
        "end_to_end_chunks_per_s": round(chunks / total_s, 1),
        "end_to_end_seconds": round(total_s, 1),
        "share_of_time_embedding": round(embed_s / total_s, 3),
    }
    _write(out, "ingest", report)
    return report


def bench_search(sizes: list[int], n_queries: int, out: Path, console: Console) -> dict[str, Any]:
    """Hybrid search p50/p95 (query embedding included) at each collection size, with and without filters.

    The collection is filled with the curriculum's real chunks and vectors, repeated with a small random
    perturbation of the dense vector and varied levels/classes/owners to reach each size: embedding 20k distinct
    chunks would take most of an hour on this machine without changing what is measured (search cost).
    """
    embedder = build_embedder(KnowledgeSettings())
    sparse = SparseEncoder()
    files = discover([Path(__file__).resolve().parent.parent / "knowledge" / "curriculum"])
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        seed_store = EdgeStore(Path(tmp) / "seed", embedder.dim)
        ingestor = Ingestor(seed_store, embedder)
        base: list[tuple[str, list[float], dict[str, Any]]] = []
        for path, source in files[: max(1, len(files))]:
            parsed = parse_bytes(path, path.read_bytes())
            for chunk in ingestor.chunker.chunk(parsed):
                base.append(
                    (
                        embedding_text(parsed.title, chunk.section_path, chunk.text),
                        [],
                        {
                            "text": chunk.text,
                            "section_path": list(chunk.section_path),
                            "source": source,
                            "title": parsed.title,
                        },
                    )
                )
        console.print(f"{len(base)} passages réels à vectoriser pour remplir les collections…")
        vectors = embedder.embed_documents([b[0] for b in base])
        sparse_vecs = [sparse.encode_document(b[0]) for b in base]
        seed_store.close()
        report: dict[str, Any] = {"embedder": embedder.name, "queries": n_queries, "sizes": {}}
        for size in sizes:
            store = EdgeStore(Path(tmp) / f"s{size}", embedder.dim)
            points = []
            for i in range(size):
                j = i % len(base)
                dense = vectors[j] if i < len(base) else [v + rng.gauss(0, 0.01) for v in vectors[j]]
                payload = {
                    **base[j][2],
                    "doc_id": f"d{i // 20}",
                    "doc_version": 1,
                    "chunk_index": i % 20,
                    "state": "live",
                    "level": [rng.choice(["premiere", "terminale"])],
                    "visibility": rng.choice(["public", "public", "class", "private"]),
                    "class_ids": [f"c{rng.randrange(50)}"],
                    "owner_id": f"u{rng.randrange(200)}",
                    "content_type": rng.choice(["cours", "cours", "exercice", "corrige"]),
                }
                points.append(ChunkPoint(f"00000000-0000-4000-8000-{i:012d}", dense, sparse_vecs[j], payload))
                if len(points) == 512:
                    store.upsert(points)
                    points = []
            store.upsert(points)
            store.optimize()
            kb = KnowledgeBase(store, embedder, sparse)
            scopes = {
                "no_filter": SearchScope(unrestricted=True),
                "student_filter": SearchScope(
                    levels=("terminale",), user_id="u3", class_ids=("c7",), exclude_content_types=("corrige",)
                ),
            }
            figures: dict[str, Any] = {}
            for name, scope in scopes.items():
                for q in BENCH_QUERIES[:3]:  # warm-up
                    kb.search(q, 5, scope)
                latencies = []
                for i in range(n_queries):
                    q = BENCH_QUERIES[i % len(BENCH_QUERIES)]
                    t0 = time.perf_counter()
                    kb.search(q, 5, scope)
                    latencies.append((time.perf_counter() - t0) * 1000)
                figures[name] = {
                    "p50_ms": round(statistics.median(latencies), 2),
                    "p95_ms": round(percentile(latencies, 95), 2),
                }
            t0 = time.perf_counter()
            for i in range(n_queries):
                embedder.embed_query(BENCH_QUERIES[i % len(BENCH_QUERIES)] + f" {i}")
            figures["query_embedding_mean_ms"] = round((time.perf_counter() - t0) * 1000 / n_queries, 2)
            report["sizes"][str(size)] = figures
            console.print(f"{size} passages : {figures}")
            store.close()
    _write(out, "search", report)
    return report


def bench_chat(
    kb: KnowledgeBase, n_queries: int, openai_url: str | None, openai_model: str, out: Path, console: Console
) -> dict[str, Any]:
    """Per backend: time to the ``sources`` event, to the first token, and the overhead before the LLM call."""
    import asyncio

    from tutor.config import TutorSettings
    from tutor.engine import Tutor
    from tutor.types import DoneEvent, LearnerProfile, SourcesEvent, TokenEvent

    backends = {"extractive": TutorSettings(llm_backend="extractive")}
    if openai_url:
        backends["openai"] = TutorSettings(
            llm_backend="openai", openai_base_url=openai_url, openai_model=openai_model, llm_max_tokens=32
        )
    profile = LearnerProfile(role="student", user_id="bench", level="terminale")
    report: dict[str, Any] = {"queries": n_queries, "embedder": kb.embedder.name, "backends": {}}

    async def one(tutor: Tutor, question: str) -> tuple[float, float, float]:
        t0 = time.perf_counter()
        sources_at = first_at = 0.0
        overhead = 0.0
        async for event in tutor.stream(question, profile):
            if isinstance(event, SourcesEvent):
                sources_at = time.perf_counter() - t0
            elif isinstance(event, TokenEvent) and not first_at:
                first_at = time.perf_counter() - t0
            elif isinstance(event, DoneEvent):
                overhead = float(event.metadata.get("overheadBeforeLlm", 0.0))
        return sources_at, first_at, overhead

    for name, settings in backends.items():
        tutor = Tutor(kb, settings)
        count = n_queries if name == "extractive" else max(5, n_queries // 10)
        asyncio.run(one(tutor, BENCH_QUERIES[0]))  # warm-up
        rows = [asyncio.run(one(tutor, BENCH_QUERIES[i % len(BENCH_QUERIES)])) for i in range(count)]
        figures = {}
        for i, label in enumerate(("sources_event_ms", "first_token_ms", "overhead_before_llm_ms")):
            values = [r[i] * 1000 for r in rows]
            figures[label] = {"p50": round(statistics.median(values), 1), "p95": round(percentile(values, 95), 1)}
        report["backends"][name] = {"queries": count, **figures}
        console.print(f"{name}: {figures}")
    _write(out, "chat", report)
    return report


def _rss_mb(pid: int | str = "self") -> float:
    """Resident memory of a process, in MB (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class _RssSampler:
    """Peak resident memory of this process and of the parsing children while a block runs (every 10 ms)."""

    def __init__(self) -> None:
        import threading

        self.parent = self.children = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        from ingest.isolation import POOL

        while not self._stop.is_set():
            self.parent = max(self.parent, _rss_mb())
            self.children = max(self.children, sum(_rss_mb(pid) for pid in POOL.pids()))
            self._stop.wait(0.01)

    def __enter__(self) -> _RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def bench_bombs(out: Path, console: Console) -> dict[str, Any]:
    """Hostile files through the real pipeline (outcome, seconds, peak RSS of this process and of the parsing
    child), and the scaling of the chunker on one long word and of the HTML parser in nesting depth."""
    from evals.nasty_files import corpus, docx_bomb, nested_html, page, pdf, pdf_flate_bomb
    from ingest.chunker import Chunker
    from ingest.errors import IngestError
    from ingest.parsers import Block, ParsedDocument, parse_html
    from ingest.pipeline import DocumentOptions
    from knowledge.embedder import HashEmbedder

    report: dict[str, Any] = {"chunker_long_word_s": {}, "html_nesting_s": {}, "files": {}}
    token = re.compile(r"\w+|[^\w\s]")  # a tokenizer that reads what it counts, as a real one does
    chunker = Chunker(lambda s: len(token.findall(s)) + 2, max_tokens=300, overlap_tokens=40)
    for size in (50_000, 100_000, 200_000):
        word = "x=1;" * (size // 4)
        doc = ParsedDocument(word, "t", [Block(0, len(word), ())])
        t0 = time.perf_counter()
        chunks = chunker.chunk(doc)
        report["chunker_long_word_s"][size] = {"seconds": round(time.perf_counter() - t0, 3), "chunks": len(chunks)}
    for tag in ("div", "li", "p"):
        for depth in (1000, 2000, 4000, 8000):
            html = nested_html(depth, tag).decode()
            t0 = time.perf_counter()
            parse_html(html, "t")
            report["html_nesting_s"][f"{tag}-{depth}"] = round(time.perf_counter() - t0, 3)
    embedder = HashEmbedder(dim=64)
    with tempfile.TemporaryDirectory() as tmp:
        store = EdgeStore(Path(tmp) / "store", embedder.dim)
        ingestor = Ingestor(store, embedder, IngestSettings())
        ingestor.ingest_bytes("warm.md", b"# Les piles\n\nUne pile.", "warm.md", DocumentOptions())
        report["rss_idle_mb"] = round(_rss_mb(), 1)
        audit_sizes = {  # the files of the audit, at their size
            "pages-20000.pdf": pdf([page([b"Une pile."])] * 20_000),
            "flate-bomb-20x70mb.pdf": pdf_flate_bomb(20, 70_000_000),
            "zip-bomb-200mb.docx": docx_bomb(size=200_000_000),
        }
        for name, data in (corpus() | audit_sizes).items():
            t0 = time.perf_counter()
            with _RssSampler() as rss:
                try:
                    result = ingestor.ingest_bytes(name, data, name, DocumentOptions())
                    outcome: dict[str, Any] = {"status": result.status, "chunks": result.chunks}
                except IngestError as exc:
                    outcome = {"status": "failed", "code": exc.code, "reason": exc.reason}
            outcome |= {
                "seconds": round(time.perf_counter() - t0, 2),
                "bytes": len(data),
                "parent_peak_rss_mb": round(rss.parent, 1),
                "child_peak_rss_mb": round(rss.children, 1),
            }
            report["files"][name.replace("\x00", "\\0")] = outcome
            console.print(name.replace("\x00", "\\0"), outcome)
        report["rss_after_mb"] = round(_rss_mb(), 1)
        store.close()
    _write(out, "bombs", report)
    return report
