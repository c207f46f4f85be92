"""Ingestion: parse course files, chunk them by structure, embed and upsert them into the knowledge base."""
