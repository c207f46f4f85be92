"""Routes of documents: multipart upload, ingestion status, deletion."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Response, UploadFile, status

from platform_api.core.deps import PlatformDep, SessionDep, TeacherUser
from platform_api.core.errors import Forbidden, PayloadTooLarge, responses
from platform_api.documents import schemas, service
from platform_api.documents.exceptions import DocumentNotFound, InvalidDocument, JobNotFound, NotFailed, PublicForAdmins
from platform_api.documents.repository import DocumentRepository

router = APIRouter(prefix="/api/documents", tags=["documents"])
jobs_router = APIRouter(prefix="/api/ingestion-jobs", tags=["documents"])


def _read_limited(upload: UploadFile, limit: int) -> bytes:
    """Read at most ``limit`` bytes (+1 to detect a larger file) without trusting the announced size."""
    data = upload.file.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(f"Le fichier dépasse la taille maximale ({limit / 1e6:.0f} Mo).")
    return data


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    responses=responses(Forbidden, PayloadTooLarge, InvalidDocument, PublicForAdmins),
)
def upload_document(
    user: TeacherUser,
    db: SessionDep,
    platform: PlatformDep,
    file: Annotated[UploadFile, File(description="PDF, Markdown, DOCX, HTML or TXT")],
    visibility: Annotated[str, Form(pattern="^(class|private|public)$")] = "private",
    class_ids: Annotated[list[str] | None, Form(alias="classIds")] = None,
    levels: Annotated[list[str] | None, Form()] = None,
    title: Annotated[str | None, Form(max_length=255)] = None,
) -> schemas.DocumentOut:
    """Upload a course file; it is checked, stored and queued for ingestion (poll its status)."""
    data = _read_limited(file, platform.settings.max_upload_bytes)
    ids = [c.strip() for raw in class_ids or [] for c in raw.split(",") if c.strip()]
    lv = [x.strip() for raw in levels or [] for x in raw.split(",") if x.strip()]
    doc, job = service.create(db, platform, user, file.filename or "document", data, visibility, ids, lv, title)
    return service.document_out(db, doc, job)


@router.get("")
def list_documents(user: TeacherUser, db: SessionDep) -> list[schemas.DocumentOut]:
    """The caller's uploads (all uploads for admins)."""
    docs = DocumentRepository(db).of_owner(None if user.role == "admin" else user.id)
    return [service.document_out(db, d) for d in docs]


@router.get("/{document_id}", responses=responses(DocumentNotFound))
def read_document(document_id: str, user: TeacherUser, db: SessionDep) -> schemas.DocumentOut:
    return service.document_out(db, service.visible(db, user, document_id))


@router.get("/{document_id}/status", responses=responses(DocumentNotFound))
def document_status(document_id: str, user: TeacherUser, db: SessionDep) -> schemas.JobOut:
    """Ingestion progress (passages embedded / total) and status of the document's latest job."""
    doc = service.visible(db, user, document_id)
    out = service.job_out(DocumentRepository(db).latest_job(doc.id))
    if out is None:
        raise JobNotFound()
    return out


@router.post("/{document_id}/retry", status_code=status.HTTP_202_ACCEPTED, responses=responses(NotFailed))
def retry_document(document_id: str, user: TeacherUser, db: SessionDep, platform: PlatformDep) -> schemas.DocumentOut:
    doc = service.visible(db, user, document_id)
    job = service.retry(db, platform, doc)
    return service.document_out(db, doc, job)


@router.delete("/{document_id}", status_code=status.HTTP_204_NO_CONTENT, responses=responses(DocumentNotFound))
def delete_document(document_id: str, user: TeacherUser, db: SessionDep, platform: PlatformDep) -> Response:
    """Delete the document, its file and its passages in the knowledge base."""
    service.delete(db, platform, service.visible(db, user, document_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@jobs_router.get("/{job_id}", responses=responses(JobNotFound))
def read_job(job_id: str, user: TeacherUser, db: SessionDep) -> schemas.JobOut:
    repo = DocumentRepository(db)
    job = repo.job(job_id)
    doc = repo.get(job.document_id) if job and job.document_id else None
    if job is None or doc is None or (user.role != "admin" and doc.owner_id != user.id):
        raise JobNotFound()
    out = service.job_out(job)
    assert out is not None
    return out
