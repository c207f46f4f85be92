"""The CI gate: the curriculum and upload sets through the real pipeline (extractive backend), thresholds from
``evals/thresholds.toml``, and the llama-index peer on the same questions. Reports go to ``evals/results/``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from evals.cases import UPLOAD_OWNER
from evals.evaluate import run_eval
from evals.peer import PeerPipeline
from evals.report import behind_peer, check_thresholds, load_thresholds
from knowledge.search import KnowledgeBase
from knowledge.store import Filter, Match
from tests.conftest import ROOT

REPORTS = ROOT / "evals" / "results"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def curriculum_report(curriculum_kb: KnowledgeBase, peer: PeerPipeline) -> dict[str, Any]:
    return run_eval(curriculum_kb, "curriculum", "extractive", 10, REPORTS, peer=peer)


@pytest.fixture(scope="module")
def uploads_report(curriculum_kb: KnowledgeBase, peer: PeerPipeline) -> dict[str, Any]:
    return run_eval(curriculum_kb, "uploads", "extractive", 10, REPORTS, peer=peer)


def test_the_curriculum_set_meets_the_thresholds(curriculum_report: dict[str, Any]) -> None:
    assert check_thresholds(curriculum_report, load_thresholds()) == []


def test_no_refusal_is_wrong_on_the_curriculum_and_refusal_sets(curriculum_report: dict[str, Any]) -> None:
    # folded from test_quality.py: every refusal case refused, no in-scope question (curriculum or
    # refusals.jsonl's "answer" cases) refused, through the real engine
    assert curriculum_report["wrong_refusals"] == []
    assert len(curriculum_report["refusal_rows"]) >= 60


def test_aria_is_ahead_of_the_peer_on_every_retrieval_metric(curriculum_report: dict[str, Any]) -> None:
    assert set(curriculum_report["peer"]["metrics"]) == {
        k for k in curriculum_report["metrics"] if k.startswith("retrieval.")
    }
    assert behind_peer(curriculum_report) == []


def test_the_upload_set_meets_the_thresholds(uploads_report: dict[str, Any]) -> None:
    assert uploads_report["questions"] >= 15
    assert check_thresholds(uploads_report, load_thresholds()) == []


def test_aria_is_ahead_of_the_peer_on_every_retrieval_metric_of_the_uploads(uploads_report: dict[str, Any]) -> None:
    assert uploads_report["peer"]["metrics"]
    assert behind_peer(uploads_report) == []


def test_the_uploads_are_removed_after_the_eval(uploads_report: dict[str, Any], curriculum_kb: KnowledgeBase) -> None:
    assert curriculum_kb.store.count(Filter(must=(Match("owner_id", UPLOAD_OWNER),))) == 0


@pytest.mark.parametrize("dataset", ["curriculum", "uploads"])
def test_the_reports_are_written(
    dataset: str, curriculum_report: dict[str, Any], uploads_report: dict[str, Any]
) -> None:
    stem = REPORTS / f"eval-{dataset}"
    data = json.loads(Path(f"{stem}.json").read_text(encoding="utf-8"))
    assert data["dataset"] == dataset
    assert len(data["worst"]) == 10
    assert {"retrieval", "embed", "search", "first_token", "total"} <= set(data["latency"])
    text = Path(f"{stem}.md").read_text(encoding="utf-8")
    for part in ("## Summary", "| metric | ARIA | peer |", "by level and theme", "## The ten worst questions"):
        assert part in text
    assert Path(f"{stem}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
