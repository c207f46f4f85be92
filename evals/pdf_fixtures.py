"""Realistic course PDFs made with reportlab: beamer-like slides, an exam subject with code and a table, a handout.

Used to compare PDF parsers, in tests, and as the "teacher upload" eval set. Each generator returns the PDF
bytes and, per page, the text that was drawn (the reference a parser should recover).
"""

from __future__ import annotations

import io

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.pdfgen import canvas
from reportlab.platypus import PageBreak, Paragraph, Preformatted, SimpleDocTemplate, Spacer, Table, TableStyle

SLIDES = [
    (
        "Les files",
        [
            "Structure de données FIFO : premier entré, premier sorti",
            "Opérations : enfiler en queue, défiler en tête",
            "Exemples : file d'impression, file d'attente d'un serveur",
        ],
    ),
    (
        "Interface d'une file",
        [
            "creer_file() renvoie une file vide",
            "est_vide(f) teste si la file est vide",
            "enfiler(f, x) ajoute x en queue",
            "defiler(f) retire et renvoie l'élément de tête",
        ],
    ),
    (
        "Implémentation avec deux piles",
        [
            "On empile les arrivées dans la pile d'entrée",
            "Pour défiler, on retourne la pile d'entrée dans la pile de sortie",
            "Coût amorti constant par opération",
        ],
    ),
    (
        "Parcours en largeur",
        [
            "Le parcours en largeur d'un graphe utilise une file",
            "On visite les sommets par distance croissante à l'origine",
            "Chaque sommet est enfilé une seule fois",
        ],
    ),
    (
        "À retenir",
        [
            "Pile : LIFO, file : FIFO",
            "Toujours vérifier que la file n'est pas vide avant de défiler",
            "Complexité des opérations : O(1)",
        ],
    ),
]


def slides_pdf() -> tuple[bytes, list[str]]:
    """Landscape slides with a big title and bullets, as a LaTeX beamer export looks."""
    buf = io.BytesIO()
    width, height = landscape(A4)
    c = canvas.Canvas(buf, pagesize=(width, height))
    c.setTitle("Les files — diaporama")
    pages = []
    for number, (title, bullets) in enumerate(SLIDES, start=1):
        c.setFillColor(colors.HexColor("#1f3b73"))
        c.rect(0, height - 90, width, 90, fill=1, stroke=0)
        c.setFillColor(colors.white)
        c.setFont("Helvetica-Bold", 30)
        c.drawString(40, height - 60, title)
        c.setFillColor(colors.black)
        c.setFont("Helvetica", 20)
        y = height - 160
        for bullet in bullets:
            c.drawString(60, y, f"• {bullet}")
            y -= 48
        c.setFont("Helvetica", 10)
        c.drawString(width - 80, 20, f"{number}/{len(SLIDES)}")
        c.showPage()
        pages.append("\n".join([title, *bullets]))
    c.save()
    return buf.getvalue(), pages


EXAM_CODE = '''def hauteur(arbre):
    """Renvoie la hauteur d'un arbre binaire."""
    if arbre is None:
        return 0
    return 1 + max(hauteur(arbre.gauche), hauteur(arbre.droit))'''

EXAM_TABLE = [
    ["id_eleve", "nom", "classe", "moyenne"],
    ["1", "Durand", "TG2", "14.5"],
    ["2", "Martin", "TG1", "12.0"],
    ["3", "Nguyen", "TG2", "16.25"],
]


