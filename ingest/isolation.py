"""Parse files in killable child processes, each file with a wall-time and a memory budget.

Why a process and not a thread: a parser stuck in C code (a YAML alias bomb, a huge Flate stream, a deeply
nested document) holds the GIL and cannot be interrupted; a child process can be killed, and its memory goes
back to the system when it dies. Only the bytes go in and the parsed document comes out: embedding stays in the
parent.

Children are fresh interpreters (never forks of the threaded server) that import the parsers once and are kept
warm between files (at most ``_MAX_IDLE`` idle), so a small file costs a pipe round trip.
Before each file the child lowers its own ``RLIMIT_AS`` (memory) and ``RLIMIT_CPU`` (a backstop if the parent is
gone); the parent kills it when the wall time is over. A child that hit a limit is never reused.
"""

from __future__ import annotations

import importlib
import multiprocessing.connection
import os
import resource
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.errors import IngestError, IngestInterrupted, ParseError, UnusableFileError
from ingest.parsers import ParsedDocument

DEFAULT_TARGET = "ingest.isolation:parse_with_limits"
# what a child imports once at its start, so every file costs only its parse
_PRELOAD = ["ingest.parsers", "pypdf", "docx", "bs4", "markdown_it", "yaml"]
_MAX_IDLE = 2


@dataclass(frozen=True)
class ParseLimits:
    """The budget of one file: wall time, memory of the child, and the caps the parsers apply."""

    timeout_s: float = 60.0
    memory_mb: int = 1024
    max_bytes: int = 50_000_000
    max_pdf_pages: int = 1000
    max_chars: int = 2_000_000


def _serve(reader: multiprocessing.connection.Connection, writer: multiprocessing.connection.Connection) -> None:
    """The child's loop: one request per file, until the parent closes the pipe."""
    for module in _PRELOAD:  # once, so that every file costs only its parse
        importlib.import_module(module)
    _, hard_as = resource.getrlimit(resource.RLIMIT_AS)
    _, hard_cpu = resource.getrlimit(resource.RLIMIT_CPU)
    while True:
        try:
            target, filename, data, limits = reader.recv()
        except (EOFError, OSError):
            return
        usage = resource.getrusage(resource.RUSAGE_SELF)
        cpu_budget = int(usage.ru_utime + usage.ru_stime + limits.timeout_s) + 2
        resource.setrlimit(resource.RLIMIT_CPU, (_capped(cpu_budget, hard_cpu), hard_cpu))
        resource.setrlimit(resource.RLIMIT_AS, (_capped(limits.memory_mb * 1024 * 1024, hard_as), hard_as))
        try:
            reply: tuple[Any, ...] = ("ok", _resolve(target)(Path(filename), data, limits))
        except MemoryError:
            reply = ("memory",)
        except IngestError as exc:
            reply = ("refused", type(exc).__name__, exc.reason, exc.code)
        except Exception as exc:  # a parser bug: reported like a parse failure
            reply = ("refused", "ParseError", f"Le fichier n'a pas pu être lu ({type(exc).__name__}).", None)
        del data
        resource.setrlimit(resource.RLIMIT_AS, (hard_as, hard_as))
        try:
            writer.send(reply)
        except MemoryError:
            writer.send(("memory",))
        if reply[0] == "memory":
            return  # its heap may be in a bad state: never reuse a child that ran out of memory


def _capped(value: int, hard: int) -> int:
    return value if hard == resource.RLIM_INFINITY else min(value, hard)


def _resolve(target: str) -> Callable[[Path, bytes, ParseLimits], ParsedDocument]:
    module, _, name = target.partition(":")
    func: Callable[[Path, bytes, ParseLimits], ParsedDocument] = getattr(importlib.import_module(module), name)
    return func


def parse_with_limits(path: Path, data: bytes, limits: ParseLimits) -> ParsedDocument:
    """The default target, run in the child: the parsers with the file's caps."""
    from ingest.parsers import parse_bytes

    return parse_bytes(path, data, limits.max_bytes, max_pdf_pages=limits.max_pdf_pages, max_chars=limits.max_chars)


class _Child:
    """A fresh interpreter running :func:`_serve`, spoken to over two pipes (its stdin and a dup of its stdout).

    Why not ``multiprocessing.Process``: forking a threaded server is unsafe, and spawn or forkserver children
    import the parent's ``__main__`` module again (the CLI with all its imports, or any script).
    """

    def __init__(self) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from ingest.isolation import _main; _main()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            start_new_session=True,  # Ctrl-C and the terminal's signals are the parent's to handle
        )
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.writer = multiprocessing.connection.Connection(os.dup(self.process.stdin.fileno()), readable=False)
        self.reader = multiprocessing.connection.Connection(os.dup(self.process.stdout.fileno()), writable=False)
        self.process.stdin.close()
        self.process.stdout.close()

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def exitcode(self) -> int | None:
        try:
            return self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return None

    def kill(self, close: bool = True) -> None:
        if self.alive():
            self.process.kill()
        self.exitcode()
        if close:
            self.writer.close()
            self.reader.close()


