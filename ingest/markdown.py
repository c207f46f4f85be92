"""Markdown as teachers write it: MkDocs Material, pyodide-mkdocs-theme, mkdocs-macros, Docsify, VitePress.

``parse_markdown`` gives clean CommonMark: what a reader of the rendered page sees, in Markdown. Three passes:

1. mkdocs-macros / Jinja (:func:`expand_macros`): ``{# … #}`` and ``{% … %}`` tags go (``{% raw %}`` keeps
   its content verbatim); a ``{{ … }}`` call is read with :mod:`ast`. ``correction(True, '''…''')`` keeps its
   content as a "Correction" block (``correction(False, …)``, unpublished, is dropped); every other macro —
   ``IDE('exo')``, ``terminal()``, ``qcm(...)``, variables — is dropped, never quoted. Code fences are left alone.
2. Lines (:func:`normalize_lines`): content tabs (``=== "Onglet"``) and ``:::type Titre`` containers become
   admonitions, Docsify's ``?>``/``!>`` markers go, a ``>>>`` console session outside a fence becomes a ``pycon``
   fence, and blank lines inside an admonition's body stay in it.
3. markdown-it-py with mdit-py-plugins (admonitions and collapsibles, definition lists, footnotes, tables) gives
   the structure. Each block is its source lines, dedented, cleaned of inline extensions (attribute lists, images
   → alt text, ``==mark==``, ``++ctrl+c++``, emoji shortcodes, inline HTML, footnote references); code fences keep
   their body and language, highlighter options (``linenums``, ``hl_lines``, ``title``) go.

Headings and block labels (an admonition's or tab's title, an answer-key paragraph such as ``**Correction :**``)
make the section path, which :mod:`ingest.classify` reads. ``ParsedDocument.text`` is the cleaned text, which
offsets index; for Markdown that needs no cleaning (the curriculum's) it is the file itself.
"""

from __future__ import annotations

import ast
import bisect
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode
from mdit_py_plugins.admon import admon_plugin
from mdit_py_plugins.deflist import deflist_plugin
from mdit_py_plugins.footnote import footnote_plugin

from ingest.classify import is_answer_key_label
from ingest.errors import ParseError
from ingest.parsers import Block, BlockKind, ParsedDocument
from knowledge.course_files import split_front_matter
from knowledge.text import fold

# --- pass 1: macros -------------------------------------------------------------------------------------------

_MACRO_OPEN = re.compile(r"\{\{|\{%-?|\{#")
_FENCE_OPEN = re.compile(r"^[ \t]*(`{3,}|~{3,})")
_FENCE_AT = re.compile(r"[ \t]*(?:`{3,}|~{3,})")
_ENDRAW = re.compile(r"\{%-?\s*endraw\s*-?%\}")
_MAX_MACRO = 50_000  # characters a ``{{ … }}`` call may span
_MAX_TRIES = 64  # ``}}`` candidates tried as the end of one call
_PARSE_BUDGET = 5_000_000  # characters given to ``ast.parse`` per file: a file of broken calls stays linear
_MAX_NESTING = 12  # ``:::`` containers and ``<details>`` inside one another


def _fence_closes(line: str, marker: str) -> bool:
    stripped = line.strip()
    return stripped.startswith(marker) and not stripped.strip(marker[0])


def _call_end(text: str, start: int, budget: list[int], closes: list[int]) -> tuple[int, ast.expr | None]:
    """End of the ``{{ … }}`` starting at ``start`` and its expression (None when it does not parse).

    The end is the first ``}}`` after which the call parses (a ``}}`` inside a string argument is not the end);
    a call that never parses ends at its first ``}}``; a ``{{`` without any is dropped alone.
    """
    limit = min(len(text), start + _MAX_MACRO)
    if closes[0] < start + 2:  # the next ``}}`` of the text, found once for all the calls before it
        closes[0] = text.find("}}", start + 2)
    if closes[0] < 0:
        closes[0] = len(text)
    if closes[0] + 2 > limit:
        return start + 2, None
    first = -1
    pos = start + 2
    for _ in range(_MAX_TRIES):
        end = text.find("}}", pos, limit)
        if end < 0 or budget[0] <= 0:
            break
        if first < 0:
            first = end
        inner = text[start + 2 : end].strip().strip("-").strip()
        budget[0] -= len(inner)
        try:
            return end + 2, ast.parse(inner, mode="eval").body
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            pos = end + 1
    if first < 0:
        first = text.find("}}", start + 2, limit)
    return (first + 2 if first >= 0 else start + 2), None


