"""The harness that runs INSIDE the sandbox: the student's (or reference) code, then each test's probe.

Standard library only, no imports from the project: the sandbox runs it with ``python -I -S -c`` on a read-only
runtime. It reads one JSON request on stdin and writes JSON lines on the result file descriptor given as
``argv[1]``; the code's own prints go to stdout/stderr, which the host reads separately and caps. Everything in
this process is under the student's control, so the host trusts nothing here but the probe *values*, which it
compares with the reference solution's values itself (see ``tutor.practice.runner``).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import traceback
from typing import Any

STUDENT_FILE = "<code>"
MAX_ITEMS = 100_000
MAX_DEPTH = 60


class TestTimeout(BaseException):  # noqa: N818 - a BaseException so that "except Exception" in student code lets it go
    """The per-test time limit was reached."""


def encode(value: Any, depth: int = 0, budget: list[int] | None = None) -> Any:
    """Plain data as tagged JSON: lists as arrays, tuples/sets/dicts tagged, anything else named by its type."""
    budget = [MAX_ITEMS] if budget is None else budget
    budget[0] -= 1
    if budget[0] < 0 or depth > MAX_DEPTH:
        return {"o": "trop grand"}
    kind = type(value)
    if value is None or kind in (bool, int, float, str):
        if kind is int and abs(value) > 10**4000:
            return {"o": "int"}
        return value
    if kind is list:
        return [encode(v, depth + 1, budget) for v in value]
    if kind is tuple:
        return {"t": [encode(v, depth + 1, budget) for v in value]}
    if kind in (set, frozenset):
        return {"s": [encode(v, depth + 1, budget) for v in value]}
    if kind is dict:
        return {"d": [[encode(k, depth + 1, budget), encode(v, depth + 1, budget)] for k, v in value.items()]}
    return {"o": kind.__name__}


def describe(exc: BaseException, code_file: str = STUDENT_FILE) -> dict[str, Any]:
    """Type, message and the line in the student's code where the exception happened."""
    line = None
    if isinstance(exc, SyntaxError):
        line = exc.lineno if exc.filename == code_file else None
        return {"type": type(exc).__name__, "message": str(exc.msg)[:300], "line": line}
    else:
        for frame, lineno in traceback.walk_tb(exc.__traceback__):
            if frame.f_code.co_filename == code_file:
                line = lineno
    return {"type": type(exc).__name__, "message": str(exc)[:300], "line": line}


def _on_alarm(signum: int, frame: object) -> None:  # noqa: ARG001 - a signal handler's signature
    raise TestTimeout


def _timed(seconds: float) -> None:
    signal.setitimer(signal.ITIMER_REAL, seconds)


def run_python(req: dict[str, Any], emit: Any) -> None:
    """Exec the code in a fresh namespace, then each test's setup and probe, in order."""
    sys.setrecursionlimit(int(req.get("recursion_limit", 3000)))
    signal.signal(signal.SIGALRM, _on_alarm)
    limit = float(req.get("test_timeout", 2.0))
    namespace: dict[str, Any] = {"__name__": "__main__"}
    try:
        _timed(limit)
        exec(compile(req["code"], STUDENT_FILE, "exec"), namespace)  # noqa: S102 - that is the point, sandboxed
        _timed(0)
    except BaseException as exc:  # noqa: BLE001 - SystemExit and timeouts are verdicts too
        _timed(0)
        emit({"e": "load", "ok": False, "error": describe(exc)})
        return
    emit({"e": "load", "ok": True})
    for step in req["tests"]:
        emit({"e": "start", "i": step["i"]})
        started = time.perf_counter()
        result: dict[str, Any] = {"e": "done", "i": step["i"]}
        try:
            _timed(limit)
            for statement in step["setup"]:
                exec(compile(statement, "<test>", "exec"), namespace)  # noqa: S102
            value = eval(compile(step["probe"], "<test>", "eval"), namespace)  # noqa: S307
            result["value"] = encode(value)
            if step.get("rhs") is not None:
                result["holds"] = bool(value == eval(compile(step["rhs"], "<test>", "eval"), namespace))  # noqa: S307
            else:
                result["holds"] = bool(value)
            _timed(0)
        except BaseException as exc:  # noqa: BLE001
            _timed(0)
            result["error"] = describe(exc)
        result["ms"] = round((time.perf_counter() - started) * 1000, 2)
        emit(result)


def _past(deadline: float) -> Any:
    """A SQLite progress handler that aborts the query once ``deadline`` has passed."""
    return lambda: int(time.monotonic() > deadline)


def run_sql(req: dict[str, Any], emit: Any) -> None:
    """Run the query on a fresh in-memory copy of each database the tests name."""
    import sqlite3

    emit({"e": "load", "ok": True})
    limit = float(req.get("test_timeout", 2.0))
    max_rows = int(req.get("max_rows", 2000))
    for step in req["tests"]:
        emit({"e": "start", "i": step["i"]})
        started = time.perf_counter()
        result: dict[str, Any] = {"e": "done", "i": step["i"]}
        deadline = time.monotonic() + limit
        db = sqlite3.connect(":memory:")
        try:
            db.executescript(req["schema"])
            db.executescript(req["databases"][step["probe"]])
            db.commit()
            db.set_progress_handler(_past(deadline), 10_000)
            if req.get("check_query"):
                db.executescript(req["code"])
                cursor = db.execute(req["check_query"])
            else:
                db.execute("PRAGMA query_only = ON")
                cursor = db.execute(req["code"].strip())
                if cursor.description is None:
                    raise sqlite3.ProgrammingError("not a query")
            rows = cursor.fetchmany(max_rows + 1)
            result["value"] = {"t": [len(cursor.description), encode(rows[:max_rows])]}
            result["holds"] = True
            result["truncated"] = len(rows) > max_rows
        except BaseException as exc:  # noqa: BLE001
            result["error"] = {"type": type(exc).__name__, "message": str(exc)[:300], "line": None}
            if time.monotonic() > deadline:
                result["error"]["type"] = "TestTimeout"
        finally:
            db.close()
        result["ms"] = round((time.perf_counter() - started) * 1000, 2)
        emit(result)


def main() -> None:
    """Read the request, run it, write the events; never raise."""
    channel = os.fdopen(int(sys.argv[1]), "w", encoding="utf-8", buffering=1)

    def emit(event: dict[str, Any]) -> None:
        channel.write(json.dumps(event, ensure_ascii=True, allow_nan=True) + "\n")
        channel.flush()

    req = json.loads(sys.stdin.read())
    sys.stdin.close()
    try:
        (run_sql if req["language"] == "sql" else run_python)(req, emit)
    finally:
        emit({"e": "end"})


if __name__ == "__main__":
    main()
