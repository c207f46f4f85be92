"""Structured logs with structlog: console lines in development, JSON in production, a request id on each.

No log line carries a token: our access line logs the path without its query string, uvicorn's own access log
is off under `nexus serve`, and a filter masks token-like query parameters in any line that still has one.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import structlog

MASK = "[masqué]"
# The events stream and the WebSocket take `?token=` (browsers cannot set headers there); reset links `?token=`.
_QUERY_SECRET = re.compile(r"(?i)([?&](?:token|access_token|refresh_token|code|key)=)[^\s&#\"']+")


def redact_url(text: str) -> str:
    """The text with the values of token-like query parameters masked."""
    return _QUERY_SECRET.sub(rf"\1{MASK}", text)


class RedactQueryTokens(logging.Filter):
    """Masks token-like query parameters in a record's message and arguments (uvicorn's access line has both)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_url(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact_url(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: redact_url(v) if isinstance(v, str) else v for k, v in record.args.items()}
        return True


def configure_logging(json_logs: bool, level: str = "INFO") -> None:
    """Configure structlog and the standard library alike (uvicorn's logs go through the same renderer)."""
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if json_logs else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.format_exc_info,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    handler.addFilter(RedactQueryTokens())
    for name in ("platform_api", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(level.upper())
        logger.propagate = False
    access = logging.getLogger("uvicorn.access")
    access.disabled = True  # the request line of RequestContextMiddleware replaces it
    if not any(isinstance(f, RedactQueryTokens) for f in access.filters):
        access.addFilter(RedactQueryTokens())  # should something turn it back on


def uvicorn_config(app: Any, host: str, port: int, **extra: Any) -> Any:
    """uvicorn's configuration for ``app`` that keeps our logging: no dictConfig of its own, no access log.

    uvicorn's default ``log_config`` re-enables its access logger, whose line holds the full URL with
    ``?token=`` (the events stream): `nexus serve` and the tests start servers through this function.
    """
    import uvicorn

    # proxy_headers off: uvicorn would otherwise replace the peer with an X-Forwarded-For entry of its choosing
    # whenever the peer is 127.0.0.1 (a local nginx), spoofed hops included; the client address is the app's to
    # decide, from NEXUS_TRUST_PROXY_HEADERS and NEXUS_TRUSTED_PROXIES (platform_api.core.deps.client_key).
    options: dict[str, Any] = {
        "log_config": None,
        "access_log": False,
        "timeout_graceful_shutdown": 25,
        "proxy_headers": False,
    } | extra
    return uvicorn.Config(app, host=host, port=port, **options)
