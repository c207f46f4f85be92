"""Eval reports (JSON, Markdown, PNG chart), the committed baseline, the thresholds and the peer comparison."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

EVALS = Path(__file__).resolve().parent
BASELINE = EVALS / "results" / "baseline.json"
THRESHOLDS = EVALS / "thresholds.toml"

LABELS = {
    "retrieval.hit@1": "hit@1",
    "retrieval.hit@3": "hit@3",
    "retrieval.hit@5": "hit@5",
    "retrieval.mrr@10": "MRR@10",
    "retrieval.ndcg@10": "nDCG@10",
    "retrieval.hit@5.standalone": "hit@5, standalone questions",
    "retrieval.mrr@10.standalone": "MRR@10, standalone questions",
    "retrieval.hit@5.follow_up": "hit@5, follow-up questions",
    "retrieval.mrr@10.follow_up": "MRR@10, follow-up questions",
    "citations.precision": "citation precision",
    "citations.recall": "citation recall (a gold passage cited)",
    "answers.keyword_recall": "answer keyword recall",
    "answers.readability": "answer readability (no markup, balanced code, whole sentences)",
    "ragas.context_precision": "ragas NonLLMContextPrecisionWithReference",
    "ragas.context_recall": "ragas NonLLMContextRecall",
    "ragas.string_similarity": "ragas NonLLMStringSimilarity (answer vs reference)",
    "ragas.rouge_l": "ragas RougeScore (ROUGE-L F1)",
    "ragas.faithfulness": "ragas Faithfulness (LLM judge)",
    "ragas.answer_relevancy": "ragas AnswerRelevancy (LLM judge)",
    "refusals.accuracy": "refusal accuracy",
    "refusals.refused_when_expected": "refused when expected",
    "refusals.in_scope_answered": "in-scope questions answered",
}
GROUP_METRICS = (
    "hit@1",
    "hit@3",
    "hit@5",
    "mrr@10",
    "ndcg@10",
    "citations.precision",
    "citations.recall",
    "answers.keyword_recall",
    "answers.readability",
)
STAGES = {
    "retrieval": "retrieval, top 10 (embed + search + policy)",
    "embed": "query embedding (DoneEvent retrieval.embed)",
    "search": "search (DoneEvent retrieval.search)",
    "before_llm": "overhead before the LLM (overheadBeforeLlm)",
    "first_token": "first token (timeToFirstToken)",
    "total": "whole answer (responseTime)",
}


def retrieval_keys(report: Mapping[str, Any]) -> list[str]:
    return [k for k in report["metrics"] if k.startswith("retrieval.")]


def summary(report: Mapping[str, Any]) -> dict[str, Any]:
    """What the baseline keeps of a report: figures, not per-question rows."""
    out: dict[str, Any] = {
        key: report[key]
        for key in ("dataset", "date", "backend", "embedder", "questions", "metrics", "groups", "latency")
        if key in report
    }
    if "peer" in report:
        out["peer"] = {
            key: report["peer"][key] for key in ("metrics", "groups", "latency", "pipeline") if key in report["peer"]
        }
    return out


def load_baseline(path: Path | None = None) -> dict[str, Any]:
    path = path or BASELINE
    return dict(json.loads(path.read_text(encoding="utf-8"))) if path.exists() else {}


def save_baseline(report: Mapping[str, Any], path: Path | None = None) -> Path:
    """Record this dataset's figures as the baseline (the other datasets' stay)."""
    path = path or BASELINE
    data = load_baseline(path)
    data[str(report["dataset"])] = summary(report)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    return path


def load_thresholds(path: Path | None = None) -> dict[str, Any]:
    with (path or THRESHOLDS).open("rb") as f:
        return tomllib.load(f)


def check_thresholds(report: Mapping[str, Any], thresholds: Mapping[str, Any]) -> list[str]:
    """One line per metric of the report's dataset below its minimum (a missing figure fails too)."""
    failures = []
    for key, minimum in (thresholds.get(str(report["dataset"])) or {}).items():
        value = report["metrics"].get(key)
        if value is None or value < minimum:
            failures.append(f"{key} = {value} < {minimum}")
    return failures


