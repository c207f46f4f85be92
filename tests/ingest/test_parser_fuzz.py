"""Structured fuzzing of every parser: whatever the bytes, a parse ends with a document or a documented refusal
(:class:`IngestError`, with a French reason), never another exception. Bounded and derandomized for CI."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.errors import IngestError
from ingest.parsers import parse_bytes
from tests.ingest import nasty

FUZZ = settings(
    max_examples=60, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)

WORDS = st.sampled_from(["pile", "file", "Corrigé", "Exercice 1", "1.2 Les arbres", "é", "```", "---", "*", "#", "|"])
LINE = st.lists(st.one_of(WORDS, st.text(max_size=12)), max_size=8).map(" ".join)


def parses_or_refuses(name: str, data: bytes) -> None:
    try:
        doc = parse_bytes(Path(name), data, max_pdf_pages=50, max_chars=200_000)
    except IngestError as exc:  # the documented refusal: a French reason and a code
        refusal = (exc.reason.strip(), exc.code)
        assert all(refusal), refusal
        return
    for block in doc.blocks:  # offsets always index the text
        assert 0 <= block.start <= block.end <= len(doc.text)


@st.composite
def markdown(draw: st.DrawFn) -> bytes:
    lines = []
    if draw(st.booleans()):
        meta = draw(st.lists(st.tuples(st.sampled_from(["title", "level", "theme", "a"]), LINE), max_size=4))
        lines += ["---", *(f"{k}: {v}" for k, v in meta), "---"]
    for _ in range(draw(st.integers(0, 25))):
        kind = draw(st.sampled_from(["heading", "text", "fence", "list", "table", "blank", "html"]))
        text = draw(LINE)
        lines += {
            "heading": [f"{'#' * draw(st.integers(1, 7))} {text}"],
            "text": [text],
            "fence": ["```python", text, *(["```"] if draw(st.booleans()) else [])],
            "list": [f"- {text}", f"  - {text}"],
            "table": [f"| {text} | b |", "|---|---|", "| 1 | 2 |"],
            "blank": [""],
            "html": [f"<div>{text}"],
        }[kind]
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
    return "\n".join(lines).encode(encoding, errors="replace")


@given(markdown())
@FUZZ
def test_markdown(data: bytes) -> None:
    parses_or_refuses("cours.md", data)


@given(st.binary(max_size=2000) | st.text(max_size=2000).map(str.encode))
@FUZZ
def test_text(data: bytes) -> None:
    parses_or_refuses("cours.txt", data)


TAGS = ["div", "p", "li", "ul", "pre", "table", "tr", "td", "h1", "h2", "h3", "blockquote", "script", "dd", "nav"]


@st.composite
def html(draw: st.DrawFn) -> bytes:
    parts = ["<html><head><title>", draw(LINE), "</title></head><body>"]
    for _ in range(draw(st.integers(0, 40))):
        tag = draw(st.sampled_from(TAGS))
        parts.append(draw(st.sampled_from([f"<{tag}>", f"</{tag}>", f"<{tag}>{draw(LINE)}</{tag}>", draw(LINE)])))
    return "".join(parts).encode()


@given(html())
@FUZZ
def test_html(data: bytes) -> None:
    parses_or_refuses("cours.html", data)


GOOD_PDF = nasty.good_pdf()
GOOD_DOCX = nasty.good_docx()


@st.composite
def mutated(draw: st.DrawFn, base: bytes) -> bytes:
    """The file with a few bytes overwritten, a slice cut out, or truncated (magic bytes kept half of the time)."""
    data = bytearray(base)
    for _ in range(draw(st.integers(0, 6))):
        at = draw(st.integers(0, len(data) - 1))
        data[at : at + 4] = draw(st.binary(min_size=1, max_size=4))
    if draw(st.booleans()):
        start = draw(st.integers(0, len(data)))
        data = data[:start] + data[start + draw(st.integers(0, 200)) :]
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    if draw(st.booleans()):
        data[:5] = base[:5]
    return bytes(data)


@given(mutated(GOOD_PDF))
@FUZZ
def test_pdf_bytes(data: bytes) -> None:
    parses_or_refuses("cours.pdf", data)


@given(st.lists(st.tuples(LINE, st.sampled_from([None, "Heading 1", "Heading 2", "Title"])), max_size=12))
@settings(max_examples=20, derandomize=True, deadline=None, database=None)
def test_docx_structure(paragraphs: list[tuple[str, str | None]]) -> None:
    text = [("".join(c for c in t if c.isprintable()), s) for t, s in paragraphs]  # python-docx refuses controls
    parses_or_refuses("cours.docx", nasty.docx(text))


@st.composite
def docx_member_mutation(draw: st.DrawFn) -> bytes:
    """A .docx whose document.xml is mutated (the zip stays valid, the XML inside does not)."""
    source = zipfile.ZipFile(io.BytesIO(GOOD_DOCX))
    xml = bytearray(source.read("word/document.xml"))
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(xml) - 1))
        xml[at : at + 3] = draw(st.binary(min_size=0, max_size=3))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for info in source.infolist():
            zf.writestr(info, bytes(xml) if info.filename == "word/document.xml" else source.read(info))
    return out.getvalue()


@given(mutated(GOOD_DOCX) | docx_member_mutation())
@FUZZ
def test_docx_bytes(data: bytes) -> None:
    parses_or_refuses("cours.docx", data)
