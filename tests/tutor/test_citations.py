from hypothesis import given
from hypothesis import strategies as st

from tutor.citations import CitationChecker

TEXT = "Une pile est LIFO [1]. Une file est FIFO [2][9]. Voir aussi [3, 7] et [12] ; fin [1]."


def run(chunks: list[str], valid: set[int]) -> tuple[str, list[int]]:
    checker = CitationChecker(valid)
    out = "".join(checker.feed(c) for c in chunks) + checker.flush()
    return out, checker.cited


def test_unknown_numbers_are_removed_and_cited_ones_recorded_in_order() -> None:
    out, cited = run([TEXT], {1, 2, 3})
    assert out == "Une pile est LIFO [1]. Une file est FIFO [2]. Voir aussi [3] et  ; fin [1]."
    assert cited == [1, 2, 3]


@given(st.lists(st.integers(min_value=1, max_value=len(TEXT) - 1), max_size=12))
def test_any_split_of_the_stream_gives_the_same_text(cuts: list[int]) -> None:
    points = [0, *sorted(set(cuts)), len(TEXT)]
    chunks = [TEXT[a:b] for a, b in zip(points, points[1:], strict=False)]
    assert run(chunks, {1, 2, 3}) == run([TEXT], {1, 2, 3})


def test_brackets_that_are_not_citations_pass_through() -> None:
    out, cited = run(["t[i] = t[j] ; liste[0] et [a, b]"], {1})
    assert out == "t[i] = t[j] ; liste[0] et [a, b]"
    assert cited == []


CODE = "On écrit t[0] puis m[1][2] et [1] ; f(x)[2] mais [2][3]."


@given(st.lists(st.integers(min_value=1, max_value=len(CODE) - 1), max_size=10))
def test_indexing_is_never_taken_for_a_citation_however_the_stream_is_split(cuts: list[int]) -> None:
    points = [0, *sorted(set(cuts)), len(CODE)]
    out, cited = run([CODE[a:b] for a, b in zip(points, points[1:], strict=False)], {1, 2})
    assert out == "On écrit t[0] puis m[1][2] et [1] ; f(x)[2] mais [2]."
    assert cited == [1, 2]


ANSWER = (
    "Voici ce que dit ton cours [1] :\n\n```python\nt = [5, 3, 8]\nx = [1]\n```\n\n"
    "La liste `[7, 2]` reste une liste [2][9].\n  ~~~\n[4]\n~~~\nFin [3]."
)


@given(st.lists(st.integers(min_value=1, max_value=len(ANSWER) - 1), max_size=14))
def test_code_is_never_touched_however_the_stream_is_split(cuts: list[int]) -> None:
    points = [0, *sorted(set(cuts)), len(ANSWER)]
    out, cited = run([ANSWER[a:b] for a, b in zip(points, points[1:], strict=False)], {1, 2, 3})
    assert out == ANSWER.replace("[2][9]", "[2]")  # code blocks and spans kept exactly, [9] removed from prose
    assert cited == [1, 2, 3]
