"""What a passage is — ``cours``, ``exemple``, ``exercice`` or ``corrige`` — from the labels above it.

The one place of this rule. Labels are the headings of the section path, and the block-level labels parsers put
there too: an admonition's title (``??? success "Correction"``), a content tab's name, a ``Corrigé :`` line of a
plain-text file, a ``**Correction :**`` paragraph. A file named as an answer key (``correction.md``,
``corrige_ds1.md``) is ``corrige`` throughout. ``corrige`` passages are hidden from students while an assessment
using their document is open (:func:`platform_api.assessments.service.hidden_answer_keys`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import PurePath

from knowledge.text import fold

# "Réponses", "Réponse 2", "Réponses aux exercices", "Éléments de réponse", "Réponse à la question 3" — but not
# "Réponses HTTP" or "Réponse du serveur", which are course material of the web chapters.
_ANSWER_HEADING = re.compile(
    r"^(?:elements? de )?reponses?"
    r"(?:\s*$|\s*[(:\-–—]|\s*\d|\s+[a-z]\)|\s+(?:a|aux|de|du|des|pour)\s+(?:la |le |les |l'|l’)?"
    r"(?:exercices?|questions?|activites?|exos?|td|tp|qcm|quiz|partie|problemes?|devoirs?|evaluations?|\d))"
)
_ANSWER_WORDS = ("corrige", "correction", "solution")
_ANSWER_FILE_WORD = re.compile(r"^(?:corriges?|corrections?|corr|solutions?|reponses)\d*$")
_EXERCISE_FILE_WORD = re.compile(r"^(?:exercices?|exos?)\d*$")  # exo3.md, exercice_somme.md, TD-exercices.md


def _file_words(filename: str | None) -> list[str]:
    return re.split(r"[\s_.\-]+", fold(PurePath(filename).stem)) if filename else []


def is_answer_key_label(label: str) -> bool:
    """Whether a heading or label names an answer key."""
    folded = fold(label).strip(" *_#:.")
    return any(w in folded for w in _ANSWER_WORDS) or bool(_ANSWER_HEADING.match(folded))


def is_answer_key_file(filename: str | None) -> bool:
    """``correction.md``, ``corrige_ds1.pdf``, ``TP2-solutions.md``: a file that is an answer key as a whole."""
    return any(_ANSWER_FILE_WORD.match(w) for w in _file_words(filename))


def content_type(section_path: Sequence[str], filename: str | None = None) -> str:
    """cours, exemple, exercice or corrige, from the labels above a passage and its file's name (``exo3.md``)."""
    if is_answer_key_file(filename) or any(is_answer_key_label(h) for h in section_path):
        return "corrige"
    folded = [fold(h) for h in section_path]
    if any(h.startswith("exercice") for h in folded) or any(
        _EXERCISE_FILE_WORD.match(w) for w in _file_words(filename)
    ):
        return "exercice"
    if any(h.startswith("exemple") for h in folded):
        return "exemple"
    return "cours"
