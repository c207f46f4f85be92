"""The shipped curriculum as courses: one course per level and theme, its chapters and sections.

The chapter files (read with :mod:`knowledge.course_files`) are the one source of truth: seeding reads them
again and updates a course only when its content changed.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections import defaultdict
from pathlib import Path
from typing import Any

from knowledge.course_files import CURRICULUM_DIR, Chapter, iter_chapters, load_programme

LEVEL_TITLES = {"premiere": "Première", "terminale": "Terminale"}


def slugify(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-") or "section"


def course_id(level: str, theme: str) -> str:
    return f"{level}-{theme}"


def split_sections(chapter: Chapter) -> list[dict[str, Any]]:
    """The chapter's ``##`` sections (an introduction first when the chapter has one), with their Markdown."""
    parts = re.split(r"^## (.+)$", chapter.body, flags=re.MULTILINE)
    intro = re.sub(r"^# .+$", "", parts[0], count=1, flags=re.MULTILINE).strip()
    sections = []
    if intro:
        sections.append({"id": f"{chapter.chapter_id}#introduction", "title": "Introduction", "content": intro})
    for title, body in zip(parts[1::2], parts[2::2], strict=True):
        sections.append(
            {"id": f"{chapter.chapter_id}#{slugify(title)}", "title": title.strip(), "content": body.strip()}
        )
    return sections


def _ordered(chapters: list[Chapter]) -> list[Chapter]:
    """Prerequisites first within a theme (a stable topological order), else by file name."""
    ids = {c.chapter_id for c in chapters}
    placed: list[Chapter] = []
    done: set[str] = set()
    remaining = sorted(chapters, key=lambda c: c.chapter_id)
    while remaining:
        for chapter in remaining:
            needs = {p for p in chapter.meta.get("prerequisites") or [] if p in ids}
            if needs <= done:
                break
        else:
            chapter = remaining[0]  # a cycle: keep going in file order
        placed.append(chapter)
        done.add(chapter.chapter_id)
        remaining.remove(chapter)
    return placed


def curriculum_courses(root: Path = CURRICULUM_DIR) -> list[dict[str, Any]]:
    """Every curriculum course as a dict of the ``courses`` table's columns (content hash included)."""
    by_theme: dict[tuple[str, str], list[Chapter]] = defaultdict(list)
    for chapter in iter_chapters(root):
        by_theme[(str(chapter.meta["level"]), str(chapter.meta["theme"]))].append(chapter)
    programme: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for item in load_programme(root):
        programme[(item["level"], item["theme"])].append(item)
    courses = []
    for (level, theme), chapters in sorted(by_theme.items()):
        items = programme.get((level, theme), [])
        theme_title = items[0]["theme_title"] if items else theme.replace("-", " ").capitalize()
        ordered = _ordered(chapters)
        own = {c.chapter_id for c in ordered}
        outside = sorted({p for c in ordered for p in c.meta.get("prerequisites") or [] if p not in own})
        content = {
            "chapters": [
                {
                    "id": c.chapter_id,
                    "title": str(c.meta.get("title", c.chapter_id)),
                    "objectives": list(c.meta.get("objectives") or []),
                    "prerequisites": list(c.meta.get("prerequisites") or []),
                    "programmeItems": list(c.meta.get("programme_items") or []),
                    "estimatedMinutes": int(c.meta.get("estimated_minutes") or 0),
                    "sections": split_sections(c),
                }
                for c in ordered
            ]
        }
        row: dict[str, Any] = {
            "id": course_id(level, theme),
            "title": f"{theme_title} ({LEVEL_TITLES.get(level, level)})",
            "description": (
                f"Programme officiel de NSI, {LEVEL_TITLES.get(level, level)} : {theme_title.lower()}. "
                f"{len(ordered)} chapitre(s) avec cours, exercices, corrigés et pièges fréquents."
            ),
            "level": level,
            "category": theme,
            "source": "curriculum",
            "kb_course": f"{level}/{theme}",
            "published": True,
            "content": content,
            "prerequisites": outside,
            "objectives": [str(i.get("capacite", "")) for i in items if i.get("capacite")],
            "estimated_minutes": sum(ch["estimatedMinutes"] for ch in content["chapters"]),
        }
        row["content_hash"] = hashlib.sha256(json.dumps(row, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
        courses.append(row)
    return courses
