"""Short French explanations of the errors students meet most, from an exception's type and message."""

from __future__ import annotations

import re

_NAME = re.compile(r"name '(\w+)' is not defined")
_LOCAL = re.compile(r"local variable '(\w+)'|cannot access local variable '(\w+)'")
_ATTR = re.compile(r"'(\w+)' object has no attribute '(\w+)'")
_SQL_COLUMN = re.compile(r"no such column: ([\w.]+)")
_SQL_TABLE = re.compile(r"no such table: (\w+)")
_SQL_NEAR = re.compile(r'near "([^"]*)": syntax error')

TIMEOUT = (
    "Le programme a dépassé le temps imparti : sans doute une boucle infinie (une condition de `while` qui reste "
    "toujours vraie, un compteur jamais mis à jour) ou un calcul beaucoup trop long."
)
LIMITS = {
    "timeout": TIMEOUT,
    "cpu": TIMEOUT,
    "output": "Le programme a affiché beaucoup trop de texte (un `print` dans une boucle qui ne s'arrête pas ?).",
    "crashed": (
        "Le programme s'est arrêté brutalement avant la fin des tests (`os._exit`, processus tué, mémoire ou "
        "nombre de processus épuisés)."
    ),
}


def explain(error_type: str, message: str = "", *, language: str = "python") -> str:
    """A one- or two-sentence French explanation of an error, for a student; generic when unknown."""
    if language == "sql":
        return _explain_sql(error_type, message)
    if error_type in ("IndentationError", "TabError"):
        return (
            "Problème d'indentation : les lignes d'un même bloc (après `def`, `if`, `for`, `while`…) doivent "
            "être décalées du même nombre d'espaces, et un bloc ne peut pas être vide (mets au moins une instruction)."
        )
    if error_type == "SyntaxError":
        return (
            "Erreur de syntaxe : Python ne comprend pas la ligne indiquée. Vérifie les deux-points `:` à la fin des "
            "`def`, `if`, `for`, `while`, les parenthèses et les guillemets fermés, et `==` pour comparer."
        )
    if error_type == "UnboundLocalError" or _LOCAL.search(message):
        match = _LOCAL.search(message)
        name = next((g for g in match.groups() if g), "?") if match else "?"
        return (
            f"La variable `{name}` est utilisée dans la fonction avant d'y recevoir une valeur : donne-lui une "
            "valeur au début de la fonction (une variable affectée dans une fonction y est locale)."
        )
    if error_type == "NameError":
        match = _NAME.search(message)
        name = match.group(1) if match else "?"
        return (
            f"Le nom `{name}` n'est pas défini : faute de frappe (majuscules comprises), variable utilisée avant "
            "d'avoir reçu une valeur, ou fonction demandée pas encore écrite avec ce nom exact ?"
        )
    if error_type in ("TypeError", "AttributeError") and "NoneType" in message:
        return (
            "Une valeur vaut `None` là où on attendait autre chose : une fonction sans `return` (ou dont le "
            "`return` n'est pas atteint, par exemple mal indenté) renvoie `None`."
        )
    if error_type == "TypeError":
        return (
            "Opération entre des types qui ne vont pas ensemble (par exemple `str` + `int`, ou indexer un nombre), "
            "ou fonction appelée avec un mauvais nombre d'arguments."
        )
    if error_type == "AttributeError":
        match = _ATTR.search(message)
        detail = f" (`{match.group(2)}` sur un objet de type `{match.group(1)}`)" if match else ""
        return (
            f"Cet objet n'a pas cet attribut ou cette méthode{detail} : vérifie l'orthographe, le `self.` devant "
            "les attributs, et le type de la valeur."
        )
    if error_type == "IndexError":
        return (
            "Indice hors du tableau : pour un tableau de longueur `n`, les indices vont de `0` à `n - 1`. Vérifie "
            "les bornes de tes boucles (`range`) et le cas du tableau vide."
        )
    if error_type == "KeyError":
        return "Clé absente du dictionnaire : teste `if cle in d:` avant d'y lire, ou utilise `d.get(cle, valeur)`."
    if error_type == "RecursionError":
        return (
            "Trop d'appels récursifs imbriqués : vérifie que le cas de base existe, qu'il est testé en premier, et "
            "que chaque appel récursif se rapproche de ce cas."
        )
    if error_type == "ZeroDivisionError":
        return "Division par zéro : un cas particulier (tableau vide, compteur à 0) n'est pas traité."
    if error_type == "ValueError":
        return "Une fonction a reçu une valeur qu'elle ne sait pas traiter (par exemple `int('abc')`)."
    if error_type == "MemoryError":
        return "Le programme a demandé trop de mémoire : une structure qui grossit sans fin, ou un calcul démesuré."
    if error_type == "SystemExit":
        return (
            "Le programme s'est arrêté avec `exit()` ou `sys.exit()` : une fonction doit renvoyer son résultat "
            "avec `return`, sans arrêter le programme."
        )
    if error_type == "TestTimeout":
        return TIMEOUT
    if error_type == "AssertionError":
        return "Une assertion de ton propre code est fausse (une précondition non respectée ?)."
    if error_type in ("ModuleNotFoundError", "ImportError"):
        return "Ce module n'est pas disponible ici : l'exercice se résout avec Python seul."
    if error_type in ("PermissionError", "FileNotFoundError", "OSError", "ConnectionRefusedError"):
        return (
            "L'exercice s'exécute dans un bac à sable sans fichiers ni réseau : ton code ne doit pas en avoir besoin."
        )
    return f"Une erreur `{error_type}` s'est produite pendant l'exécution."


def _explain_sql(error_type: str, message: str) -> str:
    if error_type == "TestTimeout" or message == "interrupted":
        return "La requête a dépassé le temps imparti (une jointure sans condition, une récursion sans fin ?)."
    if match := _SQL_COLUMN.search(message):
        return f"La colonne `{match.group(1)}` n'existe pas : vérifie son nom dans le schéma et la table qui la porte."
    if match := _SQL_TABLE.search(message):
        return f"La table `{match.group(1)}` n'existe pas : vérifie son nom dans le schéma."
    if match := _SQL_NEAR.search(message):
        return (
            f"Erreur de syntaxe SQL près de « {match.group(1)} » : vérifie l'ordre des clauses "
            "(SELECT … FROM … WHERE … ORDER BY …), les virgules et les guillemets simples des chaînes."
        )
    if "incomplete input" in message:
        return "La requête est incomplète : une clause, une parenthèse ou une guillemet manque."
    if "ambiguous column name" in message:
        return "Nom de colonne ambigu : dans une jointure, préfixe la colonne par sa table (`eleve.nom`)."
    if "one statement at a time" in message:
        return "Une seule requête est attendue : retire les instructions en trop (un seul `;` à la fin)."
    if "not a query" in message:
        return "Cette instruction ne renvoie pas de table : l'exercice attend une requête `SELECT`."
    if "readonly" in message or "query_only" in message:
        return "Cet exercice demande une requête d'interrogation (`SELECT`), qui ne modifie pas la base."
    return f"Erreur SQL : {message}"
