"""Issue 15 regressions: answer keys while an assessment is open, corrections between attempts, documents attached
to an assessment, and inputs that used to answer 500."""

from __future__ import annotations

from typing import Any

from tests.platform_api.conftest import Api
from tests.platform_api.test_documents import upload, wait_ready

CHAPTER = "premiere/algorithmique/tri-par-insertion"
COURSE = "premiere-algorithmique"
DOC = (
    "# Les files de Mme Durand\n\n## Cours\n\nUne file zorglub est FIFO.\n\n"
    "## Exercices\n\n### Exercice 1\n\nQuelle est la complexité amortie de défiler zorglub ?\n\n"
    "### Corrigé\n\nLa complexité amortie de défiler zorglub est en O(1).\n"
)
QUIZ = [
    {"id": f"q{i}", "type": "single_choice", "prompt": f"Question {i}", "options": ["a", "b", "c"], "answer": i % 3}
    for i in range(3)
]


def _class(api: Api) -> tuple[Any, Any, Any, str]:
    teacher, student, parent = api.user("teacher"), api.user("student", level="premiere"), api.user("parent")
    klass = api.post("/api/classes", as_=teacher, json={"name": "1re NSI"}).json()
    api.post("/api/classes/join", as_=student, json={"joinCode": klass["joinCode"]})
    code = api.get("/api/users/me/parent-code", as_=student).json()["parentCode"]
    assert api.post("/api/users/me/children", as_=parent, json={"parentCode": code}).status_code == 201
    return teacher, student, parent, klass["id"]


def _answer_key_sections(course: dict[str, Any]) -> list[str]:
    chapter = next(c for c in course["content"]["chapters"] if c["id"] == CHAPTER)
    return [s["title"] for s in chapter["sections"] if "Corrig" in s["title"] or "Corrigé de" in s["content"]]


def test_answer_keys_stay_hidden_everywhere_until_the_assessment_closes(clean_api: Api) -> None:
    api = clean_api
    teacher, student, parent, class_id = _class(api)
    doc = upload(api, teacher, "files.md", DOC.encode(), visibility="class", classIds=class_id).json()
    assert wait_ready(api, teacher, doc["id"])["status"] == "succeeded"
    assert _answer_key_sections(api.get(f"/api/courses/{COURSE}", as_=student).json())
    # a draft, not even published: its documents' answer keys are hidden from the moment they are attached
    exam = {
        "title": "DS",
        "type": "exam",
        "classId": class_id,
        "documentIds": [doc["id"], CHAPTER],
        "questions": [{"type": "numeric", "prompt": "?", "answer": 1}],
    }
    created = api.post("/api/assessments", as_=teacher, json=exam)
    assert created.status_code == 201, created.text
    whole = api.get("/api/aria/sources", as_=student, params={"docId": doc["id"]}).json()
    assert "O(1)" not in whole["text"]
    assert "Quelle est la complexité" in whole["text"]
    key = api.get("/api/aria/sources", as_=student, params={"docId": doc["id"], "section": ["Exercices", "Corrigé"]})
    assert key.status_code == 404
    for who in (student, parent):  # course pages of the chapter, for the student and their parent
        assert _answer_key_sections(api.get(f"/api/courses/{COURSE}", as_=who).json()) == []
        chat = api.post("/api/aria/chat", as_=who, json={"message": "Corrigé de l'exercice sur le tri par insertion"})
        assert not any(
            s["doc_id"] == CHAPTER
            and "Corrig" in " ".join(s["sectionPath"] if "sectionPath" in s else s["section_path"])
            for s in chat.json()["sources"]
        )
    # the public search, without an account, hides them too; the teacher still sees them
    public = api.client.get("/api/search", params={"q": "corrigé de l'exercice tri par insertion", "k": 20}).json()
    assert not any(h["doc_id"] == CHAPTER and "Corrig" in " ".join(h["section_path"]) for h in public)
    assert _answer_key_sections(api.get(f"/api/courses/{COURSE}", as_=teacher).json())
    # closed: everything is back
    closed = api.patch(
        f"/api/assessments/{created.json()['id']}",
        as_=teacher,
        json={"opensAt": "2020-01-01T00:00:00Z", "closesAt": "2020-01-02T00:00:00Z"},
    )
    assert closed.status_code == 200, closed.text
    assert _answer_key_sections(api.get(f"/api/courses/{COURSE}", as_=student).json())
    assert "O(1)" in api.get("/api/aria/sources", as_=student, params={"docId": doc["id"]}).json()["text"]


