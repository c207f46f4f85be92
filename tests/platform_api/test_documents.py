"""Uploads: checks, storage, ingestion by the worker thread, visibility in ARIA's answers, deletion of vectors."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from knowledge.store import Filter, Match
from tests.platform_api.conftest import Api

COURSE = (
    "# Les graphes de Mme Durand\n\n## Cours\n\nUn graphe zorglub relie des sommets par des arêtes. "
    "Le parcours en largeur d'un graphe zorglub utilise une file.\n\n## Exercices\n\nDessine un graphe zorglub.\n"
    "\n## Corrigé\n\nLe graphe zorglub a trois sommets.\n"
)


def wait_ready(api: Api, user: Any, doc_id: str, timeout: float = 20.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status: dict[str, Any] = api.get(f"/api/documents/{doc_id}/status", as_=user).json()
        if status["status"] in ("succeeded", "failed"):
            return status
        time.sleep(0.1)
    raise AssertionError(f"ingestion of {doc_id} did not finish")


def upload(api: Api, user: Any, name: str, data: bytes, **fields: Any) -> Any:
    return api.post("/api/documents", as_=user, files={"file": (name, data, "application/octet-stream")}, data=fields)


def test_upload_ingest_visibility_and_delete(clean_api: Api) -> None:
    api = clean_api
    teacher = api.user("teacher")
    klass = api.post("/api/classes", as_=teacher, json={"name": "Tle NSI"}).json()
    member, outsider = api.user("student"), api.user("student")
    api.post("/api/classes/join", as_=member, json={"joinCode": klass["joinCode"]})

    created = upload(api, teacher, "../../etc/graphes.md", COURSE.encode(), visibility="class", classIds=klass["id"])
    assert created.status_code == 202, created.text
    doc = created.json()
    assert doc["filename"] == "graphes.md"
    assert doc["job"]["status"] in ("queued", "running", "succeeded")
    stored = list((api.platform.settings.upload_dir).iterdir())
    assert [p.name for p in stored] == [f"{doc['id']}.md"]  # a server-generated name, under the data dir
    status = wait_ready(api, teacher, doc["id"])
    assert status["status"] == "succeeded"
    assert status["percent"] == 100.0
    assert status["total"] >= 1
    assert api.get(f"/api/documents/{doc['id']}", as_=teacher).json()["status"] == "ready"
    assert api.get(f"/api/ingestion-jobs/{status['id']}", as_=teacher).json()["status"] == "succeeded"
    store = api.platform.knowledge.store
    points = list(store.scroll(Filter(must=(Match("doc_id", doc["id"]),))))
    assert points
    assert {p["visibility"] for p in points} == {"class"}
    assert points[0]["class_ids"] == [klass["id"]]

    question = {"message": "C'est quoi un graphe zorglub ?"}
    seen = api.post("/api/aria/chat", as_=member, json=question).json()
    assert any(s["doc_id"] == doc["id"] for s in seen["sources"])
    hidden = api.post("/api/aria/chat", as_=outsider, json=question).json()
    assert all(s["doc_id"] != doc["id"] for s in hidden["sources"])

    assert api.delete(f"/api/documents/{doc['id']}", as_=teacher).status_code == 204
    assert store.count(Filter(must=(Match("doc_id", doc["id"]),))) == 0
    assert not list(api.platform.settings.upload_dir.iterdir())
    assert api.get(f"/api/documents/{doc['id']}", as_=teacher).status_code == 404


def test_upload_checks(clean_api: Api) -> None:
    api = clean_api
    teacher = api.user("teacher")
    fake_pdf = upload(api, teacher, "cours.pdf", b"# pas un PDF\n")
    assert fake_pdf.status_code == 400
    assert fake_pdf.json()["error"] == "type_mismatch"
    exe = upload(api, teacher, "virus.exe", b"MZ\x90\x00")
    assert exe.status_code == 400
    assert exe.json()["error"] == "unsupported_type"
    empty = upload(api, teacher, "vide.md", b"")
    assert empty.status_code == 400
    assert empty.json()["error"] == "empty_file"
    binary = upload(api, teacher, "notes.txt", b"\x00\x01\x02binaire")
    assert binary.json()["error"] == "type_mismatch"
    no_class = upload(api, teacher, "cours.md", b"# T\n\nTexte.\n", visibility="class")
    assert no_class.status_code == 400
    assert no_class.json()["error"] == "class_required"
    assert not api.platform.settings.upload_dir.exists() or not list(api.platform.settings.upload_dir.iterdir())


def test_upload_size_limit(api_factory: Any, tmp_path: Path) -> None:
    api: Api = api_factory(max_upload_mb=0.01)
    teacher = api.user("teacher")
    big = upload(api, teacher, "gros.md", b"# Gros\n\n" + b"mot " * 5000)
    assert big.status_code == 413
    assert big.json()["error"] == "file_too_large"
    huge = upload(api, teacher, "enorme.md", b"x" * 2_000_000)  # refused before parsing (body limit)
    assert huge.status_code == 413


def test_a_failed_ingestion_can_be_retried(clean_api: Api) -> None:
    api = clean_api
    teacher = api.user("teacher")
    doc = upload(api, teacher, "vide.html", b"<html><script>x()</script></html>").json()
    status = wait_ready(api, teacher, doc["id"])
    assert status["status"] == "failed"
    assert status["error"]
    failed = api.get(f"/api/documents/{doc['id']}", as_=teacher).json()
    assert failed["status"] == "failed"
    assert failed["errorCode"]
    again = api.post(f"/api/documents/{doc['id']}/retry", as_=teacher)
    assert again.status_code == 202
    assert again.json()["job"]["status"] in ("queued", "running", "failed")
    assert api.post(f"/api/documents/{doc['id']}/retry", as_=teacher).status_code in (202, 409)
