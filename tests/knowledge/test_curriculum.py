"""The shipped curriculum: complete against the official programme, well-formed, and every code block runs."""

from __future__ import annotations

import re

import pytest

from evals.gold import load_questions, load_refusals
from knowledge.course_files import REQUIRED_SECTIONS, check_chapter, iter_chapters, load_programme

CHAPTERS = iter_chapters()
PROGRAMME = load_programme()
BY_ID = {c.chapter_id: c for c in CHAPTERS}
# Every rubric of both programmes has its data file.
THEMES = {
    "premiere": {
        "histoire",
        "types-de-base",
        "types-construits",
        "donnees-en-tables",
        "ihm-web",
        "architectures-os",
        "langages-programmation",
        "algorithmique",
    },
    "terminale": {
        "histoire",
        "structures-de-donnees",
        "bases-de-donnees",
        "architectures-reseaux",
        "langages-programmation",
        "algorithmique",
    },
}


def test_at_least_sixty_chapters_across_both_levels() -> None:
    assert len(CHAPTERS) >= 60
    assert {c.meta["level"] for c in CHAPTERS} == {"premiere", "terminale"}


def test_every_theme_of_the_programme_is_there_with_chapters() -> None:
    for level, themes in THEMES.items():
        assert {i["theme"] for i in PROGRAMME if i["level"] == level} == themes
        assert {c.chapter_id.split("/")[1] for c in CHAPTERS if c.meta["level"] == level} == themes


def test_every_capacity_is_served_by_a_chapter() -> None:
    served = {item for c in CHAPTERS for item in c.meta["programme_items"]}
    unserved = [f"{i['id']}: {i['capacite']}" for i in PROGRAMME if i["id"] not in served]
    assert not unserved
    ids = [i["id"] for i in PROGRAMME]
    assert len(ids) == len(set(ids))
    assert all(i["capacite"].strip() and i["contenu"].strip() for i in PROGRAMME)


def test_prerequisites_name_existing_chapters() -> None:
    dangling = {c.chapter_id: p for c in CHAPTERS for p in c.meta["prerequisites"] if p not in BY_ID}
    assert not dangling


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.chapter_id for c in CHAPTERS])
def test_chapter_is_complete_and_its_code_runs(chapter) -> None:  # type: ignore[no-untyped-def]
    ids = {i["id"] for i in PROGRAMME}
    assert check_chapter(chapter, ids) == []
    assert chapter.h2_sections == list(REQUIRED_SECTIONS)
    prose = re.sub(r"^```.*?^```", "", chapter.body, flags=re.DOTALL | re.MULTILINE)
    assert len(re.findall(r"^# ", prose, re.MULTILINE)) == 1


def test_gold_questions_point_at_real_headings() -> None:
    questions = load_questions()
    assert len(questions) >= 150
    assert len({q.id for q in questions}) == len(questions)
    assert sum(bool(q.history) for q in questions) >= 20  # follow-ups are part of the set
    for q in questions:
        assert 3 <= len(q.keywords) <= 6, q.id
        assert q.level in ("premiere", "terminale"), q.id
        assert q.answer.strip(), q.id
        for gold in q.gold:
            chapter = BY_ID.get(gold["chapter"])
            assert chapter is not None, (q.id, gold)
            headings = {m.group(1).strip() for m in re.finditer(r"^#{2,4} (.+)$", chapter.body, re.MULTILINE)}
            assert gold["section"] in headings, (q.id, gold)


def test_refusal_cases_cover_every_category() -> None:
    cases = load_refusals()
    refused = [c for c in cases if c["expected"] == "refuse"]
    assert len(refused) >= 25
    assert {c["category"] for c in refused} == {"hors_sujet", "triche", "injection", "donnees_personnelles"}
    assert sum(c["expected"] == "answer" for c in cases) >= 10  # in-scope look-alikes that must not be refused
