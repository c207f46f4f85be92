"""Outgoing mail behind a small interface; the console sender logs messages (the default, and tests read it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import structlog


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


class MailSender(Protocol):
    """Anything that can send a mail (SMTP, an email API...)."""

    def send(self, mail: Mail) -> None: ...


class ConsoleMailSender:
    """Writes mails to the log and keeps the last ones in memory (for the console and for tests)."""

    def __init__(self, keep: int = 50) -> None:
        self.keep = keep
        self.outbox: list[Mail] = []
        self.log = structlog.get_logger("platform_api.mail")

    def send(self, mail: Mail) -> None:
        self.outbox = [*self.outbox[-(self.keep - 1) :], mail] if self.keep > 1 else [mail]
        self.log.info("mail", to=mail.to, subject=mail.subject, body=mail.body)