def _column(text: str, pos: int) -> str | None:
    """The indentation before ``pos`` when only blanks precede it on its line."""
    line_start = text.rfind("\n", max(0, pos - 200), pos) + 1
    before = text[line_start:pos]
    return before if not before.strip() and (line_start > 0 or pos <= 200) else None


def _macro(expr: ast.expr | None, start: int, text: str, budget: list[int]) -> str:
    """What a ``{{ … }}`` call at ``start`` becomes: its content for the content-wrapping macros, else nothing."""
    if not isinstance(expr, ast.Call) or not isinstance(expr.func, ast.Name):
        return ""
    args = [a.value for a in expr.args if isinstance(a, ast.Constant)]
    if expr.func.id == "correction" and args:
        shown, body = (args[0], args[-1]) if len(args) > 1 else (True, args[0])
        if shown and isinstance(body, str) and body.strip():
            content = expand_macros(textwrap.dedent(body.strip("\n")), budget)  # shorter than the call: it ends
            indent = _column(text, start) or ""
            inner = textwrap.indent(content, indent + "    ", lambda _: True)
            return f'\n{indent}??? success "Correction"\n{inner}\n'
    return ""


def _next(text: str, token: str, pos: int, cache: dict[str, int]) -> int:
    """The next ``token`` at or after ``pos`` (``len(text)`` if none), each searched once for a run of calls."""
    if cache.get(token, -1) < pos:
        found = text.find(token, pos)
        cache[token] = len(text) if found < 0 else found
    return cache[token]


def expand_macros(text: str, budget: list[int] | None = None) -> str:
    """mkdocs-macros' Jinja, outside code fences: tags dropped, content-wrapping calls expanded, the rest dropped."""
    budget = budget if budget is not None else [_PARSE_BUDGET]
    closes = [-1]
    cache: dict[str, int] = {}
    out: list[str] = []
    pos = line_end = 0
    fence: str | None = None
    raw = False
    while pos < len(text):
        if pos >= line_end:
            line_end = text.find("\n", pos)
            line_end = len(text) if line_end < 0 else line_end + 1
        if raw:
            close = _ENDRAW.search(text, pos, line_end)
            out.append(text[pos : close.start() if close else line_end])
            pos, raw = (close.end(), False) if close else (line_end, True)
            continue
        at_line_start = pos == 0 or text[pos - 1] == "\n"
        if fence is not None or (at_line_start and _FENCE_AT.match(text, pos, line_end)):
            line = text[pos:line_end]
            if fence is None:
                fence = _FENCE_OPEN.match(line).group(1)  # type: ignore[union-attr]
            elif _fence_closes(line, fence):
                fence = None
            out.append(line)
            pos = line_end
            continue
        match = _MACRO_OPEN.search(text, pos, line_end)
        if match is None:
            out.append(text[pos:line_end])
            pos = line_end
            continue
        out.append(text[pos : match.start()])
        kind = match.group(0)[:2]
        if kind in ("{#", "{%"):
            closer = "#}" if kind == "{#" else "%}"
            end = _next(text, closer, match.end(), cache)
            if end - match.start() > _MAX_MACRO:
                pos = match.end()  # no end in reach: the marker alone goes
                continue
            tag = text[match.end() : end].strip(" -\t\n").split(maxsplit=1)
            raw = kind == "{%" and bool(tag) and tag[0] == "raw"
            pos = end + 2
        else:
            end, expr = _call_end(text, match.start(), budget, closes)
            replacement = _macro(expr, match.start(), text, budget) if isinstance(expr, ast.Call) else ""
            out.append(replacement)
            pos = end
            if not replacement and text[pos : pos + 1] == " " and out[-2].endswith(" "):
                pos += 1  # "la page {{ lien() }} du cours": one space left, not two
    return "".join(out)


