"""Parsers that misbehave on purpose, run in the parsing child by name (``tests.ingest.nasty:greedy``); the nasty
files themselves are built by evals/nasty_files.py."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

from evals.nasty_files import billion_laughs, corpus, docx, good_docx, good_pdf, page, pdf
from ingest.isolation import ParseLimits
from ingest.parsers import ParsedDocument

__all__ = ["billion_laughs", "corpus", "docx", "good_docx", "good_pdf", "page", "pdf"]


# --- parsers that misbehave, run in the child as "tests.ingest.nasty:<name>" --------------------------------


def greedy(path: Path, data: bytes, limits: ParseLimits) -> ParsedDocument:
    """Allocates far more than any budget, as a decompression bomb would."""
    hoard = [bytearray(50_000_000) for _ in range(200)]  # 10 GB
    raise AssertionError(f"allocated {len(hoard)} blocks")


def sleepy(path: Path, data: bytes, limits: ParseLimits) -> ParsedDocument:
    """Never ends (in a C call that holds the GIL, in real life)."""
    time.sleep(3600)
    raise AssertionError("woke up")


def spinning(path: Path, data: bytes, limits: ParseLimits) -> ParsedDocument:
    """Burns CPU forever."""
    n = 0
    while True:
        n += 1


def crashing(path: Path, data: bytes, limits: ParseLimits) -> ParsedDocument:
    """Dies as a segfaulting C extension does."""
    os.kill(os.getpid(), signal.SIGSEGV)
    raise AssertionError("still alive")


def pid(path: Path, data: bytes, limits: ParseLimits) -> ParsedDocument:
    """A document whose title is the child's process id."""
    from ingest.parsers import Block

    return ParsedDocument("texte", str(os.getpid()), [Block(0, 5, ())])


TARGETS: dict[str, Callable[[Path, bytes, ParseLimits], ParsedDocument]] = {
    "greedy": greedy,
    "sleepy": sleepy,
    "spinning": spinning,
    "crashing": crashing,
    "pid": pid,
}
