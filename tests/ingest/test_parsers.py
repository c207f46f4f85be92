"""Every format parses into text with structure; unusable files fail with a clear French reason."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from docx import Document
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from ingest.errors import UnusableFileError
from ingest.parsers import parse_bytes

MD = """---
title: Les files
level: terminale
---

# Les files

Une introduction.

## Cours

### Définition

Une file est FIFO.

```python
def f():

    return 1
```

## Exercices

Texte.
"""


def make_pdf(pages: list[list[str]], encrypt: str | None = None, text: bool = True) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, encrypt=encrypt)
    for lines in pages:
        y = 800
        for line in lines:
            if text:
                c.drawString(72, y, line)
            else:
                c.rect(72, y, 200, 10, fill=1)
            y -= 18
        c.showPage()
    c.save()
    return buf.getvalue()


def test_markdown_sections_code_and_front_matter() -> None:
    doc = parse_bytes(Path("files.md"), MD.encode())
    assert doc.title == "Les files"
    assert doc.metadata["level"] == "terminale"
    paths = [b.section_path for b in doc.blocks]
    assert ("Cours", "Définition") in paths
    assert ("Exercices",) in paths
    code = [b for b in doc.blocks if b.kind == "code"]
    assert len(code) == 1
    assert doc.text[code[0].start : code[0].end].endswith("return 1\n```")  # blank line inside kept whole


def test_markdown_offsets_index_the_file() -> None:
    doc = parse_bytes(Path("files.md"), MD.encode())
    assert doc.text == MD
    assert doc.text[doc.blocks[1].start : doc.blocks[1].end] == "Une file est FIFO."


def test_pdf_keeps_page_numbers_and_detects_headings() -> None:
    data = make_pdf(
        [["Chapitre 1 : les piles", "Une pile est une structure LIFO."], ["Exercice 2", "Ecrire une fonction depiler."]]
    )
    doc = parse_bytes(Path("cours.pdf"), data)
    assert doc.pages == 2
    by_page = {b.page: b for b in doc.blocks}
    assert "LIFO" in doc.text[by_page[1].start : by_page[1].end]
    assert by_page[2].section_path == ("Exercice 2",)


def test_encrypted_pdf_is_refused() -> None:
    with pytest.raises(UnusableFileError, match="mot de passe") as exc:
        parse_bytes(Path("secret.pdf"), make_pdf([["Texte secret du cours."]], encrypt="motdepasse"))
    assert exc.value.code == "encrypted_pdf"


def test_pdf_without_text_layer_is_refused() -> None:
    with pytest.raises(UnusableFileError, match="scanné") as exc:
        parse_bytes(Path("scan.pdf"), make_pdf([["x"] * 10, ["y"] * 10], text=False))
    assert exc.value.code == "no_text_layer"


def test_docx_headings_and_tables() -> None:
    document = Document()
    document.add_heading("Les graphes", level=1)
    document.add_paragraph("Un graphe est un ensemble de sommets.")
    document.add_heading("Représentation", level=2)
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "A", "B"
    table.cell(1, 0).text, table.cell(1, 1).text = "1", "0"
    buf = io.BytesIO()
    document.save(buf)
    doc = parse_bytes(Path("graphes.docx"), buf.getvalue())
    assert [doc.text[b.start : b.end] for b in doc.blocks] == ["Un graphe est un ensemble de sommets.", "A | B\n1 | 0"]
    assert doc.blocks[1].section_path == ("Les graphes", "Représentation")


def test_html_drops_scripts_and_tracks_headings() -> None:
    html = (
        "<html><head><title>HTTP</title><script>alert(1)</script></head><body><nav>menu</nav>"
        "<h1>HTTP</h1><h2>Requêtes</h2><p>Une requête GET demande une ressource.</p>"
        "<pre>GET / HTTP/1.1</pre></body></html>"
    )
    doc = parse_bytes(Path("http.html"), html.encode())
    assert "alert" not in doc.text
    assert "menu" not in doc.text
    assert doc.title == "HTTP"
    assert doc.blocks[0].section_path == ("Requêtes",)
    assert doc.blocks[1].kind == "code"


def test_text_in_windows_1252_is_decoded() -> None:
    doc = parse_bytes(Path("notes.txt"), "Les élèves étudient la récursivité.".encode("cp1252"))
    assert "élèves" in doc.text


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("vide.md", b"", "empty_file"),
        ("faux.pdf", b"<html>pas un pdf</html>", "type_mismatch"),
        ("faux.docx", b"%PDF-1.4 ...", "type_mismatch"),
        ("binaire.txt", b"PK\x03\x04\x00\x00", "type_mismatch"),
        ("image.png", b"\x89PNG", "unsupported_type"),
        ("blanc.md", b"   \n\n  ", "no_text"),
    ],
)
def test_unusable_files_fail_with_a_reason(name: str, data: bytes, code: str) -> None:
    with pytest.raises(UnusableFileError) as exc:
        parse_bytes(Path(name), data)
    assert exc.value.code == code
    assert exc.value.reason  # a French sentence for the teacher


def test_file_over_the_size_limit_is_refused() -> None:
    with pytest.raises(UnusableFileError, match="taille maximale") as exc:
        parse_bytes(Path("gros.txt"), b"a" * 2000, max_bytes=1000)
    assert exc.value.code == "file_too_large"


def test_pdf_sections_without_blank_lines_and_answer_keys() -> None:
    data = make_pdf(
        [
            [
                "Exercice 1 : les piles",
                "Ecrire une fonction sommet(p).",
                "1. Ecrire la fonction depiler qui retire le sommet de la pile et le renvoie au programme",
            ],
            ["Corrigé de l'exercice 1", "On renvoie p[-1] sans modifier la pile."],
        ]
    )
    doc = parse_bytes(Path("ds.pdf"), data)
    paths = [(b.page, b.section_path) for b in doc.blocks]
    assert paths == [(1, ("Exercice 1 : les piles",)), (2, ("Corrigé de l'exercice 1",))]  # the question is no heading


def test_nul_characters_become_spaces_and_offsets_hold() -> None:
    # A text layer can carry NULs (PDF, office files); PostgreSQL and the API refuse them.
    # (a NUL in the first 8 KiB of a text file marks it binary: put them further)
    data = ("Les structures de données linéaires.\n\n" * 300 + "Une pile\x00 est une structure LIFO.\n").encode()
    doc = parse_bytes(Path("cours.txt"), data)
    assert "\x00" not in doc.text
    assert "Une pile  est une structure LIFO." in doc.text
    assert len(doc.text) == len(data.decode())
