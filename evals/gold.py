"""Gold datasets (curriculum questions, refusal cases) and the retrieval hit test shared by tests and evals."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from knowledge.search import SearchHit

DATASETS = Path(__file__).parent / "datasets"


@dataclass(frozen=True)
class GoldQuestion:
    """A student question with where its answer stands."""

    id: str
    question: str
    level: str
    gold: list[dict[str, str]]
    keywords: list[str]
    answer: str
    history: list[dict[str, str]] = field(default_factory=list)


def load_questions(folder: Path = DATASETS / "curriculum") -> list[GoldQuestion]:
    out = []
    for path in sorted(folder.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row: dict[str, Any] = json.loads(line)
                out.append(
                    GoldQuestion(
                        row["id"],
                        row["question"],
                        row["level"],
                        row["gold"],
                        row["keywords"],
                        row["answer"],
                        row.get("history") or [],
                    )
                )
    return out


def load_refusals(path: Path = DATASETS / "refusals.jsonl") -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def is_gold(hit: SearchHit, gold: list[dict[str, str]]) -> bool:
    """A hit is gold when it comes from a gold chapter, under the gold heading."""
    return any(hit.doc_id == g["chapter"] and g["section"] in hit.section_path for g in gold)


def first_gold_rank(hits: list[SearchHit], gold: list[dict[str, str]]) -> int | None:
    """1-based rank of the first gold hit, or None."""
    return next((rank for rank, hit in enumerate(hits, start=1) if is_gold(hit, gold)), None)
