"""Errors of documents."""

from __future__ import annotations

from platform_api.core.errors import BadRequest, Conflict, Forbidden, NotFound


class DocumentNotFound(NotFound):
    code = "document_not_found"
    message = "Document introuvable."


class JobNotFound(NotFound):
    code = "job_not_found"
    message = "Tâche d'ingestion introuvable."


class InvalidDocument(BadRequest):
    code = "invalid_document"
    message = "Document refusé."


class PublicForAdmins(Forbidden):
    code = "public_for_admins"
    message = "Seuls les administrateurs publient des documents pour tout le monde."


class NotFailed(Conflict):
    code = "job_not_failed"
    message = "Seule une ingestion en échec peut être relancée."
