"""Check code against an exercise's tests in the sandbox and turn the harness's events into per-test verdicts.

The verdict is decided here, outside the sandbox: a test ``assert L == R`` passes when the value of ``L`` in the
student's run equals its value in the reference solution's run (both sent back as plain data); any other assert
passes when its value is true. The harness only reports values, so code that prints or writes fake results can
at best claim values, and a hidden test's expected value never enters the student's process.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from tutor.practice.errors import LIMITS, explain
from tutor.practice.model import Exercise, TestCase
from tutor.practice.sandbox import Sandbox, SandboxRun

Status = Literal["passed", "failed", "error"]


class ExerciseBroken(RuntimeError):
    """The reference solution does not pass its own tests: the exercise file needs fixing."""


@dataclass(frozen=True)
class Opaque:
    """A value the harness could not send as plain data (an object of a student's class, a function…)."""

    type_name: str

    def __eq__(self, other: object) -> bool:
        return False

    def __hash__(self) -> int:
        return hash(self.type_name)

    def __repr__(self) -> str:
        return f"<objet {self.type_name}>"


def decode(value: Any) -> Any:
    """Rebuild plain Python data from the harness's tagged JSON (the inverse of ``harness.encode``)."""
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict) and len(value) == 1:
        ((tag, inner),) = value.items()
        try:
            if tag == "t":
                return tuple(decode(v) for v in inner)
            if tag == "s":
                return {decode(v) for v in inner}
            if tag == "d":
                return {decode(k): decode(v) for k, v in inner}
        except (TypeError, ValueError):
            return Opaque("donnée invalide")
        if tag == "o":
            return Opaque(str(inner))
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return Opaque("donnée invalide")


@dataclass(frozen=True)
class TestVerdict:
    """The verdict of one test, with everything a student may be shown (hidden tests keep their code secret)."""

    index: int
    hidden: bool
    status: Status
    test: str | None
    message: str | None
    error_type: str | None = None
    explanation: str | None = None
    line: int | None = None
    duration_ms: float | None = None


