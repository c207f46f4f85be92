"""Parsers: turn a course file into text plus structural blocks (section path, page, character offsets).

Offsets index ``ParsedDocument.text``: the file itself for TXT, the cleaned text for Markdown (the file itself when
it needs no cleaning), the extracted text for PDF, DOCX and HTML (whose bytes cannot be addressed as text).
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ingest.errors import ParseError, UnusableFileError

BlockKind = Literal["text", "code"]
SUPPORTED = {
    ".md": "markdown",
    ".markdown": "markdown",
    ".pdf": "pdf",
    ".docx": "docx",
    ".html": "html",
    ".htm": "html",
    ".txt": "text",
    ".ipynb": "notebook",
    ".odt": "odt",
    ".odp": "odp",
    ".pptx": "pptx",
}


@dataclass(frozen=True)
class Block:
    """A unit of structure: a paragraph, list, table or code block, under a heading path, on a page."""

    start: int
    end: int
    section_path: tuple[str, ...]
    kind: BlockKind = "text"
    page: int | None = None
    language: str | None = None  # a code block's language, when the file says it (a Markdown fence's info string)


@dataclass
class ParsedDocument:
    """A parsed file: the text offsets refer to, its title, front matter and blocks."""

    text: str
    title: str
    blocks: list[Block]
    metadata: dict[str, Any] = field(default_factory=dict)
    pages: int | None = None
    page_unit: str = "page"  # what a block's ``page`` counts: "page", "diapositive" or "cellule"
    ocr_pages: list[int] = field(default_factory=list)  # pages whose text was recognised from the image


class _Builder:
    """Appends text pieces and records their offsets, for formats whose text is extracted."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.blocks: list[Block] = []

    def add(self, text: str, path: tuple[str, ...], kind: BlockKind = "text", page: int | None = None) -> None:
        text = text.strip("\n")
        if not text.strip():
            return
        if self.parts:
            self.parts.append("\n\n")
            self.length += 2
        self.blocks.append(Block(self.length, self.length + len(text), path, kind, page))
        self.parts.append(text)
        self.length += len(text)

    @property
    def text(self) -> str:
        return "".join(self.parts)


def check_file(path: Path, data: bytes, max_bytes: int) -> str:
    """Refuse unusable files with a French reason; return the format name."""
    fmt = SUPPORTED.get(path.suffix.lower())
    if fmt is None:
        allowed = ", ".join(sorted(SUPPORTED))
        raise UnusableFileError(
            f"Type de fichier non pris en charge ({path.suffix or 'sans extension'}) : formats acceptés {allowed}.",
            "unsupported_type",
        )
    if not data:
        raise UnusableFileError("Le fichier est vide (0 octet).", "empty_file")
    if len(data) > max_bytes:
        raise UnusableFileError(
            f"Le fichier dépasse la taille maximale ({len(data) / 1e6:.1f} Mo > {max_bytes / 1e6:.0f} Mo).",
            "file_too_large",
        )
    is_pdf, is_zip = data.startswith(b"%PDF-"), data.startswith(b"PK\x03\x04")
    if fmt == "pdf" and not is_pdf:
        raise UnusableFileError("L'extension est .pdf mais le contenu n'est pas un PDF.", "type_mismatch")
    if fmt == "docx":
        if not is_zip:
            raise UnusableFileError(
                "L'extension est .docx mais le contenu n'est pas un document Word.", "type_mismatch"
            )
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                zf.getinfo("word/document.xml")
                members = zf.infolist()
        except (KeyError, zipfile.BadZipFile) as exc:
            raise UnusableFileError(
                "Le fichier .docx est invalide ou n'est pas un document Word.", "type_mismatch"
            ) from exc
        _check_archive(members)
    if fmt in ("markdown", "html", "text", "notebook") and (is_pdf or is_zip or b"\x00" in data[:8192]):
        raise UnusableFileError(f"L'extension est {path.suffix} mais le contenu est binaire.", "type_mismatch")
    return fmt


# A .docx is a zip: its declared sizes bound what zipfile will ever inflate, so they are checked before reading.
MAX_ARCHIVE_BYTES = 200_000_000
_MAX_RATIO = 200  # Word's XML compresses about tenfold; a bomb, a thousandfold


