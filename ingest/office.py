"""LibreOffice (.odt, .odp) and PowerPoint (.pptx) files: headings and slide titles as the section path.

A text document's headings (``text:h`` with their outline level) make the section path, as Word headings do. A
slide's title is its section and its number is the block's ``page``; speaker notes are kept after the slide's
text, since teachers write the explanation there.
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

from ingest.errors import UnusableFileError
from ingest.parsers import BlockKind, ParsedDocument, _Builder

TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
DRAW = "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
PRESENTATION = "urn:oasis:names:tc:opendocument:xmlns:presentation:1.0"
STYLE = "urn:oasis:names:tc:opendocument:xmlns:style:1.0"
ODF_MIMETYPES = {
    "odt": "application/vnd.oasis.opendocument.text",
    "odp": "application/vnd.oasis.opendocument.presentation",
}
CODE_STYLE = re.compile(r"code|source|preformat|listing|verbatim", re.IGNORECASE)


def _check_zip(data: bytes, member: str, label: str, suffix: str) -> zipfile.ZipFile:
    mismatch = UnusableFileError(f"L'extension est {suffix} mais le contenu n'est pas {label}.", "type_mismatch")
    if not data.startswith(b"PK\x03\x04"):
        raise mismatch
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        archive.getinfo(member)
    except (KeyError, zipfile.BadZipFile) as exc:
        raise mismatch from exc
    return archive


def _name(element: Any) -> tuple[str, str]:
    qname = getattr(element, "qname", None)
    return qname if isinstance(qname, tuple) else ("", "")


def _attr(element: Any, ns: str, name: str) -> str | None:
    value = (getattr(element, "attributes", None) or {}).get((ns, name))
    return str(value) if value is not None else None


def _text(element: Any) -> str:
    from odf import teletype

    return re.sub(r"[ \t]+", " ", teletype.extractText(element)).strip()


class _OdfReader:
    """Walks an ODF body into builder blocks; resolves automatic paragraph styles to their named parent."""

    def __init__(self, document: Any, builder: _Builder) -> None:
        self.document = document
        self.builder = builder
        self.path: list[str] = []
        self.page: int | None = None
        self.title = ""

    def style_name(self, element: Any) -> str:
        name = _attr(element, TEXT, "style-name") or ""
        style = self.document.getStyleByName(name) if name else None
        parent = _attr(style, STYLE, "parent-style-name") if style is not None else None
        return f"{name} {parent or ''}"

    def walk(self, element: Any, depth: int = 0) -> None:
        for child in getattr(element, "childNodes", []):
            ns, tag = _name(child)
            if ns == TEXT and tag == "h":
                text = _text(child)
                if text:
                    level = int(_attr(child, TEXT, "outline-level") or 1)
                    self.path = [*self.path[: level - 1], text]
            elif ns == TEXT and tag == "p":
                text = _text(child)
                style = self.style_name(child)
                if "Title" in style and not self.title:
                    self.title = text
                elif text:
                    kind: BlockKind = "code" if CODE_STYLE.search(style) else "text"
                    self.builder.add(text, tuple(self.path), kind, self.page)
            elif ns == TEXT and tag == "list":
                lines = self.list_lines(child, 0)
                self.builder.add("\n".join(lines), tuple(self.path), "text", self.page)
            elif ns == TABLE and tag == "table":
                rows = [
                    " | ".join(_text(cell) for cell in row.childNodes if _name(cell)[1] == "table-cell")
                    for row in child.getElementsByType(_table_row())
                ]
                self.builder.add("\n".join(r for r in rows if r.strip(" |")), tuple(self.path), "text", self.page)
            elif depth < 20:  # sections, frames, text boxes, groups
                self.walk(child, depth + 1)

    def list_lines(self, element: Any, level: int) -> list[str]:
        lines: list[str] = []
        for item in element.childNodes:
            if _name(item)[1] not in ("list-item", "list-header"):
                continue
            for part in item.childNodes:
                ns, tag = _name(part)
                if ns == TEXT and tag == "list":
                    lines.extend(self.list_lines(part, level + 1))
                elif ns == TEXT and tag in ("p", "h"):
                    text = _text(part)
                    if text:
                        lines.append(f"{'  ' * level}- {text}")
        return lines


def _table_row() -> Any:
    from odf.table import TableRow

    return TableRow


def _odf_title(document: Any) -> str:
    from odf import dc

    titles = document.meta.getElementsByType(dc.Title) if document.meta is not None else []
    return _text(titles[0]) if titles else ""


def parse_odf(data: bytes, fallback_title: str, kind: str) -> ParsedDocument:
    """An OpenDocument text (``odt``) or presentation (``odp``) file."""
    from odf.opendocument import load

    suffix, label = (
        (".odt", "un document LibreOffice Writer")
        if kind == "odt"
        else (
            ".odp",
            "une présentation LibreOffice Impress",
        )
    )
    archive = _check_zip(data, "content.xml", label, suffix)
    with archive:
        mimetype = (
            archive.read("mimetype").decode("ascii", "replace").strip() if "mimetype" in archive.namelist() else ""
        )
    if mimetype and mimetype != ODF_MIMETYPES[kind]:
        raise UnusableFileError(f"L'extension est {suffix} mais le contenu n'est pas {label}.", "type_mismatch")
    document = load(io.BytesIO(data))
    builder = _Builder()
    reader = _OdfReader(document, builder)
    title = _odf_title(document)
    if kind == "odt":
        reader.walk(document.text)
        return ParsedDocument(builder.text, title or reader.title or fallback_title, builder.blocks)
    slides = [s for s in document.presentation.childNodes if _name(s) == (DRAW, "page")]
    for number, slide in enumerate(slides, start=1):
        frames = list(slide.childNodes)
        heading = next(
            (_text(f) for f in frames if _attr(f, PRESENTATION, "class") == "title" and _text(f)),
            _attr(slide, DRAW, "name") or f"Diapositive {number}",
        )
        if number == 1 and not title:
            title = heading
        reader.path, reader.page = [heading], number
        for frame in frames:
            if _attr(frame, PRESENTATION, "class") == "title":
                continue
            if _name(frame) == (PRESENTATION, "notes"):
                for box in frame.childNodes:
                    if _attr(box, PRESENTATION, "class") == "notes":
                        reader.walk(box)
                continue
            reader.walk(frame)
    doc = ParsedDocument(builder.text, title or fallback_title, builder.blocks, pages=len(slides))
    doc.page_unit = "diapositive"
    return doc


def parse_pptx(data: bytes, fallback_title: str) -> ParsedDocument:
    """A PowerPoint deck: each slide's title is its section, its number the page; bullets keep their levels."""
    from pptx import Presentation

    _check_zip(data, "ppt/presentation.xml", "une présentation PowerPoint", ".pptx").close()
    deck = Presentation(io.BytesIO(data))
    builder = _Builder()
    title = (deck.core_properties.title or "").strip()
    slides = list(deck.slides)
    for number, slide in enumerate(slides, start=1):
        title_shape = slide.shapes.title
        heading = (title_shape.text_frame.text.strip() if title_shape is not None else "") or f"Diapositive {number}"
        heading = re.sub(r"\s+", " ", heading)
        if number == 1 and not title:
            title = heading
        path = (heading,)
        for shape in _shapes(slide.shapes):
            if title_shape is not None and shape.shape_id == title_shape.shape_id:
                continue
            _add_shape(builder, shape, path, number)
        if slide.has_notes_slide:
            notes = slide.notes_slide.notes_text_frame
            if notes is not None:
                builder.add(notes.text.strip(), path, "text", number)
    doc = ParsedDocument(builder.text, title or fallback_title, builder.blocks, pages=len(slides))
    doc.page_unit = "diapositive"
    return doc


