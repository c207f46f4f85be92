"""The platform's errors and the handlers that render them as ``{"error": code, "detail": message}``.

Messages are French (shown to users), codes are stable English identifiers (read by clients).

AppError                       400 bad_request
├── BadRequest                 400
├── Unauthenticated            401 unauthenticated
│   ├── InvalidCredentials     401 invalid_credentials
│   └── InvalidToken           401 invalid_token
├── Forbidden                  403 forbidden
├── NotFound                   404 not_found
├── Conflict                   409 conflict
├── PayloadTooLarge            413 file_too_large
├── RateLimited                429 rate_limited (with Retry-After)
└── ServiceUnavailable         503 unavailable
Domain packages subclass these in their ``exceptions.py``.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException


class AppError(Exception):
    """Base of every error the API renders itself."""

    status_code = 400
    code = "bad_request"
    message = "Requête invalide."
    # Work done before the error must be kept (e.g. revoking a stolen token family), not rolled back.
    commit_on_raise = False

    def __init__(self, message: str | None = None, status_code: int | None = None, code: str | None = None) -> None:
        self.message = message or type(self).message
        self.status_code = status_code or type(self).status_code
        self.code = code or type(self).code
        super().__init__(self.message)

    def headers(self) -> dict[str, str] | None:
        return None


class BadRequest(AppError):
    pass


class Unauthenticated(AppError):
    status_code = 401
    code = "unauthenticated"
    message = "Authentification requise."

    def headers(self) -> dict[str, str] | None:
        return {"WWW-Authenticate": "Bearer"}


class InvalidCredentials(Unauthenticated):
    code = "invalid_credentials"
    message = "Email ou mot de passe incorrect."


class InvalidToken(Unauthenticated):
    code = "invalid_token"
    message = "Jeton invalide ou expiré : reconnecte-toi."


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"
    message = "Tu n'as pas accès à cette ressource."


class NotFound(AppError):
    status_code = 404
    code = "not_found"
    message = "Ressource introuvable."


class Conflict(AppError):
    status_code = 409
    code = "conflict"
    message = "Cette action entre en conflit avec l'état actuel."


class PayloadTooLarge(AppError):
    status_code = 413
    code = "file_too_large"
    message = "Le fichier est trop volumineux."


class RateLimited(AppError):
    status_code = 429
    code = "rate_limited"
    message = "Trop de requêtes : réessaie dans quelques instants."

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        self.retry_after = max(1, retry_after)
        super().__init__(message or f"Trop de requêtes : réessaie dans {self.retry_after} secondes.")

    def headers(self) -> dict[str, str] | None:
        return {"Retry-After": str(self.retry_after)}


class ServiceUnavailable(AppError):
    status_code = 503
    code = "unavailable"
    message = "Service momentanément indisponible."


def error_body(code: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"error": code, "detail": detail, **extra}


def responses(*errors: type[AppError]) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route: each status it may answer with, documented in OpenAPI."""
    return {
        e.status_code: {
            "description": e.message,
            "content": {"application/json": {"example": error_body(e.code, e.message)}},
        }
        for e in errors
    }


_HTTP_CODES = {
    404: ("not_found", "Ressource introuvable."),
    405: ("method_not_allowed", "Méthode non autorisée."),
    401: ("unauthenticated", "Authentification requise."),
    403: ("forbidden", "Accès refusé."),
}


def _field_name(loc: Any) -> str:
    return ".".join(str(p) for p in loc if p not in ("body", "query", "path"))


def install_error_handlers(app: FastAPI) -> None:
    """Render every error as ``{"error", "detail"}``; unexpected ones are logged and hidden."""
    log = structlog.get_logger("platform_api")

    @app.exception_handler(AppError)
    async def _app_error(_request: Request, exc: AppError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message), exc.status_code, headers=exc.headers())

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [{"field": _field_name(e.get("loc", ())), "message": e.get("msg", "")} for e in exc.errors()]
        names = ", ".join(sorted({f["field"] or "requête" for f in fields}))
        return JSONResponse(
            error_body("validation_error", f"Données invalides : vérifie {names}.", fields=fields), status_code=422
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, detail = _HTTP_CODES.get(exc.status_code, ("http_error", "Requête refusée."))
        return JSONResponse(error_body(code, detail), exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled_error", error=type(exc).__name__)
        return JSONResponse(error_body("internal_error", "Une erreur interne est survenue. Réessaie plus tard."), 500)
