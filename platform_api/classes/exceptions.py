"""Errors of classes."""

from __future__ import annotations

from platform_api.core.errors import BadRequest, NotFound


class ClassNotFound(NotFound):
    code = "class_not_found"
    message = "Classe introuvable."


class InvalidJoinCode(BadRequest):
    code = "invalid_join_code"
    message = "Ce code de classe ne correspond à aucune classe."


class StudentNotFound(NotFound):
    code = "student_not_found"
    message = "Élève introuvable."


class InvitationNotFound(NotFound):
    code = "invitation_not_found"
    message = "Invitation introuvable ou expirée."
