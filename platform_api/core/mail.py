"""Outgoing mail behind a small interface; the console sender logs messages (the default, and tests read it).

A mail names the secrets it carries (a reset code, the link holding it). The console sender writes them in clear
in development and test, where the log is the developer's inbox; in production it masks them, so a log shipped
to a log platform never holds a working reset link.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

import structlog

MASK = "[masqué]"
# Any token-like query parameter, in case a caller forgets to name its secret.
_QUERY_SECRET = re.compile(r"(?i)([?&](?:token|code|key)=)[^\s&#]+")


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str
    secrets: tuple[str, ...] = ()  # substrings of the body that grant access (masked in production logs)


class MailSender(Protocol):
    """Anything that can send a mail (SMTP, an email API...)."""

    def send(self, mail: Mail) -> None: ...


def redact(mail: Mail) -> str:
    """The body with its secrets and any token-like query parameter masked."""
    body = mail.body
    for secret in sorted(mail.secrets, key=len, reverse=True):
        if secret:
            body = body.replace(secret, MASK)
    return _QUERY_SECRET.sub(rf"\1{MASK}", body)


class ConsoleMailSender:
    """Writes mails to the log and keeps the last ones in memory (for the console and for tests).

    Args:
        keep: how many sent mails ``outbox`` keeps.
        redact: mask the secrets of each mail in the log line (production).
    """

    def __init__(self, keep: int = 50, redact: bool = False) -> None:
        self.keep = keep
        self.redact = redact
        self.outbox: list[Mail] = []
        self.log = structlog.get_logger("platform_api.mail")

    def send(self, mail: Mail) -> None:
        self.outbox = [*self.outbox[-(self.keep - 1) :], mail] if self.keep > 1 else [mail]
        body = redact(mail) if self.redact else mail.body
        self.log.info("mail", to=mail.to, subject=mail.subject, body=body, redacted=self.redact)