def _check_archive(members: list[zipfile.ZipInfo]) -> None:
    total = sum(m.file_size for m in members)
    bomb = any(m.file_size > 10_000_000 and m.file_size > _MAX_RATIO * max(1, m.compress_size) for m in members)
    if total > MAX_ARCHIVE_BYTES or bomb:
        raise UnusableFileError(
            f"Le document Word est une archive anormale ({total / 1e6:.0f} Mo une fois décompressée) : "
            "enregistrez-le de nouveau depuis votre traitement de texte.",
            "archive_bomb",
        )


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1252, which teachers' older files often use."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def parse_bytes(
    path: Path, data: bytes, max_bytes: int = 50_000_000, *, max_pdf_pages: int = 1000, max_chars: int = 2_000_000
) -> ParsedDocument:
    """Check and parse one file's bytes (``ingest.isolation`` runs this in a child with a time and memory budget)."""
    fmt = check_file(path, data, max_bytes)
    try:
        if fmt == "pdf":
            doc = parse_pdf(data, path.stem, max_pdf_pages, max_chars)
        elif fmt == "docx":
            doc = parse_docx(data, path.stem)
        elif fmt == "html":
            doc = parse_html(decode_text(data), path.stem)
        elif fmt == "markdown":
            doc = parse_markdown(decode_text(data), path.stem)
        elif fmt == "notebook":
            from ingest.notebook import parse_notebook

            doc = parse_notebook(decode_text(data), path.stem)
        elif fmt in ("odt", "odp"):
            from ingest.office import parse_odf

            doc = parse_odf(data, path.stem, fmt)
        elif fmt == "pptx":
            from ingest.office import parse_pptx

            doc = parse_pptx(data, path.stem)
        else:
            doc = parse_text(decode_text(data), path.stem)
    except (UnusableFileError, ParseError, MemoryError):  # MemoryError: the child reports its budget
        raise
    except Exception as exc:  # a parser library failing on a malformed file
        raise ParseError(f"Le fichier n'a pas pu être lu ({type(exc).__name__}).") from exc
    if len(doc.text) > max_chars:
        raise _too_long(max_chars)
    # PDFs and office files can carry NUL characters, which PostgreSQL and the API refuse: a space keeps offsets.
    doc.text = doc.text.replace("\x00", " ")
    doc.title = doc.title.replace("\x00", " ")
    if not any(doc.text[b.start : b.end].strip() for b in doc.blocks):
        raise UnusableFileError("Le fichier ne contient aucun texte exploitable.", "no_text")
    return doc


def _too_long(max_chars: int) -> UnusableFileError:
    def n(x: int) -> str:
        return f"{x:,}".replace(",", "\u202f")

    return UnusableFileError(
        f"Le texte du fichier est trop long (plus de {n(max_chars)} caractères) : découpez-le en plusieurs documents.",
        "text_too_long",
    )


def parse_markdown(text: str, fallback_title: str) -> ParsedDocument:
    """Markdown as teachers write it (MkDocs, macros, Docsify): see :mod:`ingest.markdown`."""
    from ingest.markdown import parse_markdown as parse

    return parse(text, fallback_title)


# A line that looks like a heading in plain text or PDF: numbered, or a known course keyword, and short.
_HEADING_LINE = re.compile(
    r"^(?:(?:chapitre|partie|section|exercice|corrig[ée]|correction|solution|d[ée]finition|propri[ée]t[ée]|"
    r"th[ée]or[èe]me|m[ée]thode|exemple|activit[ée]|annexe|cours|r[ée]sum[ée]|introduction|conclusion)\b"
    r"|(?:[IVX]+|\d+(?:\.\d+)*|[A-H])[.)]\s+\S)",
    re.IGNORECASE,
)


def _is_heading(line: str) -> bool:
    line = line.strip()
    if not 2 < len(line) <= 90 or line.endswith((".", ",", ";", ":")) or not _HEADING_LINE.match(line):
        return False
    # "1. Écrire une requête qui…" is a question of a list; numbered headings are short titles
    return not line[0].isdigit() or len(line) <= 60


# "Corrigé :", "Réponses :", "Solution de l'exercice 2 :" (or "Corrigé : x = 3"): what follows is an answer key
_ANSWER_LINE = re.compile(
    r"^\s*((?:corrig[ée]s?|corrections?|solutions?|r[ée]ponses?|[ée]l[ée]ments? de r[ée]ponse)\b[^:\n.]{0,40}?)"
    r"\s*:(?:\s|$)",
    re.IGNORECASE,
)