def _shapes(shapes: Any) -> list[Any]:
    """Shapes in reading order (top to bottom, then left to right), groups opened."""
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    out: list[Any] = []
    for shape in shapes:
        if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
            out.extend(_shapes(shape.shapes))
        else:
            out.append(shape)
    return sorted(out, key=lambda s: (s.top or 0, s.left or 0))


def _add_shape(builder: _Builder, shape: Any, path: tuple[str, ...], number: int) -> None:
    if shape.has_text_frame:
        paragraphs = [(p.level, "".join(r.text for r in p.runs).strip()) for p in shape.text_frame.paragraphs]
        paragraphs = [(level, text) for level, text in paragraphs if text]
        fonts = {r.font.name or "" for p in shape.text_frame.paragraphs for r in p.runs}
        if fonts and all(re.search(r"mono|courier|consol|code", f, re.IGNORECASE) for f in fonts):
            builder.add("\n".join(t for _, t in paragraphs), path, "code", number)
        elif len(paragraphs) > 1:
            builder.add("\n".join(f"{'  ' * level}- {text}" for level, text in paragraphs), path, "text", number)
        elif paragraphs:
            builder.add(paragraphs[0][1], path, "text", number)
    elif getattr(shape, "has_table", False) and shape.has_table:
        rows = [" | ".join(cell.text.strip() for cell in row.cells) for row in shape.table.rows]
        builder.add("\n".join(rows), path, "text", number)