# --- pass 2: lines ----------------------------------------------------------------------------------------------

_ADMONITION = re.compile(r"^([ \t]*)(?:!!!|\?\?\?\+?)[ \t]+\S")
_TAB = re.compile(r'^([ \t]*)===[+!]?[ \t]+"(.*)"[ \t]*$')
_COLON_OPEN = re.compile(r"^([ \t]*)(:{3,})[ \t]*\{?([A-Za-z][\w-]*)\}?(?:\[(.*)\])?[ \t]*(.*?)[ \t]*$")
_COLON_CLOSE = re.compile(r"^[ \t]*(:{3,})[ \t]*$")
_DOCSIFY = re.compile(r"^([ \t]*)[?!]>[ \t]?")
_CONSOLE = re.compile(r"^([ \t]*)>>>(?: |$)")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def normalize_lines(text: str) -> str:
    """Tabs and ``:::`` containers as admonitions, Docsify markers gone, bare console sessions fenced."""
    lines = text.expandtabs(4).split("\n")
    next_text = [""] * (len(lines) + 1)  # the next non-blank line after each line
    for n in range(len(lines) - 1, -1, -1):
        next_text[n] = lines[n + 1] if n + 1 < len(lines) and lines[n + 1].strip() else next_text[n + 1]
    out: list[str] = []
    bodies: list[int] = []  # body indentation of each open admonition
    colons: list[str] = []  # open ``:::`` containers, by their marker
    fence: str | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        shift = " " * (4 * len(colons))
        if not line.strip():
            # a blank line inside an admonition's body: keep it inside (two blank lines would end it)
            body = bodies[-1] if bodies else 0
            out.append(" " * body if body and _indent(shift + next_text[i]) >= body else "")
            i += 1
            continue
        if fence is not None:
            out.append(shift + line)
            if _fence_closes(line, fence):
                fence = None
            i += 1
            continue
        line = shift + line
        while bodies and _indent(line) < bodies[-1]:
            bodies.pop()
        close = _COLON_CLOSE.match(line) if colons else None
        if close and len(close.group(1)) >= len(colons[-1]):
            colons.pop()
            out.append("")
            i += 1
            continue
        opener = _FENCE_OPEN.match(line)
        if opener:
            fence = opener.group(1)
            out.append(line)
            i += 1
            continue
        if tab := _TAB.match(line):
            line = f'{tab.group(1)}!!! tab "{tab.group(2)}"'
        elif colon := _COLON_OPEN.match(line):
            if len(colons) >= _MAX_NESTING:
                i += 1
                continue
            title = (colon.group(4) or colon.group(5) or "").replace('"', "'")
            kind = colon.group(3).lower()
            line = f'{colon.group(1)}!!! {kind} "{title}"' if title else f"{colon.group(1)}!!! {kind}"
            colons.append(colon.group(2))
            out.append(line)
            bodies.append(_indent(line) + 4)
            i += 1
            while i < len(lines) and re.match(r"^[ \t]*:\w[\w-]*:", lines[i]):  # MyST options (:class: tip)
                i += 1
            continue
        elif docsify := _DOCSIFY.match(line):
            line = docsify.group(1) + line[docsify.end() :]
        elif console := _CONSOLE.match(line):
            lead = console.group(1)
            out.append(f"{lead}```pycon")
            while i < len(lines) and lines[i].strip():
                out.append(lead + (shift + lines[i])[len(lead) :].replace("```", "'''"))
                i += 1
            out.append(f"{lead}```")
            continue
        if _ADMONITION.match(line):
            bodies.append(_indent(line) + 4)
        out.append(line)
        i += 1
    return "\n".join(out)


# --- inline cleaning ------------------------------------------------------------------------------------------

