"""Passages as clean Markdown a student can read: markup syntax gone, code whole, sentences whole.

A retrieved passage is a slice of whatever a teacher wrote (MkDocs Material, Docsify, mkdocs-macros, HTML), cut
by the chunker anywhere a budget ran out. :func:`blocks` turns it into typed blocks — paragraphs of whole
sentences, whole lists, balanced code blocks with their language (console sessions included), small tables,
labels — and drops what cannot be shown as it is: admonition and tab markers, attribute lists, macros, HTML
tags, image paths, a code block or a table the cut left half of, a sentence the cut left unfinished.
:func:`to_markdown` writes blocks back. Deterministic and pure (regular expressions, no model).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from knowledge.text import fold

BlockKind = Literal["text", "list", "code", "table", "label"]


@dataclass(frozen=True)
class Block:
    """One block of an answer, already clean Markdown (``text`` of a code block is its body, no fences)."""

    kind: BlockKind
    text: str
    lang: str = ""

    def markdown(self) -> str:
        if self.kind == "code":
            return f"```{self.lang}\n{self.text}\n```"
        if self.kind == "label":
            return f"**{self.text}**"
        return self.text

    @property
    def is_code(self) -> bool:
        return self.kind == "code"


def to_markdown(blocks: Iterable[Block]) -> str:
    return "\n\n".join(b.markdown() for b in blocks)


# ----------------------------------------------------------------------------------------------- line patterns

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<mark>`{3,}|~{3,})\s*(?P<info>[^`]*)$")
_ADMONITION = re.compile(r"^\s*(?:!!!|\?\?\?\+?)\s*(?P<type>[\w-]+)?(?P<rest>.*)$")
_TAB = re.compile(r"^\s*===\+?\s*(?P<title>.*)$")
_COLON_FENCE = re.compile(r"^\s*:{3,}\s*(?P<rest>.*)$")
_DOCSIFY = re.compile(r"^(\s*)[?!]>\s?")
_LIST_ITEM = re.compile(r"^(?P<indent>\s*)(?P<bullet>[-*+]|\d{1,3}[.)])\s+(?P<body>.*)$")
_TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(?P<title>.*?)\s*#*\s*$")
_RULE = re.compile(r"^\s*([-*_])(\s*\1){2,}\s*$")
_DEFINITION_LINE = re.compile(r"^:\s{1,4}(?P<body>\S.*)$")
_FOOTNOTE_DEF = re.compile(r"^\s*\[\^[^\]]+\]:")
_CONSOLE = re.compile(r"^\s*>>>(\s|$)")
_QUOTE = re.compile(r"^\s*>\s?(?!>>)")

# ------------------------------------------------------------------------------------------- inline patterns

_MACRO = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
_MACRO_OPEN = re.compile(r"\{\{|\{%|\{#(?!\w)")
_MACRO_CLOSE = re.compile(r"\}\}|%\}|#\}")
_HTML_COMMENT = re.compile(r"<!--.*?(-->|$)", re.DOTALL)
_HTML_DROP = re.compile(r"<(script|style|iframe|svg|video|audio|object)\b.*?(</\1\s*>|$)", re.DOTALL | re.IGNORECASE)
_HTML_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_HTML_TAG = re.compile(r"</?[A-Za-z][\w:-]*(\s+[^<>]*)?/?>")
_IMAGE = re.compile(r"!\[(?P<alt>[^\]]*)\]\((?P<path>[^)]*)\)")
_LINK = re.compile(r"(?<!!)\[(?P<text>[^\]\[]+)\]\((?P<url>[^)\s]*)(?:\s+\"[^\"]*\")?\)")
_REF_LINK = re.compile(r"\[(?P<text>[^\]\[]+)\]\[[^\]]*\]")
_ATTR_LIST = re.compile(r"\{\s*[:.#][^{}\n]*\}|\{\s*[\w-]+=[^{}\n]*\}")
_FOOTNOTE_REF = re.compile(r"\[\^[^\]]+\]")
_MARK = re.compile(r"==(?=\S)(?P<text>[^=\n]+?)(?<=\S)==")
_KEYS = re.compile(r"\+\+(?P<keys>[\w+-]+?)\+\+")
_EMOJI = re.compile(r"(?<![\w:/]):[a-z][a-z0-9_+-]*:(?![\w:/])")
_CRITIC = re.compile(r"\{(\+\+|--|~~|==|>>)(?P<text>.*?)(\+\+|--|~~|==|<<)\}")
_CITATION_LIKE = re.compile(r"\[\d{1,3}(?:\s*[,;]\s*\d{1,3})*\]")
_PROSE_BRACKETS = re.compile(r"(?<![\w)\]`])\[\d{1,3}(?:\s*[,;]\s*\d{1,3})*\]")
_SPACES = re.compile(r"[ \t]+")

# A sentence ends with one of these (then maybe closing quotes, brackets or emphasis).
_END = re.compile(r"[.!?…:;]\s*[»”\")\]*_]*\s*$")
_SENTENCE = re.compile(r"(?<=[.!?…])[»”\")*_]*\s+(?=[A-ZÀÂÄÉÈÊËÎÏÔÖÛÜÇ«\"(`*_\d])")
# Words after which a French sentence cannot stop: an unfinished line ends with one.
_FUNCTION_WORDS = frozenset(
    [
        "a",
        "à",
        "au",
        "aux",
        "avec",
        "car",
        "ce",
        "ces",
        "cet",
        "cette",
        "d",
        "dans",
        "de",
        "des",
        "du",
        "en",
        "entre",
        "et",
        "l",
        "la",
        "le",
        "les",
        "leur",
        "leurs",
        "ma",
        "mais",
        "mes",
        "mon",
        "ni",
        "notre",
        "nos",
        "ou",
        "où",
        "par",
        "pour",
        "qu",
        "que",
        "qui",
        "sa",
        "sans",
        "se",
        "ses",
        "si",
        "son",
        "sous",
        "sur",
        "ta",
        "tes",
        "ton",
        "un",
        "une",
        "vers",
        "est",
        "sont",
    ]
)
_LANG_ALIASES = {"py": "python", "python3": "python", "py3": "python", "pycon": "python", "sh": "bash", "shell": "bash"}
_DROP_LANGS = {"mermaid", "dot", "graphviz", "plantuml", "math", "latex"}
_GENERIC_LABELS = {"note", "info", "tip", "abstract", "summary", "example", "warning", "danger", "success"}
MAX_TABLE_ROWS = 14
MAX_LABEL_WORDS = 12


def clean_inline(text: str) -> str:
    """A line of prose without markup syntax: macros, HTML tags, image paths, attribute lists, shortcodes go."""
    text = _HTML_BREAK.sub(" ", text)
    text = _HTML_TAG.sub("", text)
    text = _IMAGE.sub(lambda m: _alt(m.group("alt")), text)
    text = _LINK.sub(_link, text)
    text = _REF_LINK.sub(lambda m: m.group("text"), text)
    text = _ATTR_LIST.sub("", text)
    text = _FOOTNOTE_REF.sub("", text)
    text = _CRITIC.sub(lambda m: m.group("text"), text)
    text = _MARK.sub(lambda m: m.group("text"), text)
    text = _KEYS.sub(lambda m: "+".join(k.capitalize() for k in m.group("keys").split("+") if k), text)
    text = _EMOJI.sub("", text)
    text = _PROSE_BRACKETS.sub(lambda m: f"`{m.group(0)}`", text)  # "[1, 2]" in prose is a list, not a citation
    text = html.unescape(text).replace("\u00a0", " ")
    return _SPACES.sub(" ", text).strip()


def _alt(alt: str) -> str:
    alt = alt.strip()
    return "" if not alt or fold(alt) in ("image", "img", "figure", "illustration", "capture") else alt


def _link(match: re.Match[str]) -> str:
    text, url = match.group("text"), match.group("url")
    if _CITATION_LIKE.fullmatch(f"[{text}]"):  # "[1](…)" would read as a citation
        return ""
    return f"[{text}]({url})" if url.startswith(("http://", "https://")) else text


def _drop_macros(text: str) -> str:
    """Macros and HTML comments go whole; one the cut left open runs to the end, one left closed from the start."""
    text = _HTML_COMMENT.sub("", text)
    text = _HTML_DROP.sub("", text)
    text = _MACRO.sub("", text)
    text = _ATTR_LIST.sub("", text)  # before looking for lone closers: "{: width=40%}" ends like "{% … %}"
    opened = _MACRO_OPEN.search(text)
    if opened:
        text = text[: opened.start()]
    closers = list(_MACRO_CLOSE.finditer(text))
    if closers:
        text = text[closers[-1].end() :]
    return text


# ------------------------------------------------------------------------------------------------------ parser


@dataclass
class _Segment:
    kind: Literal["text", "code"]
    lines: list[str]
    lang: str = ""
    closed: bool = True


def _language(info: str) -> str:
    word = re.split(r"[\s{}]+", info.strip().lstrip("{").lstrip("."), maxsplit=1)[0] if info.strip() else ""
    word = re.sub(r"[^\w+#-]", "", word.strip(".{}").lower())
    return _LANG_ALIASES.get(word, word)


def _opens(line: str) -> re.Match[str] | None:
    match = _FENCE.match(line)
    if match and match.group("mark")[0] == "`" and "`" in match.group("info"):
        return None  # "```a``` b" is inline code, not a fence
    return match


def _segments(text: str) -> list[_Segment]:
    """Code fences and the text between them; a fence the cut left open is ``closed=False``."""
    lines = text.split("\n")
    fences = [(i, m) for i, m in enumerate(_opens(line) for line in lines) if m]
    if fences and not fences[0][1].group("info").strip():
        # A first fence without a language closes a code block the passage began inside of when the lines
        # before it look like code, or when the next fence has a language (an opener cannot follow an opener).
        first = fences[0][0]
        if _looks_like_code(lines[:first]) or (len(fences) > 1 and fences[1][1].group("info").strip()):
            lines = lines[first + 1 :]  # that tail of a code block is not shown
    out: list[_Segment] = []
    current = _Segment("text", [])
    opener: re.Match[str] | None = None
    for line in lines:
        match = _opens(line)
        if opener is None:
            if match:
                out.append(current)
                opener = match
                current = _Segment("code", [], _language(match.group("info")))
            else:
                current.lines.append(line)
            continue
        mark = opener.group("mark")
        closing = match and match.group("mark")[0] == mark[0] and len(match.group("mark")) >= len(mark)
        if closing and match is not None and not match.group("info").strip():
            out.append(current)
            opener = None
            current = _Segment("text", [])
            continue
        indent = len(opener.group("indent"))
        current.lines.append(line[indent:] if not line[:indent].strip() else line.lstrip())
    current.closed = opener is None
    out.append(current)
    return [s for s in out if s.kind == "code" or any(x.strip() for x in s.lines)]


def _looks_like_code(lines: Sequence[str]) -> bool:
    body = [x for x in lines if x.strip()]
    if not body:
        return False
    codeish = sum(
        bool(re.match(r"^\s{2,}\S|^\s*(def|class|return|for|while|if|else|elif|import|from|print)\b|.*[=(){}\[\]]$", x))
        for x in body
    )
    return codeish / len(body) >= 0.6 and not re.search(r"[.!?…]\W*$", body[-1].rstrip())


def _dedent(lines: Sequence[str]) -> list[str]:
    indents = [len(x) - len(x.lstrip()) for x in lines if x.strip()]
    cut = min(indents) if indents else 0
    return [x[cut:] for x in lines]


def blocks(text: str) -> list[Block]:
    """Clean blocks of a passage, in reading order (see the module docstring)."""
    out: list[Block] = []
    for seg in _segments(text.replace("\r\n", "\n").replace("\t", "    ")):
        if seg.kind == "code":
            code = "\n".join(_dedent(seg.lines)).strip("\n")
            if not code.strip() or not seg.closed or seg.lang in _DROP_LANGS:
                continue  # half a code block is not shown: it would not run and would not read
            lang = seg.lang or ("python" if _CONSOLE.match(code) or _looks_pythonic(code) else "")
            out.append(Block("code", code, lang))
        else:
            out += _text_blocks("\n".join(seg.lines))
    return tidy(out)


def _looks_pythonic(code: str) -> bool:
    return bool(re.search(r"^\s*(def |class |for |while |if |import |from |print\(|return\b)|^\s*\w+\s*=", code, re.M))


# Inline code spans are masked while the markup around them is cleaned: "la balise `<p>`" keeps its tag.
_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)")
_MASKED = re.compile("\ue000(\\d+)\ue001")


def _mask(text: str, spans: list[str]) -> str:
    def keep(match: re.Match[str]) -> str:
        spans.append(match.group(0))
        return f"\ue000{len(spans) - 1}\ue001"

    return _SPAN.sub(keep, text)


def _unmask(block: Block, spans: Sequence[str]) -> Block:
    return replace(block, text=_MASKED.sub(lambda m: spans[int(m.group(1))], block.text))


def _text_blocks(text: str) -> list[Block]:
    spans: list[str] = []
    text = _drop_macros(_mask(text, spans))
    out: list[Block] = []
    para: list[str] = []
    items: list[str] = []
    table: list[str] = []
    console: list[str] = []
    heads: tuple[int, Block] | None = None

    def flush() -> None:
        if para:
            out.extend(_paragraph(" ".join(para)))
        if items:
            out.extend(_list(items))
        if table:
            out.extend(_table(table))
        if console:
            out.append(Block("code", "\n".join(_dedent(console)).strip("\n"), "python"))
        for part in (para, items, table, console):
            part.clear()

    for raw in text.split("\n"):
        line = _DOCSIFY.sub(r"\1", raw)
        if not _CONSOLE.match(line):
            line = _QUOTE.sub("", line)
        stripped = line.strip()
        if console and stripped and not _LIST_ITEM.match(line) and not _HEADING.match(line):
            console.append(line)  # the output of the line above, or its continuation
            continue
        if not stripped or _RULE.match(line) or _FOOTNOTE_DEF.match(line):
            flush()
            continue
        if heads is not None:  # an admonition's or a tab's title heads its indented body, nothing else
            if len(line) - len(line.lstrip()) <= heads[0] and out and out[-1] is heads[1]:
                out.pop()
            heads = None
        if _CONSOLE.match(line):
            flush()
            console.append(line)
            continue
        if stripped.count(">>>") >= 2:  # a console session flattened into one line
            flush()
            parts = stripped.split(">>>")
            if re.fullmatch(r"\w*", parts[0].strip()):  # "python >>> a = b": the language, not a line
                parts = parts[1:]
            console += [">>> " + part.strip() for part in parts if part.strip()]
            continue
        if _IMAGE.search(stripped) and not _IMAGE.sub("", _ATTR_LIST.sub("", stripped)).strip():
            continue  # an image alone on its line: nothing to read
        label = _marker_label(line)
        if label is not None:
            flush()
            if label and fold(label) not in _GENERIC_LABELS:
                out.append(Block("label", label))
                if not _HEADING.match(line):
                    heads = (len(line) - len(line.lstrip()), out[-1])
            continue
        definition = _DEFINITION_LINE.match(line)
        if definition and para:  # "Terme" then ":   sa définition"
            term = clean_inline(" ".join(para))
            para[:] = [f"**{term}** : {definition.group('body')}"]
            continue
        if _TABLE_ROW.match(line) or (table and _TABLE_RULE.match(line)):
            if not table:
                flush()
            table.append(stripped)
            continue
        if table:
            flush()
        if _LIST_ITEM.match(line):
            if para:
                flush()
            items.append(line)
            continue
        if items:
            items[-1] = f"{items[-1]} {stripped}"  # continuation of the item (indented or lazy)
            continue
        para.append(stripped)
    flush()
    return [_unmask(b, spans) for b in out]


def _marker_label(line: str) -> str | None:
    """The title of an admonition, tab, ``:::`` block or heading line ("" without one); None for other lines."""
    title: str | None = None
    if match := _ADMONITION.match(line):
        quoted = re.match(r'^\s*"(?P<t>[^"]*)"', match.group("rest"))
        title = quoted.group("t") if quoted else ""
    elif match := _TAB.match(line):
        title = match.group("title").strip().strip('"')
    elif match := _COLON_FENCE.match(line):
        title = re.sub(r"^[\w-]+\s*", "", match.group("rest").strip())
    elif match := _HEADING.match(line):
        title = match.group("title")
    if title is None:
        return None
    return clean_inline(title).strip(" :*_")


def _paragraph(text: str) -> list[Block]:
    """Whole sentences of a paragraph; a short line without a final stop is a label."""
    text = clean_inline(text)
    if not re.search(r"\w", text):
        return []
    sentences = [s for s in split_sentences(text) if not _instruction(s)]
    if len(sentences) == 1 and not _END.search(text) and _short_label(text):
        return [Block("label", text.strip("*_ ").rstrip(" :"))]
    if sentences and _starts_cut(sentences[0]):
        sentences = sentences[1:]
    while sentences and not _END.search(sentences[-1]):
        sentences = sentences[:-1]
    return [Block("text", " ".join(sentences))] if sentences else []


def _short_label(text: str) -> bool:
    found = re.findall(r"\w+", text)
    return 0 < len(found) <= MAX_LABEL_WORDS and fold(found[-1]) not in _FUNCTION_WORDS and not _starts_cut(text)


def _starts_cut(sentence: str) -> bool:
    """A sentence the cut began in the middle of starts with a lowercase word (a lone letter is a variable)."""
    head = sentence.lstrip('*_«"( ')
    if not head or not head[0].isalpha() or not head[0].islower():
        return False
    return not re.match(r"[b-xz]\b", head)


def _instruction(sentence: str) -> bool:
    from tutor.guardrails import INJECTION

    return bool(INJECTION.search(fold(sentence)))


def split_sentences(text: str) -> list[str]:
    """Sentences of a paragraph: a stop, then a capital, a digit, a quote or code."""
    out: list[str] = []
    start = 0
    for match in _SENTENCE.finditer(text):
        out.append(text[start : match.start() + len(match.group(0).rstrip())].strip())
        start = match.end()
    out.append(text[start:].strip())
    return [s for s in out if s]


def _list(items: Sequence[str]) -> list[Block]:
    matches = [m for m in (_LIST_ITEM.match(x) for x in items) if m]
    base = min(len(m.group("indent")) for m in matches)
    lines: list[str] = []
    for match in matches:
        body = clean_inline(match.group("body"))
        if not re.search(r"\w", body) or _instruction(body):
            continue
        bullet = match.group("bullet") if match.group("bullet")[0].isdigit() else "-"
        nested = "   " if len(match.group("indent")) > base and lines else ""
        lines.append(f"{nested}{bullet} {body}")
    return [Block("list", "\n".join(lines))] if lines else []


def _table(rows: Sequence[str]) -> list[Block]:
    """A table is shown whole or not at all: a header, its rule, rows of the same width, not too many."""
    if len(rows) < 3 or not _TABLE_RULE.match(rows[1]) or len(rows) - 2 > MAX_TABLE_ROWS:
        return []
    width = len(_split_row(rows[0]))
    if any(len(_split_row(r)) != width for r in rows):
        return []
    body = ["| " + " | ".join(clean_inline(c) for c in _split_row(r)) + " |" for r in rows]
    body[1] = "|" + "---|" * width
    return [Block("table", "\n".join(body))]


def _split_row(row: str) -> list[str]:
    inner = row.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") else inner
    return re.split(r"(?<!\\)\|", inner)


def tidy(out: Sequence[Block]) -> list[Block]:
    """Labels that head nothing go (the first of two in a row, a last one); an intro ending with ':' keeps it only
    when a list, table or code block follows it."""
    kept: list[Block] = []
    for i, block in enumerate(out):
        nxt = out[i + 1] if i + 1 < len(out) else None
        if block.kind == "label" and (nxt is None or nxt.kind == "label"):
            continue
        if block.kind == "text" and introduces(block) and (nxt is None or nxt.kind not in ("list", "table", "code")):
            trimmed = drop_last_sentence(block)
            if trimmed is None:
                continue
            block = trimmed
        kept.append(block)
    return kept


def introduces(block: Block) -> bool:
    return block.kind == "text" and block.text.rstrip("*_ ").endswith(":")


def drop_last_sentence(block: Block) -> Block | None:
    """The paragraph without its last sentence (an intro whose list is gone), or None when nothing remains."""
    sentences = split_sentences(block.text)[:-1]
    while sentences and sentences[-1].rstrip("*_ ").endswith(":"):
        sentences = sentences[:-1]
    return replace(block, text=" ".join(sentences)) if sentences else None


def count_words(block: Block) -> int:
    return len(block.text.split())
