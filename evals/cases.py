"""Eval cases: the curriculum gold set and the teacher-upload set (three course PDFs, gold = file and page)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evals.gold import DATASETS, load_questions
from evals.pdf_fixtures import FIXTURES
from ingest.config import IngestSettings
from ingest.pipeline import DocumentOptions, Ingestor
from knowledge.search import KnowledgeBase

DATASET_NAMES = ("curriculum", "uploads")
UPLOAD_OWNER = "eval-teacher"
UPLOAD_CLASS = "eval-class"
UPLOADS_FILE = DATASETS / "uploads.jsonl"


@dataclass(frozen=True)
class EvalCase:
    """One question of a dataset, with where its answer stands and how to group it in the report."""

    id: str
    question: str
    level: str | None
    gold: list[dict[str, Any]]
    keywords: list[str]
    answer: str
    theme: str
    history: list[dict[str, str]] = field(default_factory=list)


def load_cases(dataset: str) -> list[EvalCase]:
    """The cases of ``curriculum``, ``uploads`` or a ``.jsonl`` file in either format."""
    if dataset == "curriculum":
        return [
            EvalCase(q.id, q.question, q.level, q.gold, q.keywords, q.answer, _theme(q.gold), q.history)
            for q in load_questions()
        ]
    path = UPLOADS_FILE if dataset == "uploads" else Path(dataset)
    if not path.is_file():
        raise ValueError(f"dataset must be one of {DATASET_NAMES} or a .jsonl file. Currently, dataset is {dataset!r}")
    cases = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            cases.append(
                EvalCase(
                    row["id"],
                    row["question"],
                    row.get("level"),
                    row["gold"],
                    row.get("keywords", []),
                    row.get("answer", ""),
                    _theme(row["gold"]),
                    row.get("history") or [],
                )
            )
    return cases


def _theme(gold: list[dict[str, Any]]) -> str:
    """``level/theme`` of a chapter, or the file name of an upload."""
    first = gold[0]
    if "chapter" in first:
        return "/".join(str(first["chapter"]).split("/")[:2])
    return str(first["source"])


def upload_pages() -> dict[str, tuple[bytes, list[str]]]:
    """The three fixture PDFs: bytes and the text drawn on each page."""
    return {name: make() for name, make in FIXTURES.items()}


def ingest_uploads(kb: KnowledgeBase, pdfs: dict[str, tuple[bytes, list[str]]]) -> list[str]:
    """Ingest the PDFs as a teacher's upload shared with one class; returns their document ids."""
    ingestor = Ingestor(kb.store, kb.embedder, IngestSettings(), kb.sparse)
    options = DocumentOptions(visibility="class", owner_id=UPLOAD_OWNER, class_ids=(UPLOAD_CLASS,))
    doc_ids = []
    for name, (data, _) in pdfs.items():
        result = ingestor.ingest_bytes(name, data, name, options)
        if result.doc_id is None:
            raise RuntimeError(f"the upload {name} was not ingested: {result.reason}")
        doc_ids.append(result.doc_id)
    return doc_ids


def remove_uploads(kb: KnowledgeBase, doc_ids: list[str]) -> None:
    ingestor = Ingestor(kb.store, kb.embedder, IngestSettings(), kb.sparse)
    for doc_id in doc_ids:
        ingestor.delete(doc_id)