_CODE_SPAN = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)", re.DOTALL)
_ATTRS = r"\{:?(?:[ \t]*(?:[.#][\w-]+|[\w-]+=(?:\"[^\"\n]*\"|'[^'\n]*'|[^\s}]+)))+[ \t]*\}"
_ATTR_LIST = re.compile(r"[ \t]?" + _ATTRS)
_ATTR_ONLY = re.compile(r"^[ \t]*" + _ATTRS + r"[ \t]*$")
_IMAGE = re.compile(
    r"!\[((?:[^\[\]]|\[[^\[\]]*\])*)\](?:\([^()\s]*(?:\([^()]*\)[^()\s]*)*(?:\s+[\"'(][^\n]*?[\"')])?\)|\[[^\]]*\])"
)
_MARK = re.compile(r"(?<![\w=])==(?=[^\s=])(.{1,120}?)(?<=[^\s=])==(?![\w=])")
_KEYS = re.compile(r"(?<![\w+])\+\+([A-Za-z0-9][\w-]*(?:\+[\w-]+)*)\+\+")
_EMOJI = re.compile(r"[ \t]?(?<![\w:/]):(?:[a-z0-9_]+(?:[-+][a-z0-9_]+)*):(?![\w:])")
_FOOTNOTE_REF = re.compile(r"\[\^[^\]\s]+\](?!:)")
_FOOTNOTE_LABEL = re.compile(r"\[\^([^\]\s]+)\](?!:)")
_FOOTNOTE_DEF = re.compile(r"^([ \t]*)\[\^[^\]\s]+\]:[ \t]*")
_DROPPED_ELEMENTS = ("script", "style", "iframe", "object", "embed", "video", "audio", "svg", "noscript", "template")
_DROP_OPEN = re.compile(r"<(" + "|".join(_DROPPED_ELEMENTS) + r")\b[^<>]*>", re.IGNORECASE)
_INLINE_TAGS = [
    "a",
    "abbr",
    "b",
    "bdi",
    "bdo",
    "big",
    "br",
    "center",
    "cite",
    "code",
    "del",
    "dfn",
    "div",
    "em",
    "font",
    "figcaption",
    "figure",
    "hr",
    "i",
    "img",
    "input",
    "ins",
    "kbd",
    "label",
    "mark",
    "p",
    "q",
    "s",
    "samp",
    "small",
    "source",
    "span",
    "strike",
    "strong",
    "sub",
    "summary",
    "sup",
    "details",
    "tt",
    "u",
    "var",
    "button",
    "center",
    "section",
]
_HTML_TAG = re.compile(
    r"</?(?:" + "|".join(_INLINE_TAGS) + r")(?:\s+[\w:.-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>]+))?)*\s*/?>"
    r"|<!--.*?-->",
    re.IGNORECASE | re.DOTALL,
)
_IMG_ALT = re.compile(r"<img\b[^<>]*?\balt\s*=\s*(?:\"([^\"<>]*)\"|'([^'<>]*)')[^<>]*>", re.IGNORECASE)
_KEY_NAMES = {"ctrl": "Ctrl", "alt": "Alt", "shift": "Maj", "enter": "Entrée", "tab": "Tab", "esc": "Échap"}


def _keys(match: re.Match[str]) -> str:
    return "+".join(
        _KEY_NAMES.get(k.lower(), k.upper() if len(k) == 1 else k.capitalize()) for k in match[1].split("+")
    )


def _drop_elements(text: str) -> str:
    """Scripts, styles, frames and media out, with their content (an unclosed one: its tag only)."""
    if "<" not in text:
        return text
    out: list[str] = []
    pos = 0
    unclosed: set[str] = set()  # no closing tag after some point: none after any later point either
    while (match := _DROP_OPEN.search(text, pos)) is not None:
        out.append(text[pos : match.start()])
        name = match.group(1).lower()
        close = None
        if name not in unclosed and not match.group(0).endswith("/>"):
            close = re.compile(rf"</{name}\s*>", re.IGNORECASE).search(text, match.end())
            if close is None:
                unclosed.add(name)
        pos = close.end() if close else match.end()
    out.append(text[pos:])
    return "".join(out)


