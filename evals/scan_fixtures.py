"""A scanned French exam paper made here: text drawn with Pillow, then noise, speckles, a slight tilt and blur,
wrapped as an image-only PDF (no text layer), as a school photocopier's scan would be.

Used by the OCR tests and by ``nexus bench ocr``; each page's drawn text is the reference OCR is scored against.
"""

from __future__ import annotations

import io
import random
from pathlib import Path

EXERCISES = [
    (
        "Exercice 1 : les piles (4 points)",
        [
            "Une pile est une structure de données où le dernier élément empilé est le premier dépilé.",
            "On dispose des fonctions empiler, dépiler et est_vide pour manipuler une pile.",
            "Écrire une fonction hauteur qui renvoie le nombre d'éléments de la pile sans la détruire.",
            "Préciser la complexité de cette fonction en fonction de la taille de la pile.",
        ],
    ),
    (
        "Exercice 2 : bases de données (4 points)",
        [
            "La table Élève contient les colonnes identifiant, nom, prénom et classe.",
            "Écrire une requête qui affiche le nom des élèves de la classe de terminale.",
            "Expliquer pourquoi la colonne identifiant est une clé primaire de la table.",
            "Une clé étrangère référence la clé primaire d'une autre table de la base.",
        ],
    ),
    (
        "Exercice 3 : réseaux et routage (4 points)",
        [
            "Le protocole RIP choisit la route qui traverse le moins de routeurs possible.",
            "Le protocole OSPF calcule le coût des liaisons à partir de leur débit.",
            "Compléter la table de routage du routeur A après la convergence du réseau.",
            "Déterminer le chemin suivi par un paquet envoyé de la machine M1 à la machine M2.",
        ],
    ),
    (
        "Exercice 4 : arbres binaires (4 points)",
        [
            "Un arbre binaire de recherche range les clés plus petites dans le sous-arbre gauche.",
            "La hauteur d'un arbre vide vaut zéro par convention dans tout ce sujet.",
            "Écrire une fonction récursive qui renvoie la taille d'un arbre binaire.",
            "Donner l'ordre de visite des nœuds lors d'un parcours infixe de cet arbre.",
        ],
    ),
    (
        "Exercice 5 : programmation dynamique (4 points)",
        [
            "Le rendu de monnaie consiste à rendre une somme avec le moins de pièces possible.",
            "L'algorithme glouton ne donne pas toujours la solution optimale pour ce problème.",
            "On mémorise dans un tableau le nombre minimal de pièces pour chaque somme.",
            "Justifier que cette méthode évite de recalculer plusieurs fois les mêmes valeurs.",
        ],
    ),
]


def exam_pages(n_pages: int) -> list[list[str]]:
    """The lines of each page: a header, then exercises' statements, cycling through the subject."""
    pages: list[list[str]] = []
    for number in range(1, n_pages + 1):
        part = (number - 1) // len(EXERCISES) + 1
        page = [f"Baccalauréat NSI, sujet {part}, page {number} sur {n_pages}"]
        for shift, letter in ((0, "a"), (2, "b")):
            title, lines = EXERCISES[(number - 1 + shift) % len(EXERCISES)]
            page += [title, *lines, f"Question {number}.{letter} : répondre en justifiant chaque étape."]
        pages.append(page)
    return pages


def scanned_pdf(pages: list[list[str]], seed: int = 0, dpi: int = 200) -> bytes:
    """An image-only PDF of ``pages`` (lines of text), degraded like a photocopied scan."""
    import numpy as np
    import reportlab
    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    rng = random.Random(seed)
    noise = np.random.default_rng(seed)
    width, height = int(8.27 * dpi), int(11.69 * dpi)  # A4
    # about 12 pt, in the Bitstream Vera font reportlab ships (accents included; no system font needed)
    font = ImageFont.truetype(str(Path(reportlab.__file__).parent / "fonts" / "Vera.ttf"), int(dpi * 0.16))
    images: list[Image.Image] = []
    for lines in pages:
        page = Image.new("L", (width, height), 255)
        draw = ImageDraw.Draw(page)
        y = int(dpi * 0.9)
        for i, line in enumerate(lines):
            draw.text((int(dpi * 0.8), y), line, fill=rng.randint(0, 60), font=font)
            y += int(dpi * (0.45 if i == 0 or "Exercice" in line or "Question" in line else 0.32))
        page = page.rotate(rng.uniform(-1.5, 1.5), resample=Image.Resampling.BICUBIC, fillcolor=255)
        page = page.filter(ImageFilter.GaussianBlur(0.6))
        pixels = np.asarray(page, dtype=np.float32) + noise.normal(0, 14, (height, width))
        specks = noise.random((height, width)) < 0.0015
        pixels[specks] = noise.integers(0, 120, int(specks.sum()))
        images.append(Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "L"))
    out = io.BytesIO()
    images[0].save(out, "PDF", resolution=dpi, save_all=True, append_images=images[1:], quality=75)
    return out.getvalue()


def scanned_exam(n_pages: int = 20, seed: int = 0) -> tuple[bytes, list[str]]:
    """A scanned exam paper of ``n_pages`` pages and, per page, the text drawn on it."""
    pages = exam_pages(n_pages)
    return scanned_pdf(pages, seed), ["\n".join(lines) for lines in pages]
