"""Ingestion errors: each carries a stable English code and a French reason shown to teachers.

IngestError
├── UnusableFileError   (empty, too large, wrong type, encrypted, no text layer)
└── ParseError          (the parser failed on a file that looked valid)

IngestInterrupted is not about the file: the service stopped while it was being parsed.
"""

from __future__ import annotations


class IngestError(Exception):
    """A document could not be ingested; ``reason`` is French and shown as is."""

    code = "ingest_failed"

    def __init__(self, reason: str, code: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        if code:
            self.code = code


class UnusableFileError(IngestError):
    code = "unusable_file"


class ParseError(IngestError):
    code = "parse_error"


class IngestInterrupted(Exception):  # noqa: N818 - not an error of the file
    """The service is stopping while a file is parsed: the job is left to run again at the next start."""
