"""``run_eval``: a gold dataset through ARIA's real pipeline (retrieve, answer, cite, refuse) and through the peer.

Per question: the tutor's retrieval ranked to ``k`` (hit@1/3/5, MRR@10, nDCG@10), then the real answer stream
(citations, keyword recall, ragas, refusal, latency per stage from ``DoneEvent.metadata``); the refusal cases of
``refusals.jsonl`` with the curriculum set; the peer's top ``k`` on the same questions. Aggregates go to the
report by level and theme; see :mod:`evals.report` for the files.
"""

from __future__ import annotations

import asyncio
import platform
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from evals import metrics as m
from evals.cases import UPLOAD_CLASS, EvalCase, ingest_uploads, load_cases, remove_uploads, upload_pages
from evals.gold import load_refusals
from evals.peer import PeerPipeline
from evals.ragas_metrics import RagasScorer
from evals.report import load_thresholds, write_reports
from knowledge.search import KnowledgeBase, SearchHit, merge_chunks
from knowledge.store import Filter, Match
from tutor.config import TutorSettings
from tutor.engine import Tutor
from tutor.retrieval import Retrieved, Retriever
from tutor.types import DoneEvent, ErrorEvent, LearnerProfile, TokenEvent, Turn

RETRIEVAL_KEYS = ("hit@1", "hit@3", "hit@5", "mrr@10", "ndcg@10")
ANSWER_KEYS = ("citations.precision", "citations.recall", "answers.keyword_recall", "answers.readability")
Progress = Callable[[str, int, int], None]
WARM_UP = "c'est quoi une pile ?"


class _CapturingRetriever(Retriever):
    """The tutor's own retriever, keeping what it returned so the eval can read the passages an answer used."""

    last: Retrieved | None = None

    def retrieve(self, *args: Any, **kwargs: Any) -> Retrieved:
        self.last = super().retrieve(*args, **kwargs)
        return self.last


def passage(hit: SearchHit) -> m.Passage:
    return m.Passage(hit.doc_id, hit.source, hit.title, tuple(hit.section_path), hit.page, hit.text)


def profile_for(case: EvalCase, dataset: str) -> LearnerProfile:
    """A student of the question's level; for uploads, a member of the class the teacher shared them with."""
    level = case.level if case.level in ("premiere", "terminale") else None
    classes = (UPLOAD_CLASS,) if dataset != "curriculum" else ()
    return LearnerProfile(role="student", user_id="eval-student", level=level, class_ids=classes)  # type: ignore[arg-type]


def turns(case: EvalCase) -> list[Turn]:
    return [Turn(t["role"], t["content"]) for t in case.history]  # type: ignore[arg-type]


