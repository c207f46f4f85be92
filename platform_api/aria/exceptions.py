"""Errors of ARIA."""

from __future__ import annotations

from platform_api.core.errors import NotFound, ServiceUnavailable


class SessionNotFound(NotFound):
    code = "session_not_found"
    message = "Conversation introuvable."


class AnswerFailed(ServiceUnavailable):
    code = "answer_failed"
    message = "ARIA n'a pas pu répondre. Réessaie dans un instant."


class SourceNotFound(NotFound):
    code = "source_not_found"
    message = "Source introuvable."
