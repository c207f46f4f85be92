"""Retention: what is older than its period goes (messages, uploads with their vectors, old jobs); the rest stays."""

from __future__ import annotations

import time
import warnings
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from qdrant_client import QdrantClient
from typer.testing import CliRunner

from knowledge.embedder import HashEmbedder
from knowledge.factory import KnowledgeRuntime
from knowledge.search import KnowledgeBase
from knowledge.store import ClientStore, Filter, Match
from platform_api.aria.models import AriaMessage, AriaSession
from platform_api.auth.models import AuthToken
from platform_api.classes.models import ClassInvitation, SchoolClass
from platform_api.core.db import unit_of_work, utcnow
from platform_api.documents.models import Document, IngestionJob
from platform_api.retention import service as retention
from platform_api.retention.models import MaintenanceRun
from platform_api.retention.service import run_retention
from tests.platform_api.conftest import Api
from tests.platform_api.test_documents import upload, wait_ready

OLD_COURSE = "# Les tas de M. Martin\n\n## Cours\n\nUn tas quetzalcoatl est un arbre binaire presque complet.\n"
NEW_COURSE = "# Les arbres de M. Martin\n\n## Cours\n\nUn arbre tlaloc a une racine et des feuilles.\n"


def _age(api: Api, model: Any, row_id: str, days: int, *columns: str) -> None:
    """Move a row's timestamps ``days`` into the past (the API always stamps rows with the present)."""
    with unit_of_work(api.platform.sessions) as db:
        row = db.get(model, row_id)
        for column in columns:
            setattr(row, column, utcnow() - timedelta(days=days))


def _uploaded(api: Api, teacher: Any, name: str, text: str) -> str:
    doc = upload(api, teacher, name, text.encode(), visibility="private").json()
    assert wait_ready(api, teacher, doc["id"])["status"] == "succeeded"
    return str(doc["id"])


def _searchable(api: Api, doc_id: str, query: str) -> bool:
    hits = api.platform.knowledge.kb.search(query, k=10)
    return any(h.doc_id == doc_id for h in hits)


def test_retention_deletes_what_is_past_its_period_and_keeps_the_rest(clean_api: Api) -> None:
    api = clean_api
    settings = api.platform.settings
    assert (settings.retention_conversations_days, settings.retention_uploads_days) == (365, 365)  # a school year
    teacher, student = api.user("teacher"), api.user("student")
    now = utcnow()
    year_ago, month_ago = now - timedelta(days=400), now - timedelta(days=30)
    with unit_of_work(api.platform.sessions) as db:
        db.add_all(
            [
                AriaSession(
                    id="vieille", user_id=student.id, title="Les piles ?", created_at=year_ago, updated_at=year_ago
                ),
                AriaSession(id="mixte", user_id=student.id, title="Les files ?", created_at=year_ago, updated_at=now),
                AriaSession(id="recente", user_id=student.id, title="Les tris ?", created_at=now, updated_at=now),
            ]
        )
        db.flush()
        db.add_all(
            [
                AriaMessage(id="m-vieux", session_id="vieille", role="user", content="pile ?", created_at=year_ago),
                AriaMessage(id="m-mixte-vieux", session_id="mixte", role="user", content="file ?", created_at=year_ago),
                AriaMessage(id="m-mixte-recent", session_id="mixte", role="user", content="FIFO ?", created_at=now),
                AriaMessage(id="m-recent", session_id="recente", role="user", content="tri ?", created_at=month_ago),
            ]
        )
        klass = SchoolClass(name="Tle NSI", teacher_id=teacher.id, join_code="RETENT10")
        db.add(klass)
        db.flush()
        db.add_all(
            [
                ClassInvitation(
                    class_id=klass.id,
                    email="ancien@exemple.fr",
                    invited_by=teacher.id,
                    expires_at=now - timedelta(days=1),
                ),
                ClassInvitation(
                    class_id=klass.id,
                    email="nouveau@exemple.fr",
                    invited_by=teacher.id,
                    expires_at=now + timedelta(days=7),
                ),
                AuthToken(user_id=student.id, kind="refresh", token_hash="a" * 64, expires_at=now - timedelta(days=1)),
                AuthToken(user_id=student.id, kind="refresh", token_hash="b" * 64, expires_at=now + timedelta(days=9)),
            ]
        )
    old_doc, new_doc = _uploaded(api, teacher, "tas.md", OLD_COURSE), _uploaded(api, teacher, "arbres.md", NEW_COURSE)
    _age(api, Document, old_doc, 400, "created_at")
    with unit_of_work(api.platform.sessions) as db:
        (new_job,) = db.query(IngestionJob.id).filter(IngestionJob.document_id == new_doc).one()
        old_failed = IngestionJob(document_id=new_doc, status="failed", error="Fichier illisible.")
        db.add(old_failed)
        db.flush()
        old_failed_id = old_failed.id
    _age(api, IngestionJob, old_failed_id, 100, "created_at", "updated_at")
    old_file = settings.upload_dir / api.sql(f"SELECT stored_name FROM documents WHERE id = '{old_doc}'")[0][0]
    assert old_file.exists()
    assert _searchable(api, old_doc, "tas quetzalcoatl arbre binaire")

    run = run_retention(api.platform.sessions, api.platform.engine, settings, api.platform.ingestor, "cli")

    assert run.status == "succeeded", run.error
    assert run.counts == {"documents": 1, "messages": 2, "sessions": 1, "jobs": 1, "tokens": 1, "invitations": 1}
    assert [r[0] for r in api.sql("SELECT id FROM aria_sessions ORDER BY id")] == ["mixte", "recente"]
    assert [r[0] for r in api.sql("SELECT id FROM aria_messages ORDER BY id")] == ["m-mixte-recent", "m-recent"]
    # the expired upload: rows, file and vectors gone, no longer searchable; the recent one untouched
    assert [r[0] for r in api.sql("SELECT id FROM documents")] == [new_doc]
    assert not old_file.exists()
    store = api.platform.knowledge.store
    assert store.count(Filter(must=(Match("doc_id", old_doc),))) == 0
    assert not _searchable(api, old_doc, "tas quetzalcoatl arbre binaire")
    assert _searchable(api, new_doc, "arbre tlaloc racine feuilles")
    assert [r[0] for r in api.sql("SELECT id FROM ingestion_jobs")] == [new_job]
    assert [r[0] for r in api.sql("SELECT token_hash FROM auth_tokens")] == ["b" * 64]
    assert [r[0] for r in api.sql("SELECT email FROM class_invitations")] == ["nouveau@exemple.fr"]
    # the run is recorded, with counts and no names
    rows = api.sql("SELECT kind, trigger, status, finished_at FROM maintenance_runs")
    assert [(k, t, s) for k, t, s, _ in rows] == [("retention", "cli", "succeeded")]
    assert rows[0][3] is not None

    again = run_retention(api.platform.sessions, api.platform.engine, settings, api.platform.ingestor, "cli")
    assert again.status == "succeeded"
    assert set(again.counts.values()) == {0}  # idempotent: a second replica running at once only finds less


