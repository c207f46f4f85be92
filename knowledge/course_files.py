"""Load and check the curriculum's Markdown chapter files (front matter, sections, runnable code blocks)."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CURRICULUM_DIR = Path(__file__).parent / "curriculum"
REQUIRED_FIELDS = ("title", "level", "theme", "programme_items", "prerequisites", "objectives", "estimated_minutes")
REQUIRED_SECTIONS = ("Cours", "Exercices", "Corrigés", "Pièges fréquents")
LEVELS = ("premiere", "terminale")

_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.DOTALL)
_FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class CodeBlock:
    """A fenced block: its language, expected exception (``raises=Name``) and source."""

    language: str
    raises: str | None
    source: str
    line: int


@dataclass
class Chapter:
    """A curriculum chapter file split into metadata and body."""

    chapter_id: str
    path: Path
    meta: dict[str, Any]
    body: str
    blocks: list[CodeBlock] = field(default_factory=list)

    @property
    def h2_sections(self) -> list[str]:
        return [m.group(1).strip() for m in re.finditer(r"^## (.+)$", self.body, re.MULTILINE)]

    @property
    def word_count(self) -> int:
        return len(_WORD.findall(self.body))


class _NoAliasLoader(yaml.SafeLoader):
    """A safe loader that refuses aliases: a "billion laughs" of nested aliases costs nothing to send
    and millions of items once expanded, and course metadata never needs them."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None, None, "les alias YAML (*nom) ne sont pas acceptés", event.start_mark
            )
        return super().compose_node(parent, index)


def split_front_matter(text: str) -> tuple[dict[str, Any], str, int]:
    """Return (metadata, body, body_offset); metadata is empty when there is no front matter. No YAML aliases."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text, 0
    meta = yaml.load(match.group(1), Loader=_NoAliasLoader) or {}  # noqa: S506 - a SafeLoader subclass
    if not isinstance(meta, dict):
        raise ValueError("front matter must be a YAML mapping")
    return meta, text[match.end() :], match.end()


def code_blocks(body: str) -> list[CodeBlock]:
    """Fenced code blocks of a Markdown body, with their info-string attributes."""
    blocks = []
    for match in _FENCE.finditer(body):
        info = match.group(1).strip().split()
        language = info[0].lower() if info else ""
        raises = None
        for attr in info[1:]:
            if attr.startswith("raises="):
                raises = attr.split("=", 1)[1]
        line = body.count("\n", 0, match.start()) + 1
        blocks.append(CodeBlock(language, raises, match.group(2), line))
    return blocks


def load_chapter(path: Path, root: Path = CURRICULUM_DIR) -> Chapter:
    """Parse one chapter file."""
    text = path.read_text(encoding="utf-8")
    meta, body, _ = split_front_matter(text)
    chapter_id = path.relative_to(root).with_suffix("").as_posix()
    return Chapter(chapter_id, path, meta, body, code_blocks(body))


def iter_chapters(root: Path = CURRICULUM_DIR) -> list[Chapter]:
    """Every chapter under ``root/{premiere,terminale}``, sorted by id."""
    return [load_chapter(p, root) for p in sorted(root.glob("*/*/*.md"))]


def load_programme(root: Path = CURRICULUM_DIR) -> list[dict[str, Any]]:
    """Every capacity of the official programme, from ``root/programme/<level>/<theme>.yaml``."""
    items: list[dict[str, Any]] = []
    for path in sorted((root / "programme").glob("*/*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for item in data["items"]:
            items.append({**item, "level": data["level"], "theme": data["theme"], "theme_title": data["title"]})
    return items


_PY_DRIVER = r"""
import json, sys, traceback
blocks = json.load(sys.stdin)
ns = {"__name__": "__main__"}
errors = []
for b in blocks:
    try:
        exec(compile(b["source"], f"<block line {b['line']}>", "exec"), ns)
    except BaseException as exc:  # noqa: BLE001
        name = type(exc).__name__
        if b["raises"] != name:
            errors.append(f"line {b['line']}: {name}: {exc}")
    else:
        if b["raises"]:
            errors.append(f"line {b['line']}: expected {b['raises']}, nothing raised")
