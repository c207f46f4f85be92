"""Issue 12 §1: Markdown as teachers write it (MkDocs Material, pyodide-mkdocs-theme, mkdocs-macros, Docsify,
VitePress) parses into clean text, code blocks whole with their language, and the labels that say what a block is."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.chunker import Chunker
from ingest.parsers import ParsedDocument, parse_bytes, parse_markdown, parse_text
from ingest.pipeline import content_type_for
from knowledge.course_files import CURRICULUM_DIR

FIXTURES = Path(__file__).parent / "fixtures" / "teacher"
# syntax that must never reach a passage: admonition and tab markers, macros, attribute lists, emoji shortcodes,
# Docsify markers, ::: containers, image paths, fence options, footnote markers, HTML tags, ==mark==, ++keys++
LEAKS = re.compile(
    r"^\s*(?:!!!|\?\?\?|===|:::|[?!]>)|\{\{|\}\}|\{%|%\}|\{#|\{:|\{ ?[.#][\w-]|(?<![\w:/]):[a-z][a-z0-9_-]*:(?![\w:])"
    r"|\]\([^)]*\.(?:png|svg|jpe?g|gif)\)|linenums|hl_lines|title=|\[\^|</?(?:div|span|iframe|script|img|p|details)\b"
    r"|(?<![\w=])==[^\s=]|\+\+\w",
    re.MULTILINE,
)


def blocks(doc: ParsedDocument) -> list[tuple[str, tuple[str, ...], str, str | None]]:
    return [(doc.text[b.start : b.end], b.section_path, b.kind, b.language) for b in doc.blocks]


def parse_fixture(name: str) -> ParsedDocument:
    return parse_bytes(Path(name), (FIXTURES / name).read_bytes())


def prose(text: str) -> str:
    """Text outside code blocks and code spans, where markup would be a leak."""
    return re.sub(r"`[^`\n]*`", "", re.sub(r"^```.*?^```", "", text, flags=re.DOTALL | re.MULTILINE))


def chunks(doc: ParsedDocument, max_tokens: int = 400) -> list[str]:
    return [c.text for c in Chunker(lambda s: len(s.split()) + 2, max_tokens, 20).chunk(doc)]


@pytest.mark.parametrize(
    "name", ["mkdocs/piles.md", "pyodide/somme.md", "docsify/README.md", "vitepress/boucles.md", "correction.md"]
)
def test_no_markup_survives_and_offsets_index_the_text(name: str) -> None:
    doc = parse_fixture(name)
    for text in chunks(doc):
        assert not LEAKS.search(prose(text)), text
        assert text.count("```") % 2 == 0, text
    for block in doc.blocks:
        assert doc.text[block.start : block.end].strip()


def test_mkdocs_material_page() -> None:
    doc = parse_fixture("mkdocs/piles.md")
    got = blocks(doc)
    texts = [t for t, *_ in got]
    assert doc.title == "Les piles"
    assert texts[0] == "une pile d'assiettes"  # the image's alt text, its path and attribute list gone
    definition = next(b for b in got if "LIFO" in b[0])
    assert definition[0].startswith("Une **pile** est une structure de données LIFO : le dernier")
    assert definition[1] == ("Définition",)  # the admonition's title is not repeated under its heading
    assert ("Pour copier une cellule, faites Ctrl+C.", ("Définition", "Astuce"), "text", None) in got
    assert "Pile : Structure où l'on retire l'élément ajouté en dernier." in texts[4]
    assert "Une pile se lit de haut en bas." in texts
    assert not any("alert" in t or "iframe" in t or "exemple.fr/animation" in t for t in texts)
    tabs = [b for b in got if b[2] == "code" and b[1][0] == "Implémentation"]
    assert [(b[1][-1], b[3]) for b in tabs] == [
        ("Avec une liste", "python"),
        ("Avec une classe", "python"),
        ("Implémentation", "pycon"),
    ]
    assert tabs[0][0] == (
        "```python\ndef empiler(p, x):\n    p.append(x)\n\n\ndef depiler(p):\n    return p.pop()\n```"
    )  # options gone, body dedented and whole (blank lines included)
    assert tabs[2][0] == "```pycon\n>>> p = []\n>>> p.append(3)\n>>> p\n[3]\n```"  # a bare console session, fenced
    assert "[Voir la vidéo](https://exemple.fr/video)" in texts
    answer = [b for b in got if b[1] == ("Exercice 1", "Correction")]
    assert [b[0] for b in answer] == ["On utilise l'affectation multiple :", "```python\na, b = b, a\n```"]
    assert {content_type_for(b[1]) for b in answer} == {"corrige"}
    assert content_type_for(("Exercice 1",)) == "exercice"
    footnote = next(b for b in got if "Last In" in b[0])
    assert footnote[:2] == ("En anglais : *Last In, First Out*.", ("Définition",))  # where it is cited


def test_pyodide_page_macros() -> None:
    doc = parse_fixture("pyodide/somme.md")
    got = blocks(doc)
    texts = "\n".join(t for t, *_ in got)
    for dropped in (
        "IDE",
        "exo_somme",
        "terminal",
        "multi_qcm",
        "version_ide",
        "shuffle",
        "lien_page",
        "Ne pas oublier",
    ):
        assert dropped not in texts
    assert "pas encore publiée" not in texts  # correction(False, ...): not published by the teacher
    assert ("```pycon\n>>> somme([1, 2, 3])\n6\n>>> somme([])\n0\n```", ("Exemples",), "code", "pycon") in got
    key = [b for b in got if b[1] == ("Correction",)]
    assert key[0][0] == "On parcourt la liste en accumulant les valeurs dans `total` :"
    assert key[1][0].startswith("```python\ndef somme(nombres):\n    total = 0\n")
    assert key[1][2:] == ("code", "python")
    assert "Dans un gabarit Jinja, on écrit `{{ nom }}` pour afficher une variable." in texts  # {% raw %} kept
    assert "Voir aussi la page du cours de Première." in texts


def test_docsify_and_vitepress_pages() -> None:
    docsify = blocks(parse_fixture("docsify/README.md"))
    assert docsify[0][:2] == ("Un dictionnaire associe des **clés** à des **valeurs**.", ())
    assert docsify[1][0].startswith("Les clés doivent être immuables")
    details = next(b for b in docsify if "Chloé" in b[0])
    assert details[1] == ("Créer un dictionnaire", "Correction de l'exercice")  # <details><summary>
    assert content_type_for(details[1]) == "corrige"
    assert ("schéma d'un dictionnaire", ("Parcourir un dictionnaire",), "text", None) in docsify
    vitepress = blocks(parse_fixture("vitepress/boucles.md"))
    assert [b[1] for b in vitepress] == [("Astuce",), ("À retenir",), ("Exercice 2",), ("Exercice 2", "Solution")]
    assert vitepress[3][0] == "```python\nfor i in range(1, 11):\n    print(i)\n```"
    assert [content_type_for(b[1]) for b in vitepress] == ["cours", "cours", "exercice", "corrige"]


def test_what_a_block_is() -> None:
    assert content_type_for(["Réponses"]) == "corrige"
    assert content_type_for(["Exercices", "Réponse à la question 2"]) == "corrige"
    assert content_type_for(["Éléments de réponse"]) == "corrige"
    assert content_type_for(["Requêtes et réponses HTTP"]) == "cours"
    assert content_type_for(["Le protocole HTTP", "Réponses HTTP"]) == "cours"
    assert content_type_for(["Réponse du serveur"]) == "cours"
    assert content_type_for(["Question 1"], "docs/T3/correction.md") == "corrige"
    assert content_type_for(["Question 1"], "corrige_ds1.pdf") == "corrige"
    assert content_type_for(["Question 1"], "TP2-solutions.md") == "corrige"
    assert content_type_for(["Question 1"], "T3/corrige2.md") == "corrige"
    assert content_type_for(["Question 1"], "correcteur_orthographique.md") == "cours"
    assert content_type_for(["Énoncé"], "exo3_somme.md") == "exercice"
    assert content_type_for(["Énoncé"], "exo3_somme_corrige.md") == "corrige"
    md = parse_markdown("# T\n\n## Exercice 1\n\nÉnoncé.\n\n**Correction :**\n\nLa clé.\n\n## Suite\n\nCours.\n", "t")
    assert [b[1] for b in blocks(md)] == [("Exercice 1",), ("Exercice 1", "Correction"), ("Suite",)]
    txt = parse_text("Devoir\n\nExercice 1\nÉnoncé.\n\nCorrigé :\nLa clé.\n\nExercice 2\nCorrigé : x = 3\n", "d")
    got = blocks(txt)
    assert [(t, p) for t, p, *_ in got[1:]] == [
        ("Énoncé.", ("Exercice 1",)),
        ("La clé.", ("Exercice 1", "Corrigé")),
        ("Corrigé : x = 3", ("Exercice 2", "Corrigé")),
    ]


@pytest.mark.parametrize("path", sorted(CURRICULUM_DIR.rglob("*.md")), ids=lambda p: p.name)
def test_the_curriculum_is_its_own_text(path: Path) -> None:
    """The project's clean Markdown needs no cleaning: its text, offsets and chunks are the file's own."""
    raw = path.read_text(encoding="utf-8")
    doc = parse_markdown(raw, path.stem)
    assert doc.text == raw
    assert all(b.kind == "code" or not LEAKS.search(prose(doc.text[b.start : b.end])) for b in doc.blocks)


# --- property: random teacher pages -----------------------------------------------------------------------

WORDS = st.sampled_from(["une", "pile", "file", "liste", "élève", "boucle", "récursivité", "donnée", "arbre", "tri"])
SENTENCE = st.lists(WORDS, min_size=2, max_size=8).map(lambda ws: " ".join(ws).capitalize() + ".")
CODE = st.lists(
    st.sampled_from(["x = 1", "for i in range(3):", "    print(i)", "return x", "", "t.append(x)"]),
    min_size=1,
    max_size=5,
).map(lambda lines: [ln for ln in lines if ln] or ["pass"])


def inline_noise(draw: st.DrawFn, sentence: str) -> str:
    decorations = [
        lambda s: f"{s} :heart:",
        lambda s: f":material-check: {s}",
        lambda s: f"{s} ==important==",
        lambda s: f"{s} ++ctrl+s++",
        lambda s: f"{s}[^n]",
        lambda s: f"![schéma](img/a.png){{: .center width=40%}} {s}",
        lambda s: f"[{s}](page.md){{ .md-button }}",
        lambda s: f"{s} {{{{ IDE('exo') }}}}",
        lambda s: f"{s} {{% include 'x.md' %}}",
        lambda s: f'<span class="rouge">{s}</span>',
        lambda s: f"{s} {{# commentaire #}}",
        lambda s: s,
    ]
    return str(draw(st.sampled_from(decorations))(sentence))


@st.composite
def teacher_page(draw: st.DrawFn) -> tuple[str, list[list[str]]]:
    parts = ["# Chapitre"]
    code_bodies: list[list[str]] = []
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(
            st.sampled_from(
                [
                    "para",
                    "admonition",
                    "collapsible",
                    "tab",
                    "fence",
                    "console",
                    "docsify",
                    "colon",
                    "macro",
                    "heading",
                    "attrs",
                ]
            )
        )
        sentence = inline_noise(draw, draw(SENTENCE))
        code = draw(CODE)
        indent = "    "
        if kind == "para":
            parts.append(sentence)
        elif kind == "heading":
            parts.append(f"## {draw(SENTENCE)} {{ #ancre }}")
        elif kind in ("admonition", "collapsible", "tab"):
            marker = {
                "admonition": "!!! note",
                "collapsible": draw(st.sampled_from(["??? success", "???+ tip"])),
                "tab": "===",
            }[kind]
            body = [sentence]
            if draw(st.booleans()):  # two blank lines inside the body do not end it
                body += ["", "", '```python linenums="1" hl_lines="2"', *code, "```"]
                code_bodies.append(code)
            if draw(st.booleans()):  # nested, with a list
                body += ["", '??? tip "Indice"', f"    - {inline_noise(draw, draw(SENTENCE))}", "    - deux"]
            if draw(st.booleans()):
                body += ["", ">>> 1 + 1", "2"]
                code_bodies.append([">>> 1 + 1", "2"])
            parts.append(f'{marker} "{draw(SENTENCE)}"\n' + "\n".join(indent + ln if ln else "" for ln in body))
        elif kind == "fence":
            parts.append('```python title="a.py"\n' + "\n".join(code) + "\n```")
            code_bodies.append(code)
        elif kind == "console":
            parts.append(">>> x = 1\n>>> x\n1")
            code_bodies.append([">>> x = 1", ">>> x", "1"])
        elif kind == "docsify":
            parts.append(draw(st.sampled_from(["?> ", "!> "])) + sentence)
        elif kind == "colon":
            parts.append(f":::tip[{draw(SENTENCE)}]\n{sentence}\n:::")
        elif kind == "macro":
            parts.append('{{ terminal() }}\n\n{{ correction(True, """\n' + sentence + '\n""") }}')
        else:
            parts.append(f"{sentence}\n{{: .encadre }}")
    return "\n\n".join(parts) + "\n", code_bodies


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(teacher_page())
def test_no_syntax_survives_and_code_stays_whole(page: tuple[str, list[list[str]]]) -> None:
    markdown, code_bodies = page
    doc = parse_markdown(markdown, "page")
    for text in chunks(doc):
        assert not LEAKS.search(prose(text)), (markdown, text)
        assert text.count("```") % 2 == 0, (markdown, text)  # fences balanced
    code = [doc.text[b.start : b.end] for b in doc.blocks if b.kind == "code"]
    for body in code_bodies:  # each code body is one code block, line by line: not flattened
        assert any("\n" + "\n".join(body) + "\n```" in block for block in code), (markdown, code)
    for block in code:
        assert block.startswith("```")
        assert block.endswith("```")
        assert block.count("\n") >= 2


MARKUP = st.sampled_from(
    [
        "\n",
        "\n\n",
        "    ",
        "!!! note",
        '??? success "Correction"',
        "???+",
        '=== "A"',
        ":::",
        ":::tip",
        "?>",
        "!>",
        ">>>",
        "```",
        "```python",
        "~~~",
        "{{",
        "}}",
        "{%",
        "%}",
        "{#",
        "#}",
        '"""',
        "correction(True, ",
        "IDE('x')",
        "{: .a}",
        "{ .b }",
        "[^1]",
        "[^1]: ",
        ":heart:",
        "==",
        "++",
        "<div>",
        "</div>",
        "<details>",
        "<summary>",
        "<script>",
        "![a](b.png)",
        "[l](u)",
        "- ",
        "1. ",
        "# ",
        "## ",
        "| a |",
        "Terme\n:   déf",
        "**Corrigé :**",
        "é",
    ]
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(MARKUP, max_size=60).map("".join))
def test_any_mix_of_markup_parses_and_offsets_hold(markdown: str) -> None:
    doc = parse_markdown(markdown, "page")
    for block in doc.blocks:
        assert 0 <= block.start < block.end <= len(doc.text)
    for chunk in Chunker(lambda s: len(s.split()) + 2, 64, 8).chunk(doc):
        assert chunk.text == doc.text[chunk.start : chunk.end]
