"""The authorization matrix of the README, one test per cell (role x resource x action), on both databases.

The world: teacher T1 teaches class C1 (student S1, whose parent is P1); teacher T2 teaches class C2 (student S2,
parent P2). The acting user of each role is S1, P1, T1 or the admin; "other" objects belong to T2, C2 or S2,
so every row that names them checks that user A can never read or change user B's objects by id.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from platform_api.aria.models import AriaMessage, AriaSession
from platform_api.assessments.models import Assessment, AssessmentResult
from platform_api.classes.models import ClassInvitation, ClassMember, SchoolClass
from platform_api.core.db import new_id, unit_of_work, utcnow
from platform_api.courses.models import Course
from platform_api.documents.models import Document, IngestionJob
from platform_api.users.models import ParentLink, StudentProfile, User
from tests.platform_api.conftest import Api

ROLES = ("student", "parent", "teacher", "admin")
QUESTION = {
    "id": "q1",
    "type": "single_choice",
    "prompt": "2 + 2 ?",
    "options": ["3", "4"],
    "answer": 1,
    "points": 1.0,
    "tolerance": 0.0,
    "explanation": "4",
}


@dataclass
class World:
    admin: User
    t1: User
    t2: User
    s1: User
    s2: User
    p1: User
    p2: User
    c1: str
    c2: str
    d1: str
    d2: str
    x1: str
    x2: str
    attempt1: str
    attempt2: str
    doc2: str
    sess1: str
    sess2: str
    s2_code: str
    inv1: str
    inv2: str

    def actor(self, role: str) -> User:
        return {"student": self.s1, "parent": self.p1, "teacher": self.t1, "admin": self.admin}[role]


def build_world(api: Api) -> World:
    admin, t1, t2 = api.user("admin"), api.user("teacher"), api.user("teacher")
    s1, s2 = api.user("student"), api.user("student")
    p1, p2 = api.user("parent"), api.user("parent")
    ids = {k: new_id() for k in ("c1", "c2", "d1", "d2", "x1", "x2", "attempt1", "attempt2", "doc2", "sess1", "sess2")}
    now = utcnow()
    with unit_of_work(api.platform.sessions) as db:
        db.add_all(
            [
                SchoolClass(id=ids["c1"], name="T NSI 1", level="terminale", teacher_id=t1.id, join_code=ids["c1"][:8]),
                SchoolClass(id=ids["c2"], name="T NSI 2", level="terminale", teacher_id=t2.id, join_code=ids["c2"][:8]),
            ]
        )
        db.flush()
        db.add_all(
            [
                ClassMember(class_id=ids["c1"], student_id=s1.id),
                ClassMember(class_id=ids["c2"], student_id=s2.id),
                ParentLink(parent_id=p1.id, student_id=s1.id),
                ParentLink(parent_id=p2.id, student_id=s2.id),
            ]
        )
        for key, owner in (("d1", t1), ("d2", t2)):
            db.add(
                Course(
                    id=ids[key],
                    title=f"Brouillon {key}",
                    level="terminale",
                    category="perso",
                    source="teacher",
                    owner_id=owner.id,
                    published=False,
                    content={"chapters": []},
                )
            )
        for key, klass in (("x1", "c1"), ("x2", "c2")):
            db.add(
                Assessment(
                    id=ids[key],
                    title=f"Quiz {key}",
                    type="quiz",
                    class_id=ids[klass],
                    created_by=t1.id if klass == "c1" else t2.id,
                    questions=[QUESTION],
                    published=True,
                    max_attempts=2,
                )
            )
        db.flush()
        for key, student, assessment in (("attempt1", s1, "x1"), ("attempt2", s2, "x2")):
            db.add(
                AssessmentResult(
                    id=ids[key],
                    assessment_id=ids[assessment],
                    student_id=student.id,
                    attempt_no=1,
                    status="graded",
                    answers={"q1": 1},
                    score=1.0,
                    max_score=1.0,
                    submitted_at=now,
                    grades={"q1": {"points": 1.0, "max": 1.0, "correct": True, "needsGrading": False}},
                )
            )
        db.add(
            Document(
                id=ids["doc2"],
                owner_id=t2.id,
                filename="cours.md",
                stored_name=f"{ids['doc2']}.md",
                format="markdown",
                size_bytes=10,
                sha256="0" * 64,
                title="Cours",
                visibility="private",
                class_ids=[],
                levels=[],
                status="ready",
            )
        )
        db.flush()
        db.add(IngestionJob(document_id=ids["doc2"], params={}, status="succeeded", progress=1, total=1))
        s2_code = db.get(StudentProfile, s2.id).parent_code  # type: ignore[union-attr]
        for key, student in (("sess1", s1), ("sess2", s2)):
            db.add(AriaSession(id=ids[key], user_id=student.id, title="Les piles"))
            db.flush()
            db.add(AriaMessage(session_id=ids[key], role="user", content="c'est quoi une pile ?"))
        # pending invitations (not memberships): S1 invited into C2 by T2, S2 invited into C1 by T1
        for key, klass, student, teacher in (("inv1", "c2", s1, t2), ("inv2", "c1", s2, t1)):
            ids[key] = new_id()
            db.add(
                ClassInvitation(
                    id=ids[key],
                    class_id=ids[klass],
                    email=student.email,
                    invited_by=teacher.id,
                    expires_at=now + timedelta(days=30),
                )
            )
    return World(admin, t1, t2, s1, s2, p1, p2, s2_code=s2_code, **ids)


Request = Callable[[World, User], tuple[str, str, dict[str, Any] | None]]

MD = ("cours.md", b"# Titre\n\n## Cours\n\nUne pile est LIFO.\n", "text/markdown")

# (row id, request builder, roles allowed)
MATRIX: list[tuple[str, Request, set[str]]] = [
    ("account-read", lambda w, u: ("GET", "/api/auth/me", None), set(ROLES)),
    ("account-update", lambda w, u: ("PATCH", "/api/users/me", {"firstName": "Nouveau"}), set(ROLES)),
    ("account-export", lambda w, u: ("GET", "/api/users/me/export", None), set(ROLES)),
    ("users-list", lambda w, u: ("GET", "/api/users", None), {"admin"}),
    (
        "users-create-teacher",
        lambda w, u: (
            "POST",
            "/api/users",
            {
                "email": "prof@exemple.fr",
                "password": "motdepasse1",
                "firstName": "P",
                "lastName": "Q",
                "role": "teacher",
            },
        ),
        {"admin"},
    ),
    ("user-read-linked-student", lambda w, u: ("GET", f"/api/users/{w.s1.id}", None), set(ROLES)),
    ("user-read-other-student", lambda w, u: ("GET", f"/api/users/{w.s2.id}", None), {"admin"}),
    ("user-read-other-teacher", lambda w, u: ("GET", f"/api/users/{w.t2.id}", None), {"admin"}),
    ("user-update-other", lambda w, u: ("PATCH", f"/api/users/{w.s2.id}", {"isActive": False}), {"admin"}),
    ("user-delete-other", lambda w, u: ("DELETE", f"/api/users/{w.s2.id}", None), {"admin"}),
    ("parent-code-read", lambda w, u: ("GET", "/api/users/me/parent-code", None), {"student"}),
    ("parent-link-by-code", lambda w, u: ("POST", "/api/users/me/children", {"parentCode": w.s2_code}), {"parent"}),
    ("parent-link-bad-code", lambda w, u: ("POST", "/api/users/me/children", {"parentCode": "ZZZZZZZZ"}), set()),
    (
        "parent-link-admin",
        lambda w, u: ("POST", "/api/parent-links", {"parentId": w.p2.id, "studentId": w.s1.id}),
        {"admin"},
    ),
    ("children-list", lambda w, u: ("GET", "/api/users/me/children", None), {"parent"}),
    ("class-create", lambda w, u: ("POST", "/api/classes", {"name": "1re NSI"}), {"teacher", "admin"}),
    ("class-read-own", lambda w, u: ("GET", f"/api/classes/{w.c1}", None), {"student", "teacher", "admin"}),
    ("class-read-other", lambda w, u: ("GET", f"/api/classes/{w.c2}", None), {"admin"}),
    (
        "class-add-student-own",
        lambda w, u: ("POST", f"/api/classes/{w.c1}/students", {"email": w.s2.email}),
        {"teacher", "admin"},
    ),
    (
        "class-add-student-other",
        lambda w, u: ("POST", f"/api/classes/{w.c2}/students", {"email": w.s1.email}),
        {"admin"},
    ),
    ("class-invitations-own", lambda w, u: ("GET", "/api/classes/invitations", None), {"student"}),
    (
        "class-invitation-accept-own",
        lambda w, u: ("POST", f"/api/classes/invitations/{w.inv1}/accept", None),
        {"student"},
    ),
    ("class-invitation-accept-other", lambda w, u: ("POST", f"/api/classes/invitations/{w.inv2}/accept", None), set()),
    ("class-invitation-decline-other", lambda w, u: ("DELETE", f"/api/classes/invitations/{w.inv2}", None), set()),
    (
        "class-invitation-cancel-own",
        lambda w, u: ("DELETE", f"/api/classes/{w.c1}/invitations/{w.inv2}", None),
        {"teacher", "admin"},
    ),
    (
        "class-invitation-cancel-other",
        lambda w, u: ("DELETE", f"/api/classes/{w.c2}/invitations/{w.inv1}", None),
        {"admin"},
    ),
    # a pending invitation gives the inviting teacher nothing: S2 is invited into T1's class, not a member
    ("dashboard-student-invited", lambda w, u: ("GET", f"/api/dashboard/students/{w.s2.id}", None), {"admin"}),
    ("aria-summaries-invited", lambda w, u: ("GET", f"/api/aria/students/{w.s2.id}/sessions", None), {"admin"}),
    ("class-remove-student-other", lambda w, u: ("DELETE", f"/api/classes/{w.c2}/students/{w.s2.id}", None), {"admin"}),
    ("class-delete-other", lambda w, u: ("DELETE", f"/api/classes/{w.c2}", None), {"admin"}),
    ("courses-list", lambda w, u: ("GET", "/api/courses", None), set(ROLES)),
    ("course-read-curriculum", lambda w, u: ("GET", "/api/courses/terminale-structures-de-donnees", None), set(ROLES)),
    (
        "course-update-curriculum",
        lambda w, u: ("PATCH", "/api/courses/terminale-structures-de-donnees", {"title": "X"}),
        set(),
    ),
    (
        "course-create",
        lambda w, u: ("POST", "/api/courses", {"title": "Mon cours", "level": "terminale", "category": "perso"}),
        {"teacher", "admin"},
    ),
    ("course-read-own-draft", lambda w, u: ("GET", f"/api/courses/{w.d1}", None), {"teacher", "admin"}),
    ("course-read-other-draft", lambda w, u: ("GET", f"/api/courses/{w.d2}", None), {"admin"}),
    ("course-update-other", lambda w, u: ("PATCH", f"/api/courses/{w.d2}", {"title": "X"}), {"admin"}),
    ("course-publish-own", lambda w, u: ("POST", f"/api/courses/{w.d1}/publish", None), {"teacher", "admin"}),
    ("course-delete-other", lambda w, u: ("DELETE", f"/api/courses/{w.d2}", None), {"admin"}),
    (
        "progress-update",
        lambda w, u: (
            "POST",
            "/api/progress",
            {"courseId": "terminale-structures-de-donnees", "sectionId": "terminale/structures-de-donnees/piles#cours"},
        ),
        {"student"},
    ),
    ("progress-read-linked", lambda w, u: ("GET", f"/api/progress/students/{w.s1.id}", None), set(ROLES)),
    ("progress-read-other", lambda w, u: ("GET", f"/api/progress/students/{w.s2.id}", None), {"admin"}),
    ("dashboard-student-own", lambda w, u: ("GET", "/api/dashboard/student", None), {"student"}),
    ("dashboard-student-linked", lambda w, u: ("GET", f"/api/dashboard/students/{w.s1.id}", None), set(ROLES)),
    ("dashboard-student-other", lambda w, u: ("GET", f"/api/dashboard/students/{w.s2.id}", None), {"admin"}),
    ("dashboard-parent", lambda w, u: ("GET", "/api/dashboard/parent", None), {"parent"}),
    ("dashboard-class-own", lambda w, u: ("GET", f"/api/dashboard/classes/{w.c1}", None), {"teacher", "admin"}),
    ("dashboard-class-other", lambda w, u: ("GET", f"/api/dashboard/classes/{w.c2}", None), {"admin"}),
    (
        "assessment-create-own-class",
        lambda w, u: (
            "POST",
            "/api/assessments",
            {"title": "QCM", "type": "quiz", "classId": w.c1, "questions": [QUESTION]},
        ),
        {"teacher", "admin"},
    ),
    (
        "assessment-create-other-class",
        lambda w, u: (
            "POST",
            "/api/assessments",
            {"title": "QCM", "type": "quiz", "classId": w.c2, "questions": [QUESTION]},
        ),
        {"admin"},
    ),
    (
        "assessment-read-own-class",
        lambda w, u: ("GET", f"/api/assessments/{w.x1}", None),
        {"student", "teacher", "admin"},
    ),
    ("assessment-read-other-class", lambda w, u: ("GET", f"/api/assessments/{w.x2}", None), {"admin"}),
    ("assessment-update-other", lambda w, u: ("PATCH", f"/api/assessments/{w.x2}", {"title": "X"}), {"admin"}),
    ("assessment-results-other", lambda w, u: ("GET", f"/api/assessments/{w.x2}/results", None), {"admin"}),
    ("attempt-start-own-class", lambda w, u: ("POST", f"/api/assessments/{w.x1}/attempts", None), {"student"}),
    ("attempt-start-other-class", lambda w, u: ("POST", f"/api/assessments/{w.x2}/attempts", None), set()),
    ("attempt-read-linked", lambda w, u: ("GET", f"/api/attempts/{w.attempt1}", None), set(ROLES)),
    ("attempt-read-other", lambda w, u: ("GET", f"/api/attempts/{w.attempt2}", None), {"admin"}),
    ("attempt-submit-other", lambda w, u: ("POST", f"/api/attempts/{w.attempt2}/submit", {"answers": {}}), set()),
    (
        "attempt-grade-own",
        lambda w, u: ("POST", f"/api/attempts/{w.attempt1}/grade", {"feedback": "Bien"}),
        {"teacher", "admin"},
    ),
    (
        "attempt-grade-other",
        lambda w, u: ("POST", f"/api/attempts/{w.attempt2}/grade", {"feedback": "Bien"}),
        {"admin"},
    ),
    (
        "document-upload-private",
        lambda w, u: ("UPLOAD", "/api/documents", {"visibility": "private"}),
        {"teacher", "admin"},
    ),
    ("document-upload-public", lambda w, u: ("UPLOAD", "/api/documents", {"visibility": "public"}), {"admin"}),
    (
        "document-upload-other-class",
        lambda w, u: ("UPLOAD", "/api/documents", {"visibility": "class", "classIds": w.c2}),
        {"admin"},
    ),
    ("documents-list", lambda w, u: ("GET", "/api/documents", None), {"teacher", "admin"}),
    ("document-read-other", lambda w, u: ("GET", f"/api/documents/{w.doc2}", None), {"admin"}),
    ("document-status-other", lambda w, u: ("GET", f"/api/documents/{w.doc2}/status", None), {"admin"}),
    ("document-delete-other", lambda w, u: ("DELETE", f"/api/documents/{w.doc2}", None), {"admin"}),
    ("aria-chat", lambda w, u: ("POST", "/api/aria/chat", {"message": "C'est quoi une pile ?"}), set(ROLES)),
    ("aria-sessions-own", lambda w, u: ("GET", "/api/aria/sessions", None), set(ROLES)),
    ("aria-messages-other", lambda w, u: ("GET", f"/api/aria/sessions/{w.sess2}/messages", None), set()),
    (
        "aria-continue-other-session",
        lambda w, u: ("POST", "/api/aria/chat", {"sessionId": w.sess2, "message": "et une file ?"}),
        set(),
    ),
    ("aria-delete-other-session", lambda w, u: ("DELETE", f"/api/aria/sessions/{w.sess2}", None), set()),
    ("aria-summaries-linked", lambda w, u: ("GET", f"/api/aria/students/{w.s1.id}/sessions", None), set(ROLES)),
    ("aria-summaries-other", lambda w, u: ("GET", f"/api/aria/students/{w.s2.id}/sessions", None), {"admin"}),
]
# Notes on empty rows: curriculum courses are read-only for everyone; attempts are students' own (the admin is not
# a student, and S1 is not in C2's class); a parent code that names no student is refused; ARIA conversations
# are private to their author, admins included (parents and teachers see summaries only).

CELLS = [(row, role) for row, _, _ in MATRIX for role in ROLES]


@pytest.mark.parametrize(("row", "role"), CELLS)
def test_authorization_cell(clean_api: Api, row: str, role: str) -> None:
    api = clean_api
    world = build_world(api)
    _, build, allowed = next(entry for entry in MATRIX if entry[0] == row)
    actor = world.actor(role)
    method, url, body = build(world, actor)
    if method == "UPLOAD":
        fields = dict((body or {}).items())
        response = api.post(url, as_=actor, files={"file": MD}, data=fields)
    elif method in ("GET", "DELETE"):
        response = getattr(api, method.lower())(url, as_=actor)
    else:
        response = getattr(api, method.lower())(url, as_=actor, json=body)
    if role in allowed:
        assert response.status_code < 300, (row, role, response.status_code, response.text)
    else:
        assert response.status_code in (400, 403, 404, 409), (row, role, response.status_code, response.text)
        assert set(response.json()) >= {"error", "detail"}