def _answer_line(line: str) -> str | None:
    from ingest.classify import is_answer_key_label

    match = _ANSWER_LINE.match(line)
    return match.group(1).strip() if match and is_answer_key_label(match.group(1)) else None


def _heading_level(line: str) -> int:
    match = re.match(r"^(\d+(?:\.\d+)*)[.)]?\s", line.strip())
    return 1 + match.group(1).count(".") if match else 1


def _text_blocks(text: str, offset: int, path: list[str], page: int | None, blocks: list[Block]) -> list[str]:
    """Split ``text`` (at ``offset`` of the document) into paragraph blocks, line by line.

    A blank line ends a paragraph; a heading-like line ("Exercice 2", "1.2 Les piles", "Corrigé") ends it too and
    starts a section, wherever it stands: PDF text often has no blank lines at all.
    """
    para_start: int | None = None
    para_end = 0

    def flush() -> None:
        nonlocal para_start
        if para_start is not None and para_end > para_start:
            blocks.append(Block(offset + para_start, offset + para_end, tuple(path), "text", page))
        para_start = None

    for match in re.finditer(r"[^\n]*(?:\n|$)", text):
        line = match.group(0).rstrip("\n")
        if match.start() == len(text):
            break
        if not line.strip():
            flush()
        elif label := _answer_line(line):
            # a label, not a heading: the key goes under the exercise it answers (replacing an earlier label)
            flush()
            path = [*(path[:-1] if path and _answer_line(path[-1] + " :") else path), label]
            if line.split(":", 1)[1].strip():
                para_start, para_end = match.start(), match.start() + len(line.rstrip())
        elif _is_heading(line):
            flush()
            level = _heading_level(line)
            path = [*path[: level - 1], line.strip()]
        else:
            if para_start is None:
                para_start = match.start()
            para_end = match.start() + len(line.rstrip())
    flush()
    return path


def parse_text(text: str, fallback_title: str) -> ParsedDocument:
    """Paragraphs split on blank lines; short numbered or keyword lines start sections."""
    text = text.replace("\r\n", "\n")
    blocks: list[Block] = []
    _text_blocks(text, 0, [], None, blocks)
    first_line = text.strip().split("\n", 1)[0].strip()
    title = first_line if 0 < len(first_line) <= 90 else fallback_title
    return ParsedDocument(text, title, blocks)


def parse_pdf(data: bytes, fallback_title: str, max_pages: int = 1000, max_chars: int = 2_000_000) -> ParsedDocument:
    """Text per page with pypdf; every block keeps its page number (1-based). Too many pages or characters: refused."""
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnusableFileError(
                "Le PDF est protégé par un mot de passe : enregistrez-le sans protection.", "encrypted_pdf"
            )
        for count in (_declared_pages(reader), len(reader.pages)):  # the cheap /Count first, then the real tree
            if count > max_pages:
                raise UnusableFileError(
                    f"Le PDF a trop de pages ({count}, maximum {max_pages}) : découpez-le en plusieurs documents.",
                    "too_many_pages",
                )
        pages = []
        chars = 0
        for page in reader.pages:
            pages.append(page.extract_text() or "")
            chars += len(pages[-1])
            if chars > max_chars:
                raise _too_long(max_chars)
    except FileNotDecryptedError as exc:
        raise UnusableFileError(
            "Le PDF est protégé par un mot de passe : enregistrez-le sans protection.", "encrypted_pdf"
        ) from exc
    except PdfReadError as exc:
        raise ParseError(f"Le PDF est illisible ou endommagé ({exc}).") from exc
    from ingest.ocr import fill_scanned_pages

    ocr_pages = fill_scanned_pages(data, pages)  # pages without a text layer, read by OCR (if installed)
    if sum(len(p.strip()) for p in pages) < 20 * max(1, len(pages)) // 2:
        raise UnusableFileError(
            "Le PDF ne contient pas de texte (document scanné ?) : exportez-le avec son texte.", "no_text_layer"
        )
    parts: list[str] = []
    blocks: list[Block] = []
    path: list[str] = []
    offset = 0
    for number, page_text in enumerate(pages, start=1):
        page_text = page_text.replace("\r\n", "\n")
        if parts:
            parts.append("\n\n")
            offset += 2
        # a page break is not a paragraph break for the heading tracker, so the path carries over
        path = _text_blocks(page_text, offset, path, number, blocks)
        parts.append(page_text)
        offset += len(page_text)
    meta_title = (reader.metadata.title if reader.metadata else None) or ""
    first_line = next((ln.strip() for p in pages for ln in p.split("\n") if ln.strip()), "")
    title = str(meta_title).strip() or (first_line if len(first_line) <= 90 else fallback_title)
    return ParsedDocument("".join(parts), title, blocks, pages=len(pages), ocr_pages=ocr_pages)


