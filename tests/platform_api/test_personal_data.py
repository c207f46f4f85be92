"""Export and erasure cover every table and every store; an erasure leaves none of the person's text in the data dir."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import structlog
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import Table

from ingest.pipeline import embedding_text
from knowledge.embedder import HashEmbedder
from knowledge.embedding_cache import CachedEmbedder, EmbeddingCache
from knowledge.factory import KnowledgeRuntime
from knowledge.search import KnowledgeBase
from knowledge.store import EdgeStore, Filter, Match
from platform_api.app import create_app
from platform_api.aria.models import AriaMessage, AriaSession
from platform_api.assessments.models import Assessment, AssessmentResult
from platform_api.auth.models import AuthToken
from platform_api.classes.models import ClassInvitation, ClassMember, SchoolClass
from platform_api.core.db import unit_of_work, utcnow
from platform_api.core.state import Platform
from platform_api.courses.models import Course
from platform_api.documents.models import Document, IngestionJob
from platform_api.models import Base
from platform_api.progress.models import StudentProgress
from platform_api.users import service as users
from platform_api.users.models import ParentLink, StudentProfile, User
from platform_api.users.personal_data import PERSONAL_TABLES, NotPersonal, Personal
from tests.platform_api.conftest import REDIS_URL, SESSION_TAG, Api, alembic_config, make_settings, unavailable
from tests.platform_api.test_documents import upload, wait_ready


def _user_columns(table: Table) -> list[str]:
    """The columns of ``table`` that hold a user's id (a foreign key to ``users.id``)."""
    return [fk.parent.name for fk in table.foreign_keys if fk.column.table.name == "users"]


def test_every_table_is_in_the_personal_data_map() -> None:
    tables = set(Base.metadata.tables)
    assert set(PERSONAL_TABLES) == tables, (
        f"add {sorted(tables - set(PERSONAL_TABLES))} to PERSONAL_TABLES (platform_api/users/personal_data.py), "
        f"remove {sorted(set(PERSONAL_TABLES) - tables)}"
    )
    for name, table in Base.metadata.tables.items():
        if _user_columns(table) or name == "users":
            assert isinstance(PERSONAL_TABLES[name], Personal), f"{name} holds user ids: it is personal"
    for entry in PERSONAL_TABLES.values():
        assert (entry.export and entry.erasure) if isinstance(entry, Personal) else isinstance(entry, NotPersonal)


def _everything_of(db: Any, person: User, other: User) -> None:
    """One row in every personal table for ``person`` (in every role a column can give them), and some of ``other``."""
    now = utcnow()
    db.add(StudentProfile(user_id=person.id, class_level="terminale", parent_code=secrets.token_hex(4).upper()))
    db.add_all(
        [ParentLink(parent_id=other.id, student_id=person.id), ParentLink(parent_id=person.id, student_id=other.id)]
    )
    db.add(AuthToken(user_id=person.id, kind="refresh", token_hash=secrets.token_hex(32), expires_at=now))
    taught = SchoolClass(name="Tle NSI 2", teacher_id=person.id, join_code=secrets.token_hex(4).upper())
    joined = SchoolClass(name="Tle NSI 3", teacher_id=other.id, join_code=secrets.token_hex(4).upper())
    db.add_all([taught, joined])
    db.flush()
    db.add(ClassMember(class_id=joined.id, student_id=person.id))
    db.add_all(
        [
            ClassInvitation(class_id=joined.id, email=person.email, invited_by=other.id, expires_at=now),
            ClassInvitation(class_id=taught.id, email="autre@exemple.fr", invited_by=person.id, expires_at=now),
        ]
    )
    db.add(
        Course(
            id=f"cours-{person.id[:8]}",
            title="Mon cours",
            level="terminale",
            category="perso",
            source="teacher",
            owner_id=person.id,
        )
    )
    assessment = Assessment(title="QCM", type="quiz", class_id=joined.id, created_by=person.id)
    db.add(assessment)
    db.flush()
    db.add_all(
        [
            AssessmentResult(assessment_id=assessment.id, student_id=person.id, attempt_no=1),
            AssessmentResult(assessment_id=assessment.id, student_id=other.id, attempt_no=1, graded_by=person.id),
        ]
    )
    db.add(StudentProgress(user_id=person.id, course_id="terminale-structures-de-donnees", section_id="piles#cours"))
    doc = Document(
        owner_id=person.id,
        filename="a.md",
        stored_name=secrets.token_hex(8),
        format="md",
        size_bytes=1,
        sha256="0" * 64,
        title="A",
        visibility="private",
        status="failed",
    )
    db.add(doc)
    db.add(AriaSession(id=f"s-{person.id[:8]}", user_id=person.id, title="pile ?"))
    db.flush()
    db.add(IngestionJob(document_id=doc.id, status="failed"))
    db.add(AriaMessage(session_id=f"s-{person.id[:8]}", role="user", content="C'est quoi une pile ?"))


