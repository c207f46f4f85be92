"""Metric arithmetic shared by ARIA and the peer: ranks, nDCG, keyword and citation checks, aggregation.

Everything here is pure (no model, no store), so every formula is unit-tested on small hand-made cases.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from evals.bench import percentile
from knowledge.text import fold

Gold = Mapping[str, Any]


@dataclass(frozen=True)
class Passage:
    """A retrieved passage, whoever retrieved it: enough to tell whether it is gold and what it says.

    ``sections`` is the heading path of one of our chunks, or every heading a peer node overlaps.
    """

    doc_id: str
    source: str
    title: str
    sections: tuple[str, ...]
    page: int | None
    text: str

    def label(self) -> str:
        where = " > ".join([self.title or self.doc_id, *self.sections[-2:]])
        return where + (f" (p. {self.page})" if self.page else "")


def gold_match(passage: Passage, gold: Gold) -> bool:
    """Curriculum gold names a chapter and a heading; upload gold names a source file and a page."""
    if "chapter" in gold:
        return passage.doc_id == gold["chapter"] and gold["section"] in passage.sections
    return passage.source == gold["source"] and passage.page == int(gold["page"])


def is_gold(passage: Passage, gold: Sequence[Gold]) -> bool:
    return any(gold_match(passage, g) for g in gold)


def first_gold_rank(passages: Sequence[Passage], gold: Sequence[Gold]) -> int | None:
    """1-based rank of the first gold passage, or None."""
    return next((rank for rank, p in enumerate(passages, start=1) if is_gold(p, gold)), None)


def ndcg(passages: Sequence[Passage], gold: Sequence[Gold], k: int) -> float:
    """Binary nDCG@k over gold *targets*: each gold entry earns a gain once, at the first passage that matches it.

    Counting targets rather than chunks keeps the figure comparable between pipelines that cut the same text into
    different numbers of pieces.
    """
    found: set[int] = set()
    dcg = 0.0
    for rank, passage in enumerate(passages[:k], start=1):
        new = [i for i, g in enumerate(gold) if i not in found and gold_match(passage, g)]
        if new:
            found.update(new)
            dcg += 1 / math.log2(rank + 1)
    ideal = sum(1 / math.log2(rank + 1) for rank in range(1, min(len(_distinct_targets(gold)), k) + 1))
    return dcg / ideal if ideal else 0.0


def _distinct_targets(gold: Sequence[Gold]) -> list[Gold]:
    seen: list[Gold] = []
    for g in gold:
        if g not in seen:
            seen.append(g)
    return seen


def rank_metrics(rank: int | None, ndcg_value: float) -> dict[str, float]:
    """Per-question retrieval figures from the first gold rank."""
    return {
        "hit@1": float(rank is not None and rank <= 1),
        "hit@3": float(rank is not None and rank <= 3),
        "hit@5": float(rank is not None and rank <= 5),
        "mrr@10": 1 / rank if rank is not None and rank <= 10 else 0.0,
        "ndcg@10": ndcg_value,
    }


_WORD = re.compile(r"\w+")


def _norm(text: str) -> str:
    return " ".join(_WORD.findall(fold(text)))


def contains(text: str, keyword: str) -> bool:
    """Whole-word, case- and accent-insensitive containment ("clé primaire" is in "une Cle  primaire")."""
    needle = _norm(keyword)
    return bool(needle) and f" {needle} " in f" {_norm(text)} "


def keyword_recall(text: str, keywords: Sequence[str]) -> float:
    """Share of the keywords found in the text (1.0 when there is none to find)."""
    if not keywords:
        return 1.0
    return sum(contains(text, k) for k in keywords) / len(keywords)


def supports(passage: Passage, gold: Sequence[Gold], keywords: Sequence[str]) -> bool:
    """A citation is right when its passage is gold, or carries at least half of the answer's keywords."""
    return is_gold(passage, gold) or (bool(keywords) and keyword_recall(passage.text, keywords) >= 0.5)


def citation_scores(
    cited: Sequence[Passage], gold: Sequence[Gold], keywords: Sequence[str]
) -> tuple[float | None, float]:
    """(precision, recall) of one answer's citations: precision over what it cites (None when it cites nothing),
    recall 1.0 when at least one cited passage is gold."""
    if not cited:
        return None, 0.0
    right = sum(supports(p, gold, keywords) for p in cited)
    return right / len(cited), float(any(is_gold(p, gold) for p in cited))


# ------------------------------------------------------------------------------------------------ readability

