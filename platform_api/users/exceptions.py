"""Errors of the users domain."""

from __future__ import annotations

from platform_api.core.errors import BadRequest, Conflict, Forbidden, NotFound


class EmailTaken(Conflict):
    code = "email_taken"
    message = "Un compte existe déjà avec cet email."


class UserNotFound(NotFound):
    code = "user_not_found"
    message = "Utilisateur introuvable."


class RoleNotAllowed(Forbidden):
    code = "role_not_allowed"
    message = "Les comptes enseignant et administrateur sont créés par un administrateur."


class InvalidParentCode(BadRequest):
    code = "invalid_parent_code"
    message = "Ce code parent ne correspond à aucun élève."


class NotAStudent(BadRequest):
    code = "not_a_student"
    message = "Cet utilisateur n'est pas un élève."


class LastAdmin(Conflict):
    code = "last_admin"
    message = "Impossible de supprimer le dernier administrateur."
