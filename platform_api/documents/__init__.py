"""Uploaded documents and their ingestion jobs."""
