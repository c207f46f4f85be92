"""Inputs that cost quadratic time before: the work done must grow linearly with the input (counted, not timed)."""

from __future__ import annotations

import re
from typing import Any

from evals.nasty_files import nested_html
from ingest.chunker import Chunker
from ingest.parsers import Block, ParsedDocument, parse_html

TOKEN = re.compile(r"\w+|[^\w\s]")  # a tokenizer whose cost, like a real one, is linear in what it reads


def characters_tokenized(size: int) -> tuple[int, list[Any]]:
    counted = [0]

    def count(text: str) -> int:
        counted[0] += len(text)
        return len(TOKEN.findall(text)) + 2

    word = "x=1;" * (size // 4)  # one "word" of many tokens: no space, no sentence end
    chunks = Chunker(count, max_tokens=300, overlap_tokens=40).chunk(ParsedDocument(word, "t", [Block(0, size, ())]))
    return counted[0], chunks


def test_the_chunker_is_linear_on_one_long_word() -> None:
    small, _ = characters_tokenized(25_000)
    large, chunks = characters_tokenized(100_000)
    # before: 257 then 1,012 characters tokenized per input character at 50k and 200k (quadratic)
    assert large / small < 4.5
    assert large < 100 * 100_000
    assert (chunks[0].start, chunks[-1].end) == (0, 100_000)
    assert all(b.start <= a.end for a, b in zip(chunks, chunks[1:], strict=False))  # nothing lost between chunks
    assert max(len(c.text) for c in chunks) <= 16 * 300


def test_a_one_word_megabyte_is_cut_into_bounded_chunks() -> None:
    """A WordPiece tokenizer counts a 1 MB word as one unknown token: the chunk length is capped in characters."""
    text = "a" * 1_000_000
    chunker = Chunker(lambda s: len(s.split()) + 2, max_tokens=300, overlap_tokens=40)
    chunks = chunker.chunk(ParsedDocument(text, "t", [Block(0, len(text), ())]))
    assert max(len(c.text) for c in chunks) <= chunker.max_chars
    assert sum(len(c.text) for c in chunks) < 2 * len(text)  # overlap stays small


def test_deeply_nested_html_keeps_its_text_and_reads_few_blocks() -> None:
    for tag in ("div", "li", "p", "blockquote"):
        doc = parse_html(nested_html(4000, tag).decode(), "t")
        assert "Une pile est une structure LIFO." in doc.text, tag
        assert len(doc.blocks) <= 33, tag  # was 4,001 copies of the same text for nested <p>
