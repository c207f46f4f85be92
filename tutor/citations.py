"""Citation checking while an answer streams: a ``[n]`` that names no source is removed, cited ones recorded."""

from __future__ import annotations

import re

# A run of citations ("[1]", "[1][2]", "[2, 3]") never follows an identifier: "liste[0]" and "m[0][1]" are code.
_CITATIONS = re.compile(r"(?<![\w)\]])((?:\[\d{1,3}(?:\s*[,;]\s*\d{1,3})*\])+)")
_GROUP = re.compile(r"\[([^\]]*)\]")
# Held back at the end of a delta: a run of citations that may go on ("[2]" then "[9]"), or an unfinished one.
_TAIL = re.compile(r"(?:\[\d{1,3}(?:\s*[,;]\s*\d{1,3})*\])*(?:\[[\d\s,;]{0,12})?$")


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
        self._previous = ""  # last character released, so a match knows what precedes it across deltas

    def _keep(self, match: re.Match[str]) -> str:
        kept = []
        for group in _GROUP.findall(match.group(1)):
            good = [n for n in (int(x) for x in re.split(r"\s*[,;]\s*", group)) if n in self.valid]
            for n in good:
                if n not in self.cited:
                    self.cited.append(n)
            if good:
                kept.append(f"[{', '.join(map(str, good))}]")
        return "".join(kept)

    def _release(self, text: str) -> str:
        if not text:
            return ""
        # Only brackets go: tidying the spaces around them would depend on where the stream was split.
        cleaned = _CITATIONS.sub(self._keep, self._previous + text)[len(self._previous) :]
        self._previous = text[-1]
        return cleaned

    def feed(self, delta: str) -> str:
        text = self._pending + delta
        partial = _TAIL.search(text)
        if partial and partial.start() < len(text):
            self._pending, text = text[partial.start() :], text[: partial.start()]
        else:
            self._pending = ""
        return self._release(text)

    def flush(self) -> str:
        text, self._pending = self._pending, ""
        return self._release(text)