def behind_peer(report: Mapping[str, Any]) -> list[str]:
    """Retrieval metrics where ARIA is below the peer, as ``metric: ours < peer`` lines."""
    if "peer" not in report:
        return []
    out = []
    for key in retrieval_keys(report):
        ours, theirs = report["metrics"].get(key), report["peer"]["metrics"].get(key)
        if ours is not None and theirs is not None and ours < theirs:
            out.append(f"{key}: {ours} < {theirs}")
    return out


def write_reports(report: Mapping[str, Any], folder: Path, baseline: Path | None = None) -> dict[str, Path]:
    """``eval-<dataset>.json``, ``.md`` and ``.png`` in ``folder``; the Markdown shows deltas against the baseline."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"eval-{report['dataset']}"
    paths = {"json": folder / f"{stem}.json", "md": folder / f"{stem}.md", "png": folder / f"{stem}.png"}
    paths["json"].write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    base = load_baseline(baseline).get(str(report["dataset"]), {})
    chart(report, paths["png"])
    paths["md"].write_text(markdown(report, base, paths["png"].name), encoding="utf-8")
    return paths


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _delta(value: Any, ref: Any) -> str:
    if not isinstance(value, int | float) or not isinstance(ref, int | float):
        return "—"
    diff = value - ref
    return "0" if abs(diff) < 5e-4 else f"{diff:+.3f}"


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def markdown(report: Mapping[str, Any], base: Mapping[str, Any], chart_name: str | None = None) -> str:
    """The human report: summary against peer and baseline, latency, one table per metric, the worst ten."""
    peer = report.get("peer") or {}
    lines = [
        f"# RAG evaluation — {report['dataset']}",
        "",
        f"{report['questions']} questions ({report.get('follow_ups', 0)} follow-ups), backend "
        f"`{report.get('backend')}` ({report.get('model')}), embedder `{report.get('embedder')}`, "
        f"{report.get('date', '')}, {report.get('seconds', '?')} s."
        + (f" Baseline of {base.get('date')}." if base else " No baseline for this dataset yet."),
    ]
    if peer.get("pipeline"):
        lines += ["", f"Peer: {peer['pipeline']['what']}; {peer['pipeline']['nodes']} nodes."]
    if chart_name:
        lines += ["", f"![ARIA against the peer]({chart_name})"]
    lines += [
        "",
        "## Summary",
        "",
        "| metric | ARIA | peer | ARIA − peer | baseline | Δ baseline | threshold | target |",
        "|---|---|---|---|---|---|---|---|",
    ]
    base_metrics = base.get("metrics", {})
    limits, targets = report.get("thresholds", {}), report.get("targets", {})
    for key, value in report["metrics"].items():
        theirs = peer.get("metrics", {}).get(key)
        lines.append(
            f"| {LABELS.get(key, key)} | {_fmt(value)} | {_fmt(theirs)} | {_delta(value, theirs)} | "
            f"{_fmt(base_metrics.get(key))} | {_delta(value, base_metrics.get(key))} | "
            f"{_fmt(limits.get(key), 2)} | {_fmt(targets.get(key), 2)} |"
        )
    behind = behind_peer(report)
    if peer:
        lines += [
            "",
            "ARIA is behind the peer on: " + "; ".join(behind)
            if behind
            else "ARIA is ahead of or level with the peer on every retrieval metric.",
        ]
    lines += [
        "",
        "## Latency (ms)",
        "",
        "| stage | p50 | p95 | peer p50 | peer p95 | baseline p50 | baseline p95 |",
        "|---|---|---|---|---|---|---|",
    ]
    base_lat = base.get("latency", {})
    for stage, figures in report.get("latency", {}).items():
        theirs = peer.get("latency", {}).get(stage, {})
        ref = base_lat.get(stage, {})
        lines.append(
            f"| {STAGES.get(stage, stage)} | {_fmt(figures.get('p50'), 1)} | {_fmt(figures.get('p95'), 1)} | "
            f"{_fmt(theirs.get('p50'), 1)} | {_fmt(theirs.get('p95'), 1)} | {_fmt(ref.get('p50'), 1)} | "
            f"{_fmt(ref.get('p95'), 1)} |"
        )
    groups, peer_groups, base_groups = report.get("groups", {}), peer.get("groups", {}), base.get("groups", {})
    for metric in GROUP_METRICS:
        label = LABELS.get(f"retrieval.{metric}", LABELS.get(metric, metric))
        lines += [
            "",
            f"## {label} by level and theme",
            "",
            "| group | n | ARIA | peer | baseline | Δ baseline |",
            "|---|---|---|---|---|---|",
        ]
        for field in ("level", "theme"):
            for value, figures in groups.get(field, {}).items():
                theirs = peer_groups.get(field, {}).get(value, {}).get(metric)
                ref = base_groups.get(field, {}).get(value, {}).get(metric)
                lines.append(
                    f"| {field}: {value} | {figures['n']} | {_fmt(figures.get(metric))} | {_fmt(theirs)} | "
                    f"{_fmt(ref)} | {_delta(figures.get(metric), ref)} |"
                )
    lines += [
        "",
        "## The ten worst questions",
        "",
        "| id | question | gold | rank (ARIA / peer) | ARIA retrieved (top 5) | cited |",
        "|---|---|---|---|---|---|",
    ]
    for w in report.get("worst", []):
        lines.append(
            f"| {w['id']} | {_cell(w['question'])} | {_cell('; '.join(w['gold']))} | "
            f"{_fmt(w['rank'])} / {_fmt(w['peer_rank'])} | {_cell('<br>'.join(w['retrieved']))} | "
            f"{_cell('<br>'.join(w.get('cited') or []))} |"
        )
    unreadable = report.get("unreadable") or []
    if unreadable:
        lines += ["", f"## Answers that do not read well ({len(unreadable)})", ""]
        lines += [f"- {u['id']}: {_cell('; '.join(u['issues']))[:300]}" for u in unreadable[:20]]
    wrong = report.get("wrong_refusals") or []
    if wrong:
        lines += ["", "## Wrong refusal decisions", ""] + [f"- {_cell(q)}" for q in wrong]
    return "\n".join(lines) + "\n"


def chart(report: Mapping[str, Any], path: Path) -> None:
    """Retrieval metrics ARIA vs peer, and hit@5 by theme."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = ["retrieval.hit@1", "retrieval.hit@3", "retrieval.hit@5", "retrieval.mrr@10", "retrieval.ndcg@10"]
    ours = [report["metrics"].get(k) or 0.0 for k in keys]
    peer = report.get("peer", {}).get("metrics")
    themes = report.get("groups", {}).get("theme", {})
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.8), gridspec_kw={"width_ratios": [1, 1.6]})
    width = 0.38
    xs = list(range(len(keys)))
    left.bar([x - width / 2 for x in xs], ours, width, label="ARIA", color="#1f3b73")
    if peer:
        left.bar(
            [x + width / 2 for x in xs],
            [peer.get(k) or 0.0 for k in keys],
            width,
            label="peer (llama-index)",
            color="#c8a24a",
        )
    left.set_xticks(xs, [LABELS[k] for k in keys])
    left.set_ylim(0, 1)
    left.set_title(f"Retrieval — {report['dataset']} ({report['questions']} questions)")
    left.legend(loc="lower right")
    names = list(themes)
    ys = list(range(len(names)))
    right.barh(
        [y - width / 2 for y in ys],
        [themes[n].get("hit@5") or 0.0 for n in names],
        width,
        label="ARIA",
        color="#1f3b73",
    )
    peer_themes = report.get("peer", {}).get("groups", {}).get("theme", {})
    if peer_themes:
        right.barh(
            [y + width / 2 for y in ys],
            [peer_themes.get(n, {}).get("hit@5") or 0.0 for n in names],
            width,
            label="peer",
            color="#c8a24a",
        )
    right.set_yticks(ys, names, fontsize=8)
    right.invert_yaxis()
    right.set_xlim(0, 1)
    right.set_title("hit@5 by theme")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def format_table(rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table from rows (the first is the header), for notes and the README."""
    head, *body = rows
    return "\n".join(
        ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)] + ["| " + " | ".join(r) + " |" for r in body]
    )
