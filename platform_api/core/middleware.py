"""One pure-ASGI middleware (safe with streaming): request id, security headers, access log and metrics."""

from __future__ import annotations

import json
import re
import time
import uuid

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from platform_api.core.metrics import Metrics

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_API_CSP = "default-src 'none'; frame-ancestors 'none'"
# Swagger UI loads its own inline code; it gets a CSP that allows it.
_PAGE_CSP = (
    "default-src 'self'; img-src 'self' data: https:; style-src 'self' 'unsafe-inline' https:; "
    "script-src 'self' 'unsafe-inline' https:; frame-ancestors 'none'"
)
# The web app: every script and style is a file served here, nothing inline, nothing from elsewhere.
_WEB_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_API_PREFIXES = ("/api/", "/ws/", "/health", "/ready", "/metrics")


class RequestContextMiddleware:
    """Adds ``X-Request-ID`` (kept from the client when well-formed), security headers, a log line, metrics."""

    def __init__(self, app: ASGIApp, metrics: Metrics, hsts: bool = False) -> None:
        self.app = app
        self.metrics = metrics
        self.hsts = hsts
        self.log = structlog.get_logger("platform_api.access")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        given = headers.get("x-request-id", "")
        request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        path: str = scope["path"]

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                extra = self._security_headers(path, request_id)
                existing = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (k, v) for k, v in extra if k.lower() not in existing
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_template(scope)
            method = scope["method"]
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(elapsed)
            if route not in ("/metrics", "/health"):
                # A person's id in a path (an erasure: DELETE /api/users/{user_id}) is logged as the template.
                shown = route if any(p in route for p in _PERSON_PARAMS) else path
                self.log.info("request", method=method, path=shown, status=status, ms=round(elapsed * 1000, 1))

    def _security_headers(self, path: str, request_id: str) -> list[tuple[bytes, bytes]]:
        if path.startswith(("/docs", "/redoc")):
            csp = _PAGE_CSP
        elif path.startswith(_API_PREFIXES) or path == "/openapi.json":
            csp = _API_CSP
        else:
            csp = _WEB_CSP
        pairs = [
            ("x-request-id", request_id),
            ("x-content-type-options", "nosniff"),
            ("x-frame-options", "DENY"),
            ("referrer-policy", "no-referrer"),
            ("cross-origin-opener-policy", "same-origin"),
            ("permissions-policy", "camera=(), microphone=(), geolocation=()"),
            ("content-security-policy", csp),
        ]
        if self.hsts:
            pairs.append(("strict-transport-security", "max-age=63072000; includeSubDomains"))
        return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in pairs]


_PERSON_PARAMS = ("{user_id}", "{student_id}")


def _route_template(scope: Scope) -> str:
    """The matched route's template (``/api/courses/{course_id}``): bounded label values for Prometheus."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "unmatched"


class BodySizeLimitMiddleware:
    """Refuses a request body over ``max_bytes`` (announced or streamed) with 413, before anything parses it."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers", [])).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await _too_large(send, self.max_bytes)
            return
        received = 0
        exceeded = False
        started = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    exceeded = True
                    raise _BodyTooLarge()
            return message

        async def guarded_send(message: Message) -> None:
            # FastAPI turns any error raised while it parses a form into its own 400: past the limit, the
            # answer is our 413 whatever the app made of the interrupted body.
            nonlocal started
            if exceeded:
                if message["type"] == "http.response.start" and not started:
                    started = True
                    await _too_large(send, self.max_bytes)
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except _BodyTooLarge:
            if not started:
                await _too_large(send, self.max_bytes)


class _BodyTooLarge(Exception):
    pass


async def _too_large(send: Send, max_bytes: int) -> None:
    detail = f"La requête est trop volumineuse : {max_bytes / 1e6:.0f} Mo au maximum."
    body = json.dumps({"error": "file_too_large", "detail": detail}, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),  # the rest of the body is not read
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class NulCharacterMiddleware:
    """400 for a URL holding a NUL character (``%00`` in the path or the query string), before any handler.

    No text of this API may hold one (PostgreSQL text cannot: the query failed with a 500), and no legitimate
    client sends one. JSON bodies are checked by the models (platform_api.core.schemas.ApiModel).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and _has_nul(scope):
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            detail = "La requête contient un caractère nul (%00), qui n'est pas accepté."
            body = json.dumps({"error": "nul_character", "detail": detail}, ensure_ascii=False).encode()
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": 400, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


def _has_nul(scope: Scope) -> bool:
    query: bytes = scope.get("query_string", b"")
    raw_path: bytes = scope.get("raw_path") or b""
    return "\x00" in scope.get("path", "") or b"%00" in query or b"\x00" in query or b"%00" in raw_path