def exam_pdf() -> tuple[bytes, list[str]]:
    """An exam subject: numbered exercises, a Python listing in a monospace font, a SQL table."""
    styles = getSampleStyleSheet()
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, title="Sujet de bac blanc NSI")
    story: list[object] = []
    pages = []
    p1 = [
        "Baccalauréat blanc — Numérique et Sciences Informatiques",
        "Exercice 1 : arbres binaires (6 points)",
        "On représente un arbre binaire par des objets de la classe Noeud ayant les attributs valeur, gauche "
        "et droit. La hauteur d'un arbre vide vaut 0.",
        "1. Recopier et compléter la fonction hauteur ci-dessous.",
    ]
    story += [
        Paragraph(p1[0], styles["Title"]),
        Paragraph(p1[1], styles["Heading2"]),
        Paragraph(p1[2], styles["BodyText"]),
        Paragraph(p1[3], styles["BodyText"]),
        Preformatted(EXAM_CODE, styles["Code"]),
        PageBreak(),
    ]
    pages.append("\n".join([*p1, EXAM_CODE]))
    p2 = [
        "Exercice 2 : bases de données (7 points)",
        "La table eleves du lycée contient les données suivantes. La clé primaire est id_eleve.",
        "1. Écrire une requête SQL qui renvoie le nom des élèves de la classe TG2 ayant une moyenne supérieure à 15.",
        "2. Expliquer pourquoi on ne peut pas insérer deux élèves ayant le même id_eleve.",
    ]
    table = Table(EXAM_TABLE)
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black)]))
    story += [
        Paragraph(p2[0], styles["Heading2"]),
        Paragraph(p2[1], styles["BodyText"]),
        table,
        Spacer(1, 12),
        Paragraph(p2[2], styles["BodyText"]),
        Paragraph(p2[3], styles["BodyText"]),
        PageBreak(),
    ]
    pages.append("\n".join([*p2[:2], *(" ".join(r) for r in EXAM_TABLE), *p2[2:]]))
    p3 = [
        "Exercice 3 : routage (7 points)",
        "Un réseau comporte les routeurs A, B, C et D. Le protocole RIP choisit la route qui minimise le nombre de "
        "sauts, tandis que OSPF minimise la somme des coûts calculés à partir de la bande passante.",
        "1. Donner la table de routage du routeur A avec le protocole RIP.",
        "2. Calculer le coût d'une liaison à 100 Mbit/s avec un débit de référence de 10^8 bit/s.",
    ]
    story += [Paragraph(p3[0], styles["Heading2"]), *(Paragraph(t, styles["BodyText"]) for t in p3[1:])]
    pages.append("\n".join(p3))
    doc.build(story)
    return buf.getvalue(), pages


HANDOUT = [
    (
        "1. La récursivité",
        "Une fonction récursive est une fonction qui s'appelle elle-même. Pour qu'elle termine, "
        "elle doit posséder un cas de base, traité sans appel récursif, et chaque appel doit se rapprocher de ce cas "
        "de base. Par exemple, la factorielle vérifie fact(0) = 1 et fact(n) = n × fact(n − 1).",
    ),
    (
        "2. La pile d'appels",
        "À chaque appel, Python empile un contexte contenant les variables locales. Lorsque la "
        "profondeur dépasse environ mille appels, Python lève une erreur RecursionError : c'est le dépassement de la "
        "pile d'appels. Une fonction sans cas de base provoque toujours cette erreur.",
    ),
    (
        "3. Diviser pour régner",
        "La méthode diviser pour régner découpe un problème en sous-problèmes plus petits, "
        "les résout récursivement puis combine les solutions. Le tri fusion coupe le tableau en deux moitiés, trie "
        "chaque moitié et fusionne les deux moitiés triées ; son coût est en n log n.",
    ),
    (
        "4. Programmation dynamique",
        "Quand les sous-problèmes se chevauchent, on mémorise leurs solutions pour ne pas "
        "les recalculer : c'est la programmation dynamique. Le calcul naïf de la suite de Fibonacci est exponentiel ; "
        "avec mémoïsation il devient linéaire.",
    ),
]


def handout_pdf() -> tuple[bytes, list[str]]:
    """A plain handout: numbered headings and paragraphs, two sections per page."""
    styles = getSampleStyleSheet()
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, title="Fiche de révision : récursivité")
    story: list[object] = []
    pages = []
    for i in range(0, len(HANDOUT), 2):
        texts = []
        for heading, body in HANDOUT[i : i + 2]:
            story += [Paragraph(heading, styles["Heading2"]), Paragraph(body, styles["BodyText"])]
            texts += [heading, body]
        story.append(PageBreak())
        pages.append("\n".join(texts))
    doc.build(story[:-1])
    return buf.getvalue(), pages


FIXTURES = {"diaporama-files.pdf": slides_pdf, "bac-blanc.pdf": exam_pdf, "fiche-recursivite.pdf": handout_pdf}
