"""The eval's arithmetic and reports on hand-made cases (no model, no store)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from evals import metrics as m
from evals.cases import load_cases
from evals.evaluate import summarize, worst
from evals.peer import section_spans
from evals.report import (
    BASELINE,
    LABELS,
    behind_peer,
    check_thresholds,
    load_baseline,
    load_thresholds,
    markdown,
    save_baseline,
    write_reports,
)

CH = "terminale/structures-de-donnees/piles"


def p(doc_id: str = CH, sections: tuple[str, ...] = ("Cours",), page: int | None = None, text: str = "") -> m.Passage:
    return m.Passage(doc_id, f"{doc_id}.md", "Les piles", sections, page, text)


GOLD = [{"chapter": CH, "section": "Interface d'une pile"}]


def test_a_passage_is_gold_under_the_gold_heading_of_the_gold_chapter() -> None:
    assert m.is_gold(p(sections=("Cours", "Interface d'une pile")), GOLD)
    assert not m.is_gold(p(sections=("Cours", "Définition")), GOLD)
    assert not m.is_gold(p("terminale/structures-de-donnees/files", ("Cours", "Interface d'une pile")), GOLD)


def test_upload_gold_is_a_file_and_a_page() -> None:
    gold = [{"source": "bac-blanc.pdf", "page": 2}]
    assert m.is_gold(m.Passage("x", "bac-blanc.pdf", "", (), 2, ""), gold)
    assert not m.is_gold(m.Passage("x", "bac-blanc.pdf", "", (), 3, ""), gold)


def test_rank_metrics_and_ndcg() -> None:
    hit = p(sections=("Cours", "Interface d'une pile"))
    ranked = [p(), p(), hit, hit]
    rank = m.first_gold_rank(ranked, GOLD)
    assert rank == 3
    figures = m.rank_metrics(rank, m.ndcg(ranked, GOLD, 10))
    assert figures["hit@1"] == 0.0
    assert figures["hit@3"] == 1.0
    assert figures["mrr@10"] == pytest.approx(1 / 3)
    # one gold target: the second gold chunk earns nothing, ideal DCG is 1
    assert figures["ndcg@10"] == pytest.approx(1 / math.log2(4))
    assert m.rank_metrics(None, 0.0) == {"hit@1": 0.0, "hit@3": 0.0, "hit@5": 0.0, "mrr@10": 0.0, "ndcg@10": 0.0}


def test_ndcg_counts_each_gold_target_once() -> None:
    gold = [{"chapter": CH, "section": "A"}, {"chapter": CH, "section": "B"}]
    assert m.ndcg([p(sections=("A",)), p(sections=("B",))], gold, 10) == pytest.approx(1.0)
    assert m.ndcg([p(sections=("A", "B"))], gold, 10) == pytest.approx(1 / (1 + 1 / math.log2(3)))


def test_keywords_are_matched_as_words_without_case_or_accents() -> None:
    assert m.contains("La CLE primaire est id_eleve.", "clé primaire")
    assert m.contains("fact(0) = 1 et fact(n)", "fact(0) = 1")
    assert not m.contains("les piles", "pile")
    assert m.keyword_recall("Une file est FIFO", ["FIFO", "LIFO"]) == 0.5


def test_citations_are_right_when_gold_or_carrying_the_answer_keywords() -> None:
    gold_passage = p(sections=("Interface d'une pile",))
    keyword_passage = p("terminale/structures-de-donnees/files", text="empiler et dépiler au sommet")
    wrong = p("premiere/histoire/x", text="Ada Lovelace")
    precision, recall = m.citation_scores([gold_passage, keyword_passage, wrong], GOLD, ["empiler", "sommet", "LIFO"])
    assert precision == pytest.approx(2 / 3)
    assert recall == 1.0
    assert m.citation_scores([], GOLD, []) == (None, 0.0)


def test_latency_and_means() -> None:
    assert m.latency([0.010, 0.020, 0.030]) == {"p50": 20.0, "p95": 29.0}
    assert m.mean([1.0, None, 0.0]) == 0.5
    assert m.mean([None]) is None


def test_section_spans_end_at_the_next_heading_of_the_same_level_and_skip_code() -> None:
    text = "# T\n\n## Cours\n\n### A\n\ntext a\n\n```python\n# not a heading\n```\n\n### B\n\ntext b\n\n## Exercices\n"
    spans = {h: (s, e) for s, e, h in section_spans(text)}
    assert set(spans) == {"T", "Cours", "A", "B", "Exercices"}
    assert text[spans["A"][0] : spans["A"][1]].count("not a heading") == 1
    assert spans["Cours"][1] == spans["Exercices"][0]
    assert spans["T"][1] == len(text)


def test_both_datasets_load_with_a_theme() -> None:
    curriculum, uploads = load_cases("curriculum"), load_cases("uploads")
    assert len(curriculum) > 400
    assert 15 <= len(uploads) <= 25
    assert {c.theme for c in uploads} == {"bac-blanc.pdf", "diaporama-files.pdf", "fiche-recursivite.pdf"}
    assert all(c.theme.count("/") == 1 for c in curriculum)
    with pytest.raises(ValueError, match="dataset must be"):
        load_cases("nope")


def row(i: int, rank: int | None, follow_up: bool = False, refused: bool = False) -> dict[str, Any]:
    return {
        "id": f"q{i}",
        "question": f"question {i}",
        "level": "terminale" if i % 2 else "premiere",
        "theme": "terminale/structures-de-donnees" if i % 2 else "premiere/histoire",
        "follow_up": follow_up,
        "gold": GOLD,
        "rank": rank,
        **m.rank_metrics(rank, 1.0 if rank == 1 else 0.0),
        "retrieved": ["Les piles > Cours"],
        "refused": refused,
        "citations.precision": 1.0,
        "citations.recall": 1.0,
        "answers.keyword_recall": 0.5,
        "ragas.rouge_l": 0.25,
        "latency.retrieval": 0.02,
        "latency.total": 0.05,
    }


def fake_report() -> dict[str, Any]:
    rows = [row(i, [1, 2, None, 7][i % 4], follow_up=i % 5 == 0) for i in range(12)]
    peer_rows = [row(i, [2, None, None, 1][i % 4], follow_up=i % 5 == 0) for i in range(12)]
    refusals = [{"id": "r", "question": "triche", "category": "triche", "expected": "refuse", "refused": True}]
    report = summarize("curriculum", rows, refusals, peer_rows, ("rouge_l",))
    report.update({"backend": "extractive", "model": "extractif", "embedder": "e5", "date": "2025-01-01"})
    return report


def test_summary_groups_worst_and_peer_comparison() -> None:
    report = fake_report()
    assert report["metrics"]["retrieval.hit@1"] == pytest.approx(0.25)
    assert report["metrics"]["refusals.accuracy"] == 1.0
    assert set(report["groups"]["level"]) == {"premiere", "terminale"}
    assert report["worst"][0]["rank"] is None
    assert len(report["worst"]) == 10
    assert [line.split(":")[0] for line in behind_peer(report)] == [
        "retrieval.hit@5.standalone",
        "retrieval.mrr@10.standalone",
    ]
    assert worst(report["rows"], None, 3)[0]["peer_rank"] is None


def test_thresholds_fail_below_and_on_missing_figures() -> None:
    report = fake_report()
    assert check_thresholds(report, {"curriculum": {"retrieval.hit@1": 0.2}}) == []
    assert check_thresholds(report, {"curriculum": {"retrieval.hit@1": 0.3}}) == ["retrieval.hit@1 = 0.25 < 0.3"]
    assert check_thresholds(report, {"curriculum": {"ragas.faithfulness": 0.1}}) != []


def test_reports_markdown_and_chart_with_baseline_deltas(tmp_path: Path) -> None:
    report = fake_report()
    baseline = tmp_path / "baseline.json"
    save_baseline(report, baseline)
    report["metrics"]["retrieval.hit@5"] += 0.1
    paths = write_reports(report, tmp_path / "out", baseline)
    text = paths["md"].read_text(encoding="utf-8")
    assert "| hit@5 | 0.600 | 0.500 | +0.100 | 0.500 | +0.100 |" in text
    assert "## MRR@10 by level and theme" in text
    assert "| level: premiere | 6 |" in text
    assert paths["png"].stat().st_size > 10_000
    assert json.loads(paths["json"].read_text())["worst"]
    assert set(load_baseline(baseline)["curriculum"]) >= {"metrics", "groups", "peer", "latency"}
    assert "rows" not in load_baseline(baseline)["curriculum"]


def test_markdown_without_peer_or_baseline() -> None:
    report = fake_report()
    del report["peer"]
    assert "No baseline for this dataset yet." in markdown(report, {})


def test_thresholds_are_known_metrics_and_not_above_the_committed_baseline() -> None:
    thresholds, baseline = load_thresholds(), json.loads(BASELINE.read_text(encoding="utf-8"))
    assert set(thresholds) >= {"curriculum", "uploads"}
    for dataset in ("curriculum", "uploads"):
        for key, minimum in thresholds[dataset].items():
            assert key in LABELS, key
            assert minimum <= baseline[dataset]["metrics"][key], (dataset, key)


async def test_ragas_offline_metrics_and_an_unreachable_judge_scores_nothing() -> None:
    from evals.ragas_metrics import OFFLINE, RagasScorer
    from knowledge.embedder import HashEmbedder
    from tutor.config import TutorSettings

    offline = RagasScorer(TutorSettings(openai_base_url=None, openai_api_key=None), HashEmbedder())
    assert offline.names == OFFLINE
    scores = await offline.score("pile ?", "Une pile est LIFO.", "Une pile est LIFO.", ["Une pile est LIFO."], ["x"])
    assert scores["string_similarity"] == pytest.approx(1.0)
    assert scores["rouge_l"] == pytest.approx(1.0)
    assert scores["context_recall"] == 0.0
    judged = RagasScorer(
        TutorSettings(openai_base_url="http://127.0.0.1:9/v1", openai_model="x", llm_timeout_s=2), HashEmbedder()
    )
    assert judged.names[-2:] == ("faithfulness", "answer_relevancy")
    scores = await judged.score("pile ?", "Une pile est LIFO.", "Une pile est LIFO.", ["Une pile est LIFO."], ["x"])
    assert scores["faithfulness"] is None
    assert scores["answer_relevancy"] is None
    assert judged.errors == 2


@pytest.mark.parametrize(
    ("answer", "issue"),
    [
        ("D'après ton cours : Le but est d'échanger les valeurs de [1]", "cut sentence"),
        ("échanger les valeurs de a et b. [1]", "cut sentence"),
        ('!!! abstract "Définition"\n    Une pile est LIFO.', "admonition"),
        ('??? success "Correction"\n    a, b = b, a', "admonition"),
        ('=== "Onglet"\n    Texte.', "admonition"),
        ("Une pile.{: .center}", "attribute list"),
        ('{{ correction(True, """ a = b """) }}', "macro"),
        ("{% include 'x.md' %}", "macro"),
        ("Une <b>pile</b>.", "html tag"),
        ("Voir ![image](data/yoda.png).", "image"),
        ("Code :\n\n```python\na, b = b, a", "unbalanced code fence"),
        ("Code :\n\n```python linenums='1'\na = 1\n```", "code fence with options"),
        ("On écrit python >>> a = b >>> b = a.", "console outside code"),
        ("Copie avec ++ctrl+c++ :heart:.", "shortcode"),
    ],
)
def test_readability_finds_what_a_student_cannot_read(answer: str, issue: str) -> None:
    assert any(found.startswith(issue) for found in m.readability_issues(answer)), m.readability_issues(answer)


def test_a_clean_answer_reads_well() -> None:
    answer = (
        "D'après ton cours : Une **pile** est une structure LIFO. [1]\n\n**Exemple**\n\nLe vocabulaire :\n\n"
        "- **empiler** : ajouter au sommet ;\n- dépiler\n\n| opération | effet |\n|---|---|\n| `p.pop()` | dépile |"
        "\n\n```python\nx = [1]  # {{ pas une macro }} <b>\n>>> x\n```\n\n`a` et `b` sont échangés par `a, b = b, a`."
        "\n\nTu veux un petit exercice ?"
    )
    assert m.readability_issues(answer) == []
    assert m.readability([answer, "la fin de [1]"]) == 0.5
    assert m.readability([]) is None


def test_readability_is_reported_with_the_answer_metrics() -> None:
    rows = [
        {"refused": False, "answers.readability": 1.0, "follow_up": False, "level": "p", "theme": "t"},
        {"refused": False, "answers.readability": 0.0, "follow_up": False, "level": "p", "theme": "t"},
    ]
    for r in rows:
        r.update(dict.fromkeys(("hit@1", "hit@3", "hit@5", "mrr@10", "ndcg@10"), 1.0))
        r["readability_issues"] = [] if r["answers.readability"] else ["cut sentence: 'x'"]
        r.update({"id": "q", "question": "q ?", "rank": 1, "gold": [], "retrieved": []})
    report = summarize("curriculum", rows, [], None)
    assert report["metrics"]["answers.readability"] == 0.5
    assert report["unreadable"] == [{"id": "q", "question": "q ?", "issues": ["cut sentence: 'x'"]}]
    assert "answers.readability" in LABELS
    assert "Answers that do not read well (1)" in markdown(report | {"questions": 2}, {})


def test_markers_flattened_into_a_sentence_are_found_too() -> None:
    issues = m.readability_issues('D\'après ton cours : !!! danger "Erreur classique" Écrire a = b est faux. [1]')
    assert any(i.startswith("admonition") for i in issues)
