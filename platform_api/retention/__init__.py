"""Retention: personal data older than its documented period is deleted by a scheduled run."""
