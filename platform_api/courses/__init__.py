"""Courses: the curriculum (seeded, read-only) and teachers' own."""
