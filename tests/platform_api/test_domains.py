"""Classes, courses, progress, assessments and dashboards, through the API, on both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from platform_api.assessments.models import AssessmentResult
from platform_api.core.db import unit_of_work, utcnow
from platform_api.users.models import User
from tests.platform_api.conftest import Api

PILES = "terminale-structures-de-donnees"
QUESTIONS = [
    {
        "id": "q1",
        "type": "single_choice",
        "prompt": "Une pile est…",
        "options": ["FIFO", "LIFO"],
        "answer": 1,
        "explanation": "Dernier entré, premier sorti.",
    },
    {
        "id": "q2",
        "type": "multiple_choice",
        "prompt": "Opérations d'une pile ?",
        "options": ["empiler", "enfiler", "dépiler"],
        "answer": [0, 2],
        "points": 2,
    },
    {"id": "q3", "type": "numeric", "prompt": "Taille après 3 empiler et 1 dépiler ?", "answer": 2},
    {"id": "q4", "type": "short_text", "prompt": "Nom de l'élément au sommet ?", "answer": ["sommet", "le sommet"]},
    {"id": "q5", "type": "code", "prompt": "Écris la fonction depiler.", "points": 3},
]


def teacher_with_class(api: Api) -> tuple[User, User, str]:
    teacher, student = api.user("teacher"), api.user("student")
    klass = api.post("/api/classes", as_=teacher, json={"name": "Terminale NSI", "level": "terminale"}).json()
    joined = api.post("/api/classes/join", as_=student, json={"joinCode": klass["joinCode"]})
    assert joined.status_code == 200
    assert joined.json()["joinCode"] is None
    return teacher, student, klass["id"]


def test_classes_by_code_and_by_invitation(clean_api: Api) -> None:
    api = clean_api
    teacher, student, class_id = teacher_with_class(api)
    other = api.user("student", email="zoe@exemple.fr")
    added = api.post(f"/api/classes/{class_id}/students", as_=teacher, json={"email": "ZOE@exemple.fr"})
    assert added.status_code == 202
    # an invitation, not an enrolment: the student is not in the class until they accept
    assert api.get(f"/api/classes/{class_id}", as_=teacher).json()["studentCount"] == 1
    assert api.get(f"/api/dashboard/students/{other.id}", as_=teacher).status_code == 404
    # the same answer for an unknown address and a parent's (no account oracle)
    unknown = api.post(f"/api/classes/{class_id}/students", as_=teacher, json={"email": "personne@exemple.fr"})
    parent = api.user("parent", email="papa@exemple.fr")
    papa = api.post(f"/api/classes/{class_id}/students", as_=teacher, json={"email": "papa@exemple.fr"})
    assert unknown.status_code == papa.status_code == added.status_code == 202
    strip = lambda r: {k: v for k, v in r.json().items() if k not in ("email", "message", "expiresAt")}  # noqa: E731
    assert strip(unknown) == strip(papa) == strip(added)
    assert unknown.json()["message"].replace("personne", "zoe") == added.json()["message"]
    assert parent.role == "parent"
    pending = api.get(f"/api/classes/{class_id}", as_=teacher).json()["invitations"]
    assert {i["email"] for i in pending} == {"zoe@exemple.fr", "personne@exemple.fr", "papa@exemple.fr"}
    invitations = api.get("/api/classes/invitations", as_=other).json()
    assert [i["classId"] for i in invitations] == [class_id]
    assert api.get("/api/classes/invitations", as_=student).json() == []
    assert api.post(f"/api/classes/invitations/{invitations[0]['id']}/accept", as_=student).status_code == 404
    accepted = api.post(f"/api/classes/invitations/{invitations[0]['id']}/accept", as_=other)
    assert accepted.status_code == 200
    assert api.get(f"/api/classes/{class_id}", as_=teacher).json()["studentCount"] == 2
    assert api.get(f"/api/dashboard/students/{other.id}", as_=teacher).status_code == 200
    assert api.get("/api/classes/invitations", as_=other).json() == []
    bad = api.post("/api/classes/join", as_=student, json={"joinCode": "NOPE1234"})
    assert bad.status_code == 400
    assert bad.json()["error"] == "invalid_join_code"
    mine = api.get("/api/classes", as_=student).json()
    assert [c["id"] for c in mine] == [class_id]
    assert api.delete(f"/api/classes/{class_id}/students/{other.id}", as_=teacher).status_code == 204
    assert api.get(f"/api/classes/{class_id}", as_=teacher).json()["studentCount"] == 1
    code = api.post(f"/api/classes/{class_id}/join-code", as_=teacher).json()["joinCode"]
    assert api.post("/api/classes/join", as_=other, json={"joinCode": code}).status_code == 200


def test_courses_list_detail_and_teacher_crud(clean_api: Api) -> None:
    api = clean_api
    student, teacher = api.user("student"), api.user("teacher")
    listed = api.get("/api/courses", as_=student, params={"level": "terminale", "limit": 2, "page": 1}).json()
    assert listed["pagination"]["limit"] == 2
    assert listed["pagination"]["total"] >= 6
    assert listed["pagination"]["pages"] == -(-listed["pagination"]["total"] // 2)
    assert all(c["level"] == "terminale" and c["published"] and c["readOnly"] for c in listed["courses"])
    by_category = api.get("/api/courses", as_=student, params={"category": "structures-de-donnees"}).json()
    assert [c["id"] for c in by_category["courses"]] == [PILES]
    detail = api.get(f"/api/courses/{PILES}", as_=student).json()
    chapter = next(ch for ch in detail["content"]["chapters"] if ch["id"] == "terminale/structures-de-donnees/piles")
    titles = [s["title"] for s in chapter["sections"]]
    assert {"Cours", "Exercices", "Corrigés", "Pièges fréquents"} <= set(titles)
    assert detail["estimatedTime"] > 0
    assert detail["objectives"]
    assert "prerequisites" in detail
    assert api.get("/api/courses/inconnu", as_=student).status_code == 404
    read_only = api.patch(f"/api/courses/{PILES}", as_=teacher, json={"title": "Piles !"})
    assert read_only.status_code == 403
    assert read_only.json()["error"] == "course_read_only"

    body = {
        "title": "Récursivité en pratique",
        "level": "terminale",
        "category": "programmation",
        "content": {"chapters": [{"title": "Bases", "sections": [{"title": "Cas de base", "content": "…"}]}]},
    }
    created = api.post("/api/courses", as_=teacher, json=body).json()
    assert created["published"] is False
    assert created["source"] == "teacher"
    assert all(c["id"] != created["id"] for c in api.get("/api/courses", as_=student).json()["courses"])
    assert api.get(f"/api/courses/{created['id']}", as_=student).status_code == 404  # a draft is invisible
    renamed = api.patch(f"/api/courses/{created['id']}", as_=teacher, json={"title": "Récursivité"}).json()
    assert renamed["title"] == "Récursivité"
    assert api.post(f"/api/courses/{created['id']}/publish", as_=teacher).json()["published"] is True
    seen = api.get(f"/api/courses/{created['id']}", as_=student).json()
    assert seen["content"]["chapters"][0]["sections"][0]["title"] == "Cas de base"
    assert api.delete(f"/api/courses/{created['id']}", as_=teacher).status_code == 204


def test_progress_and_student_dashboard(clean_api: Api) -> None:
    api = clean_api
    student = api.user("student")
    section = "terminale/structures-de-donnees/piles#cours"
    opened = api.post("/api/progress", as_=student, json={"courseId": PILES, "sectionId": section})
    assert opened.status_code == 200
    assert opened.json()["sections"][0]["status"] == "opened"
    done = api.post("/api/progress", as_=student, json={"courseId": PILES, "sectionId": section, "completed": True})
    body = done.json()
    assert body["sections"][0]["status"] == "completed"
    assert body["sections"][0]["visits"] == 2
    assert body["course"]["completedSections"] == 1
    assert 0 < body["course"]["percent"] < 100
    unknown = api.post("/api/progress", as_=student, json={"courseId": PILES, "sectionId": "nope"})
    assert unknown.status_code == 400
    assert unknown.json()["error"] == "unknown_section"
    mine = api.get("/api/progress/me", as_=student).json()
    assert mine[0]["courseId"] == PILES
    board = api.get("/api/dashboard/student", as_=student).json()
    assert board["progressByTheme"][0]["completedSections"] == 1
    assert board["recentActivity"][0]["type"] == "section"


def create_quiz(api: Api, teacher: User, class_id: str, **extra: object) -> dict[str, object]:
    body = {
        "title": "Piles",
        "type": "quiz",
        "classId": class_id,
        "courseId": PILES,
        "sectionIds": ["terminale/structures-de-donnees/piles#exercices"],
        "questions": QUESTIONS,
        "published": True,
        **extra,
    }
    response = api.post("/api/assessments", as_=teacher, json=body)
    assert response.status_code == 201, response.text
    created: dict[str, object] = response.json()
    return created


def test_assessment_flow_grading_and_dashboards(clean_api: Api) -> None:
    api = clean_api
    teacher, student, class_id = teacher_with_class(api)
    parent = api.user("parent")
    code = api.get("/api/users/me/parent-code", as_=student).json()["parentCode"]
    assert api.post("/api/users/me/children", as_=parent, json={"parentCode": code}).status_code == 201
    quiz = create_quiz(api, teacher, class_id, timeLimitMinutes=30, maxAttempts=1)
    assert quiz["answerKey"][0]["answer"] == 1  # type: ignore[index]

    seen = api.get(f"/api/assessments/{quiz['id']}", as_=student).json()
    assert seen["answerKey"] is None
    assert seen["questions"]
    assert all("answer" not in q and "explanation" not in q for q in seen["questions"])
    attempt = api.post(f"/api/assessments/{quiz['id']}/attempts", as_=student).json()
    assert attempt["deadlineAt"]
    assert attempt["corrections"] is None
    assert all("answer" not in q for q in attempt["questions"])
    assert api.get(f"/api/attempts/{attempt['id']}", as_=teacher).json()["corrections"] is None  # not before submit
    saved = api.put(f"/api/attempts/{attempt['id']}/answers", as_=student, json={"answers": {"q1": 1}})
    assert saved.json()["answers"] == {"q1": 1}
    answers = {"q2": [2, 0], "q3": "2,0", "q4": "  Le Sommet ", "q5": "def depiler(p):\n    return p.pop()"}
    submitted = api.post(f"/api/attempts/{attempt['id']}/submit", as_=student, json={"answers": answers}).json()
    assert submitted["status"] == "submitted"
    assert submitted["needsGrading"] is True
    assert submitted["score"] == 5.0
    assert submitted["maxScore"] == 8.0
    assert submitted["corrections"][0]["explanation"] == "Dernier entré, premier sorti."
    again = api.post(f"/api/assessments/{quiz['id']}/attempts", as_=student)
    assert again.status_code == 409
    assert again.json()["error"] == "no_attempts_left"
    assert api.post(f"/api/attempts/{attempt['id']}/submit", as_=student).status_code == 409

    graded = api.post(
        f"/api/attempts/{attempt['id']}/grade",
        as_=teacher,
        json={"grades": {"q5": {"points": 2, "feedback": "Vérifie la pile vide."}}, "feedback": "Bien"},
    )
    assert graded.status_code == 200, graded.text
    assert graded.json()["status"] == "graded"
    assert graded.json()["score"] == 7.0
    too_much = api.post(f"/api/attempts/{attempt['id']}/grade", as_=teacher, json={"grades": {"q5": {"points": 9}}})
    assert too_much.status_code == 400
    child_view = api.get(f"/api/attempts/{attempt['id']}", as_=parent).json()
    assert child_view["feedback"] == "Bien"

    progress = api.get(f"/api/progress/students/{student.id}/courses/{PILES}", as_=parent).json()
    exercise = next(s for s in progress["sections"] if s["sectionId"].endswith("#exercices"))
    assert exercise["status"] == "completed"
    assert exercise["score"] == pytest.approx(7 / 8)

    other = api.user("student")
    code = api.get(f"/api/classes/{class_id}", as_=teacher).json()["joinCode"]
    api.post("/api/classes/join", as_=other, json={"joinCode": code})
    second = api.post(f"/api/assessments/{quiz['id']}/attempts", as_=other).json()
    api.post(f"/api/attempts/{second['id']}/submit", as_=other, json={"answers": {"q1": 0, "q3": 5, "q5": "pass"}})
    board = api.get(f"/api/dashboard/classes/{class_id}", as_=teacher).json()
    assert board["class"]["studentCount"] == 2
    assert board["assessments"][0]["submissions"] == 2
    assert board["assessments"][0]["toGrade"] == 1
    missed = {m["questionId"]: m["missRate"] for m in board["mostMissedQuestions"]}
    assert missed["q1"] == 0.5
    assert missed["q2"] == 0.5
    weak = api.get("/api/dashboard/student", as_=other).json()["weakSpots"]["questions"]
    assert {w["questionId"] for w in weak} >= {"q1", "q3"}
    family = api.get("/api/dashboard/parent", as_=parent).json()
    assert family["children"][0]["student"]["id"] == student.id
    assert family["children"][0]["averageScore"] == pytest.approx(7 / 8, abs=1e-3)


def test_time_limits_are_enforced_by_the_server(clean_api: Api) -> None:
    api = clean_api
    teacher, student, class_id = teacher_with_class(api)
    quiz = create_quiz(api, teacher, class_id, timeLimitMinutes=10, maxAttempts=2)
    attempt = api.post(f"/api/assessments/{quiz['id']}/attempts", as_=student).json()
    api.put(f"/api/attempts/{attempt['id']}/answers", as_=student, json={"answers": {"q1": 1}})
    with unit_of_work(api.platform.sessions) as db:  # eleven minutes later
        db.execute(
            update(AssessmentResult)
            .where(AssessmentResult.id == attempt["id"])
            .values(started_at=utcnow() - timedelta(minutes=11), deadline_at=utcnow() - timedelta(minutes=1))
        )
    late = api.put(f"/api/attempts/{attempt['id']}/answers", as_=student, json={"answers": {"q3": 2}})
    assert late.status_code == 409
    assert late.json()["error"] == "time_up"
    result = api.get(f"/api/attempts/{attempt['id']}", as_=student).json()
    assert result["late"] is True
    assert result["answers"] == {"q1": 1}
    assert result["score"] == 1.0
    second = api.post(f"/api/assessments/{quiz['id']}/attempts", as_=student).json()
    with unit_of_work(api.platform.sessions) as db:
        db.execute(
            update(AssessmentResult)
            .where(AssessmentResult.id == second["id"])
            .values(deadline_at=utcnow() - timedelta(minutes=5))
        )
    ignored = api.post(f"/api/attempts/{second['id']}/submit", as_=student, json={"answers": {"q1": 1}}).json()
    assert ignored["late"] is True
    assert ignored["answers"] == {}
    assert ignored["score"] == 0.0


def test_closed_and_unpublished_assessments(clean_api: Api) -> None:
    api = clean_api
    teacher, student, class_id = teacher_with_class(api)
    draft = create_quiz(api, teacher, class_id, published=False)
    assert api.get(f"/api/assessments/{draft['id']}", as_=student).status_code == 404
    closed = create_quiz(
        api,
        teacher,
        class_id,
        closesAt=(utcnow() - timedelta(days=1)).isoformat(),
        opensAt=(utcnow() - timedelta(days=2)).isoformat(),
    )
    refused = api.post(f"/api/assessments/{closed['id']}/attempts", as_=student)
    assert refused.status_code == 409
    assert refused.json()["error"] == "assessment_closed"
    bad = api.post(
        "/api/assessments",
        as_=teacher,
        json={
            "title": "x",
            "type": "quiz",
            "classId": class_id,
            "questions": [{"type": "single_choice", "prompt": "?", "options": ["a", "b"], "answer": 5}],
        },
    )
    assert bad.status_code == 422
    assert bad.json()["error"] == "validation_error"
    listed = api.get("/api/assessments", as_=student).json()
    assert {a["id"] for a in listed} == {closed["id"]}
    attempt = api.post(f"/api/assessments/{draft['id']}/publish", as_=teacher)
    assert attempt.json()["published"] is True
    api.post(f"/api/assessments/{draft['id']}/attempts", as_=student)
    locked = api.patch(f"/api/assessments/{draft['id']}", as_=teacher, json={"questions": QUESTIONS[:1]})
    assert locked.status_code == 409
    assert locked.json()["error"] == "assessment_has_attempts"