def test_a_failed_run_is_recorded(clean_api: Api) -> None:
    api = clean_api

    class BrokenIngestor:
        store = api.platform.ingestor.store

        def delete(self, doc_id: str) -> int:
            raise ConnectionError("vector store down")

    teacher = api.user("teacher")
    doc = _uploaded(api, teacher, "tas.md", OLD_COURSE)
    _age(api, Document, doc, 400, "created_at")
    run = run_retention(
        api.platform.sessions,
        api.platform.engine,
        api.platform.settings,
        BrokenIngestor(),
        "cli",  # type: ignore[arg-type]
    )
    assert run.status == "failed"
    assert run.error == "ConnectionError: vector store down"
    assert [r[0] for r in api.sql("SELECT id FROM documents")] == [doc]  # kept whole: the next run finishes it
    assert api.sql("SELECT status FROM maintenance_runs")[0][0] == "failed"


def test_the_api_process_runs_retention_on_its_schedule(api_factory: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    api: Api = api_factory()  # its first run is minutes away: the old conversation is in place before any run
    student = api.user("student")
    with unit_of_work(api.platform.sessions) as db:
        old = utcnow() - timedelta(days=400)
        db.add(AriaSession(id="vieille", user_id=student.id, title="pile ?", created_at=old, updated_at=old))
    monkeypatch.setattr(retention, "FIRST_RUN_DELAY_S", 0.0)
    monkeypatch.setattr(retention, "compact_store", lambda store: None)  # tested above; slow on a shared store
    api_factory(retention_interval_hours=1)  # this app's scheduler runs at once
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not api.sql("SELECT id FROM maintenance_runs WHERE status = 'succeeded'"):
        time.sleep(0.1)
    assert api.sql("SELECT trigger, status FROM maintenance_runs") == [("schedule", "succeeded")]
    assert api.sql("SELECT id FROM aria_sessions") == []


def test_no_schedule_when_the_interval_is_zero(api_factory: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[float] = []
    monkeypatch.setattr(retention.RetentionScheduler, "start", lambda self: started.append(self.interval_s))
    api_factory(retention_interval_hours=0)
    api_factory(retention_interval_hours=24)
    assert started == [24 * 3600]


def test_nexus_retention_run(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, api_factory: Any
) -> None:
    import nexus_cli.main as cli

    api: Api = api_factory()  # only for its database helpers; its tables are emptied after the test
    student = api.user("student")
    old = utcnow() - timedelta(days=400)
    with unit_of_work(api.platform.sessions) as db:
        db.add(AriaSession(id="vieille", user_id=student.id, title="pile ?", created_at=old, updated_at=old))
    embedder = HashEmbedder(dim=16)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "payload indexes have no effect in local mode"
        store = ClientStore(QdrantClient(":memory:"), "chunks", embedder.dim)  # quicker to create than a shard
    runtime = KnowledgeRuntime(None, embedder, store, KnowledgeBase(store, embedder))  # type: ignore[arg-type]
    monkeypatch.setattr(cli, "_runtime", lambda: runtime)
    monkeypatch.setenv("NEXUS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NEXUS_DATABASE_URL", database_url)
    monkeypatch.setenv("NEXUS_RETENTION_CONVERSATIONS_DAYS", "30")

    result = CliRunner().invoke(cli.app, ["retention", "run"])

    assert result.exit_code == 0, result.output
    assert "sessions" in result.output
    assert api.sql("SELECT id FROM aria_sessions") == []
    with unit_of_work(api.platform.sessions) as db:
        (run,) = db.query(MaintenanceRun).all()
        assert (run.trigger, run.status, run.counts["sessions"]) == ("cli", "succeeded", 1)
