"""French-aware text analysis and BM25-style sparse vectors (term weights; Qdrant applies the IDF)."""

from __future__ import annotations

import re
import threading
import unicodedata
import zlib
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer

# Elided articles and pronouns: "l'arbre" -> "arbre", "qu'est" -> "est".
_ELISION = re.compile(r"\b(?:l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu|quoiqu)['’]", re.IGNORECASE)
_TOKEN = re.compile(r"[a-z0-9_]+")

# French stop words (folded, without accents) plus chat filler that carries no topic.
STOP_WORDS = frozenset(
    [
        "a",
        "ai",
        "aie",
        "aient",
        "aies",
        "ait",
        "alors",
        "au",
        "aucun",
        "aussi",
        "autre",
        "aux",
        "avaient",
        "avais",
        "avait",
        "avant",
        "avec",
        "avez",
        "aviez",
        "avions",
        "avoir",
        "avons",
        "ayant",
        "bon",
        "car",
        "ce",
        "ceci",
        "cela",
        "celle",
        "celles",
        "celui",
        "ces",
        "cet",
        "cette",
        "ceux",
        "chaque",
        "ci",
        "comme",
        "comment",
        "dans",
        "de",
        "des",
        "du",
        "donc",
        "dont",
        "elle",
        "elles",
        "en",
        "encore",
        "es",
        "est",
        "et",
        "etaient",
        "etais",
        "etait",
        "etant",
        "ete",
        "etes",
        "etions",
        "etre",
        "eu",
        "eux",
        "fait",
        "faire",
        "fais",
        "faut",
        "ici",
        "il",
        "ils",
        "je",
        "la",
        "le",
        "les",
        "leur",
        "leurs",
        "lui",
        "ma",
        "mais",
        "me",
        "meme",
        "mes",
        "moi",
        "mon",
        "ne",
        "ni",
        "nos",
        "notre",
        "nous",
        "on",
        "ont",
        "ou",
        "par",
        "pas",
        "peu",
        "peut",
        "plus",
        "pour",
        "pourquoi",
        "quand",
        "que",
        "quel",
        "quelle",
        "quelles",
        "quels",
        "qui",
        "quoi",
        "sa",
        "sans",
        "se",
        "ses",
        "si",
        "sien",
        "soi",
        "soit",
        "son",
        "sont",
        "sous",
        "suis",
        "sur",
        "ta",
        "te",
        "tes",
        "toi",
        "ton",
        "tous",
        "tout",
        "toute",
        "toutes",
        "tres",
        "tu",
        "un",
        "une",
        "vos",
        "votre",
        "vous",
        "vu",
        "y",
        "svp",
        "stp",
        "merci",
        "bonjour",
        "salut",
        "coucou",
        "aide",
        "aidez",
        "explique",
        "expliquer",
        "expliquez",
        "moi",
        "dire",
        "dis",
        "peux",
        "pouvez",
        "veux",
        "voudrais",
        "sais",
        "sait",
        "c",
        "est",
        "quoi",
        "koi",
        "ca",
        "comprends",
        "comprend",
        "pas",
        "trop",
        "bien",
    ]
)

_stemmers = threading.local()


# Common French texting spellings, rewritten before a query is embedded (the dense model was trained on
# standard French). Whole words only, case-insensitive.
_TEXTING = {
    "c koi": "c'est quoi",
    "c quoi": "c'est quoi",
    "cest quoi": "c'est quoi",
    "koi": "quoi",
    "kwa": "quoi",
    "pk": "pourquoi",
    "pq": "pourquoi",
    "pkoi": "pourquoi",
    "pourkoi": "pourquoi",
    "cmt": "comment",
    "cmnt": "comment",
    "kel": "quel",
    "kelle": "quelle",
    "ya": "il y a",
    "y a": "il y a",
    "jcomprends": "je comprends",
    "jcomprend": "je comprends",
    "jsp": "je ne sais pas",
    "jpp": "je ne peux pas",
    "stp": "s'il te plaît",
    "svp": "s'il vous plaît",
    "tt": "tout",
    "tjs": "toujours",
    "tjrs": "toujours",
    "bcp": "beaucoup",
    "pr": "pour",
    "ds": "dans",
    "dc": "donc",
    "qd": "quand",
    "qq": "quelque",
    "qqch": "quelque chose",
    "mm": "même",
    "diff": "différence",
    "prog": "programme",
    "algo": "algorithme",
    "ordi": "ordinateur",
    "info": "informatique",
    "exo": "exercice",
    "diapo": "diaporama",
    "diapos": "diaporama",
    "exos": "exercices",
    "fct": "fonction",
    "var": "variable",
}
_TEXTING_RE = re.compile(
    r"\b(" + "|".join(sorted(map(re.escape, _TEXTING), key=len, reverse=True)) + r")\b", re.IGNORECASE
)


