"""Teachers' other formats: Jupyter notebooks, LibreOffice Writer and Impress, PowerPoint."""

from __future__ import annotations

import io
from pathlib import Path

import nbformat
import pytest
from nbformat import v4
from odf import draw, presentation, style, text
from odf.opendocument import OpenDocumentPresentation, OpenDocumentText
from pptx import Presentation
from pptx.util import Inches

from ingest import parsers
from ingest.errors import UnusableFileError
from ingest.parsers import ParsedDocument, parse_bytes


def block_texts(doc: ParsedDocument) -> list[tuple[str, tuple[str, ...], int | None, str]]:
    return [(doc.text[b.start : b.end], b.section_path, b.page, b.kind) for b in doc.blocks]


def notebook_bytes() -> bytes:
    nb = v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    nb.cells = [
        v4.new_markdown_cell("# Les listes en Python\n\nUne liste est une séquence modifiable."),
        v4.new_markdown_cell("## Parcourir une liste\n\nOn parcourt une liste avec une boucle `for`."),
        v4.new_code_cell(
            "notes = [12, 15, 9]\n\nfor note in notes:\n    print(note)",
            outputs=[v4.new_output("stream", name="stdout", text="12\n15\n9\n")],
        ),
        v4.new_code_cell(
            "list(range(1000))", outputs=[v4.new_output("execute_result", data={"text/plain": "\n".join(["0"] * 50)})]
        ),
        v4.new_raw_cell("{{ directive d'export }}"),
        v4.new_markdown_cell("## Exercice 1\n\nÉcrire une fonction `moyenne(notes)`."),
    ]
    return nbformat.writes(nb).encode()


def test_notebook_cells_keep_headings_code_and_their_number() -> None:
    doc = parse_bytes(Path("listes.ipynb"), notebook_bytes())
    assert doc.title == "Les listes en Python"
    assert doc.page_unit == "cellule"
    blocks = block_texts(doc)
    code = [b for b in blocks if b[3] == "code"]
    # the loop stays whole, blank line and indentation included, as a fence with the kernel's language
    assert code[0][0] == "```python\nnotes = [12, 15, 9]\n\nfor note in notes:\n    print(note)\n```"
    assert code[0][1] == ("Parcourir une liste",)
    assert code[0][2] == 3  # its cell number
    assert code[1][0] == "```text\n12\n15\n9\n```"  # a short printed output is kept as an example
    assert code[1][2] == 3
    assert all("0\n0\n0" not in b[0] for b in blocks)  # a long output is dropped
    assert all("directive" not in b[0] for b in blocks)  # raw cells are export directives
    exercise = next(b for b in blocks if "moyenne" in b[0])
    assert exercise[1] == ("Exercice 1",)
    assert exercise[2] == 6


def test_notebook_that_is_not_json_is_refused() -> None:
    with pytest.raises(UnusableFileError) as info:
        parse_bytes(Path("cours.ipynb"), b"# pas un notebook\n")
    assert info.value.code == "type_mismatch"


def odt_bytes() -> bytes:
    doc = OpenDocumentText()
    code_style = style.Style(name="Preformatted Text", family="paragraph")
    doc.styles.addElement(code_style)
    doc.text.addElement(text.H(outlinelevel=1, text="Les graphes"))
    doc.text.addElement(text.P(text="Un graphe est un ensemble de sommets reliés par des arêtes."))
    doc.text.addElement(text.H(outlinelevel=2, text="Représentation"))
    items = text.List()
    for label in ("matrice d'adjacence", "liste d'adjacence"):
        item = text.ListItem()
        item.addElement(text.P(text=label))
        items.addElement(item)
    doc.text.addElement(items)
    doc.text.addElement(text.P(stylename=code_style, text="voisins = {'A': ['B', 'C']}"))
    doc.text.addElement(text.H(outlinelevel=1, text="Exercice 1"))
    doc.text.addElement(text.P(text="Dessiner le graphe de la matrice donnée."))
    out = io.BytesIO()
    doc.write(out)
    return out.getvalue()


def test_odt_headings_make_the_section_path() -> None:
    doc = parse_bytes(Path("graphes.odt"), odt_bytes())
    blocks = block_texts(doc)
    assert ("Un graphe est un ensemble de sommets reliés par des arêtes.", ("Les graphes",), None, "text") in blocks
    assert ("- matrice d'adjacence\n- liste d'adjacence", ("Les graphes", "Représentation"), None, "text") in blocks
    assert ("voisins = {'A': ['B', 'C']}", ("Les graphes", "Représentation"), None, "code") in blocks
    assert ("Dessiner le graphe de la matrice donnée.", ("Exercice 1",), None, "text") in blocks


