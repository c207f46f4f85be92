"""Errors of authentication."""

from __future__ import annotations

from platform_api.core.errors import BadRequest, InvalidToken


class TokenReused(InvalidToken):
    code = "token_reused"
    commit_on_raise = True
    message = "Ce jeton a déjà été utilisé : par sécurité, toutes tes sessions ont été fermées. Reconnecte-toi."


class TokenRevoked(InvalidToken):
    code = "token_revoked"
    message = "Cette session a été fermée : reconnecte-toi."


class InvalidResetToken(BadRequest):
    code = "invalid_reset_token"
    message = "Ce lien de réinitialisation est invalide ou expiré : demande-en un nouveau."


class AccountDisabled(InvalidToken):
    code = "account_disabled"
    message = "Ce compte est désactivé. Contacte l'administrateur de ton établissement."


class WrongPassword(BadRequest):
    code = "wrong_password"
    message = "Le mot de passe actuel est incorrect."