def run_eval(
    kb: KnowledgeBase,
    dataset: str = "curriculum",
    backend: str = "extractive",
    k: int = 10,
    report_dir: Path | None = Path("evals/results"),
    *,
    peer: PeerPipeline | None = None,
    settings: TutorSettings | None = None,
    baseline: Path | None = None,
    limit: int | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Evaluate ``dataset`` (``curriculum``, ``uploads`` or a .jsonl path) and write the reports to ``report_dir``.

    Args:
        kb: the knowledge base, with the curriculum ingested.
        dataset: which gold set.
        backend: ``extractive`` or ``openai``.
        k: depth of the ranking (MRR and nDCG are at 10 whatever ``k``; ``k`` must be at least 10).
        report_dir: where the JSON, Markdown and PNG go (None: write nothing).
        peer: the llama-index peer, compared on the same questions when given.
        settings: tutor settings (default: from the environment), the backend overrides theirs.
        baseline: the committed baseline (default: ``evals/results/baseline.json``).
        limit: evaluate the first ``limit`` questions only (quick runs).
        progress: called with (stage, done, total).
    """
    if k < 10:
        raise ValueError(f"k must be at least 10 (MRR@10, nDCG@10). Currently, k is {k}")
    if backend not in ("extractive", "openai"):
        raise ValueError(f"backend must be extractive or openai. Currently, backend is {backend!r}")
    settings = (settings or TutorSettings()).model_copy(update={"llm_backend": backend})
    cases = load_cases(dataset)[:limit] if limit else load_cases(dataset)
    name = dataset if dataset in ("curriculum", "uploads") else Path(dataset).stem
    started = time.perf_counter()
    pdfs = upload_pages() if name == "uploads" else {}
    upload_ids: list[str] = []
    peer_refs: list[str] = []
    try:
        if pdfs:
            upload_ids = ingest_uploads(kb, pdfs)
            if peer:
                for pdf, (_, pages) in pdfs.items():
                    peer_refs += peer.add_pdf_pages(pdf, pages)
        rows, peer_rows, refusal_rows, ragas_errors, ragas_names = asyncio.run(
            _evaluate(kb, cases, name, settings, k, pdfs, peer, progress)
        )
    finally:
        if upload_ids:
            remove_uploads(kb, upload_ids)
        if peer and peer_refs:
            peer.remove(peer_refs)
    report = summarize(name, rows, refusal_rows, peer_rows, ragas_names)
    report.update(
        {
            "backend": backend,
            "model": next((r["model"] for r in rows if not r["refused"]), None),
            "k": k,
            "embedder": kb.embedder.name,
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": {"python": platform.python_version(), "cpu": platform.processor() or platform.machine()},
            "seconds": round(time.perf_counter() - started, 1),
            "ragas_judge_errors": ragas_errors,
        }
    )
    limits = load_thresholds()
    report["thresholds"] = limits.get(name, {})
    report["targets"] = limits.get("targets", {}).get(name, {})
    if peer:
        report["peer"]["pipeline"] = {
            "what": "llama-index VectorStoreIndex + QdrantVectorStore (qdrant-client local), SentenceSplitter "
            "defaults (1024/200), same embedding model, dense only",
            "nodes": peer.nodes,
            "build_seconds": round(peer.build_seconds, 1),
            "reused": peer.reused,
        }
    if report_dir is not None:
        write_reports(report, report_dir, baseline)
    return report


async def _evaluate(
    kb: KnowledgeBase,
    cases: Sequence[EvalCase],
    dataset: str,
    settings: TutorSettings,
    k: int,
    pdfs: dict[str, tuple[bytes, list[str]]],
    peer: PeerPipeline | None,
    progress: Progress | None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]] | None, list[dict[str, Any]], int, tuple[str, ...]]:
    ranker = Retriever(kb, settings.model_copy(update={"retrieval_k": k, "context_tokens": 1_000_000}))
    tutor = Tutor(kb, settings)
    capture = _CapturingRetriever(kb, settings)
    tutor.retriever = capture
    scorer = RagasScorer(settings, kb.embedder)
    references = _References(kb, pdfs)
    # warm-up: the first retrieval reads the corpus' term statistics, the first search loads the segments
    warm = LearnerProfile(role="student", level="terminale")
    ranker.retrieve(WARM_UP, warm)
    await _answer(tutor, WARM_UP, warm, [])
    if peer:
        peer.retrieve(WARM_UP, k)
    rows = []
    peer_rows: list[dict[str, Any]] | None = [] if peer else None
    for i, case in enumerate(cases):
        profile = profile_for(case, dataset)
        history = turns(case)
        t0 = time.perf_counter()
        ranked = [passage(h) for h in ranker.retrieve(case.question, profile, history).hits]
        retrieval_s = time.perf_counter() - t0
        rank = m.first_gold_rank(ranked, case.gold)
        row: dict[str, Any] = {
            "id": case.id,
            "question": case.question,
            "level": case.level or "-",
            "theme": case.theme,
            "follow_up": bool(case.history),
            "gold": case.gold,
            "rank": rank,
            **m.rank_metrics(rank, m.ndcg(ranked, case.gold, 10)),
            "retrieved": [p.label() for p in ranked[:5]],
            "latency.retrieval": retrieval_s,
        }
        capture.last = None
        done, first_token_s = await _answer(tutor, case.question, profile, history)
        used: list[m.Passage] = [passage(h) for h in capture.last.hits] if capture.last else []
        row.update(_answer_row(done, first_token_s, used, case))
        if not done.refused:
            contexts = [p.text for p in used]
            row.update(
                {
                    f"ragas.{key}": value
                    for key, value in (
                        await scorer.score(
                            case.question, done.response, case.answer, contexts, references.of(case.gold)
                        )
                    ).items()
                }
            )
        rows.append(row)
        if peer and peer_rows is not None:  # right after ours: both see the same machine load
            peer_rows.append(_peer_row(peer, case, k))
        if progress:
            progress("questions", i + 1, len(cases))
    refusal_rows = []
    if dataset == "curriculum":
        cases_r = load_refusals()
        for i, case_r in enumerate(cases_r):
            level = case_r.get("level") if case_r.get("level") in ("premiere", "terminale") else None
            done, _ = await _answer(tutor, case_r["question"], LearnerProfile(role="student", level=level), [])
            refusal_rows.append(
                {
                    "id": case_r["id"],
                    "question": case_r["question"],
                    "category": case_r["category"],
                    "expected": case_r["expected"],
                    "refused": done.refused,
                }
            )
            if progress:
                progress("refusals", i + 1, len(cases_r))
    return rows, peer_rows, refusal_rows, scorer.errors, scorer.names


async def _answer(
    tutor: Tutor, question: str, profile: LearnerProfile, history: Sequence[Turn]
) -> tuple[DoneEvent, float | None]:
    """The final event of the real stream, and the time to the first token as this caller sees it."""
    t0 = time.perf_counter()
    first: float | None = None
    async for event in tutor.stream(question, profile, history):
        if isinstance(event, TokenEvent) and first is None:
            first = time.perf_counter() - t0
        elif isinstance(event, DoneEvent):
            return event, first
        elif isinstance(event, ErrorEvent):
            raise RuntimeError(f"{event.code}: {event.message} (question: {question!r})")
    raise RuntimeError(f"the stream ended without a final event (question: {question!r})")


def _answer_row(done: DoneEvent, first_token_s: float | None, used: list[m.Passage], case: EvalCase) -> dict[str, Any]:
    meta = done.metadata
    row: dict[str, Any] = {"refused": done.refused, "confidence": done.confidence, "model": meta.get("model")}
    if done.refused:
        return row | {
            "citations.precision": None,
            "citations.recall": 0.0,
            "answers.keyword_recall": 0.0,
            "answers.readability": None,
        }
    by_n = dict(enumerate(used, start=1))
    cited = [by_n[s.n] for s in done.sources if s.n in by_n]
    precision, recall = m.citation_scores(cited, case.gold, case.keywords)
    issues = m.readability_issues(done.response)
    retrieval = meta.get("retrieval") or {}
    return row | {
        "citations.precision": precision,
        "citations.recall": recall,
        "answers.keyword_recall": m.keyword_recall(done.response, case.keywords),
        "answers.readability": float(not issues),
        "readability_issues": issues,
        "cited": [p.label() for p in cited],
        "response": done.response[:600],
        "latency.embed": retrieval.get("embed"),
        "latency.search": retrieval.get("search"),
        "latency.before_llm": meta.get("overheadBeforeLlm"),
        "latency.first_token": meta.get("timeToFirstToken") or first_token_s,
        "latency.total": meta.get("responseTime"),
    }


class _References:
    """Gold passages as text, for ragas' context metrics: the text under the gold heading, or the gold page."""

    def __init__(self, kb: KnowledgeBase, pdfs: dict[str, tuple[bytes, list[str]]]) -> None:
        self.kb = kb
        self.pages = {name: pages for name, (_, pages) in pdfs.items()}
        self._chapters: dict[str, list[dict[str, Any]]] = {}

    def _chunks(self, doc_id: str) -> list[dict[str, Any]]:
        if doc_id not in self._chapters:
            flt = Filter(must=(Match("doc_id", doc_id), Match("state", "live")))
            self._chapters[doc_id] = sorted(self.kb.store.scroll(flt), key=lambda p: int(p.get("chunk_index", 0)))
        return self._chapters[doc_id]

    def of(self, gold: Sequence[m.Gold]) -> list[str]:
        texts: list[str] = []
        for g in gold:
            if "chapter" in g:  # the whole section, as ARIA passes a section's chunks merged into one passage
                section = [p for p in self._chunks(str(g["chapter"])) if g["section"] in p.get("section_path", [])]
                if section:
                    texts.append(merge_chunks(section)[0])  # already in reading order
            elif str(g["source"]) in self.pages:
                pages = self.pages[str(g["source"])]
                page = int(g["page"])
                if 1 <= page <= len(pages):
                    texts.append(pages[page - 1])
        return list(dict.fromkeys(texts))


def _peer_row(peer: PeerPipeline, case: EvalCase, k: int) -> dict[str, Any]:
    """The peer on one question: the question alone (a plain retriever does not read the conversation)."""
    t0 = time.perf_counter()
    ranked = peer.retrieve(case.question, k)
    elapsed = time.perf_counter() - t0
    rank = m.first_gold_rank(ranked, case.gold)
    return {
        "id": case.id,
        "level": case.level or "-",
        "theme": case.theme,
        "follow_up": bool(case.history),
        "rank": rank,
        **m.rank_metrics(rank, m.ndcg(ranked, case.gold, 10)),
        "retrieved": [p.label() for p in ranked[:5]],
        "latency.retrieval": elapsed,
    }


def _retrieval_summary(rows: Sequence[dict[str, Any]]) -> dict[str, float | None]:
    out: dict[str, float | None] = {f"retrieval.{key}": m.mean(r[key] for r in rows) for key in RETRIEVAL_KEYS}
    for kind, follow in (("standalone", False), ("follow_up", True)):
        part = [r for r in rows if r["follow_up"] == follow]
        if part:
            out[f"retrieval.hit@5.{kind}"] = m.mean(r["hit@5"] for r in part)
            out[f"retrieval.mrr@10.{kind}"] = m.mean(r["mrr@10"] for r in part)
    return out


def _groups(rows: Sequence[dict[str, Any]], keys: Sequence[str]) -> dict[str, dict[str, dict[str, Any]]]:
    groups: dict[str, dict[str, dict[str, Any]]] = {}
    for field_name in ("level", "theme"):
        parts = m.group_by(rows, _field(field_name))
        groups[field_name] = {value: {"n": len(part), **m.aggregate(part, keys)} for value, part in parts.items()}
    return groups


def _field(name: str) -> Callable[[Mapping[str, Any]], str]:
    return lambda row: str(row[name])


def summarize(
    dataset: str,
    rows: list[dict[str, Any]],
    refusal_rows: list[dict[str, Any]],
    peer_rows: list[dict[str, Any]] | None,
    ragas_names: Sequence[str] = (),
) -> dict[str, Any]:
    """The report without its run facts: metrics, groups, latency, worst questions, and the peer's side."""
    ragas_keys = [f"ragas.{n}" for n in ragas_names]
    metrics: dict[str, float | None] = _retrieval_summary(rows)
    answered = [r for r in rows if not r["refused"]]
    metrics.update(m.aggregate(answered, ANSWER_KEYS))
    metrics.update(m.aggregate(answered, ragas_keys))
    expected_refusals = [r for r in refusal_rows if r["expected"] == "refuse"]
    in_scope = [r["refused"] for r in refusal_rows if r["expected"] == "answer"] + [r["refused"] for r in rows]
    correct = sum(r["refused"] for r in expected_refusals) + sum(not refused for refused in in_scope)
    if expected_refusals:
        metrics["refusals.refused_when_expected"] = m.mean(float(r["refused"]) for r in expected_refusals)
    metrics["refusals.in_scope_answered"] = m.mean(float(not refused) for refused in in_scope)
    metrics["refusals.accuracy"] = round(correct / (len(expected_refusals) + len(in_scope)), 4)
    group_keys = [f"{key}" for key in RETRIEVAL_KEYS] + list(ANSWER_KEYS)
    report: dict[str, Any] = {
        "dataset": dataset,
        "questions": len(rows),
        "follow_ups": sum(r["follow_up"] for r in rows),
        "metrics": metrics,
        "groups": _groups(rows, group_keys),
        "latency": _latencies(
            rows, ("retrieval", "embed", "search", "before_llm", "first_token", "total"), answered_only=True
        ),
        "worst": worst(rows, peer_rows),
        "rows": rows,
        "refusal_rows": refusal_rows,
        "unreadable": [
            {"id": r["id"], "question": r["question"], "issues": r["readability_issues"]}
            for r in answered
            if r.get("readability_issues")
        ],
        "wrong_refusals": [r["question"] for r in refusal_rows if r["refused"] != (r["expected"] == "refuse")]
        + [r["question"] for r in rows if r["refused"]],
    }
    if peer_rows is not None:
        report["peer"] = {
            "metrics": _retrieval_summary(peer_rows),
            "groups": _groups(peer_rows, RETRIEVAL_KEYS),
            "latency": _latencies(peer_rows, ("retrieval",)),
            "rows": peer_rows,
        }
    return report


def _latencies(rows: Sequence[dict[str, Any]], stages: Sequence[str], answered_only: bool = False) -> dict[str, Any]:
    out = {}
    for stage in stages:
        values = [
            float(r[f"latency.{stage}"])
            for r in rows
            if r.get(f"latency.{stage}") is not None and not (answered_only and r.get("refused"))
        ]
        if values:
            out[stage] = m.latency(values)
    return out


def worst(rows: Sequence[dict[str, Any]], peer_rows: Sequence[dict[str, Any]] | None, n: int = 10) -> list[Any]:
    """The ``n`` worst questions: gold not found first, then found lowest; ties by keyword recall."""
    peer_rank = {r["id"]: r["rank"] for r in peer_rows or []}

    def badness(r: dict[str, Any]) -> tuple[float, float, float]:
        rank = r["rank"] if r["rank"] is not None else 99
        return (-rank, r.get("answers.keyword_recall") or 0.0, r.get("citations.precision") or 0.0)

    return [
        {
            "id": r["id"],
            "question": r["question"],
            "level": r["level"],
            "gold": [_gold_label(g) for g in r["gold"]],
            "rank": r["rank"],
            "peer_rank": peer_rank.get(r["id"]),
            "retrieved": r["retrieved"],
            "cited": r.get("cited", []),
            "keyword_recall": r.get("answers.keyword_recall"),
        }
        for r in sorted(rows, key=badness)[:n]
    ]


def _gold_label(g: m.Gold) -> str:
    if "chapter" in g:
        return f"{g['chapter']} > {g['section']}"
    return f"{g['source']} p. {g['page']}"
