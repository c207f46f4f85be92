"""What a document leaves outside its rows: passages and vectors in the store, the uploaded file."""

from __future__ import annotations

from pathlib import Path

from ingest.pipeline import Ingestor
from platform_api.documents.models import Document


def remove_stored(ingestor: Ingestor, upload_dir: Path, doc: Document) -> int:
    """Delete a document's passages, vectors (and their cached embeddings) and file; the rows are the caller's."""
    removed = ingestor.delete(doc.id)  # vectors first: a failure here leaves the rows, so a retry finishes it
    (upload_dir / doc.stored_name).unlink(missing_ok=True)
    return removed
