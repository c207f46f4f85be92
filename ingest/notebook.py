"""Jupyter notebooks: Markdown cells read as Markdown, code cells kept whole as code, the cell number as location.

The notebook is written out as one Markdown document (code cells as fences with the kernel's language, short
text outputs as ``text`` fences after their cell) and read by the project's Markdown parser, so headings in one
cell head the cells after it. Each block's ``page`` is the 1-based number of the cell it comes from.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from ingest.errors import ParseError, UnusableFileError
from ingest.parsers import ParsedDocument

MAX_OUTPUT_LINES = 12  # a longer output (a table dump, a traceback) is dropped: it is not course text
MAX_OUTPUT_CHARS = 600


def _fence(code: str, language: str) -> str:
    """A fence longer than any backtick run in ``code``, so a cell never closes it early."""
    longest = max((len(m) for m in re.findall(r"`{3,}", code)), default=2)
    ticks = "`" * (longest + 1)
    return f"{ticks}{language}\n{code.rstrip()}\n{ticks}"


def _text_output(outputs: list[Any]) -> str | None:
    """The short plain-text output of a code cell (printed text or the value shown), or None."""
    parts: list[str] = []
    for out in outputs:
        kind = out.get("output_type")
        if kind == "stream" and out.get("name") == "stdout":
            parts.append(_joined(out.get("text", "")))
        elif kind in ("execute_result", "display_data"):
            plain = (out.get("data") or {}).get("text/plain")
            if plain is not None:
                parts.append(_joined(plain))
        # errors, stderr, images and HTML are left out
    text = "\n".join(p.rstrip("\n") for p in parts if p.strip())
    if not text or text.count("\n") >= MAX_OUTPUT_LINES or len(text) > MAX_OUTPUT_CHARS:
        return None
    return text


def _joined(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def parse_notebook(raw: str, fallback_title: str) -> ParsedDocument:
    """Parse an ``.ipynb`` file's JSON text (nbformat 3 or 4) into Markdown-structured blocks with cell numbers."""
    import nbformat
    from nbformat.reader import NotJSONError

    from ingest import parsers  # the module, so a rewritten Markdown parser is the one used

    try:
        notebook = nbformat.reads(raw, as_version=4)  # type: ignore[no-untyped-call]
    except NotJSONError as exc:
        raise UnusableFileError(
            "L'extension est .ipynb mais le contenu n'est pas un notebook Jupyter.", "type_mismatch"
        ) from exc
    except Exception as exc:  # nbformat raises its own errors (and ValueError) on a malformed notebook
        raise ParseError(f"Le notebook Jupyter est invalide ({type(exc).__name__}).") from exc
    metadata = notebook.get("metadata") or {}
    language = (
        str(
            (metadata.get("kernelspec") or {}).get("language")
            or (metadata.get("language_info") or {}).get("name")
            or ""
        ).lower()
        or "python"
    )
    pieces: list[str] = []
    spans: list[tuple[int, int, int]] = []  # (start, end, cell number) in the assembled text
    length = 0
    for number, cell in enumerate(notebook.get("cells") or [], start=1):
        source = _joined(cell.get("source", "")).replace("\r\n", "\n").strip("\n")
        if not source.strip():
            continue
        kind = cell.get("cell_type")
        if kind == "markdown":
            piece = source
        elif kind == "code":
            piece = _fence(source, language)
            output = _text_output(cell.get("outputs") or [])
            if output:
                piece += "\n\n" + _fence(output, "text")
        else:
            continue  # raw cells hold export directives, not course text
        if pieces:
            pieces.append("\n\n")
            length += 2
        spans.append((length, length + len(piece), number))
        pieces.append(piece)
        length += len(piece)
    text = "".join(pieces)
    if not text.strip():
        raise UnusableFileError("Le notebook ne contient aucune cellule de texte ou de code.", "no_text")
    doc = parsers.parse_markdown(text, fallback_title)

    def cell_of(offset: int) -> int | None:
        return next((n for start, end, n in spans if start <= offset < end), None)

    if doc.text == text:
        doc.blocks = [dataclasses.replace(b, page=cell_of(b.start)) for b in doc.blocks]
    else:  # a Markdown parser that rewrites the text: find each block's text in the notebook's, in order
        cursor, cell = 0, spans[0][2]
        located = []
        for b in doc.blocks:
            snippet = doc.text[b.start : b.end].strip()
            found = next((f for n in (40, 20, 10) if (f := text.find(snippet[:n], cursor)) >= 0), -1)
            if found >= 0:
                cursor, cell = found, cell_of(found) or cell
            located.append(dataclasses.replace(b, page=cell))
        doc.blocks = located
    doc.pages = spans[-1][2] if spans else None
    doc.page_unit = "cellule"
    return doc