def test_export_and_erasure_cover_every_personal_table(clean_api: Api) -> None:
    api = clean_api
    person, other, admin = api.user("teacher"), api.user("student"), api.user("admin")
    with unit_of_work(api.platform.sessions) as db:
        _everything_of(db, person, other)

    export = api.get("/api/users/me/export", as_=person).json()
    for table, entry in PERSONAL_TABLES.items():
        if isinstance(entry, Personal):
            carried = export["user"] if entry.export == "user" else export["data"][entry.export]
            assert carried, f"the export misses {table} (key {entry.export!r})"
    assert export["data"]["taughtClasses"][0]["name"] == "Tle NSI 2"  # a teacher's export has the classes they teach
    assert {i["direction"] for i in export["data"]["invitations"]} == {"received", "sent"}
    assert export["data"]["children"]
    assert export["data"]["parents"]

    with unit_of_work(api.platform.sessions) as db:
        users.erase_user(db, api.platform, admin, person.id)

    for name, table in Base.metadata.tables.items():
        for column in _user_columns(table) + (["id"] if name == "users" else []):
            left = api.sql(f"SELECT COUNT(*) FROM {name} WHERE {column} = '{person.id}'")[0][0]
            assert left == 0, f"{name}.{column} still names the erased user"
    assert api.sql(f"SELECT COUNT(*) FROM class_invitations WHERE email = '{person.email}'")[0][0] == 0
    assert api.sql("SELECT COUNT(*) FROM aria_messages")[0][0] == 0
    assert api.sql("SELECT COUNT(*) FROM ingestion_jobs")[0][0] == 0
    # what is the school's stays, without the person: the class and its assessment, the other student's attempt
    assert api.sql("SELECT teacher_id FROM classes WHERE name = 'Tle NSI 2'")[0][0] is None
    assert api.sql("SELECT COUNT(*) FROM assessment_results")[0][0] == 1
    assert api.sql(f"SELECT COUNT(*) FROM users WHERE id = '{other.id}'")[0][0] == 1


def _files_with(root: Path, marker: bytes) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and marker in p.read_bytes())


def test_an_erasure_is_physical_in_every_file_of_the_data_dir(tmp_path: Path) -> None:
    """Uploads, vectors (segments and WAL), SQLite (pages and WAL) and the embedding cache: the text is gone."""
    data = tmp_path / "data"
    url = f"sqlite:///{data / 'aria.sqlite'}"
    data.mkdir()
    command.upgrade(alembic_config(url), "head")
    inner = HashEmbedder(dim=32)
    embedder = CachedEmbedder(inner, EmbeddingCache(data / "embeddings.sqlite", inner.dim))
    store = EdgeStore(data / "qdrant" / "aria_chunks", inner.dim)
    runtime = KnowledgeRuntime(None, embedder, store, KnowledgeBase(store, embedder))  # type: ignore[arg-type]
    marker = f"Xylophagie{secrets.token_hex(6)}"
    course = f"# Les listes de Mme Roux\n\n## Cours\n\nUne liste {marker} est chaînée.\n\n## Suite\n\nEt {marker}.\n"
    with TestClient(create_app(make_settings(url, data), runtime=runtime)) as client:
        api = Api(client, client.app.state.platform, None, "sqlite")  # type: ignore[arg-type,attr-defined]
        platform: Platform = api.platform
        teacher, student, admin = api.user("teacher"), api.user("student"), api.user("admin")
        doc = upload(api, teacher, "listes.md", course.encode(), visibility="private").json()
        assert wait_ready(api, teacher, doc["id"])["status"] == "succeeded"
        api.post("/api/aria/chat", as_=student, json={"sessionId": "revisions", "message": f"Et la liste {marker} ?"})
        texts = [p["text"] for p in store.scroll(Filter(must=(Match("doc_id", doc["id"]),)))]
        keys = [
            embedder.key(embedding_text(p["title"], p["section_path"], p["text"]))
            for p in store.scroll(Filter(must=(Match("doc_id", doc["id"]),)))
        ]
        assert texts
        assert len(embedder.cache.get_many(keys)) == len(keys)  # the passages' vectors were cached
        before = _files_with(data, marker.encode())
        assert any(f.startswith("uploads/") for f in before), before
        assert any(f.startswith("qdrant/") for f in before), before
        assert any(f.startswith("aria.sqlite") for f in before), before

        with structlog.testing.capture_logs() as logs:
            assert api.delete(f"/api/users/{teacher.id}", as_=admin).status_code == 204
            assert api.delete(f"/api/users/{student.id}", as_=student).status_code == 204

        assert _files_with(data, marker.encode()) == []
        assert embedder.cache.get_many(keys) == {}
        assert store.count(Filter(must=(Match("doc_id", doc["id"]),))) == 0
        assert store.count() == 0
        # the log names each erasure by a keyed hash, never by the id
        erased = [e for e in logs if e["event"] == "user_erased"]
        assert [e["erasure_ref"] for e in erased] == [platform.tokens.reference(u.id) for u in (teacher, student)]
        for entry in logs:
            for uid in (teacher.id, student.id):
                assert uid not in str(entry), entry


def test_an_erasure_clears_the_persons_redis_keys(tmp_path: Path) -> None:
    import redis

    from platform_api.core.ratelimit import RateLimiter

    prefix = f"nexus_test_{SESSION_TAG}_erasure"
    settings = make_settings("sqlite://", tmp_path, redis_url=REDIS_URL, redis_prefix=prefix)
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        unavailable("Redis", exc)
    limiter = RateLimiter(settings)
    limiter.hit("chat", "user:eleve-efface")
    limiter.hit("chat", "user:eleve-reste")
    assert client.keys(f"{prefix}:*eleve-efface*")
    limiter.forget("user:eleve-efface")
    assert client.keys(f"{prefix}:*eleve-efface*") == []
    assert client.keys(f"{prefix}:*eleve-reste*")
    client.delete(*client.keys(f"{prefix}:*"))
