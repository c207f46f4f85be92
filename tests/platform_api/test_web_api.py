"""The endpoints the web app added: citation sources, ARIA topics of a class, the admin system status, the pages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from evals.pdf_fixtures import handout_pdf
from knowledge.search import merge_chunks
from platform_api.core import system
from tests.platform_api.conftest import Api
from tests.platform_api.test_documents import upload, wait_ready

PILES = "terminale/structures-de-donnees/piles"


def test_merge_chunks_drops_overlaps_and_keeps_each_chunks_span() -> None:
    text = "Une pile est LIFO. On empile et on dépile. Le sommet est le dernier."
    a, b, c = (0, 42), (19, 53), (54, len(text))
    chunks = [{"text": text[s:e], "start": s, "end": e, "section_path": ["Cours"]} for s, e in (a, b, c)]
    merged, spans = merge_chunks(chunks)
    assert merged == text[:53] + "\n\n" + text[54:]
    assert [merged[s:e] for s, e in spans] == [text[s:e] for s, e in (a, b, c)]
    headed, _ = merge_chunks(
        [{**chunks[0], "section_path": ["Cours", "Définition"]}, {**chunks[2], "section_path": ["Cours", "Sommet"]}],
        depth=1,
    )
    assert headed.startswith("### Définition\n\n")
    assert "\n\n### Sommet\n\n" in headed


def test_a_citation_opens_its_section_with_the_passage_located(clean_api: Api) -> None:
    api = clean_api
    student = api.user("student")
    answer = api.post("/api/aria/chat", as_=student, json={"message": "C'est quoi une pile ?"}).json()
    cited = next(s for s in answer["sources"] if s["doc_id"] == PILES)
    params: dict[str, Any] = {"docId": PILES, "section": cited["section_path"][:1], "snippet": cited["snippet"]}
    view = api.get("/api/aria/sources", as_=student, params=params)
    assert view.status_code == 200, view.text
    body = view.json()
    assert body["title"] == cited["title"]
    assert body["sectionPath"] == cited["section_path"][:1]
    start, end = body["highlight"]
    located = " ".join(body["text"][start:end].split())
    assert located.startswith(cited["snippet"].rstrip("…").strip()[:100])
    missing = api.get("/api/aria/sources", as_=student, params={"docId": "nulle/part"})
    assert missing.status_code == 404
    assert missing.json()["error"] == "source_not_found"
    assert api.get("/api/aria/sources", params={"docId": PILES}).status_code == 401


def test_a_class_document_opens_at_its_page_for_the_class_only(clean_api: Api) -> None:
    api = clean_api
    teacher = api.user("teacher")
    klass = api.post("/api/classes", as_=teacher, json={"name": "Tle A"}).json()
    member, outsider = api.user("student"), api.user("student")
    api.post("/api/classes/join", as_=member, json={"joinCode": klass["joinCode"]})
    doc = upload(api, teacher, "fiche.pdf", handout_pdf()[0], visibility="class", classIds=klass["id"]).json()
    assert wait_ready(api, teacher, doc["id"])["status"] == "succeeded"

    page = api.get("/api/aria/sources", as_=member, params={"docId": doc["id"], "page": 1})
    assert page.status_code == 200, page.text
    assert page.json()["page"] == 1
    assert "récursive" in page.json()["text"]
    assert api.get("/api/aria/sources", as_=member, params={"docId": doc["id"], "page": 99}).status_code == 404
    assert api.get("/api/aria/sources", as_=outsider, params={"docId": doc["id"], "page": 1}).status_code == 404
    assert api.get("/api/aria/sources", as_=teacher, params={"docId": doc["id"]}).status_code == 200


def test_the_class_dashboard_says_what_the_class_asks_aria(clean_api: Api) -> None:
    api = clean_api
    teacher = api.user("teacher")
    klass = api.post("/api/classes", as_=teacher, json={"name": "Tle B"}).json()
    student, stranger = api.user("student"), api.user("student")
    api.post("/api/classes/join", as_=student, json={"joinCode": klass["joinCode"]})
    for question in ("C'est quoi une pile ?", "Comment dépiler une pile ?"):
        api.post("/api/aria/chat", as_=student, json={"message": question})
    api.post("/api/aria/chat", as_=stranger, json={"message": "C'est quoi une pile ?"})
    board = api.get(f"/api/dashboard/classes/{klass['id']}", as_=teacher).json()
    assert board["ariaQuestions"] == 2  # the stranger's question is not the class's
    assert board["ariaTopics"][0]["questions"] >= 1
    assert sum(t["questions"] for t in board["ariaTopics"]) == 2
    assert "content" not in json.dumps(board["ariaTopics"])  # counts and titles, never a student's words


def test_system_status_is_for_admins_and_shows_the_latest_eval(
    clean_api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = clean_api
    report = {"dataset": "curriculum", "date": "2026-11-20", "questions": 10, "metrics": {"retrieval.hit@5": 0.9}}
    (tmp_path / "eval-curriculum.json").write_text(json.dumps({**report, "rows": [1, 2]}))
    monkeypatch.setattr(system, "EVAL_RESULTS", tmp_path)
    assert api.get("/api/system/status", as_=api.user("teacher")).status_code == 403
    status = api.get("/api/system/status", as_=api.user("admin")).json()
    assert status["checks"]["database"] == "ok"
    assert set(status) >= {"jobCounts", "recentJobs", "chunks"}
    assert status["evals"] == [{**report, "file": "eval-curriculum.json"}]


def test_pages_and_assets_are_served_with_a_strict_policy(clean_api: Api) -> None:
    client = clean_api.client
    for path in ("/", "/connexion", "/inscription", "/reinitialiser-mot-de-passe", "/aria", "/eleve", "/quiz/x"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert 'lang="fr"' in page.text
        csp = page.headers["content-security-policy"]
        assert "script-src 'self';" in csp
        assert "unsafe-inline" not in csp
        assert "<script>" not in page.text  # no inline script anywhere
    for asset in (
        "/static/js/main.js",
        "/static/vendor/marked/marked.esm.js",
        "/static/vendor/dompurify/purify.min.js",
    ):
        assert client.get(asset).status_code == 200, asset
    assert "default-src 'none'" in client.get("/api/auth/me").headers["content-security-policy"]
