"""Errors of courses."""

from __future__ import annotations

from platform_api.core.errors import Forbidden, NotFound


class CourseNotFound(NotFound):
    code = "course_not_found"
    message = "Cours introuvable."


class CourseReadOnly(Forbidden):
    code = "course_read_only"
    message = "Les cours du programme officiel sont en lecture seule."
