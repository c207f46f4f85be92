"""Citation checking while an answer streams: a ``[n]`` that names no source is removed, cited ones recorded.

Code is never touched: inside a fenced block or an inline code span, ``x = [1, 7]`` is a list, not citations.
"""

from __future__ import annotations

import re

# A run of citations ("[1]", "[1][2]", "[2, 3]") never follows an identifier: "liste[0]" and "m[0][1]" are code.
_CITATIONS = re.compile(r"(?<![\w)\]])((?:\[\d{1,3}(?:\s*[,;]\s*\d{1,3})*\])+)")
_GROUP = re.compile(r"\[([^\]]*)\]")
# Held back at the end of a delta: a run of citations that may go on ("[2]" then "[9]"), or an unfinished one.
_TAIL = re.compile(r"(?:\[\d{1,3}(?:\s*[,;]\s*\d{1,3})*\])*(?:\[[\d\s,;]{0,12})?$")
# Where code starts or ends: a fence (three or more backticks or tildes at the start of a line), or a backtick.
_CODE_MARK = re.compile(r"(?:(?<=\n)|^)[ \t]*(?:`{3,}|~{3,})|`")
# Held back too: backticks or tildes at the start of a line that may be the beginning of a fence.
_PARTIAL_FENCE = re.compile(r"(?:(?<=\n)|^)[ \t]*(?:`{1,2}|~{1,2})$")


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
        self._line_start = True  # nothing but spaces released since the last newline (or the start)
        self._fence = ""  # the fence that opened the code block being released, "" outside one
        self._span = False  # inside an inline code span

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
        out: list[str] = []
        pos = 0
        # "^" of the marks means the start of a line: only when nothing but spaces was released on this line
        context = "\n" if self._line_start else "x"
        for mark in _CODE_MARK.finditer(context + text, 1):
            start, end = mark.start() - 1, mark.end() - 1
            out.append(self._between(text[pos:start]))
            token = mark.group(0)
            fence = token.strip(" \t")
            if len(fence) >= 3:
                if not self._fence:
                    self._fence, self._span = fence, False
                elif fence[0] == self._fence[0] and len(fence) >= len(self._fence):
                    self._fence = ""
            elif not self._fence:
                self._span = not self._span
            out.append(token)
            pos = end
            self._after(text[start:end])
        rest = text[pos:]
        out.append(self._between(rest))
        self._after(rest)
        return "".join(out)

    def _between(self, text: str) -> str:
        """Text between two code marks: code as it is, prose with its citations checked."""
        if self._fence:
            return text
        if self._span and "\n" in text:  # an inline code span never runs over a line
            code, rest = text.split("\n", 1)
            self._span = False
            self._previous = "\n"
            return code + "\n" + self._prose(rest)
        return text if self._span else self._prose(text)

    def _prose(self, text: str) -> str:
        # Only brackets go: tidying the spaces around them would depend on where the stream was split.
        if not text:
            return ""
        cleaned = _CITATIONS.sub(self._keep, self._previous + text)[len(self._previous) :]
        self._previous = text[-1]
        return cleaned

    def _after(self, released: str) -> None:
        if released:
            line = released.rsplit("\n", 1)
            self._line_start = (len(line) == 2 or self._line_start) and not line[-1].strip()
            self._previous = released[-1]

    def feed(self, delta: str) -> str:
        text = self._pending + delta
        cut = len(text)
        partial = _TAIL.search(text)
        if partial and partial.start() < cut:
            cut = partial.start()
        fence = _PARTIAL_FENCE.search(("\n" if self._line_start else "x") + text, 1)
        if fence:
            cut = min(cut, fence.start() - 1)
        self._pending, text = text[cut:], text[:cut]
        return self._release(text)

    def flush(self) -> str:
        text, self._pending = self._pending, ""
        return self._release(text)