def _declared_pages(reader: Any) -> int:
    try:
        return int(reader.trailer["/Root"]["/Pages"]["/Count"])
    except Exception:  # a broken or missing /Count: the page tree itself is counted next
        return 0


def parse_docx(data: bytes, fallback_title: str) -> ParsedDocument:
    """Word headings (Heading/Titre N styles) become the section path; tables become rows of cells."""
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    document = docx.Document(io.BytesIO(data))
    builder = _Builder()
    path: list[str] = []
    title = (document.core_properties.title or "").strip()
    body = document.element.body
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            para = Paragraph(child, document)
            style = (para.style.name if para.style is not None else "") or ""
            text = para.text.strip()
            match = re.match(r"(?:Heading|Titre)\s*(\d)", style)
            if style == "Title" and text:
                title = title or text
            elif match and text:
                level = int(match.group(1))
                path = path[: level - 1] + [text]
            elif text:
                kind: BlockKind = "code" if "code" in style.lower() else "text"
                builder.add(text, tuple(path), kind)
        elif tag == "tbl":
            table = Table(child, document)
            rows = [" | ".join(cell.text.strip() for cell in row.cells) for row in table.rows]
            builder.add("\n".join(rows), tuple(path))
    return ParsedDocument(builder.text, title or fallback_title, builder.blocks)


def parse_html(html: str, fallback_title: str) -> ParsedDocument:
    """h1-h6 become the section path; p, li, pre, table, blockquote become blocks; scripts and menus dropped."""
    from bs4 import BeautifulSoup, Tag

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "nav", "header", "footer", "noscript", "template", "form"]):
        tag.decompose()
    builder = _Builder()
    path: list[str] = []
    title_tag = soup.find("title")
    title = title_tag.get_text(" ", strip=True) if title_tag else ""
    root = soup.body or soup
    for element in _html_blocks(root, Tag):
        name = element.name
        if name[0] == "h" and name[1:].isdigit():
            text = element.get_text(" ", strip=True)
            if not text:
                continue
            level = int(name[1])
            if level == 1 and not title:
                title = text
            path = path[: max(0, level - 2)] + [text] if level > 1 else []
        elif name == "pre":
            builder.add(element.get_text(), tuple(path), "code")
        elif name == "table":
            rows = [
                " | ".join(c.get_text(" ", strip=True) for c in tr.find_all(["td", "th"]))
                for tr in element.find_all("tr")
            ]
            builder.add("\n".join(rows), tuple(path))
        else:
            builder.add(re.sub(r"[ \t]+", " ", element.get_text(" ", strip=True)), tuple(path))
    return ParsedDocument(builder.text, title or fallback_title, builder.blocks)


_HTML_BLOCKS = {"h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "pre", "table", "blockquote", "dd", "dt"}
_HTML_WHOLE = {"pre", "table", "li", "blockquote"}  # read whole: no block is looked for inside
_HTML_NESTED_BLOCKS = 32  # blocks inside blocks (unclosed <p>...) deeper than this repeat their parents' text


def _html_blocks(root: Any, tag_type: type) -> list[Any]:
    """The block elements in document order, skipping those inside a pre, table, li or blockquote.

    One walk with a stack, linear in the nesting depth (``find_all`` then ``find_parent`` was quadratic), and at
    most ``_HTML_NESTED_BLOCKS`` blocks read inside one another (each reads the text of all those inside it).
    """
    found: list[Any] = []
    stack: list[tuple[Any, int]] = [(c, 0) for c in reversed(root.contents) if isinstance(c, tag_type)]
    while stack:
        node, depth = stack.pop()
        if node.name in _HTML_BLOCKS:
            if depth < _HTML_NESTED_BLOCKS:
                found.append(node)
            depth += 1
        if node.name not in _HTML_WHOLE:
            stack.extend((c, depth) for c in reversed(node.contents) if isinstance(c, tag_type))
    return found