def _clean_prose(text: str) -> str:
    """Inline extensions out of text that holds no code span."""
    text = _drop_elements(text)
    text = _IMG_ALT.sub(lambda m: m[1] or m[2] or "", text)
    text = _HTML_TAG.sub(lambda m: " " if m[0].lower().startswith("<br") else "", text)
    text = _IMAGE.sub(lambda m: m[1].strip(), text)
    text = _ATTR_LIST.sub("", text)
    text = _MARK.sub(r"\1", text)
    text = _KEYS.sub(_keys, text)
    text = _EMOJI.sub("", text)
    return _FOOTNOTE_REF.sub("", text)


_MAYBE_MARKUP = re.compile(r"[{<]|!\[|==|\+\+|:[a-z0-9_+-]+:|\[\^")


def clean_inline(text: str) -> str:
    """Inline cleaning that leaves code spans alone."""
    if not _MAYBE_MARKUP.search(text):
        return text
    out: list[str] = []
    pos = 0
    for span in _CODE_SPAN.finditer(text):
        out.append(_clean_prose(text[pos : span.start()]))
        out.append(span.group(0))
        pos = span.end()
    out.append(_clean_prose(text[pos:]))
    return "".join(out)


def clean_lines(lines: Sequence[str]) -> list[str]:
    """Lines of a text block cleaned, the lines of a code fence nested in it (a list item's) kept as they are."""
    out: list[str] = []
    fence: str | None = None
    for line in lines:
        if fence is not None:
            out.append(line)
            if _fence_closes(line, fence):
                fence = None
            continue
        opener = _FENCE_OPEN.match(line)
        if opener:
            fence = opener.group(1)
            out.append(_clean_fence_line(line))
            continue
        if _ATTR_ONLY.match(line):
            continue
        cleaned = clean_inline(line)
        if cleaned.strip() or not line.strip():
            out.append(cleaned.rstrip() if cleaned != line else line)
    return out


# --- code fences --------------------------------------------------------------------------------------------

_HIGHLIGHT_OPTION = re.compile(
    r"""\s*\b(?:linenums|hl_lines|title|anchor_linenums|line_spans|linenostart|linespans|lineanchors|"""
    r"""pygments_lang_class|use_pygments|ID|auto_title)\s*=\s*(?:"[^"]*"|'[^']*'|\S+)""",
)


def fence_language(info: str) -> str | None:
    """The language of a fence's info string: ``python``, ``{.python .annotate}``, ``py title="a.py"``."""
    words = info.strip().strip("{}").split()
    if not words:
        return None
    word = words[0].lstrip(".").lower()
    return word if re.fullmatch(r"[\w+#.-]+", word) and "=" not in word else None


def _clean_fence_line(line: str) -> str:
    """A fence's opening line without the highlighter's display options."""
    match = _FENCE_OPEN.match(line)
    if match is None:  # a fence opened on a footnote's or list item's first line
        return line
    info = line[match.end() :].rstrip("\n")
    cleaned = _HIGHLIGHT_OPTION.sub("", info)
    if cleaned.strip().startswith("{"):
        cleaned = " " + (fence_language(cleaned) or "")
    if cleaned == info:
        return line
    return line[: match.end()] + cleaned.strip()


# --- pass 3: structure ----------------------------------------------------------------------------------------