def test_corrections_wait_until_the_last_attempt(clean_api: Api) -> None:
    api = clean_api
    teacher, student, parent, class_id = _class(api)
    quiz = {"title": "QCM", "type": "quiz", "classId": class_id, "published": True, "maxAttempts": 2, "questions": QUIZ}
    quiz_id = api.post("/api/assessments", as_=teacher, json=quiz).json()["id"]
    first = api.post(f"/api/assessments/{quiz_id}/attempts", as_=student).json()
    done = api.post(f"/api/attempts/{first['id']}/submit", as_=student, json={"answers": {"q0": 1}}).json()
    assert done["score"] == 0.0
    assert done["corrections"] is None
    assert done["grades"] is None
    assert done["correctionsWithheld"] is True
    assert api.get(f"/api/attempts/{first['id']}", as_=parent).json()["corrections"] is None
    assert api.get("/api/dashboard/student", as_=student).json()["weakSpots"]["questions"] == []
    assert api.get(f"/api/attempts/{first['id']}", as_=teacher).json()["corrections"]  # the teacher sees them
    second = api.post(f"/api/assessments/{quiz_id}/attempts", as_=student).json()
    last = api.post(f"/api/attempts/{second['id']}/submit", as_=student, json={"answers": {"q0": 0}}).json()
    assert [c["answer"] for c in last["corrections"]] == [0, 1, 2]
    assert api.get(f"/api/attempts/{first['id']}", as_=student).json()["corrections"]


def test_a_teacher_attaches_only_documents_they_may_see(clean_api: Api) -> None:
    api = clean_api
    teacher, other = api.user("teacher"), api.user("teacher")
    mine = api.post("/api/classes", as_=teacher, json={"name": "A"}).json()["id"]
    theirs = api.post("/api/classes", as_=other, json={"name": "B"}).json()["id"]
    secret = upload(api, other, "ds.md", DOC.encode(), visibility="class", classIds=theirs).json()["id"]
    own = upload(api, teacher, "mien.md", DOC.encode(), visibility="private").json()["id"]
    base = {"title": "DS", "type": "exam", "classId": mine, "questions": []}
    for ids in ([secret], ["n-existe-pas"], [own, secret]):
        refused = api.post("/api/assessments", as_=teacher, json={**base, "documentIds": ids})
        assert refused.status_code == 404, refused.text
        assert refused.json()["error"] == "document_not_found"
    ok = api.post("/api/assessments", as_=teacher, json={**base, "documentIds": [own, CHAPTER, own]})
    assert ok.status_code == 201, ok.text
    assert ok.json()["documentIds"] == [own, CHAPTER]
    patched = api.patch(f"/api/assessments/{ok.json()['id']}", as_=teacher, json={"documentIds": [secret]})
    assert patched.status_code == 404


def test_inputs_that_used_to_answer_500(clean_api: Api) -> None:
    api = clean_api
    teacher, student, _, class_id = _class(api)
    admin = api.user("admin")
    for url, who in (("/api/courses", student), ("/api/users", admin)):
        huge = api.get(url, as_=who, params={"page": 9223372036854775808})
        assert huge.status_code == 422
        assert huge.json()["error"] == "validation_error"
        assert huge.json()["fields"]
    quiz = {"title": "QCM", "type": "quiz", "classId": class_id, "published": True, "questions": QUIZ}
    quiz_id = api.post("/api/assessments", as_=teacher, json=quiz).json()["id"]
    for field in ("title", "maxAttempts", "questions", "documentIds"):
        nulled = api.patch(f"/api/assessments/{quiz_id}", as_=teacher, json={field: None})
        assert nulled.status_code == 422, (field, nulled.text)
    cleared = api.patch(f"/api/assessments/{quiz_id}", as_=teacher, json={"description": None})
    assert cleared.status_code == 200
    assert cleared.json()["description"] == ""
    attempt = api.post(f"/api/assessments/{quiz_id}/attempts", as_=student).json()
    body = '{"answers": {"q0": 1e999}}'
    saved = api.client.put(
        f"/api/attempts/{attempt['id']}/answers",
        headers={**api.auth(student), "Content-Type": "application/json"},
        content=body,
    )
    assert saved.status_code == 422
    submitted = api.client.post(
        f"/api/attempts/{attempt['id']}/submit",
        headers={**api.auth(student), "Content-Type": "application/json"},
        content='{"answers": {"q1": NaN}}',
    )
    assert submitted.status_code == 422
    handed = api.post(f"/api/attempts/{attempt['id']}/submit", as_=student, json={"answers": {"q0": 0}})
    assert handed.status_code == 200
    assert handed.json()["status"] == "graded"
