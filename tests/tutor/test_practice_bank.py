"""The bank's self-check runs in the tests: sound exercises, real ids, honest coverage figures."""

from __future__ import annotations

from tutor.practice import ExerciseBank
from tutor.practice.validate import MIN_PER_CAPACITY, programming_capacities, validate_bank


def test_every_exercise_of_the_bank_is_sound() -> None:
    bank = ExerciseBank.load()
    report = validate_bank(bank, workers=2)
    broken = {e.exercise_id: e.problems for e in report.exercises if e.problems}
    assert broken == {}
    assert report.problems == []
    # Capacities reported as covered really have enough sound exercises that name them.
    for capacity, ids in report.coverage.items():
        if capacity not in report.gaps:
            assert len(ids) >= MIN_PER_CAPACITY
            assert all(capacity in bank.get(i).capacities for i in ids)
    assert set(report.coverage) == set(programming_capacities())
