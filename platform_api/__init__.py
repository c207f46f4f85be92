"""The platform API (FastAPI): users, courses, progress, assessments, uploads, ARIA endpoints."""
