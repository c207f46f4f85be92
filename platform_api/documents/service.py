"""Documents: upload checks, storage under the data dir, ingestion jobs, deletion with the vectors."""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy.orm import Session

from ingest.errors import IngestError
from ingest.jobs import Job
from ingest.parsers import check_file
from ingest.pipeline import LEVELS, DocumentOptions, Ingestor
from platform_api.classes import service as classes
from platform_api.core.db import new_id
from platform_api.core.errors import PayloadTooLarge
from platform_api.core.state import Platform
from platform_api.documents import schemas
from platform_api.documents.exceptions import DocumentNotFound, InvalidDocument, NotFailed, PublicForAdmins
from platform_api.documents.models import Document, IngestionJob
from platform_api.documents.repository import DocumentRepository, SqlJobQueue
from platform_api.documents.storage import remove_stored
from platform_api.users.models import User

log = structlog.get_logger("platform_api.documents")


MAX_NAME_CHARS = 255
_MAX_SUFFIX_CHARS = 16  # longer than any extension we accept: a "suffix" that long is part of the name


def safe_filename(filename: str) -> str:
    """The name to store and show: last path part, no control characters (NUL...), at most 255 characters.

    A long name loses characters from its stem, never its extension (the format is read from it).
    """
    name = "".join(c for c in Path(filename.replace("\\", "/")).name if unicodedata.category(c) != "Cc").strip()
    if not name.strip("."):
        return "document"
    if len(name) <= MAX_NAME_CHARS:
        return name
    suffix = Path(name).suffix
    if len(suffix) > _MAX_SUFFIX_CHARS:
        suffix = ""
    return name[: MAX_NAME_CHARS - len(suffix)].rstrip() + suffix


def check_upload(filename: str, data: bytes, max_bytes: int) -> str:
    """The file's format, or a French refusal (extension, magic bytes, size, emptiness)."""
    try:
        return check_file(Path(Path(filename).name), data, max_bytes)
    except IngestError as exc:
        if exc.code == "file_too_large":
            raise PayloadTooLarge(exc.reason) from exc
        raise InvalidDocument(exc.reason, code=exc.code) from exc


def check_access(db: Session, user: User, visibility: str, class_ids: Sequence[str]) -> None:
    if visibility == "public" and user.role != "admin":
        raise PublicForAdmins()
    if visibility == "class":
        if not class_ids:
            raise InvalidDocument("Choisis au moins une classe pour un document de classe.", code="class_required")
        for class_id in class_ids:
            classes.managed_class(db, user, class_id)
    elif class_ids:
        raise InvalidDocument("Seul un document de classe est rattaché à des classes.", code="unexpected_classes")


def create(
    db: Session,
    platform: Platform,
    user: User,
    filename: str,
    data: bytes,
    visibility: str,
    class_ids: list[str],
    levels: list[str],
    title: str | None,
) -> tuple[Document, IngestionJob]:
    """Store the file under a server-generated name and queue its ingestion."""
    bad = [lv for lv in levels if lv not in LEVELS]
    if bad:
        raise InvalidDocument(f"Niveau inconnu : {', '.join(bad)} (premiere ou terminale).", code="invalid_level")
    check_access(db, user, visibility, class_ids)
    safe_name = safe_filename(filename)
    fmt = check_upload(safe_name, data, min(platform.settings.max_upload_bytes, platform.ingestor.settings.max_bytes))
    doc_id = new_id()
    stored = f"{doc_id}{Path(safe_name).suffix.lower()}"
    platform.settings.upload_dir.mkdir(parents=True, exist_ok=True)
    path = platform.settings.upload_dir / stored
    path.write_bytes(data)
    repo = DocumentRepository(db)
    doc = repo.add(
        Document(
            id=doc_id,
            owner_id=user.id,
            filename=safe_name,
            stored_name=stored,
            format=fmt,
            size_bytes=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            title=(title or Path(safe_name).stem)[:255],
            visibility=visibility,
            class_ids=class_ids,
            levels=levels,
        )
    )
    job = repo.add_job(IngestionJob(document_id=doc.id, params=job_params(doc, path)))
    platform.dispatcher.dispatch(db, job.id)  # same transaction: the queue entry commits with the rows
    log.info("document_uploaded", document_id=doc.id, size=len(data), format=fmt)
    return doc, job


def job_params(doc: Document, path: Path) -> dict[str, Any]:
    return {
        "path": str(path.resolve()),
        "source": doc.filename,
        "levels": list(doc.levels),
        "visibility": doc.visibility,
        "owner_id": doc.owner_id,
        "class_ids": list(doc.class_ids),
        "doc_id": doc.id,
    }


def visible(db: Session, user: User, doc_id: str) -> Document:
    doc = DocumentRepository(db).get(doc_id)
    if doc is None or (user.role != "admin" and doc.owner_id != user.id):
        raise DocumentNotFound()
    return doc


def delete(db: Session, platform: Platform, doc: Document) -> int:
    """Remove the vectors, the file and the rows; returns how many passages were removed."""
    removed = remove_stored(platform.ingestor, platform.settings.upload_dir, doc)
    DocumentRepository(db).delete(doc)
    log.info("document_deleted", document_id=doc.id, chunks=removed)
    return removed


def retry(db: Session, platform: Platform, doc: Document) -> IngestionJob:
    if doc.status != "failed":
        raise NotFailed()
    doc.status = "queued"
    doc.error = doc.error_code = None
    job = DocumentRepository(db).add_job(
        IngestionJob(document_id=doc.id, params=job_params(doc, platform.settings.upload_dir / doc.stored_name))
    )
    platform.dispatcher.dispatch(db, job.id)
    return job


def job_out(job: IngestionJob | None) -> schemas.JobOut | None:
    if job is None:
        return None
    return schemas.JobOut(
        id=job.id,
        document_id=job.document_id,
        status=job.status,
        progress=job.progress,
        total=job.total,
        percent=round(100 * job.progress / job.total, 1)
        if job.total
        else (100.0 if job.status == "succeeded" else 0.0),
        error=job.error,
        result=job.result,
        attempts=job.attempts,
        created_at=job.created_at,
        updated_at=job.updated_at,
    )


def document_out(db: Session, doc: Document, job: IngestionJob | None = None) -> schemas.DocumentOut:
    out = schemas.DocumentOut.model_validate(doc)
    out.job = job_out(job or DocumentRepository(db).latest_job(doc.id))
    return out


def ingestion_handler(ingestor: Ingestor, queue: SqlJobQueue) -> Any:
    """The worker's handler: ingest the stored file with the document's access options and id."""

    def handle(job: Job, progress: Any) -> dict[str, Any]:
        p = job.params
        options = DocumentOptions.from_params(p, default_visibility="private")
        result = ingestor.ingest_file(Path(p["path"]), p["source"], options, progress)
        if not queue.document_exists(p["doc_id"]):  # deleted while it was being ingested
            ingestor.delete(p["doc_id"])
        return dict(result.__dict__)

    return handle
