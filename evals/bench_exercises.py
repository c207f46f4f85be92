"""``nexus bench exercises``: sandbox start-up, a typical check, and checks per second with N graders."""

from __future__ import annotations

import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from rich.console import Console

from evals.bench import _write, percentile
from tutor.practice import ExerciseBank, Runner, Sandbox

TYPICAL = "somme-des-elements"


def _stats(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(values, 50) * 1000, 1),
        "p95_ms": round(percentile(values, 95) * 1000, 1),
        "mean_ms": round(statistics.fmean(values) * 1000, 1),
    }


def bench_exercises(checks: int, graders: list[int], out: Path, console: Console) -> dict[str, Any]:
    """Measure the sandbox and the runner on this machine; write ``bench-exercises.json``."""
    sandbox = Sandbox()
    sandbox.check_available()
    bank = ExerciseBank.load()
    exercise = bank.get(TYPICAL)
    runner = Runner(sandbox)
    runner.reference(exercise)  # cached afterwards, as in the service

    startup = []
    for _ in range(checks):
        started = time.perf_counter()
        sandbox.run({"language": "python", "code": "", "tests": []})
        startup.append(time.perf_counter() - started)
    console.print(f"start-up {_stats(startup)}")

    typical = []
    for _ in range(checks):
        started = time.perf_counter()
        result = runner.check(exercise, exercise.solution)
        typical.append(time.perf_counter() - started)
        assert result.passed
    console.print(f"typical check {_stats(typical)}")

    throughput: dict[str, float] = {}
    for n in graders:
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=n) as pool:
            list(pool.map(lambda _: runner.check(exercise, exercise.solution), range(checks)))
        throughput[str(n)] = round(checks / (time.perf_counter() - started), 2)
        console.print(f"{n} grader(s): {throughput[str(n)]} checks/s")

    report: dict[str, Any] = {
        "checks": checks,
        "exercise": TYPICAL,
        "tests_per_check": len(exercise.tests()),
        "sandbox_startup": _stats(startup),
        "typical_check": _stats(typical),
        "checks_per_second": throughput,
        "limits": sandbox.settings.model_dump(),
    }
    _write(out, "exercises", report)
    return report