print(json.dumps(errors))
"""


def run_python_blocks(chapter: Chapter, timeout: float = 60.0) -> list[str]:
    """Run a chapter's ``python`` blocks in order, in one namespace, in a fresh process; return errors."""
    blocks = [b.__dict__ for b in chapter.blocks if b.language in ("python", "py")]
    if not blocks:
        return []
    with tempfile.TemporaryDirectory() as cwd:
        proc = subprocess.run(  # noqa: S603
            [sys.executable, "-I", "-c", _PY_DRIVER],
            input=json.dumps(blocks),
            capture_output=True,
            text=True,
            cwd=cwd,
            timeout=timeout,
        )
    if proc.returncode != 0:
        return [f"driver failed: {proc.stderr.strip()[-500:]}"]
    return list(json.loads(proc.stdout.strip().splitlines()[-1]))


def run_sql_blocks(chapter: Chapter) -> list[str]:
    """Run a chapter's ``sql`` blocks in order against one in-memory SQLite database; return errors."""
    errors = []
    db = sqlite3.connect(":memory:")
    db.execute("PRAGMA foreign_keys = ON")
    try:
        for block in (b for b in chapter.blocks if b.language == "sql"):
            try:
                db.executescript(block.source) if block.raises is None else _run_statements(db, block.source)
            except sqlite3.Error as exc:
                if block.raises != type(exc).__name__:
                    errors.append(f"line {block.line}: {type(exc).__name__}: {exc}")
            else:
                if block.raises:
                    errors.append(f"line {block.line}: expected {block.raises}, nothing raised")
    finally:
        db.close()
    return errors


def _run_statements(db: sqlite3.Connection, script: str) -> None:
    # executescript commits and cannot be rolled back; a block expected to fail runs statement by statement.
    for statement in (s.strip() for s in script.split(";")):
        if statement:
            db.execute(statement)


def check_chapter(chapter: Chapter, programme_ids: set[str] | None = None) -> list[str]:
    """Every problem of one chapter: metadata, sections, length, code that does not run."""
    problems = [f"missing front matter field {f!r}" for f in REQUIRED_FIELDS if f not in chapter.meta]
    if chapter.meta.get("level") not in LEVELS:
        problems.append(f"level must be one of {LEVELS}, got {chapter.meta.get('level')!r}")
    elif not chapter.chapter_id.startswith(f"{chapter.meta['level']}/"):
        problems.append("level does not match the folder")
    if chapter.meta.get("theme") != chapter.chapter_id.split("/")[1]:
        problems.append("theme does not match the folder")
    missing = [s for s in REQUIRED_SECTIONS if s not in chapter.h2_sections]
    if missing:
        problems.append(f"missing ## sections {missing}; has {chapter.h2_sections}")
    if not 1200 <= chapter.word_count <= 3000:
        problems.append(f"{chapter.word_count} words, expected 1200 to 3000")
    if programme_ids is not None:
        unknown = [i for i in chapter.meta.get("programme_items", []) if i not in programme_ids]
        if unknown:
            problems.append(f"unknown programme items {unknown}")
    problems += [f"python {e}" for e in run_python_blocks(chapter)]
    problems += [f"sql {e}" for e in run_sql_blocks(chapter)]
    return problems


if __name__ == "__main__":  # a quick check for writers: python -m knowledge.course_files [chapter.md ...]
    ids = {item["id"] for item in load_programme()}
    paths = [Path(p).resolve() for p in sys.argv[1:]] or [c.path for c in iter_chapters()]
    failed = 0
    for p in paths:
        ch = load_chapter(p, CURRICULUM_DIR.resolve())
        found = check_chapter(ch, ids)
        failed += bool(found)
        status = "OK " if not found else "BAD"
        print(f"{status} {ch.chapter_id} ({ch.word_count} words, {len(ch.blocks)} blocks)")  # noqa: T201
        for problem in found:
            print(f"     - {problem}")  # noqa: T201
    sys.exit(1 if failed else 0)