_DEFAULT_TITLES = {
    "note": "Remarque",
    "abstract": "Résumé",
    "summary": "Résumé",
    "tldr": "Résumé",
    "info": "Information",
    "todo": "À faire",
    "tip": "Astuce",
    "hint": "Astuce",
    "important": "Important",
    "success": "Réussite",
    "check": "Réussite",
    "done": "Réussite",
    "question": "Question",
    "help": "Question",
    "faq": "Question",
    "warning": "Attention",
    "caution": "Attention",
    "attention": "Attention",
    "failure": "Échec",
    "fail": "Échec",
    "missing": "Échec",
    "danger": "Danger",
    "error": "Erreur",
    "bug": "Bogue",
    "example": "Exemple",
    "exemple": "Exemple",
    "quote": "Citation",
    "cite": "Citation",
    "details": "Détails",
    "exercice": "Exercice",
    "exercise": "Exercice",
    "correction": "Correction",
    "solution": "Solution",
    "definition": "Définition",
    "def": "Définition",
    "propriete": "Propriété",
    "theoreme": "Théorème",
    "methode": "Méthode",
}
_LABEL_PARAGRAPH = re.compile(r"^\s*(?:\*\*|__)?\s*([^*_\n]{2,60}?)\s*:?\s*(?:\*\*|__)?\s*:?\s*(?:\n|$)")


@dataclass
class _Piece:
    text: str
    kind: BlockKind
    language: str | None
    path: tuple[str, ...]
    lines: tuple[int, int]
    top: bool  # a block of the document's own level, whose source lines are the file's


def _dedent(line: str, indent: int) -> str:
    return line[min(indent, _indent(line)) :]


def _admonition_label(node: SyntaxTreeNode, first_line: str) -> str:
    tag = str(node.meta.get("tag", "")).lower()
    params = first_line.strip().lstrip("!?+").strip()
    quoted = re.search(r'"(.*)"', params) or re.fullmatch(r"\S+\s+'(.*)'", params)
    if quoted:
        title = quoted.group(1)
    else:
        words = params.split(maxsplit=1)
        title = words[1] if len(words) > 1 else _DEFAULT_TITLES.get(tag, tag.capitalize())
    return " ".join(clean_inline(title).replace("**", "").split())


