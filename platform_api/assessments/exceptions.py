"""Errors of assessments."""

from __future__ import annotations

from platform_api.core.errors import BadRequest, Conflict, NotFound


class AssessmentNotFound(NotFound):
    code = "assessment_not_found"
    message = "Évaluation introuvable."


class AttemptNotFound(NotFound):
    code = "attempt_not_found"
    message = "Tentative introuvable."


class AssessmentClosed(Conflict):
    code = "assessment_closed"
    message = "Cette évaluation n'est pas ouverte en ce moment."


class NoAttemptsLeft(Conflict):
    code = "no_attempts_left"
    message = "Tu as utilisé toutes tes tentatives pour cette évaluation."


class AttemptFinished(Conflict):
    code = "attempt_finished"
    message = "Cette tentative est déjà rendue."


class TimeUp(Conflict):
    code = "time_up"
    commit_on_raise = True  # the attempt is handed in with its saved answers
    message = "Le temps est écoulé : tes réponses enregistrées ont été rendues."


class NotSubmitted(Conflict):
    code = "attempt_not_submitted"
    message = "Cette tentative n'a pas encore été rendue."


class HasAttempts(Conflict):
    code = "assessment_has_attempts"
    message = "Des élèves ont déjà commencé cette évaluation : ses questions ne peuvent plus changer."


class InvalidAssessment(BadRequest):
    code = "invalid_assessment"
    message = "Évaluation invalide."
