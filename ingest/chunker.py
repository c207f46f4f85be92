"""Structure-aware chunking: sections first, then paragraphs and sentences up to a token budget, with overlap.

Why not llama-index's node parsers: their splitters re-join text, so chunks lose exact character offsets into
the source, and their Markdown parser may cut inside fenced code. Offsets are what citations point at.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from itertools import groupby

from ingest.parsers import Block, ParsedDocument

_SENTENCE_END = re.compile(r"(?<=[.!?…:;])\s+|\n+")


@dataclass(frozen=True)
class Chunk:
    """A span of the parsed text: ``text == document.text[start:end]``."""

    index: int
    text: str
    start: int
    end: int
    section_path: tuple[str, ...]
    page: int | None
    tokens: int


@dataclass(frozen=True)
class _Unit:
    start: int
    end: int
    tokens: int
    first_of_block: bool


class Chunker:
    """Cut a parsed document into chunks that fit the embedding model.

    Args:
        count_tokens: the embedding model's own token counter (special tokens included).
        max_tokens: budget per chunk, counted on the chunk text.
        overlap_tokens: how much of the previous chunk's end a following chunk of the same section repeats.

    Example:
        >>> chunker = Chunker(lambda s: len(s.split()) + 2, max_tokens=64, overlap_tokens=8)
        >>> [c.section_path for c in chunker.chunk(parse_markdown("# T\\n\\n## Cours\\n\\nUne pile.", "t"))]
        [('Cours',)]
    """

    def __init__(self, count_tokens: Callable[[str], int], max_tokens: int = 300, overlap_tokens: int = 40) -> None:
        if max_tokens < 16:
            raise ValueError(f"max_tokens must be >= 16. Currently, max_tokens is {max_tokens}")
        if not 0 <= overlap_tokens < max_tokens // 2:
            raise ValueError(f"overlap_tokens must be in [0, max_tokens/2). Currently, it is {overlap_tokens}")
        self._count = count_tokens
        self.max_tokens = max_tokens
        self.overlap_tokens = overlap_tokens
        self._specials = count_tokens("")
        # Characters per chunk, whatever the tokenizer says: a WordPiece tokenizer counts a 1 MB "word" as one
        # unknown token, and such a chunk would cost the sparse encoder minutes. Real text is ~4 characters a token.
        self.max_chars = 16 * max_tokens

    def _fits(self, text: str, start: int, end: int, budget: int) -> bool:
        return end - start <= self.max_chars and self._tokens(text[start:end]) <= budget

    def _tokens(self, text: str) -> int:
        return max(0, self._count(text) - self._specials)

    def chunk(self, doc: ParsedDocument) -> list[Chunk]:
        chunks: list[Chunk] = []
        for (path, page), group in groupby(doc.blocks, key=lambda b: (b.section_path, b.page)):
            units: list[_Unit] = []
            for block in group:
                units += self._units(doc.text, block)
            for start, end in self._pack(doc.text, units):
                text = doc.text[start:end]
                chunks.append(Chunk(len(chunks), text, start, end, path, page, self._count(text)))
        return chunks

    def _units(self, text: str, block: Block) -> list[_Unit]:
        """A block whole when it fits; else its sentences (lines, for code), each cut to the budget."""
        body = self.max_tokens - self._specials
        short = block.end - block.start <= self.max_chars
        tokens = self._tokens(text[block.start : block.end]) if short else body + 1
        if tokens <= body:
            return [_Unit(block.start, block.end, tokens, True)]
        pattern = re.compile(r"\n") if block.kind == "code" else _SENTENCE_END
        pieces: list[tuple[int, int]] = []
        cursor = block.start
        for match in pattern.finditer(text, block.start, block.end):
            pieces.append((cursor, match.start()))
            cursor = match.end()
        pieces.append((cursor, block.end))
        units: list[_Unit] = []
        for start, end in pieces:
            if end <= start or not text[start:end].strip():
                continue
            for s, e in self._fit(text, start, end, body):
                units.append(_Unit(s, e, self._tokens(text[s:e]), not units))
        return units

    def _fit(self, text: str, start: int, end: int, budget: int) -> list[tuple[int, int]]:
        """Cut an over-long sentence at word boundaries (characters as a last resort) to fit the budget."""
        if self._fits(text, start, end, budget):
            return [(start, end)]
        spans = []
        words = [(m.start(), m.end()) for m in re.finditer(r"\S+", text[start:end])]
        cur = None
        for ws, we in words:
            ws, we = ws + start, we + start
            if cur is None:
                cur = (ws, we)
            elif self._fits(text, cur[0], we, budget):
                cur = (cur[0], we)
            else:
                spans.append(cur)
                cur = (ws, we)
            # A single "word" over budget is cut in halves; only max_chars of it are ever counted, so a 200,000
            # character word costs linear time (counting the whole rest for each piece was quadratic).
            while not self._fits(text, cur[0], cur[1], budget):
                cut = cur[0] + min(self.max_chars, cur[1] - cur[0])
                while cut - cur[0] > 1 and not self._fits(text, cur[0], cut, budget):
                    cut = cur[0] + (cut - cur[0]) // 2
                if cut >= cur[1]:
                    break
                spans.append((cur[0], cut))
                cur = (cut, cur[1])
        if cur is not None:
            spans.append(cur)
        return spans

    def _pack(self, text: str, units: list[_Unit]) -> list[tuple[int, int]]:
        """Greedy packing; breaks preferably at a block boundary once a chunk is well filled."""
        spans: list[tuple[int, int]] = []
        current: list[_Unit] = []
        for unit in units:
            if current:
                candidate = (current[0].start, unit.end)
                fits = (
                    candidate[1] - candidate[0] <= self.max_chars
                    and self._count(text[candidate[0] : candidate[1]]) <= self.max_tokens
                )
                used = sum(u.tokens for u in current)
                prefer_break = unit.first_of_block and used >= 0.6 * self.max_tokens
                if not fits or prefer_break:
                    spans.append((current[0].start, current[-1].end))
                    current = self._overlap(text, current, unit)
            current.append(unit)
        if current:
            spans.append((current[0].start, current[-1].end))
        return spans

    def _overlap(self, text: str, previous: list[_Unit], nxt: _Unit) -> list[_Unit]:
        """The trailing sentences of the previous chunk that fit the overlap and the budget with the next unit."""
        if nxt.first_of_block:  # a new paragraph or block starts cleanly: no overlap needed
            return []
        kept: list[_Unit] = []
        total = 0
        for unit in reversed(previous):
            total += unit.tokens
            if total > self.overlap_tokens or nxt.end - unit.start > self.max_chars:
                break
            if self._count(text[unit.start : nxt.end]) > self.max_tokens:
                break
            kept.insert(0, unit)
        return kept