@dataclass
class CheckResult:
    """Every test's verdict on one piece of code, the code's output (capped) and the time taken."""

    exercise_id: str
    verdicts: list[TestVerdict]
    duration_s: float
    output: str = ""
    output_truncated: bool = False
    load_error: dict[str, Any] | None = None
    stopped: str | None = None
    stats: dict[str, float] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """True when there are tests and all of them passed."""
        return bool(self.verdicts) and all(v.status == "passed" for v in self.verdicts)

    def counts(self) -> dict[str, int]:
        """How many tests passed, failed, errored."""
        found = Counter(v.status for v in self.verdicts)
        return {status: found.get(status, 0) for status in ("passed", "failed", "error")}

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (``nexus exercises check --json``)."""
        return {
            "exercise": self.exercise_id,
            "passed": self.passed,
            "counts": self.counts(),
            "duration_s": round(self.duration_s, 4),
            "stopped": self.stopped,
            "load_error": self.load_error,
            "output": self.output,
            "output_truncated": self.output_truncated,
            "tests": [asdict(v) for v in self.verdicts],
        }


@dataclass(frozen=True)
class Outcome:
    """The harness's events of one run, indexed: the load event and each test's first ``done``."""

    run: SandboxRun
    load: dict[str, Any] | None
    done: dict[int, dict[str, Any]]
    started: set[int]

    @classmethod
    def of(cls, run: SandboxRun) -> Outcome:
        load: dict[str, Any] | None = None
        done: dict[int, dict[str, Any]] = {}
        started: set[int] = set()
        for event in run.events:  # a forked child may repeat events: the first one counts
            kind, index = event.get("e"), event.get("i")
            if kind == "load" and load is None:
                load = event
            elif kind == "start" and isinstance(index, int):
                started.add(index)
            elif kind == "done" and isinstance(index, int) and index not in done:
                done[index] = event
        return cls(run, load, done, started)


class Runner:
    """Runs code against an exercise's tests in the sandbox; the reference solution's run is cached.

    Args:
        sandbox: the jail (default: ``Sandbox()`` with ``NEXUS_SANDBOX_*`` limits).

    Example:
        >>> runner = Runner()
        >>> result = runner.check(bank.get("somme-des-elements"), "def somme(t):\\n    return 0")
        >>> result.counts()
        {'passed': 2, 'failed': 4, 'error': 0}
    """

    def __init__(self, sandbox: Sandbox | None = None) -> None:
        self.sandbox = sandbox or Sandbox()
        self._references: dict[str, Outcome] = {}
        self._lock = threading.Lock()

    def request(self, exercise: Exercise, code: str, tests: list[TestCase], *, with_rhs: bool) -> dict[str, Any]:
        """The harness request for running ``code`` on these tests (``with_rhs`` only for the reference)."""
        if exercise.language == "sql":
            assert exercise.database is not None
            return {
                "language": "sql",
                "code": code,
                "schema": exercise.database.schema_sql,
                "databases": {"public": exercise.database.public, "hidden": exercise.database.hidden},
                "check_query": exercise.check_query,
                "tests": [{"i": t.index, "probe": t.probe} for t in tests],
            }
        return {
            "language": "python",
            "code": code,
            "tests": [
                {"i": t.index, "setup": list(t.setup), "probe": t.probe, "rhs": t.rhs if with_rhs else None}
                for t in tests
            ],
        }

    def reference(self, exercise: Exercise) -> Outcome:
        """The reference solution's run on all tests (cached per exercise content)."""
        key = hashlib.sha256(exercise.model_dump_json().encode()).hexdigest()
        with self._lock:
            cached = self._references.get(key)
        if cached is not None:
            return cached
        outcome = Outcome.of(
            self.sandbox.run(self.request(exercise, exercise.solution, exercise.tests(), with_rhs=True))
        )
        with self._lock:
            self._references[key] = outcome
        return outcome

    def reference_problems(self, exercise: Exercise) -> list[str]:
        """What is wrong with the reference solution on its own tests (empty when it passes them all)."""
        outcome = self.reference(exercise)
        problems: list[str] = []
        if outcome.load is None or not outcome.load.get("ok"):
            error = (outcome.load or {}).get("error") or {
                "type": outcome.run.reason,
                "message": outcome.run.output[-200:],
            }
            return [f"the reference solution does not load: {error['type']}: {error.get('message', '')}"]
        for test in exercise.tests():
            label = f"{'hidden' if test.hidden else 'public'} test {test.source!r}"
            event = outcome.done.get(test.index)
            if event is None:
                problems.append(f"{label}: not run ({outcome.run.reason or 'no result'})")
            elif "error" in event:
                problems.append(f"{label}: {event['error']['type']}: {event['error']['message']}")
            elif not event.get("holds"):
                problems.append(f"{label}: false for the reference solution")
            elif test.rhs is not None and _has_opaque(decode(event.get("value"))):
                problems.append(f"{label}: its left side is not plain data ({decode(event.get('value'))!r})")
        return problems

    def check(self, exercise: Exercise, code: str, *, hidden: bool = True) -> CheckResult:
        """Run ``code`` on the public tests and, unless ``hidden=False``, the hidden ones.

        Raises:
            ExerciseBroken: the reference solution fails its own tests.
            SandboxUnavailable: the sandbox cannot start.
        """
        broken = self.reference_problems(exercise)
        if broken:
            raise ExerciseBroken(f"{exercise.id}: " + "; ".join(broken))
        reference = self.reference(exercise)
        tests = exercise.tests(hidden=hidden)
        started = time.perf_counter()
        run = self.sandbox.run(self.request(exercise, code, tests, with_rhs=False))
        outcome = Outcome.of(run)
        verdicts = [self._verdict(exercise, test, outcome, reference) for test in tests]
        load_error = None
        if outcome.load is not None and not outcome.load.get("ok"):
            error = outcome.load["error"]
            load_error = {**error, "explanation": explain(error["type"], error.get("message", ""))}
        return CheckResult(
            exercise_id=exercise.id,
            verdicts=verdicts,
            duration_s=time.perf_counter() - started,
            output=run.output,
            output_truncated=run.output_truncated,
            load_error=load_error,
            stopped=run.reason,
            stats={"sandbox_s": run.wall_s, **run.stats},
        )

    def _verdict(self, exercise: Exercise, test: TestCase, outcome: Outcome, reference: Outcome) -> TestVerdict:
        shown = None if test.hidden else test.source
        language = exercise.language
        base: dict[str, Any] = {"index": test.index, "hidden": test.hidden, "test": shown}
        load = outcome.load
        if load is not None and not load.get("ok"):
            error = load["error"]
            return TestVerdict(
                **base,
                status="error",
                message=_error_message(error, loading=True),
                error_type=error["type"],
                explanation=explain(error["type"], error.get("message", ""), language=language),
                line=error.get("line"),
            )
        event = outcome.done.get(test.index)
        if event is None:
            reason = outcome.run.reason or "crashed"
            running = test.index in outcome.started or (not outcome.started and load is None)
            if running:
                error_type = "TestTimeout" if reason in ("timeout", "cpu") else reason
                return TestVerdict(
                    **base,
                    status="error",
                    message="Le test n'a pas pu se terminer.",
                    error_type=error_type,
                    explanation=LIMITS.get(reason, LIMITS["crashed"]),
                )
            return TestVerdict(
                **base,
                status="error",
                message="Test non exécuté : le programme s'est arrêté avant.",
                error_type="NotRun",
                explanation=LIMITS.get(reason, LIMITS["crashed"]),
            )
        duration = event.get("ms")
        if "error" in event:
            error = event["error"]
            return TestVerdict(
                **base,
                status="error",
                message=test.message if test.hidden and test.message else _error_message(error, loading=False),
                error_type=error["type"],
                explanation=explain(error["type"], error.get("message", ""), language=language),
                line=error.get("line"),
                duration_ms=duration,
            )
        got = decode(event.get("value"))
        if language == "sql":
            expected = decode(reference.done[test.index]["value"])
            ok, message = _compare_rows(got, expected, ordered=exercise.ordered, hidden=test.hidden)
            return TestVerdict(**base, status="passed" if ok else "failed", message=message, duration_ms=duration)
        if test.rhs is not None:
            ok = got == decode(reference.done[test.index]["value"]) and not _has_opaque(got)
        else:
            ok = bool(got)
        message = None
        if not ok:
            if test.message:
                message = test.message
            elif test.hidden:
                message = "Un test caché a échoué."
            elif test.rhs is not None:
                message = f"`{test.source}` est faux : `{test.probe}` vaut `{_short(got)}`."
            else:
                message = f"`{test.source}` est faux."
        return TestVerdict(**base, status="passed" if ok else "failed", message=message, duration_ms=duration)