# English names and acronyms students meet in tutorials and videos, with the programme's French term added after
# them (the course material says "parcours en largeur", the student writes "BFS"). Whole words, case-insensitive;
# words that are also French ("queue", "tree" is not, "file" is) are left out.
_GLOSSARY = {
    "bfs": "parcours en largeur",
    "dfs": "parcours en profondeur",
    "deadlock": "interblocage",
    "stack": "pile",
    "tuple": "p-uplet",
    "tuples": "p-uplets",
    "linked list": "liste chaînée",
    "hash table": "table de hachage",
    "hashmap": "table de hachage",
    "dict": "dictionnaire",
    "dico": "dictionnaire",
    "bst": "arbre binaire de recherche",
    "abr": "arbre binaire de recherche",
    "tree": "arbre",
    "graph": "graphe",
    "array": "tableau",
    "merge sort": "tri fusion",
    "binary search": "recherche dichotomique",
    "divide and conquer": "diviser pour régner",
    "greedy": "algorithme glouton",
    "memoization": "mémoïsation",
    "knn": "k plus proches voisins",
    "oop": "programmation orientée objet",
    "poo": "programmation orientée objet",
    "float": "flottant",
    "overflow": "dépassement de capacité",
    "debug": "déboguer",
    "debugger": "déboguer",
    "soc": "système sur puce",
    "cpu": "processeur",
    "ram": "mémoire vive",
    "os": "système d'exploitation",
}
_GLOSSARY_RE = re.compile(
    r"\b(" + "|".join(sorted(map(re.escape, _GLOSSARY), key=len, reverse=True)) + r")\b", re.IGNORECASE
)


def normalize_query(text: str) -> str:
    """Standard spellings for texting abbreviations, and the programme's French term after an English one:
    "c koi un BFS" -> "c'est quoi un BFS (parcours en largeur)"."""
    text = _TEXTING_RE.sub(lambda m: _TEXTING[m.group(1).lower()], text)
    return _GLOSSARY_RE.sub(lambda m: f"{m.group(0)} ({_GLOSSARY[m.group(1).lower()]})", text)


def fold(text: str) -> str:
    """Lowercase and strip accents: "Élève" -> "eleve"."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=65536)
def _stem(token: str) -> str:
    # A snowball stemmer keeps the word it works on in the instance: shared by request threads, it mixes their
    # words up (IndexError under load), so each thread has its own.
    stemmer = getattr(_stemmers, "french", None)
    if stemmer is None:
        stemmer = _stemmers.french = snowballstemmer.stemmer("french")
    return str(stemmer.stemWord(token))


def analyze(text: str) -> list[str]:
    """Terms of a French text: elisions removed, folded, stop words dropped, Snowball-stemmed."""
    text = _ELISION.sub(" ", text)
    tokens = _TOKEN.findall(fold(text))
    return [_stem(t) for t in tokens if t not in STOP_WORDS and (len(t) > 1 or t.isdigit())]


def term_id(term: str) -> int:
    """A stable 31-bit index for a term (crc32), identical across processes and machines."""
    return zlib.crc32(term.encode("utf-8")) & 0x7FFFFFFF


@dataclass(frozen=True)
class Sparse:
    """A sparse vector: sorted term indices and their weights."""

    indices: list[int]
    values: list[float]


class SparseEncoder:
    """BM25 term-frequency weights over French terms; the collection's IDF modifier supplies the IDF part.

    Args:
        k1: term-frequency saturation.
        b: length normalisation (0 none, 1 full).
        avg_len: expected document length in terms.

    Example:
        >>> enc = SparseEncoder()
        >>> enc.encode_query("C'est quoi une pile ?").indices == [term_id("pil")]
        True
    """

    def __init__(self, k1: float = 1.2, b: float = 0.75, avg_len: float = 120.0) -> None:
        if k1 < 0:
            raise ValueError(f"k1 must be >= 0. Currently, k1 is {k1}")
        if not 0 <= b <= 1:
            raise ValueError(f"b must be between 0 and 1. Currently, b is {b}")
        if avg_len <= 0:
            raise ValueError(f"avg_len must be > 0. Currently, avg_len is {avg_len}")
        self.k1, self.b, self.avg_len = k1, b, avg_len

    def encode_document(self, text: str) -> Sparse:
        """BM25 TF weight of every term of a passage."""
        terms = analyze(text)
        counts = Counter(terms)
        norm = self.k1 * (1 - self.b + self.b * len(terms) / self.avg_len)
        weights: dict[int, float] = {}
        for term, tf in counts.items():
            idx = term_id(term)
            weights[idx] = weights.get(idx, 0.0) + tf * (self.k1 + 1) / (tf + norm)
        return _to_sparse(weights)

    def encode_query(self, text: str) -> Sparse:
        """Each distinct query term weighs 1; IDF comes from the collection."""
        return _to_sparse({term_id(t): 1.0 for t in analyze(text)})


def _to_sparse(weights: dict[int, float]) -> Sparse:
    indices = sorted(weights)
    return Sparse(indices, [weights[i] for i in indices])
