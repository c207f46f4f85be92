"""Runnable exercises: the bank (``knowledge/exercises/``), the sandbox, the runner and the bank's self-check."""

from tutor.practice.bank import EXERCISES_DIR, ExerciseBank
from tutor.practice.model import Exercise, ExerciseFileError, TestCase, load_exercise
from tutor.practice.runner import CheckResult, ExerciseBroken, Runner, TestVerdict
from tutor.practice.sandbox import Sandbox, SandboxRun, SandboxUnavailable

__all__ = [
    "EXERCISES_DIR",
    "CheckResult",
    "Exercise",
    "ExerciseBank",
    "ExerciseBroken",
    "ExerciseFileError",
    "Runner",
    "Sandbox",
    "SandboxRun",
    "SandboxUnavailable",
    "TestCase",
    "TestVerdict",
    "load_exercise",
]