def odp_bytes() -> bytes:
    doc = OpenDocumentPresentation()
    layout = style.PageLayout(name="mise-en-page")
    doc.automaticstyles.addElement(layout)
    master = style.MasterPage(name="standard", pagelayoutname=layout)
    doc.masterstyles.addElement(master)
    for title, body in (
        ("Le routage", "Un routeur relie plusieurs réseaux."),
        ("Le protocole RIP", "RIP compte les sauts."),
    ):
        page = draw.Page(masterpagename=master)
        for cls, words in (("title", title), ("outline", body)):
            frame = draw.Frame(width="20cm", height="3cm", x="1cm", y="1cm", attributes={"class": cls})
            box = draw.TextBox()
            box.addElement(text.P(text=words))
            frame.addElement(box)
            page.addElement(frame)
        notes = presentation.Notes()
        frame = draw.Frame(width="20cm", height="3cm", x="1cm", y="1cm", attributes={"class": "notes"})
        box = draw.TextBox()
        box.addElement(text.P(text=f"Notes : insister sur {title.lower()}."))
        frame.addElement(box)
        notes.addElement(frame)
        page.addElement(notes)
        doc.presentation.addElement(page)
    out = io.BytesIO()
    doc.write(out)
    return out.getvalue()


def test_odp_slide_titles_are_sections_and_numbers_are_pages() -> None:
    doc = parse_bytes(Path("routage.odp"), odp_bytes())
    assert doc.title == "Le routage"
    assert doc.page_unit == "diapositive"
    assert doc.pages == 2
    blocks = block_texts(doc)
    assert ("RIP compte les sauts.", ("Le protocole RIP",), 2, "text") in blocks
    assert ("Notes : insister sur le protocole rip.", ("Le protocole RIP",), 2, "text") in blocks
    assert all(b[0] not in ("Le routage", "Le protocole RIP") for b in blocks)  # titles are sections, not text


def pptx_bytes() -> bytes:
    deck = Presentation()
    for title, bullets in (
        ("Les files", [(0, "Structure FIFO"), (1, "premier entré, premier sorti")]),
        ("Exercice 2", [(0, "Implémenter une file avec deux piles.")]),
    ):
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = title
        frame = slide.placeholders[1].text_frame
        frame.text = bullets[0][1]
        for level, words in bullets[1:]:
            paragraph = frame.add_paragraph()
            paragraph.text, paragraph.level = words, level
        slide.notes_slide.notes_text_frame.text = f"Notes de la diapositive {title}."
    table_slide = deck.slides.add_slide(deck.slide_layouts[5])
    table_slide.shapes.title.text = "Complexités"
    table = table_slide.shapes.add_table(2, 2, Inches(1), Inches(2), Inches(6), Inches(1)).table
    for (r, c), words in {(0, 0): "enfiler", (0, 1): "O(1)", (1, 0): "défiler", (1, 1): "O(1)"}.items():
        table.cell(r, c).text = words
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


def test_pptx_slides_bullets_notes_and_tables() -> None:
    doc = parse_bytes(Path("files.pptx"), pptx_bytes())
    assert doc.title == "Les files"
    assert doc.pages == 3
    blocks = block_texts(doc)
    assert ("- Structure FIFO\n  - premier entré, premier sorti", ("Les files",), 1, "text") in blocks
    assert ("Notes de la diapositive Les files.", ("Les files",), 1, "text") in blocks
    assert ("Implémenter une file avec deux piles.", ("Exercice 2",), 2, "text") in blocks
    assert ("enfiler | O(1)\ndéfiler | O(1)", ("Complexités",), 3, "text") in blocks


@pytest.mark.parametrize("name", ["cours.odt", "cours.odp", "cours.pptx"])
def test_office_extension_on_other_content_is_refused(name: str) -> None:
    with pytest.raises(UnusableFileError) as info:
        parse_bytes(Path(name), b"PK\x03\x04 pas une archive")
    assert info.value.code == "type_mismatch"


def test_odt_named_odp_is_refused() -> None:
    with pytest.raises(UnusableFileError) as info:
        parse_bytes(Path("cours.odp"), odt_bytes())
    assert info.value.code == "type_mismatch"


def test_notebook_cells_survive_a_markdown_parser_that_rewrites_the_text(monkeypatch: pytest.MonkeyPatch) -> None:
    original = parsers.parse_markdown

    def rewriting(raw: str, fallback_title: str) -> ParsedDocument:  # e.g. one that drops inline markup
        return original(raw.replace("`for`", "for"), fallback_title)

    monkeypatch.setattr(parsers, "parse_markdown", rewriting)
    doc = parse_bytes(Path("listes.ipynb"), notebook_bytes())
    pages = {doc.text[b.start : b.end][:30]: b.page for b in doc.blocks}
    assert pages["On parcourt une liste avec une"] == 2
    assert pages["```python\nnotes = [12, 15, 9]\n"] == 3
    assert pages["Écrire une fonction `moyenne(n"] == 6
