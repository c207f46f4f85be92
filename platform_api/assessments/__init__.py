"""Assessments (quiz, tp, exam, project), attempts with server-side time limits, grading."""