def _has_opaque(value: Any) -> bool:
    if isinstance(value, Opaque):
        return True
    if isinstance(value, list | tuple | set | frozenset):
        return any(_has_opaque(v) for v in value)
    if isinstance(value, dict):
        return any(_has_opaque(k) or _has_opaque(v) for k, v in value.items())
    return False


def _short(value: Any, limit: int = 160) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _error_message(error: dict[str, Any], *, loading: bool) -> str:
    where = f" ligne {error['line']}" if error.get("line") else ""
    when = "au chargement du code" if loading else "pendant le test"
    detail = f" : {error['message']}" if error.get("message") else ""
    return f"{error['type']}{where} ({when}){detail}"


def _normalise_row(row: Any) -> tuple[Any, ...]:
    cells = row if isinstance(row, tuple | list) else (row,)
    return tuple(round(c, 9) if isinstance(c, float) and math.isfinite(c) else c for c in cells)


def _compare_rows(got: Any, expected: Any, *, ordered: bool, hidden: bool) -> tuple[bool, str | None]:
    where = "Sur la base cachée (d'autres lignes que l'exemple)" if hidden else "Sur la base fournie"
    got_cols, got_rows = got
    exp_cols, exp_rows = expected
    got_rows = [_normalise_row(r) for r in got_rows]
    exp_rows = [_normalise_row(r) for r in exp_rows]
    if got_cols != exp_cols:
        return False, f"{where}, la requête renvoie {got_cols} colonne(s) ; on en attend {exp_cols}."
    if ordered and got_rows == exp_rows or not ordered and Counter(got_rows) == Counter(exp_rows):
        return True, None
    if len(got_rows) != len(exp_rows):
        return False, f"{where}, la requête renvoie {len(got_rows)} ligne(s) ; on en attend {len(exp_rows)}."
    if ordered and Counter(got_rows) == Counter(exp_rows):
        return False, f"{where}, les lignes sont les bonnes mais pas dans l'ordre demandé (ORDER BY ?)."
    suffix = " : la requête ne doit pas dépendre des données de l'exemple." if hidden else "."
    return False, f"{where}, le nombre de lignes est bon mais pas leurs valeurs{suffix}"
