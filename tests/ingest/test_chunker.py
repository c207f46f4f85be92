"""Property-based tests of the chunker: nothing lost, exact offsets, budgets respected, code kept whole."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.chunker import Chunker
from ingest.parsers import parse_markdown, parse_text


def word_tokens(text: str) -> int:
    return len(re.findall(r"\w+|[^\w\s]", text)) + 2  # like a real tokenizer: words, punctuation, 2 specials


words = st.text(alphabet="abcdefghijklmnopqrstuvwxyzéèàç", min_size=1, max_size=12)
sentences = st.lists(words, min_size=1, max_size=40).map(lambda ws: " ".join(ws) + ".")
paragraphs = st.lists(sentences, min_size=1, max_size=8).map(" ".join)
code = st.lists(words, min_size=1, max_size=30).map(
    lambda ws: "```python\n" + "\n".join(f"x = '{w}'" for w in ws) + "\n```"
)
sections = st.tuples(
    st.sampled_from(["## Cours", "### Définition", "## Exercices", "#### Détail"]),
    st.lists(st.one_of(paragraphs, code), min_size=1, max_size=5),
)
documents = st.lists(sections, min_size=1, max_size=6).map(
    lambda secs: "# Titre\n\n" + "\n\n".join(h + "\n\n" + "\n\n".join(blocks) for h, blocks in secs) + "\n"
)


def covered(text: str, spans: list[tuple[int, int]]) -> set[int]:
    return {i for s, e in spans for i in range(s, e)}


@settings(max_examples=150, deadline=None)
@given(documents, st.integers(min_value=24, max_value=200))
def test_markdown_chunks_lose_nothing_and_fit(md: str, budget: int) -> None:
    doc = parse_markdown(md, "t")
    chunks = Chunker(word_tokens, max_tokens=budget, overlap_tokens=budget // 4).chunk(doc)
    for c in chunks:
        assert c.text == doc.text[c.start : c.end]  # offsets map back to the source
        assert c.tokens == word_tokens(c.text) <= budget  # budget counted on the chunk itself
    in_chunks = covered(doc.text, [(c.start, c.end) for c in chunks])
    for block in doc.blocks:  # every non-space character of every block is in some chunk
        assert all(i in in_chunks for i in range(block.start, block.end) if not doc.text[i].isspace())
    assert [c.index for c in chunks] == list(range(len(chunks)))


@settings(max_examples=100, deadline=None)
@given(documents)
def test_code_blocks_that_fit_are_never_cut(md: str) -> None:
    doc = parse_markdown(md, "t")
    budget = 400
    chunks = Chunker(word_tokens, max_tokens=budget, overlap_tokens=40).chunk(doc)
    for block in doc.blocks:
        if block.kind == "code" and word_tokens(doc.text[block.start : block.end]) <= budget:
            assert any(c.start <= block.start and block.end <= c.end for c in chunks)


@settings(max_examples=100, deadline=None)
@given(st.lists(paragraphs, min_size=1, max_size=6).map("\n\n".join))
def test_plain_text_chunks_keep_sections_and_offsets(text: str) -> None:
    doc = parse_text(text, "t")
    chunks = Chunker(word_tokens, max_tokens=48, overlap_tokens=8).chunk(doc)
    assert all(c.text == text[c.start : c.end] and c.tokens <= 48 for c in chunks)
    assert covered(text, [(c.start, c.end) for c in chunks]) >= {i for i, ch in enumerate(text) if not ch.isspace()}


def test_overlap_repeats_the_end_of_the_previous_chunk_within_a_paragraph() -> None:
    para = " ".join(f"Phrase numéro {i} du paragraphe." for i in range(40))
    doc = parse_markdown(f"# T\n\n## Cours\n\n{para}\n", "t")
    chunks = Chunker(word_tokens, max_tokens=60, overlap_tokens=14).chunk(doc)
    assert len(chunks) > 2
    assert all(b.start < a.end for a, b in zip(chunks, chunks[1:], strict=False))  # consecutive chunks overlap


def test_a_code_block_alone_over_budget_is_cut_at_lines() -> None:
    body = "\n".join(f"valeur_{i} = {i} * 2" for i in range(200))
    doc = parse_markdown(f"# T\n\n```python\n{body}\n```\n", "t")
    chunks = Chunker(word_tokens, max_tokens=64, overlap_tokens=0).chunk(doc)
    assert len(chunks) > 1
    assert all(c.text.endswith(("2", "```")) for c in chunks)  # every cut falls at the end of a line


def test_invalid_budgets_are_rejected_with_the_value() -> None:
    import pytest

    with pytest.raises(ValueError, match="Currently, max_tokens is 4"):
        Chunker(word_tokens, max_tokens=4)
