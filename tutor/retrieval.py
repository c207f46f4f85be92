"""Retrieval policy: who may see what, level first, follow-ups condensed, a small diverse context, confidence.

The access scope comes from the learner profile (the authenticated user), never from the message.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath

from knowledge.search import KnowledgeBase, SearchHit, SearchScope, merge_chunks
from knowledge.text import analyze, fold, normalize_query
from tutor.config import TutorSettings
from tutor.types import ChatContext, LearnerProfile, Turn

MAX_CHUNKS_PER_PASSAGE = 3  # chunks of one section merged into one passage
# A question answered by a course explanation is better served by it than by an exercise statement or an answer key
# on the same notion: those are ranked as if this many places lower, unless the question is about an exercise ("l'exo
# 3 du bac blanc"). A soft prior: a fused second ranking without them pushed every exercise below every explanation.
EXERCISE_DEMOTION = 6
# Read on the normalised query, where "exo" is already "exercice".
_EXERCISE = re.compile(r"\b(exercices?|corrige\w*|corrections?|solutions?|sujets?|bac|annales?|devoirs?|td|tp)\b")
# A teacher's document counts as named by a question holding this share of its title's and file name's terms
# (weighted by rarity): "dans le diapo sur les files" names "Les files — diaporama" (diaporama-files.pdf).
NAMED_SHARE = 0.5
# Words that point at the course material rather than at a notion ("dans le chapitre sur les piles", "la fiche du
# prof"): left out of the keyword search, where they match any passage that happens to say "chapitre" or "cours".
_MATERIAL = re.compile(
    r"\b(chapitres?|cours|le[cç]ons?|profs?|professeure?s?|fiches?|diaporamas?|diapos?|slides?|polys?|polycopi[ée]s?|"
    r"manuels?)\b",
    re.IGNORECASE,
)

# Words of a follow-up that ask for more of the same topic rather than name a new one.
_GENERIC = set(
    analyze(
        "exemple exemples autrement autre encore détail détaillé simple simplement exercice exercices corrigé "
        "correction plus moins mieux rapport différence pareil même chose cas suite continue résume résumé "
        "pourquoi vraiment sûr code marche fonctionne donne donner montre montrer fais faire sert servir utilise "
        "utiliser utilité sert aide besoin refais refaire reformule reformuler"
    )
)
_FOLLOW_UP_START = re.compile(
    r"^\s*(et|mais|alors|donc|ok|d'accord|daccord|pourquoi|comment ça|comment ca|pareil|idem|du coup|sinon|"
    r"et si|encore|aussi|plus simple|autrement|un exemple|un autre|une autre|un exercice)\b",
    re.IGNORECASE,
)
_REFERENCE = re.compile(
    r"\b(ça|ca|cela|ceci|lui|elle|elles|eux|il|ils|celui|celle|ceux|celles|celui-ci|celle-ci|le même|la même|"
    r"pareil|idem|l'utilise\w*|l'utiliser|le faire|la faire|les faire|dedans|dessus)\b",
    re.IGNORECASE,
)
# "et pour une file ?": the same question about another notion.
_SWITCH = re.compile(
    r"^\s*(et|mais)\s+(pour|avec|en|dans|sur|si c'est|si c.est|concernant)?\s*"
    r"(un|une|le|la|les|l'|des|du)\b",
    re.IGNORECASE,
)


def condense(question: str, history: Sequence[Turn]) -> str:
    """A standalone query for a follow-up question, by rules (the LLM backend may do better).

    "et pour une file ?" after "c'est quoi une pile ?" becomes "et pour une file ? c'est quoi une": the new topic
    with the previous question's form; "donne un exemple" becomes the previous question plus the request.
    """
    previous = next((t.content for t in reversed(history) if t.role == "user"), None)
    if previous is None:
        return question
    topical = [t for t in analyze(question) if t not in _GENERIC]
    refers = bool(_REFERENCE.search(question))
    if not topical:  # "donne un exemple", "explique autrement": more of the same topic
        return f"{previous} {question}"
    if _SWITCH.search(question) and not refers and len(topical) <= 2:
        form = " ".join(w for w in re.findall(r"[\w'’-]+", previous) if not analyze(w))
        return f"{question} {form}".strip()
    if refers or _FOLLOW_UP_START.search(question) or len(topical) <= 1:
        return f"{question} {previous}"  # new words, same topic
    return question


@dataclass
class Retrieved:
    """The passages an answer may use, and how much to trust them."""

    hits: list[SearchHit]
    query: str
    confidence: float
    out_of_level: bool = False
    timings: dict[str, float] = field(default_factory=dict)


def scope_for(profile: LearnerProfile) -> SearchScope:
    """The access scope of a learner: public material, their classes, their own uploads; admins see all."""
    if profile.role == "admin":
        return SearchScope(unrestricted=True)
    hidden = profile.hidden_doc_ids if profile.role in ("student", "parent") else ()
    return SearchScope(user_id=profile.user_id, class_ids=profile.class_ids, hidden_answer_docs=hidden)


class TermStats:
    """Document frequencies of the corpus' terms, to weigh a query's terms by rarity.

    Computed by scrolling the store once, then again when the number of chunks has changed by more than 10 %.
    """

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self._lock = threading.Lock()
        self._df: dict[str, int] = {}
        self._n = 0

    def _refresh(self) -> None:
        count = self.kb.store.count()
        if self._n and abs(count - self._n) <= 0.1 * self._n:
            return
        df: dict[str, int] = {}
        n = 0
        for payload in self.kb.store.scroll():
            n += 1
            text = " ".join(
                [str(payload.get("title", "")), *payload.get("section_path", []), str(payload.get("text", ""))]
            )
            for term in set(analyze(text)):
                df[term] = df.get(term, 0) + 1
        self._df, self._n = df, max(n, 1)

    def idf(self, term: str) -> float:
        with self._lock:
            self._refresh()
            return math.log(1 + self._n / (self._df.get(term, 0) + 1))


class Retriever:
    """Hybrid retrieval with ARIA's policy on top of the knowledge base.

    Args:
        kb: the knowledge base.
        settings: retrieval sizes and budgets.

    Example:
        >>> retriever = Retriever(kb, TutorSettings())
        >>> retriever.retrieve("c'est quoi une pile ?", LearnerProfile(role="student", level="terminale")).hits[0].title
        'Les piles'
    """

    def __init__(self, kb: KnowledgeBase, settings: TutorSettings | None = None) -> None:
        self.kb = kb
        self.settings = settings or TutorSettings()
        self.terms = TermStats(kb)

    def retrieve(
        self,
        question: str,
        profile: LearnerProfile,
        history: Sequence[Turn] = (),
        context: ChatContext | None = None,
    ) -> Retrieved:
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        query = normalize_query(condense(question, history))
        dense = self.kb.embedder.embed_query(query)
        timings["embed"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        k = self.settings.retrieval_k
        scope = scope_for(profile)
        pool = 3 * k
        words = _MATERIAL.sub(" ", query)  # what the question asks about, for the keyword side
        hits = self.kb.search_vectors(words, dense, pool, scope)
        out_of_level = False
        if profile.level == "premiere":
            premiere = replace(scope, levels=("premiere",))
            own = self.kb.search_vectors(words, dense, pool, premiere)
            best_all, best_own = self._best_cosine(dense, scope), self._best_cosine(dense, premiere)
            # Première material first, unless only Terminale material really answers the question.
            if own and best_own + 0.015 >= best_all:
                hits, scope = own, premiere
            elif hits and "premiere" not in hits[0].payload.get("level", []):
                out_of_level = True
        if not _EXERCISE.search(fold(query)):  # explanations before exercise statements and answer keys
            hits = _demote_exercises(hits)
        named = self.named_documents(query, hits)
        if named:
            hits = _fuse(hits, self.kb.search_vectors(words, dense, k, replace(scope, doc_ids=named)), weight=1.0)
        if context and context.current_course:
            boosted = self.kb.search_vectors(words, dense, k, replace(scope, courses=(context.current_course,)))
            hits = _fuse(hits, boosted, weight=1.0)
        timings["search"] = time.perf_counter() - t0
        selected = self.select(hits, k)
        confidence = self.confidence(query, dense, selected, scope)
        return Retrieved(selected, query, confidence, out_of_level, timings)

    def named_documents(self, query: str, hits: Sequence[SearchHit]) -> tuple[str, ...]:
        """Documents among ``hits`` that the question names by their title or file name ("dans le diapo sur les
        files", "le sujet de bac blanc"): most of the weight of the name's terms, rare terms weighing more."""
        asked = set(analyze(query))
        named: list[str] = []
        for hit in hits:
            if hit.doc_id in named or hit.payload.get("source_kind") == "curriculum":
                continue
            stem = PurePosixPath(hit.source).stem.replace("-", " ").replace("_", " ")
            name = set(analyze(f"{hit.title} {stem}"))
            if not name or not asked & name:
                continue
            weights = {t: self.terms.idf(t) for t in name}
            if sum(weights[t] for t in name & asked) >= NAMED_SHARE * sum(weights.values()):
                named.append(hit.doc_id)
        return tuple(named)

    def _best_cosine(self, dense: list[float], scope: SearchScope) -> float:
        top = self.kb.store.dense_search(dense, scope.to_filter(), 1)
        return top[0].score if top else 0.0

    def select(self, hits: Sequence[SearchHit], k: int) -> list[SearchHit]:
        """At most ``k`` passages, three per document, within the token budget; duplicates dropped.

        Chunks of one section (and page) are merged into a single passage in reading order, up to three: the
        answer reads the section's continuation, a citation names the section once, and the chunks do not take
        the places of other sections.
        """
        groups: dict[tuple[str, tuple[str, ...], int | None], list[SearchHit]] = {}
        per_doc: dict[str, int] = {}
        seen_text: set[str] = set()
        budget = self.settings.context_tokens
        for hit in hits:
            key = (hit.doc_id, tuple(hit.section_path), hit.page)
            norm = " ".join(hit.text.split())[:200]
            group = groups.get(key)
            if norm in seen_text or (group is None and (len(groups) == k or per_doc.get(hit.doc_id, 0) >= 3)):
                continue
            if group is not None and len(group) >= MAX_CHUNKS_PER_PASSAGE:
                continue
            cost = self.kb.embedder.count_tokens(hit.text)
            if groups and cost > budget:
                continue
            seen_text.add(norm)
            budget -= cost
            if group is None:
                groups[key] = [hit]
                per_doc[hit.doc_id] = per_doc.get(hit.doc_id, 0) + 1
            else:
                group.append(hit)
        return [_merge(group) for group in groups.values()]

    def confidence(self, query: str, dense: list[float], hits: Sequence[SearchHit], scope: SearchScope) -> float:
        """From retrieval evidence: semantic closeness, the query's terms (weighted by rarity) found in the passages,
        agreement between the dense and the hybrid rankings."""
        if not hits:
            return 0.0
        top_dense = self.kb.store.dense_search(dense, scope.to_filter(), 3)
        low, high = self.kb.embedder.similarity_range
        cosine = top_dense[0].score if top_dense else 0.0
        semantic = min(1.0, max(0.0, (cosine - low) / (high - low)))
        terms = set(analyze(query))
        found: set[str] = set()
        for hit in hits[:3]:
            found |= set(analyze(" ".join([hit.title, *hit.section_path, hit.text])))
        weights = {t: self.terms.idf(t) for t in terms}  # a rare term missing weighs more than a common one found
        lexical = sum(weights[t] for t in terms & found) / sum(weights.values()) if terms else 0.5
        agreement = 1.0 if top_dense and top_dense[0].id in {h.id for h in hits[:3]} else 0.0
        return round(0.5 * semantic + 0.35 * lexical + 0.15 * agreement, 3)


def _merge(group: Sequence[SearchHit]) -> SearchHit:
    """One passage from chunks of the same section: their texts in reading order without overlaps, the best
    chunk's rank and score, the offsets of the whole."""
    best = group[0]
    if len(group) == 1:
        return best
    chunks = sorted((h.payload | {"text": h.text} for h in group), key=lambda c: int(c.get("start") or 0))
    text, _ = merge_chunks(chunks)
    payload = best.payload | {
        "start": min(int(c.get("start") or 0) for c in chunks),
        "end": max(int(c.get("end") or 0) for c in chunks),
        "chunk_ids": [h.id for h in group],
    }
    return replace(best, text=text, payload=payload)


def _demote_exercises(hits: Sequence[SearchHit]) -> list[SearchHit]:
    """Exercise statements and answer keys moved ``EXERCISE_DEMOTION`` places down (a stable sort)."""
    exercise = ("exercice", "corrige")
    place = {
        h.id: i + (EXERCISE_DEMOTION if h.payload.get("content_type") in exercise else 0) for i, h in enumerate(hits)
    }
    return sorted(hits, key=lambda h: place[h.id])


def _fuse(main: list[SearchHit], extra: list[SearchHit], weight: float, k: int = 60) -> list[SearchHit]:
    """Reciprocal rank fusion of two result lists, ``extra`` weighted down."""
    scores: dict[str, float] = {}
    by_id: dict[str, SearchHit] = {}
    for w, hits in ((1.0, main), (weight, extra)):
        for rank, hit in enumerate(hits):
            scores[hit.id] = scores.get(hit.id, 0.0) + w / (k + rank + 1)
            by_id.setdefault(hit.id, hit)
    return sorted(by_id.values(), key=lambda h: scores[h.id], reverse=True)
