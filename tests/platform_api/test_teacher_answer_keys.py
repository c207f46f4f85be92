"""Issue 15 (answer keys hidden only under a recognised heading) and issue 12 §1 (what a block is): the answer keys
of teachers' own files — a ``## Réponses`` section, a ``??? success "Correction"`` block, a
``{{ correction(True, ...) }}`` macro, the text after a ``Corrigé :`` line of a TXT, a ``correction.md`` file —
are hidden from a student while an assessment using the file is open, like the curriculum's ``## Corrigés``."""

from __future__ import annotations

from typing import Any

from tests.platform_api.conftest import Api
from tests.platform_api.test_access_hardening import _class
from tests.platform_api.test_documents import upload, wait_ready

MKDOCS = '''# Les listes chaînées

## Cours

Une liste chaînée zorglub relie chaque maillon au suivant.

## Exercices

Écrire la fonction `longueur` d'une liste chaînée zorglub.

!!! question "Exercice 2"
    Quelle est la complexité de l'accès au dernier maillon zorglub ?

??? success "Correction"
    Le parcours complet zorglub coûte CLEFMKDOCS en O(n).

{{ correction(True, """
On compte les maillons un par un : CLEFMACRO.
""") }}

## Réponses

1. `longueur` renvoie CLEFREPONSES en parcourant la liste.
'''
TXT = """Devoir sur les files zorglub

Exercice 1
Quelle structure zorglub suit le principe FIFO ?

Corrigé :
La file zorglub suit le principe CLEFTXT.
"""
CORRECTION = "# TP zorglub\n\n## Question 1\n\nLe tri zorglub est CLEFFICHIER.\n"
KEYS = ("CLEFMKDOCS", "CLEFMACRO", "CLEFREPONSES", "CLEFTXT", "CLEFFICHIER")


def _sources(api: Api, who: Any, doc_id: str) -> str:
    view = api.get("/api/aria/sources", as_=who, params={"docId": doc_id})
    return "" if view.status_code == 404 else str(view.json()["text"])


def test_teachers_answer_keys_stay_hidden_while_the_assessment_is_open(clean_api: Api) -> None:
    api = clean_api
    teacher, student, _, class_id = _class(api)
    docs = []
    for name, text in (("listes.md", MKDOCS), ("devoir.txt", TXT), ("correction.md", CORRECTION)):
        created = upload(api, teacher, name, text.encode(), visibility="class", classIds=class_id)
        assert created.status_code == 202, created.text
        assert wait_ready(api, teacher, created.json()["id"])["status"] == "succeeded"
        docs.append(created.json()["id"])
    before = " ".join(_sources(api, student, d) for d in docs)
    assert all(key in before for key in KEYS)  # no assessment yet: the student reads them
    assert "{{" not in before
    assert "!!!" not in before
    assert "???" not in before
    exam = {"title": "DS", "type": "exam", "classId": class_id, "documentIds": docs, "questions": []}
    created = api.post("/api/assessments", as_=teacher, json=exam)
    assert created.status_code == 201, created.text

    during = " ".join(_sources(api, student, d) for d in docs)
    assert not [key for key in KEYS if key in during]
    assert "Quelle est la complexité" in during  # the exercises stay readable
    assert "Quelle structure zorglub" in during
    assert "relie chaque maillon" in during
    chat = api.post("/api/aria/chat", as_=student, json={"message": "réponse de l'exercice zorglub corrigé"}).json()
    cited = " ".join(s["snippet"] for s in chat["sources"]) + chat["response"]
    assert not [key for key in KEYS if key in cited]
    assert all(key in " ".join(_sources(api, teacher, d) for d in docs) for key in KEYS)  # the teacher still does

    closed = api.patch(
        f"/api/assessments/{created.json()['id']}",
        as_=teacher,
        json={"opensAt": "2020-01-01T00:00:00Z", "closesAt": "2020-01-02T00:00:00Z"},
    )
    assert closed.status_code == 200, closed.text
    after = " ".join(_sources(api, student, d) for d in docs)
    assert all(key in after for key in KEYS)