def _main() -> None:
    """The child's entry point: the pipes are its stdin and stdout; what parsers print goes to stderr."""
    reader = multiprocessing.connection.Connection(os.dup(0), writable=False)
    writer = multiprocessing.connection.Connection(os.dup(1), readable=False)
    os.dup2(2, 1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    _serve(reader, writer)


class ParserPool:
    """Warm parser children shared by every ingestor of the process; thread-safe.

    Example:
        >>> doc = POOL.parse(Path("cours.md"), b"# Les piles", ParseLimits(timeout_s=5))
        >>> doc.title
        'Les piles'
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: list[_Child] = []
        self._busy: set[_Child] = set()
        self._closing = 0  # bumped by shutdown(): parses running then end with IngestInterrupted

    def _acquire(self) -> tuple[_Child, int]:
        with self._lock:
            generation = self._closing
            child = None
            while self._idle and child is None:
                candidate = self._idle.pop()
                if candidate.alive():
                    child = candidate
                else:
                    candidate.kill()
        if child is None:
            child = _Child()
        with self._lock:
            self._busy.add(child)
        return child, generation

    def _release(self, child: _Child, reuse: bool) -> None:
        with self._lock:
            self._busy.discard(child)
            keep = reuse and len(self._idle) < _MAX_IDLE
            if keep:
                self._idle.append(child)
        if not keep:
            child.kill()

    def parse(self, path: Path, data: bytes, limits: ParseLimits, target: str = DEFAULT_TARGET) -> ParsedDocument:
        """Parse one file in a child; raises the parser's own refusal, or a French one when a budget is exceeded."""
        child, generation = self._acquire()
        reply: tuple[Any, ...] | None = None  # None: the wall time ran out
        try:
            child.writer.send((target, path.name, data, limits))
            if child.reader.poll(limits.timeout_s):
                reply = child.reader.recv()
        except (EOFError, OSError):  # the child died (killed by a limit, a crash, or shutdown())
            reply = ("died",)
        except BaseException:
            self._release(child, reuse=False)
            raise
        code = child.exitcode() if reply is not None and reply[0] == "died" else None
        interrupted = generation != self._closing
        self._release(child, reuse=not interrupted and reply is not None and reply[0] in ("ok", "refused"))
        if interrupted:
            raise IngestInterrupted("the service is stopping")
        if reply is None:
            raise UnusableFileError(
                f"L'analyse du fichier a dépassé le temps imparti ({limits.timeout_s:g} s) : le fichier est "
                "trop long ou construit pour bloquer la lecture. Découpez-le ou enregistrez-le autrement.",
                "parse_timeout",
            )
        if reply[0] == "ok":
            doc: ParsedDocument = reply[1]
            return doc
        if reply[0] == "refused":
            error = UnusableFileError if reply[1] == "UnusableFileError" else ParseError
            raise error(reply[2], reply[3])
        if reply[0] == "memory" or code == -signal.SIGKILL:  # SIGKILL: the kernel's OOM killer
            raise UnusableFileError(
                f"L'analyse du fichier a dépassé la mémoire autorisée ({limits.memory_mb} Mo) : le fichier "
                "est trop volumineux une fois décompressé. Découpez-le ou enregistrez-le autrement.",
                "parse_memory",
            )
        if code == -signal.SIGXCPU:
            raise UnusableFileError(
                f"L'analyse du fichier a dépassé le temps de calcul autorisé ({limits.timeout_s:g} s).",
                "parse_timeout",
            )
        raise ParseError(
            f"La lecture du fichier a arrêté le programme d'analyse (code {code}) : le fichier est sans doute "
            "endommagé ou trop volumineux une fois décompressé.",
            "parser_crashed",
        )

    def shutdown(self) -> None:
        """Kill every child, busy ones included (their parses raise :class:`IngestInterrupted`)."""
        with self._lock:
            self._closing += 1
            idle, busy = list(self._idle), list(self._busy)
            self._idle.clear()
        for child in idle:
            child.kill()
        for child in busy:  # the parsing thread sees its pipe end and closes it
            child.kill(close=False)

    def pids(self) -> list[int]:
        """The process ids of the live children (for tests and the bench)."""
        with self._lock:
            return [c.pid for c in [*self._idle, *self._busy] if c.alive()]


POOL = ParserPool()


def limits_from(settings: Any) -> ParseLimits:
    """The budget of the ingestion settings (``ingest.config.IngestSettings``)."""
    return ParseLimits(
        timeout_s=settings.parse_timeout_seconds,
        memory_mb=settings.parse_memory_mb,
        max_bytes=settings.max_bytes,
        max_pdf_pages=settings.max_pdf_pages,
        max_chars=settings.max_text_chars,
    )
