"""The exercise bank: every ``knowledge/exercises/<level>/<theme>/<id>.yaml``, by id, capacity and chapter."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from tutor.practice.model import Exercise, ExerciseFileError, load_exercise

EXERCISES_DIR = Path(__file__).resolve().parents[2] / "knowledge" / "exercises"


class ExerciseBank:
    """A read-only collection of exercises.

    Args:
        exercises: the exercises; ids must be unique.

    Example:
        >>> bank = ExerciseBank.load()
        >>> [e.id for e in bank.by_capacity("P-ALGO-03")][:2]
        ['tri-par-insertion', 'tri-par-selection']
    """

    def __init__(self, exercises: list[Exercise]) -> None:
        self._by_id: dict[str, Exercise] = {}
        for exercise in exercises:
            if exercise.id in self._by_id:
                raise ExerciseFileError(f"duplicate exercise id {exercise.id!r}")
            self._by_id[exercise.id] = exercise

    @classmethod
    def load(cls, root: Path = EXERCISES_DIR) -> ExerciseBank:
        """Read every exercise file under ``root`` (``<level>/<theme>/<id>.yaml``), sorted by path.

        Raises:
            ExerciseFileError: the first invalid file, named with its field.
        """
        if not root.is_dir():
            raise ExerciseFileError(f"{root}: no such exercise folder")
        return cls([load_exercise(path) for path in sorted(root.glob("*/*/*.yaml"))])

    def __len__(self) -> int:
        return len(self._by_id)

    def __iter__(self) -> Iterator[Exercise]:
        return iter(sorted(self._by_id.values(), key=lambda e: (e.level, e.chapter, e.difficulty, e.id)))

    def get(self, exercise_id: str) -> Exercise:
        """The exercise of that id.

        Raises:
            KeyError: no exercise has that id.
        """
        try:
            return self._by_id[exercise_id]
        except KeyError:
            raise KeyError(f"no exercise {exercise_id!r}") from None

    def by_capacity(self, capacity_id: str) -> list[Exercise]:
        """Exercises practising that programme capacity, easiest first."""
        return [e for e in self if capacity_id in e.capacities]

    def by_chapter(self, chapter_id: str) -> list[Exercise]:
        """Exercises attached to that curriculum chapter, easiest first."""
        return [e for e in self if e.chapter == chapter_id]

    def by_level(self, level: str) -> list[Exercise]:
        """Exercises of one level (``premiere`` or ``terminale``)."""
        return [e for e in self if e.level == level]

    def capacities(self) -> dict[str, list[str]]:
        """Capacity id -> ids of the exercises that practise it."""
        found: dict[str, list[str]] = {}
        for exercise in self:
            for capacity in exercise.capacities:
                found.setdefault(capacity, []).append(exercise.id)
        return found