_FENCE_LINE = re.compile(r"^\s*(?P<mark>`{3,}|~{3,})(?P<info>.*)$")
_INLINE_CODE = re.compile(r"(`+).+?\1")
_MARKUP = {
    "admonition": re.compile(
        r"(!!!|\?\?\?\+?)\s*[a-z-]+(\s+\"|\s*$)|^\s*(!!!|\?\?\?\+?)(\s|$)|===\+?\s*\"|^\s*:::|(^|\s)[?!]>\s",
        re.MULTILINE,
    ),
    "attribute list": re.compile(r"\{\s*:[^}\n]*\}|\{\s*[.#][\w-][^}\n]*\}|\{\s*[\w-]+=[^}\n]*\}"),
    "macro": re.compile(r"\{\{|\}\}|\{%|%\}"),
    "html tag": re.compile(r"</?[A-Za-z][\w-]*(\s+[\w-]+(=(\"[^\"]*\"|'[^']*'|[^\s>]+))?)*\s*/?>"),
    "image": re.compile(r"!\[[^\]]*\]\([^)]*\)"),
    "code option": re.compile(r"\b(linenums|hl_lines|title)=[\"']"),
    "console outside code": re.compile(r">>>"),
    "shortcode": re.compile(r"(?<![\w:/]):[a-z][a-z0-9_+-]*:(?![\w:/])|==\S[^=\n]*\S==|\+\+[\w+-]+\+\+"),
}
_NOT_PROSE = re.compile(r"^\s*([-*+]|\d{1,3}[.)])\s|^\s*\||^\s{0,3}#{1,6}\s")
_LABEL_LINE = re.compile(r"^\s*(\*\*[^*]+\*\*|\*[^*]+\*|_[^_]+_)[\s\w»«'’,.()-]*?(\s*\[\d+(,\s*\d+)*\])*\s*:?\s*$")
_TRAILING_CITATIONS = re.compile(r"(\s*\[\d{1,3}(\s*,\s*\d{1,3})*\])+\s*$")
_STOP = re.compile(r"[.!?…:;][\"»”)\]*_]*$")


def readability_issues(text: str) -> list[str]:
    """What makes an answer hard to read: markup syntax outside code, an unbalanced or optioned code fence, a
    sentence cut at either end of a paragraph. Empty when the answer reads well.

    Example:
        >>> readability_issues("Le but est d'échanger les valeurs de [1]")
        ['cut sentence: "Le but est d\'échanger les valeurs de [1]"']
    """
    issues: list[str] = []
    prose: list[str] = []
    fence: str | None = None
    for line in text.split("\n"):
        match = _FENCE_LINE.match(line)
        if fence is None and match:
            fence = match.group("mark")
            info = match.group("info").strip()
            if len(info.split()) > 1 or "=" in info or "{" in info:
                issues.append(f"code fence with options: {line.strip()!r}")
            prose.append("")
        elif fence is not None:
            if match and match.group("mark")[0] == fence[0] and len(match.group("mark")) >= len(fence):
                fence = None
        else:
            prose.append(_INLINE_CODE.sub("0", line))  # code may start a sentence in lowercase
    if fence is not None:
        issues.append("unbalanced code fence")
    outside = "\n".join(prose)
    for name, pattern in _MARKUP.items():
        found = pattern.search(outside)
        if found:
            issues.append(f"{name}: {found.group(0)!r}")
    for paragraph in re.split(r"\n\s*\n", outside):
        lines = [x for x in paragraph.split("\n") if x.strip() and not _NOT_PROSE.match(x)]
        lines = [x for x in lines if not _LABEL_LINE.match(x)]
        if not lines:
            continue
        last = _TRAILING_CITATIONS.sub("", lines[-1]).rstrip()
        head = lines[0].lstrip('*_«"( ')
        cut_start = bool(head) and head[0].isalpha() and head[0].islower() and not re.match(r"[b-xz]\b", head)
        if (last and not _STOP.search(last)) or cut_start:
            issues.append(f"cut sentence: {paragraph.strip()[:120]!r}")
    return issues


def readable(text: str) -> bool:
    return not readability_issues(text)


def readability(answers: Iterable[str]) -> float | None:
    """Share of the answers that read well (see :func:`readability_issues`), None without answers."""
    flags = [readable(a) for a in answers]
    return round(sum(flags) / len(flags), 4) if flags else None


def mean(values: Iterable[float | None]) -> float | None:
    """Mean of the defined values, None when there is none."""
    kept = [v for v in values if v is not None]
    return round(statistics.fmean(kept), 4) if kept else None


def latency(values_s: Sequence[float]) -> dict[str, float]:
    """p50/p95 in milliseconds."""
    if not values_s:
        return {}
    ms = [v * 1000 for v in values_s]
    return {"p50": round(percentile(ms, 50), 1), "p95": round(percentile(ms, 95), 1)}


def aggregate(rows: Sequence[Mapping[str, Any]], keys: Sequence[str]) -> dict[str, float | None]:
    """Mean of each key over the rows that define it."""
    return {key: mean(row.get(key) for row in rows) for key in keys}


def group_by(rows: Sequence[Mapping[str, Any]], key: Callable[[Mapping[str, Any]], str]) -> dict[str, list[Any]]:
    groups: dict[str, list[Any]] = {}
    for row in rows:
        groups.setdefault(key(row), []).append(row)
    return dict(sorted(groups.items()))
