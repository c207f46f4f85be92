"""Citation checking while an answer streams: a ``[n]`` that names no source is removed, cited ones recorded."""

from __future__ import annotations

import re

_CITATION = re.compile(r"\[(\d{1,3}(?:\s*[,;]\s*\d{1,3})*)\]")
_PARTIAL = re.compile(r"\[[\d\s,;]{0,12}$")


class CitationChecker:
    """Feed text deltas, get cleaned deltas; a possibly unfinished ``[1`` at the end is held back.

    Example:
        >>> checker = CitationChecker(valid={1, 2})
        >>> checker.feed("Une pile est LIFO [1][7") + checker.feed("] et [2, 9].") + checker.flush()
        'Une pile est LIFO [1] et [2].'
        >>> sorted(checker.cited)
        [1, 2]
    """

    def __init__(self, valid: set[int]) -> None:
        self.valid = valid
        self.cited: list[int] = []
        self._pending = ""

    def _clean(self, text: str) -> str:
        def keep(match: re.Match[str]) -> str:
            numbers = [int(n) for n in re.split(r"\s*[,;]\s*", match.group(1))]
            good = [n for n in numbers if n in self.valid]
            for n in good:
                if n not in self.cited:
                    self.cited.append(n)
            return f"[{', '.join(map(str, good))}]" if good else ""

        cleaned = _CITATION.sub(keep, text)
        return re.sub(r"[ \t]+([.,;:!?])", r"\1", cleaned) if cleaned != text else cleaned

    def feed(self, delta: str) -> str:
        text = self._pending + delta
        partial = _PARTIAL.search(text)
        if partial:
            self._pending, text = text[partial.start() :], text[: partial.start()]
        else:
            self._pending = ""
        return self._clean(text)

    def flush(self) -> str:
        text, self._pending = self._pending, ""
        return self._clean(text)
