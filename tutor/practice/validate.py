"""The bank's self-check: references pass, starters fail, ids exist, programming capacities are covered."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from knowledge.course_files import CURRICULUM_DIR, iter_chapters, load_programme
from tutor.practice.bank import EXERCISES_DIR, ExerciseBank
from tutor.practice.config import get_sandbox_settings
from tutor.practice.model import Exercise
from tutor.practice.runner import Runner
from tutor.practice.sandbox import Sandbox

MIN_PER_CAPACITY = 2


def programming_capacities(root: Path = EXERCISES_DIR) -> list[str]:
    """The programme capacities that involve writing code (``knowledge/exercises/programming.yaml``)."""
    data = yaml.safe_load((root / "programming.yaml").read_text(encoding="utf-8"))
    return [capacity for level in ("premiere", "terminale") for capacity in data.get(level) or []]


@dataclass
class ExerciseReport:
    """The problems found in one exercise (empty: it is sound) and the time its two runs took."""

    exercise_id: str
    problems: list[str]
    seconds: float


@dataclass
class BankReport:
    """The whole bank's check: per-exercise problems, bank-level problems, coverage of programming capacities."""

    exercises: list[ExerciseReport]
    problems: list[str]
    coverage: dict[str, list[str]]
    gaps: dict[str, int]
    seconds: float
    workers: int
    summary: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """No broken exercise and no bank-level problem (coverage gaps are not counted here)."""
        return not self.problems and all(not e.problems for e in self.exercises)


def check_exercise(exercise: Exercise, runner: Runner, programme: set[str], chapters: set[str]) -> ExerciseReport:
    """Every problem of one exercise: unknown ids, a broken reference, a starter that passes the hidden tests."""
    started = time.perf_counter()
    problems = [f"unknown capacity {c}" for c in exercise.capacities if c not in programme]
    if exercise.chapter not in chapters:
        problems.append(f"unknown chapter {exercise.chapter}")
    if len(exercise.hints) != 3:
        problems.append(f"{len(exercise.hints)} hints, expected 3")
    broken = runner.reference_problems(exercise)
    problems += [f"reference: {p}" for p in broken]
    if not broken:
        starter = runner.check(exercise, exercise.starter)
        if all(v.status == "passed" for v in starter.verdicts if v.hidden):
            problems.append("the starter code passes every hidden test")
    return ExerciseReport(exercise.id, problems, time.perf_counter() - started)


def validate_bank(
    bank: ExerciseBank,
    runner: Runner | None = None,
    *,
    workers: int = 2,
    exercises_dir: Path = EXERCISES_DIR,
    curriculum_dir: Path = CURRICULUM_DIR,
) -> BankReport:
    """Check every exercise (``workers`` sandboxes at a time) and the coverage of the programming capacities."""
    started = time.perf_counter()
    if runner is None:
        # Starters often loop forever (a `while` on a method that returns None): a short per-test limit keeps
        # the check fast; the references' tests take milliseconds.
        settings = get_sandbox_settings()
        runner = Runner(Sandbox(settings.model_copy(update={"test_seconds": min(settings.test_seconds, 1.0)})))
    programme = {item["id"] for item in load_programme(curriculum_dir)}
    chapters = {chapter.chapter_id for chapter in iter_chapters(curriculum_dir)}
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        reports = list(pool.map(lambda e: check_exercise(e, runner, programme, chapters), list(bank)))
    wanted = programming_capacities(exercises_dir)
    problems = [f"programming.yaml: unknown capacity {c}" for c in wanted if c not in programme]
    by_capacity = bank.capacities()
    coverage = {c: by_capacity.get(c, []) for c in wanted}
    gaps = {c: len(ids) for c, ids in coverage.items() if len(ids) < MIN_PER_CAPACITY}
    summary = {
        "exercises": len(bank),
        "python": sum(e.language == "python" for e in bank),
        "sql": sum(e.language == "sql" for e in bank),
        "broken": sum(bool(r.problems) for r in reports),
        "programming_capacities": len(wanted),
        "covered": len(wanted) - len(gaps),
    }
    return BankReport(reports, problems, coverage, gaps, time.perf_counter() - started, workers, summary)
