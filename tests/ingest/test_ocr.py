"""Scanned PDFs are read by OCR in French, page by page, only where there is no text layer; citations keep pages.

The OCR is real (Tesseract from `make ocr`); to keep CI short only three pages are scanned here, the 20-page scan
is measured by `nexus bench ocr`.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from evals.scan_fixtures import exam_pages, scanned_pdf
from ingest import ocr
from ingest.errors import UnusableFileError
from ingest.parsers import parse_bytes
from ingest.pipeline import Ingestor
from knowledge.search import KnowledgeBase, SearchScope
from knowledge.store import EdgeStore, Filter, Match

PAGES = 20
SCANNED = (18, 19, 20)  # the last pages of the subject were scanned from paper


def text_pdf(pages: list[list[str]]) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    for lines in pages:
        for i, line in enumerate(lines):
            c.drawString(60, 780 - 18 * i, line)
        c.showPage()
    c.save()
    return buf.getvalue()


@pytest.fixture(scope="module")
def exam() -> bytes:
    """A 20-page exam paper: 17 digital pages, then 3 scanned ones (no text layer)."""
    pages = exam_pages(PAGES)
    digital = PdfReader(io.BytesIO(text_pdf(pages[: SCANNED[0] - 1])))
    scans = PdfReader(io.BytesIO(scanned_pdf(pages[SCANNED[0] - 1 :], seed=3)))
    writer = PdfWriter()
    for page in [*digital.pages, *scans.pages]:
        writer.add_page(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_ocr_tools_are_installed() -> None:
    assert ocr.available(), "run `make ocr` (tesseract-ocr, tesseract-ocr-fra, poppler-utils)"


def test_only_pages_without_text_are_ocred(exam: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[list[int]] = []
    monkeypatch.setattr(ocr, "ocr_pdf_pages", lambda data, numbers: asked.append(numbers) or dict.fromkeys(numbers, ""))
    parse_bytes(Path("bac-blanc-scanne.pdf"), exam)
    assert asked == [list(SCANNED)]


def test_a_scan_is_refused_as_before_without_the_ocr_tools(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ocr, "available", lambda: False)
    with pytest.raises(UnusableFileError) as info:
        parse_bytes(Path("scan.pdf"), scanned_pdf([["Exercice 1 : les piles"]]))
    assert info.value.code == "no_text_layer"


def test_scanned_exam_is_ingested_with_page_citations_marked_ocr(
    exam: bytes, tmp_path: Path, ingestor: Ingestor, edge_store: EdgeStore
) -> None:
    # OCR takes seconds a page (tens on a loaded CI machine): the parsing child gets the time a scan needs
    ingestor.settings = ingestor.settings.model_copy(update={"parse_timeout_seconds": 900.0})
    path = tmp_path / "bac-blanc-scanne.pdf"
    path.write_bytes(exam)
    result = ingestor.ingest_file(path, "bac-blanc-scanne.pdf")
    assert result.status == "ingested", result.reason
    payloads = list(edge_store.scroll(Filter(must=(Match("doc_id", str(result.doc_id)),))))
    assert {p["page"] for p in payloads} == set(range(1, PAGES + 1))
    assert {p["page"] for p in payloads if p["ocr"]} == set(SCANNED)
    kb = KnowledgeBase(edge_store, ingestor.embedder)
    # page 19 of the subject was scanned: its words are found, cited at page 19 and said to come from OCR
    hits = kb.search("Baccalauréat NSI sujet 4 page 19 sur 20", 10, SearchScope(unrestricted=True))
    scanned = next(h for h in hits if "sujet 4, page 19 sur 20" in h.text)
    assert scanned.page == 19
    assert scanned.location() == "page 19, texte reconnu par OCR"
    digital = next(
        h for h in kb.search("sujet 2 page 7 sur 20", 10, SearchScope(unrestricted=True)) if "page 7 sur" in h.text
    )
    assert digital.page == 7
    assert digital.location() == "page 7"