class _Walker:
    def __init__(self, lines: list[str], title: str) -> None:
        self.lines = lines
        self.title = title
        self.pieces: list[_Piece] = []
        self.heading_lines: list[int] = [-1]
        self.heading_paths: list[tuple[str, ...]] = [()]
        self.headings: list[tuple[int, str]] = []
        self.footnotes: dict[str, tuple[str, ...]] = {}  # a footnote's label -> the path where it is first cited

    def path_at(self, line: int, base: tuple[str, ...] | None = None) -> tuple[str, ...]:
        if base is not None:
            return base
        return self.heading_paths[bisect.bisect_right(self.heading_lines, line) - 1]

    def source(self, node_map: Sequence[int], indent: int) -> list[str]:
        return [_dedent(ln, indent) for ln in self.lines[node_map[0] : node_map[1]]]

    def emit(
        self,
        lines: list[str],
        kind: BlockKind,
        language: str | None,
        path: tuple[str, ...],
        node_map: Sequence[int],
        top: bool,
    ) -> None:
        text = "\n".join(lines).rstrip("\n")
        if text.strip():
            self.pieces.append(_Piece(text, kind, language, path, (node_map[0], node_map[1]), top))

    def walk(
        self,
        nodes: Sequence[SyntaxTreeNode],
        indent: int,
        labels: tuple[str, ...],
        depth: int,
        base: tuple[str, ...] | None = None,
    ) -> None:
        local: tuple[str, ...] = ()
        details: list[str] = []
        for node in nodes:
            kind = node.type
            node_map = node.map
            if kind == "heading" and node_map is not None:
                text = " ".join(clean_inline(node.children[0].content if node.children else "").split())
                if depth == 0:
                    level = int(node.tag[1])
                    if level == 1 and not self.title:
                        self.title = text
                    self.headings = [(d, h) for d, h in self.headings if d < level] + [(level, text)]
                    path = tuple(h for d, h in self.headings if d > 1 or h != self.title)
                    self.heading_lines.append(node_map[0])
                    self.heading_paths.append(path)
                    local, details = (), []
                elif text:
                    path = _join(self.path_at(node_map[0], base), labels + local)
                    self.emit([f"**{text}**"], "text", None, path, node_map, False)
                continue
            if node_map is None and kind != "footnote_block":
                continue
            path = _join(self.path_at(node_map[0], base) if node_map else (), labels + local + tuple(details))
            if kind == "admonition" and node_map is not None:
                marker = self.lines[node_map[0]]
                label = _admonition_label(node, marker)
                body = [c for c in node.children if c.type != "admonition_title"]
                inner = labels + local + tuple(details) + ((label,) if label else ())
                self.walk(body, _indent(marker) + 4, inner, depth + 1, base)
            elif kind == "footnote_block":
                for footnote in node.children:
                    where = self.footnotes.get(str(footnote.meta.get("label")))
                    self.walk(footnote.children, indent, labels, depth + 1, where)
            elif kind in ("fence", "code_block") and node_map is not None:
                source = self.source(node_map, indent)
                language = fence_language(node.info) if kind == "fence" else None
                if kind == "fence":
                    source[0] = _clean_fence_line(source[0])
                    opener = _FENCE_OPEN.match(source[0])
                    closing = opener.group(1) if opener else "```"
                    while source and not source[-1].strip():
                        source.pop()
                    if len(source) < 2 or not _fence_closes(source[-1], closing):
                        source.append(" " * _indent(source[0]) + closing)
                self.emit(
                    source,
                    "code",
                    language,
                    path,
                    node_map,
                    depth == 0 and source == self.source(node_map, indent)[: len(source)],
                )
            elif kind == "html_block" and node_map is not None:
                raw = "\n".join(self.source(node_map, indent))
                summary = re.search(r"<summary[^>]*>(.*?)</summary>", raw, re.IGNORECASE | re.DOTALL)
                opens = re.search(r"<details\b", raw, re.IGNORECASE) and not re.search(r"</details>", raw, re.I)
                if opens and len(details) < _MAX_NESTING:
                    details.append(" ".join(clean_inline(summary.group(1)).split()) if summary else "Détails")
                    raw = raw.replace(summary.group(0), "") if summary else raw
                elif re.search(r"</details>", raw, re.IGNORECASE) and details:
                    details.pop()
                self.emit(_html_text(raw), "text", None, path, node_map, False)
            elif kind == "hr":
                continue
            elif node_map is not None:
                source = self.source(node_map, indent)
                for ref in _FOOTNOTE_LABEL.finditer("\n".join(source)):
                    self.footnotes.setdefault(ref.group(1), path)
                if source and _FOOTNOTE_DEF.match(source[0]):
                    source[0] = _FOOTNOTE_DEF.sub(r"\1", source[0])
                if kind == "dl":
                    source = _definition_lines(source)
                cleaned = clean_lines(source)
                if kind == "paragraph" and len(cleaned) == 1 and (key := _answer_label(cleaned[0])):
                    local = (key,)  # "**Correction :**" alone: what follows, up to the next heading, is the key
                    continue
                if kind == "paragraph" and (key := _answer_label(cleaned[0] if cleaned else "", inline=True)):
                    local = (key,)
                    path = _join(self.path_at(node_map[0], base) if node_map else (), labels + local + tuple(details))
                self.emit(cleaned, "text", None, path, node_map, depth == 0 and cleaned == source and kind != "dl")


def _join(path: tuple[str, ...], labels: tuple[str, ...]) -> tuple[str, ...]:
    """A section path and block labels; a label repeating what it follows (``## Définition`` then an admonition
    "Définition") is not repeated."""
    for label in labels:
        if not path or fold(path[-1]) != fold(label):
            path = (*path, label)
    return path


def _answer_label(line: str, inline: bool = False) -> str | None:
    """``**Correction :**`` or ``Réponses :`` (alone) or ``**Corrigé :** …`` (``inline``): an answer key's label.

    A plain ``Solution : …`` sentence is not one: course text says that too ("Pièges fréquents").
    """
    line = line.strip()
    if len(line) > 80 and not inline:
        return None
    line = line[:120]
    if inline:
        match = re.match(r"^\s*(?:\*\*|__)([^*_\n]{2,40}?)\s*:?\s*(?:\*\*|__)\s*:?\s+\S", line)
        label = match.group(1) if match else None
    else:
        match = _LABEL_PARAGRAPH.match(line)
        label = match.group(1) if match and (line.rstrip().endswith((":", "**", "__"))) else None
    if label and is_answer_key_label(label) and len(label.split()) <= 6:
        return " ".join(label.strip(" :").split())
    return None


