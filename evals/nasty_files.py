"""Builders of hostile and broken course files, generated on demand (no binary is committed): bombs, deep nesting,
megabyte lines, huge text streams, many pages, wrong magic bytes, NUL in names, truncations.

Used by the nasty-file tests (tests/ingest/test_nasty_files.py) and ``nexus bench bombs``."""

from __future__ import annotations

import io
import os
import zipfile
import zlib

GOOD_LINES = [
    b"Chapitre 1 Les piles",
    b"Une pile est une structure LIFO : le dernier element empile est le premier depile.",
    b"On empile avec push et on depile avec pop, en temps constant.",
]


def pdf(pages: list[bytes], compress: bool = True) -> bytes:
    """A minimal valid PDF whose pages have these content streams (Helvetica as /F1)."""
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(len(pages)))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for i, content in enumerate(pages):
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> "
            + f"/Contents {5 + 2 * i} 0 R >>".encode()
        )
        data = zlib.compress(content) if compress else content
        flate = b" /Filter /FlateDecode" if compress else b""
        objects.append(b"<< /Length %d%s >>\nstream\n" % (len(data), flate) + data + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def page(lines: list[bytes]) -> bytes:
    body = b" T* ".join(b"(" + line + b") Tj" for line in lines)
    return b"BT /F1 11 Tf 14 TL 60 780 Td " + body + b" ET"


def good_pdf() -> bytes:
    return pdf([page(GOOD_LINES), page(GOOD_LINES[1:])])


def flate_bomb(size: int) -> bytes:
    """A Flate stream of ``size`` bytes of spaces once inflated (about size / 1000 compressed)."""
    packer = zlib.compressobj(9)
    chunk = b" " * 1_000_000
    parts = [packer.compress(chunk) for _ in range(size // len(chunk))]
    return b"".join(parts) + packer.flush()


def pdf_flate_bomb(pages: int = 3, size: int = 100_000_000) -> bytes:
    """Pages whose content streams inflate to ``size`` bytes each (the audit's 70 MB streams, larger)."""
    stream = flate_bomb(size)
    data = pdf([b"X"] * pages, compress=False)
    # swap each one-byte uncompressed stream for the compressed bomb
    return data.replace(
        b"<< /Length 1 >>\nstream\nX\nendstream",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
    )


def docx(paragraphs: list[tuple[str, str | None]]) -> bytes:
    """A Word document: (text, style) pairs, style None for a body paragraph."""
    import docx as python_docx

    document = python_docx.Document()
    for text, style in paragraphs:
        document.add_paragraph(text, style=style)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def good_docx() -> bytes:
    return docx([("Les piles", "Heading 1"), ("Une pile est une structure LIFO.", None)])


def docx_bomb(member: str = "word/media/image1.png", size: int = 60_000_000) -> bytes:
    """A valid .docx plus one member that inflates to ``size`` bytes (a 30 KB file, as in the audit, or less)."""
    source = zipfile.ZipFile(io.BytesIO(good_docx()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in source.infolist():
            zf.writestr(info, source.read(info))
        info = zipfile.ZipInfo(member)
        info.compress_type = zipfile.ZIP_DEFLATED
        with zf.open(info, "w", force_zip64=True) as bomb:
            chunk = b"\0" * 1_000_000
            for _ in range(size // len(chunk)):
                bomb.write(chunk)
    return out.getvalue()


def docx_xml_bomb(repeat: int = 600_000) -> bytes:
    """word/document.xml itself inflates to about 25 MB of paragraphs."""
    source = zipfile.ZipFile(io.BytesIO(good_docx()))
    body = b"<w:p><w:r><w:t>pile</w:t></w:r></w:p>" * repeat
    xml = source.read("word/document.xml").replace(b"<w:body>", b"<w:body>" + body, 1)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in source.infolist():
            zf.writestr(info, xml if info.filename == "word/document.xml" else source.read(info))
    return out.getvalue()


def billion_laughs(levels: int = 9) -> bytes:
    """YAML front matter whose aliases expand to 9**levels items (399 bytes for the audit's title)."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, levels):
        refs = ",".join([f"*a{level - 1}"] * 9)
        lines.append(f"a{level}: &a{level} [{refs}]")
    lines.append(f"title: *a{levels - 1}")
    return ("---\n" + "\n".join(lines) + "\n---\n\n# Les piles\n\nUne pile est LIFO.\n").encode()


def nested_html(depth: int, tag: str = "div") -> bytes:
    return (
        "<html><body>"
        + f"<{tag}>" * depth
        + "<p>Une pile est une structure LIFO.</p>"
        + f"</{tag}>" * depth
        + "</body></html>"
    ).encode()


def corpus() -> dict[str, bytes]:
    """The nasty files by name (the name's extension picks the parser)."""
    good_md = b"# Les piles\n\n## Cours\n\nUne pile est une structure LIFO.\n"
    return {
        "billion-laughs.md": billion_laughs(),
        "zip-bomb.docx": docx_bomb(),
        "xml-bomb.docx": docx_xml_bomb(),
        "nested-8000.html": nested_html(8000),
        "nested-lists-4000.html": nested_html(4000, "li"),
        "nested-paragraphs-3000.html": nested_html(3000, "p"),
        "one-word-1mb.md": b"a" * 1_000_000,
        "one-line-1mb.md": b"# Piles\n\n" + b"pile;" * 200_000,
        "huge-text-stream.pdf": pdf([page([b"pile " * 600_000])]),
        "pages-3000.pdf": pdf([page([b"Une pile."])] * 3000),
        "flate-bomb.pdf": pdf_flate_bomb(),
        "wrong-magic.pdf": b"Ceci n'est pas un PDF, seulement du texte.",
        "wrong-magic.docx": b"%PDF-1.4\nun PDF deguise",
        "binary.md": b"PK\x03\x04" + os.urandom(2000),
        "nul\x00name.md": good_md,
        "truncated.pdf": good_pdf()[: len(good_pdf()) // 2],
        "truncated.docx": good_docx()[:3000],
        "truncated-utf8.md": "# Résumé\n\nDéfinition : une file est FIFO.".encode()[:-1] + b"\xc3",
        "empty.txt": b"",
        "control-chars.txt": b"Chapitre 1\n\n" + bytes(range(1, 32)) * 100,
    }
