"""The nasty-file corpus through the real ingestion path: each file ingests or fails alone, fast, in French.

The corpus is built at test time (tests/ingest/nasty.py): bombs (YAML aliases, DOCX zip, PDF Flate streams),
deep nesting, megabyte-long lines, huge text streams, 20,000 pages, wrong magic bytes, NUL in names, truncations.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.config import IngestSettings
from ingest.errors import IngestError, ParseError
from ingest.pipeline import DocumentOptions, Ingestor
from knowledge.embedder import HashEmbedder
from knowledge.store import EdgeStore
from tests.ingest import nasty

# What each file must become: "ingested", or the code of its refusal (None: either, as long as it is French).
EXPECTED: dict[str, str | None] = {
    "billion-laughs.md": "parse_error",
    "zip-bomb.docx": "archive_bomb",
    "xml-bomb.docx": "archive_bomb",
    "nested-8000.html": "ingested",
    "nested-lists-4000.html": "ingested",
    "nested-paragraphs-3000.html": None,
    "one-word-1mb.md": "ingested",
    "one-line-1mb.md": "ingested",
    "huge-text-stream.pdf": "text_too_long",
    "pages-3000.pdf": "too_many_pages",
    "flate-bomb.pdf": None,
    "wrong-magic.pdf": "type_mismatch",
    "wrong-magic.docx": "type_mismatch",
    "binary.md": "type_mismatch",
    "nul\x00name.md": "ingested",
    "truncated.pdf": None,
    "truncated.docx": "type_mismatch",
    "truncated-utf8.md": "ingested",
    "empty.txt": "empty_file",
    "control-chars.txt": None,
}

NAMES = sorted(EXPECTED)
FRENCH = re.compile(r"[éèàêçù]|\b(le|la|les|du|de|des|un|une)\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("nasty")
    files = nasty.corpus()
    assert set(files) == set(EXPECTED)  # every file of the corpus has its expected outcome
    for name, data in files.items():
        (folder / name.replace("\x00", "_")).write_bytes(data)
    return folder


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ingestor]:
    """The real pipeline with a tight budget, as a small server would run it (one store for the corpus)."""
    embedder = HashEmbedder(dim=64)
    store = EdgeStore(tmp_path_factory.mktemp("store"), embedder.dim)
    settings = IngestSettings(parse_timeout_seconds=30, parse_memory_mb=512, max_text_chars=2_000_000, _env_file=None)  # type: ignore[call-arg]
    yield Ingestor(store, embedder, settings)
    store.close()


@pytest.mark.parametrize("name", NAMES, ids=[n.replace("\x00", "NUL") for n in NAMES])
def test_a_nasty_file_ingests_or_fails_alone_in_french(name: str, corpus_dir: Path, limited: Ingestor) -> None:
    data = (corpus_dir / name.replace("\x00", "_")).read_bytes()
    try:  # what a job runs, with the uploaded name (NUL included)
        result = limited.ingest_bytes(name, data, name, DocumentOptions())
        status, code, reason = result.status, None, None
    except IngestError as exc:  # the documented refusal; any other exception fails the test
        status, code, reason = "failed", exc.code, exc.reason
    expected = EXPECTED[name]
    if status == "failed":
        assert reason is not None
        assert FRENCH.search(reason), f"{name}: reason not in French: {reason!r}"
        assert "Traceback" not in reason
    if expected == "ingested":
        assert status == "ingested", f"{name}: {code} {reason}"
    elif expected is not None:
        assert (status, code) == ("failed", expected), f"{name}: {status} {code} {reason}"


def test_billion_laughs_is_refused_for_its_aliases(limited: Ingestor) -> None:
    with pytest.raises(ParseError, match="alias YAML"):
        limited.ingest_bytes("rires.md", nasty.billion_laughs(), "rires.md", DocumentOptions())
