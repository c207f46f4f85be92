"""The extractive backend on hand-made passages in teachers' styles (no model, no store): what it answers with."""

from __future__ import annotations

import re

import pytest

from evals.metrics import readability_issues
from knowledge.search import SearchHit
from tutor.backends import AnswerRequest, ExtractiveBackend
from tutor.types import LearnerProfile, Role

SWAP_COURSE = """L'affectation `a = b` copie la valeur de `b` dans `a` : l'ancienne valeur de `a` est perdue. Le but est
d'échanger les valeurs de `a` et `b`.

!!! danger "Erreur classique"
    Écrire `a = b` puis `b = a` ne marche pas : les deux variables valent alors l'ancienne valeur de `b`.

Python permet l'affectation multiple, qui échange deux valeurs en une ligne :

```python linenums="1" title="echange.py"
a, b = 3, 5
a, b = b, a
print(a, b)   # 5 3
```
"""
VARIABLE_COURSE = """!!! abstract "Définition"
    Une **variable** est un nom qui désigne une valeur rangée en mémoire.{: .center}

![image](data/boite.png){: .center width=40%}

On choisit des noms de variables qui disent ce qu'elles contiennent.
"""
EXERCISE = "Écrire une fonction `echange(t, i, j)` qui échange les cases `i` et `j` du tableau `t`."
ANSWER_KEY = """```python
def echange(t, i, j):
    t[i], t[j] = t[j], t[i]
```"""


def hit(text: str, section: str, kind: str = "cours", title: str = "Variables et affectation") -> SearchHit:
    return SearchHit(
        f"id-{section}",
        0.9,
        "premiere/variables",
        "variables.md",
        title,
        ["Cours", section],
        None,
        text,
        {"content_type": kind},
    )


def ask(question: str, hits: list[SearchHit], role: Role = "student", hints_only: bool = False) -> str:
    profile = LearnerProfile(role=role, level="premiere")
    request = AnswerRequest(question, question, profile, hits, hints_only=hints_only)
    return ExtractiveBackend().compose(request)


HITS = [hit(SWAP_COURSE, "Échanger deux variables"), hit(VARIABLE_COURSE, "Qu'est-ce qu'une variable ?")]


def test_how_questions_get_the_code_that_shows_how_whole_and_clean() -> None:
    answer = ask("j'ai fait a = b puis b = a et ça marche pas, comment on fait ?", HITS)
    assert "```python\na, b = 3, 5\na, b = b, a\nprint(a, b)   # 5 3\n```" in answer
    assert answer.startswith("Voici ce que dit ton cours sur « Échanger deux variables »")
    assert "ne marche pas" in answer  # the pitfall, without its admonition marker
    assert readability_issues(answer) == []
    assert re.search(r"\[1\]", answer)


def test_what_questions_lead_with_the_definition() -> None:
    answer = ask("c'est quoi une variable ?", HITS[::-1])
    assert answer.startswith(
        "D'après ton cours : Une **variable** est un nom qui désigne une valeur rangée en mémoire. [1]"
    )
    assert "boite.png" not in answer
    assert readability_issues(answer) == []


def test_a_student_asking_about_an_exercise_gets_the_method_not_the_answer_key() -> None:
    hits = [
        hit(EXERCISE, "Exercice 3", "exercice"),
        hit(ANSWER_KEY, "Corrigé de l'exercice 3", "corrige"),
        hit(SWAP_COURSE, "Échanger deux variables"),
    ]
    question = "je bloque sur l'exercice 3, comment on échange deux cases du tableau ?"
    student = ask(question, hits)
    assert "t[i], t[j] = t[j], t[i]" not in student
    assert "[2]" not in student  # the answer key is not even cited
    assert "a, b = b, a" in student  # the course's method
    assert "indice" in student
    assert readability_issues(student) == []
    teacher = ask(question, hits, role="teacher")
    assert "t[i], t[j] = t[j], t[i]" in teacher


def test_parents_get_prose_and_hints_only_students_get_no_code() -> None:
    parent = ask("comment on échange deux variables ?", HITS, role="parent")
    assert "```" not in parent
    assert "votre enfant" in parent
    hints = ask("comment on échange deux variables ?", HITS, hints_only=True)
    assert "pistes" in hints
    assert "```" not in hints
    assert readability_issues(parent) == readability_issues(hints) == []


@pytest.mark.parametrize("question", ["c'est quoi une variable ?", "comment échanger a et b ?", "pk ça plante ?"])
def test_answers_are_deterministic(question: str) -> None:
    assert ask(question, HITS) == ask(question, HITS)
