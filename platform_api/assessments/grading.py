"""Automatic grading of objective questions; code and open answers wait for the teacher."""

from __future__ import annotations

import re
import unicodedata
from typing import Any


def normalize(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").casefold()
    return re.sub(r"\s+", " ", folded).strip().rstrip(".")


def grade_question(question: dict[str, Any], given: Any) -> dict[str, Any]:
    """``{points, max, correct, needsGrading}`` for one answer (``correct`` is None while ungraded)."""
    qtype, points = question["type"], float(question.get("points", 1.0))
    key: Any = question.get("answer")
    correct: bool | None
    try:
        if given is None or given == "" or given == []:
            correct = False
        elif qtype == "single_choice":
            correct = int(given) == key
        elif qtype == "multiple_choice":
            correct = sorted({int(i) for i in given}) == sorted(set(key))
        elif qtype == "numeric":
            value = float(str(given).replace(",", "."))
            correct = abs(value - float(key)) <= float(question.get("tolerance") or 0.0) + 1e-9
        elif qtype == "short_text" and key:
            correct = normalize(str(given)) in {normalize(k) for k in key}
        else:
            correct = None  # code, or an open question without accepted answers: the teacher grades it
    except (TypeError, ValueError, OverflowError):
        correct = False
    if correct is None:
        return {"points": 0.0, "max": points, "correct": None, "needsGrading": True, "feedback": None}
    return {
        "points": points if correct else 0.0,
        "max": points,
        "correct": correct,
        "needsGrading": False,
        "feedback": None,
    }


def grade_attempt(
    questions: list[dict[str, Any]], answers: dict[str, Any]
) -> tuple[dict[str, Any], float, float, bool]:
    """Grades per question, score, max score and whether a teacher still has to grade something."""
    grades = {q["id"]: grade_question(q, answers.get(q["id"])) for q in questions}
    score = sum(g["points"] for g in grades.values())
    total = sum(g["max"] for g in grades.values())
    return grades, score, total, any(g["needsGrading"] for g in grades.values())