def _definition_lines(lines: list[str]) -> list[str]:
    """``Terme`` / ``:   définition`` as ``Terme : définition``."""
    out: list[str] = []
    for line in lines:
        match = re.match(r"^:[ \t]+(.*)$", line)
        if match and out and out[-1].strip():
            out[-1] = f"{out[-1].rstrip()} : {match.group(1)}"
        elif match:
            out.append(match.group(1))
        else:
            out.append(_dedent(line, 4) if line.startswith("    ") else line)
    return out


_HTML_BREAK = re.compile(
    r"</?(?:p|div|br|li|ul|ol|dl|dt|dd|tr|table|thead|tbody|h[1-6]|details|summary|section|article|aside|"
    r"blockquote|pre|figure|figcaption|center|hr|header|footer|main|nav)\b[^<>]*>",
    re.IGNORECASE,
)


def _html_text(html: str) -> list[str]:
    """The text of an HTML block, tags gone (block elements end lines), scripts, styles and frames dropped."""
    from bs4 import BeautifulSoup

    html = _IMG_ALT.sub(lambda m: " " + (m[1] or m[2] or "") + " ", _drop_elements(html))
    text = BeautifulSoup(_HTML_BREAK.sub("\n", html), "html.parser").get_text("")
    return [clean_inline(" ".join(line.split())) for line in text.split("\n") if line.strip()]


def _markdown_it() -> MarkdownIt:
    return MarkdownIt("commonmark").enable("table").use(admon_plugin).use(deflist_plugin).use(footnote_plugin)


def parse_markdown(text: str, fallback_title: str) -> ParsedDocument:
    """Headings and block labels become the section path, code stays whole, YAML front matter becomes metadata."""
    text = text.replace("\r\n", "\n")
    try:
        meta, body, body_offset = split_front_matter(text)
    except Exception as exc:
        raise ParseError(f"L'en-tête YAML du fichier Markdown est invalide : {exc}") from exc
    prepared = normalize_lines(expand_macros(body))
    unchanged = prepared == body
    tree = SyntaxTreeNode(_markdown_it().parse(prepared))
    lines = prepared.split("\n")
    walker = _Walker(lines, str(meta.get("title") or ""))
    walker.walk(tree.children, 0, (), 0)

    line_starts = [0]
    for match in re.finditer("\n", prepared):
        line_starts.append(match.end())
    line_starts.append(len(prepared))
    # The text: the file's own text around and between blocks that needed no cleaning, so that clean Markdown is
    # its own text, offsets included; a blank line elsewhere.
    parts: list[str] = [text[:body_offset] if unchanged else ""]
    length = len(parts[0])
    blocks: list[Block] = []
    previous: _Piece | None = None
    for piece in walker.pieces:
        if previous is None:
            gap = prepared[: line_starts[piece.lines[0]]] if unchanged and piece.top else ""
        elif unchanged and piece.top and previous.top:
            gap = prepared[len(previous.text) + line_starts[previous.lines[0]] : line_starts[piece.lines[0]]]
            if not gap.strip("\n"):
                gap = gap or "\n\n"
            elif not all(not ln.strip() or ln.lstrip().startswith("#") for ln in gap.split("\n")):
                gap = "\n\n"
        else:
            gap = "\n\n"
        parts.append(gap)
        length += len(gap)
        blocks.append(Block(length, length + len(piece.text), piece.path, piece.kind, None, piece.language))
        parts.append(piece.text)
        length += len(piece.text)
        previous = piece
    if unchanged and previous is not None:
        parts.append(prepared[line_starts[previous.lines[0]] + len(previous.text) :])
    title = walker.title or fallback_title
    return ParsedDocument("".join(parts), title, blocks, meta)
