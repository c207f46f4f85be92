"""Requests ARIA refuses kindly: prompt injection, cheating, personal data, other subjects.

Rules are explicit French patterns, general to how lycée students write (no accents, SMS spelling), not tuned
to a question list. Off-topic detection also needs retrieval evidence (see ``tutor.engine``): a question is
only judged off-topic here when it names another school subject or an everyday topic and no NSI notion.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from knowledge.text import fold

Category = Literal["injection", "triche", "donnees_personnelles", "hors_sujet"]


@dataclass(frozen=True)
class Verdict:
    """Why a message is refused."""

    category: Category
    rule: str


def _rx(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


# All patterns run on folded text (lowercase, no accents).
INJECTION = _rx(
    r"\b(ignore|oublie|oublies|ne tiens pas compte|fais abstraction)\w*\b.{0,40}\b(instructions?|consignes?|regles?|"
    r"directives?|prompt|ce qu.on t.a dit|tout ce qui precede|ce qui precede)",
    r"\b(ignore|disregard|forget)\b.{0,30}\b(previous|prior|above|all)\b.{0,20}\b(instructions?|rules?)",
    r"^\s*(\[?\s*)?(system|systeme|sys|admin|developer|developpeur)\s*(\]|:|>)",
    r"\b(nouveau|new)\s+(role|mode|prompt|system)\b",
    r"\btu es (maintenant|desormais|a present)\b",
    r"\b(mode|role)\s+(developpeur|developer|dan|admin|sans (limites?|filtres?|restrictions?))\b",
    r"\bjailbreak|\bdan\b.{0,20}\b(mode|prompt)|\bdo anything now\b",
    r"\b(repete|affiche|montre|donne|revele|ecris|recopie)\w*\b.{0,30}\b(ton|tes|le|les|ta)\s+(prompt|instructions?|"
    r"consignes?|message systeme|regles? (internes?|secretes?))",
    r"\bprompt (systeme|system|initial)\b",
    r"\bfais comme si tu n.avais (pas|aucune)\b",
    r"\bdesactive\w*\b.{0,20}\b(filtres?|securite|restrictions?|garde)",
    r"\boublie (que|qu.)\s*(t.es|tu es)\b",
    r"\ba partir de (maintenant|mtn|dorenavant)\b.{0,20}\b(t.es|tu es|tu seras|tu vas etre|tu dois)\b",
    r"\b(nouvelles?|vraies?) (consignes?|instructions?|regles?)\b",
    r"\b(regles?|instructions?|consignes?) (secretes?|cachees?|internes?)\b",
    r"\btu dois (maintenant |desormais )?m.obeir\b|\bobeis[- ]moi\b",
    r"\b(code|mot de passe|acces) (admin|administrateur|root|developpeur)\b",
)

CHEATING = _rx(
    r"\b(reponses?|corrige|correction|solutions?|sujet)s?\b.{0,40}\b(du|de la|de l.|des|pour le|pour la|d.un|d.une|"
    r"au)\s+(prochain\w* )?(controle|ds|dst|devoir surveille|interro\w*|evaluation|eval|examen|partiel|"
    r"bac blanc|qcm note)",
    r"\b(controle|ds|interro\w*|evaluation|examen|bac blanc)\b.{0,40}\b(reponses?|corrige|solutions?)\b.{0,20}"
    r"\b(avant|en avance|a l.avance|demain)",
    r"\b(fais|fait|faire|ecris|ecrire|redige|rediger|code|coder|termine|terminer|finis|finir)\b.{0,20}\b(mon|ma|mes)\s+"
    r"(devoir|dm|projet|tp|exercice|expose|dissertation|copie|controle|evaluation)s?\b.{0,40}\b(a ma place|pour moi|"
    r"et (je le|je la|je les) rend|que je rend|que je puisse rendre|je copie)",
    r"\b(a ma place|pour que je (le|la|les)? ?rende|que je (le|la|les)? ?rende)\b",
    r"\b(pendant|en plein|en direct du?)\s+(le |la |l.)?(controle|ds|examen|interro\w*|evaluation|bac)\b",
    r"\b(tricher|triche|antiseche|anti-seche|pomper|plagier)\b",
    r"\b(note|notes) (du|de la|des)\s+(controle|ds|bac)\b.{0,30}\b(changer|modifier|pirater)",
    r"\bpour que (le |la |mon |ma )?(prof\w*|enseignant\w*|correcteur)\b.{0,20}\b(ne )?(voie|voit|remarque|"
    r"detecte|sache|capte|grille)\w* pas\b",
    r"\b(detecteur|detection) (de |anti[- ]?)?plagiat\b|\bplagiat\b",
    r"\bque je (le |la |les )?(recopie|rende|rendre|copie)\b|\bcomme (le mien|la mienne|si c.etait (moi|le mien))\b",
    r"\bsujets? (du|de) (bac|controle|ds|examen)\b.{0,40}\bavant\b",
    r"\b(interro\w*|qcm|evaluation|controle|examen|test) (en ligne|chronometre\w*|en cours|note)\b.{0,60}"
    r"\b(reponds?|donne|reponses?)\b",
)

PERSONAL_DATA = _rx(
    r"\b(adresse|domicile|numero( de (telephone|tel|portable))?|telephone|06|07|mail|e-mail|email|courriel|"
    r"mot de passe|mdp|identifiants?|code|date de naissance|photo|instagram|snap|compte)\b.{0,40}"
    r"\b(de (mon|ma|mes|la|le|l.|cet|cette|un|une)\s*(prof\w*|eleve|camarade|copain|copine|pote|voisin\w*|"
    r"principal\w*|proviseur\w*|cpe|surveillant\w*|classe)|d.(un|une) (eleve|prof\w*|camarade)|"
    r"du (prof\w*|proviseur|principal|cpe)|des (eleves|profs?|autres))",
    r"\b(adresse|numero|telephone|mail|e-mail|email|courriel|instagram|snap)\b (perso\w*|privee?|personnel\w*)\b",
    r"\b(adresse|numero|telephone|mail|e-mail|email)\b.{0,15}\b(de )?(m|mme|monsieur|madame)\.? [a-z]+",
    r"\b(ou|dans quelle rue) (habite|vit|loge)\w*\b",
    r"\b(mot de passe|mdp|identifiants?|pronote|ent)\b.{0,30}\b(de|d.)\s*[A-Z]?[a-z]+\b.{0,10}$",
    r"\b(pirater|hacker|acceder a)\b.{0,30}\b(compte|pronote|ent|messagerie|telephone)\b.{0,30}\b(de|d.)\b",
    r"\b(donne|donner|trouve|trouver|liste|lister)\b.{0,30}\b(les )?(notes|bulletins?|absences?|dossiers?)\b.{0,20}"
    r"\b(des|d.autres?|de mes|de la classe|de (mon|ma) (camarade|voisin))",
    r"\b(notes?|moyennes?|bulletins?|resultats?|absences?) (de|d.) ?[a-z]+\b.{0,40}\b(acces|dit|sais|connais)\b",
    r"\b(historique|conversations?|messages?|questions?|discussions?) (de|des|d.) ?(mon |ma |mes )?"
    r"(pote|copain|copine|camarade|voisin|autres?|eleves?|[a-z]+ avec toi)\b",
    r"\bquels? (eleves?|personnes?|gens)\b.{0,30}\b(ont|a) (pose|demande|ecrit|eu)\b",
    r"\b(liste|donne)\w*\b.{0,15}\b(tous |toutes )?les eleves\b.{0,60}\b(qui|ayant|avec)\b",
)

# Markers of another subject strong enough to win over incidental NSI words ("tableau de variation").
STRONG_OTHER = _rx(
    r"\b(derivee|tableau de (variations?|signes?)|primitive|integrale|dissertation|commentaire compose|"
    r"f\(x\)\s*=|equation du second degre|discriminant)\b",
    r"\b(choisir entre|acheter|vaut mieux|conseille\w*)\b.{0,30}\b(iphone|samsung|xiaomi|telephone|console|"
    r"ps5|xbox|voiture|scooter)\b",
)

# Other subjects and everyday topics, and the NSI notions that cancel them ("la recette d'un algorithme" is NSI).
OTHER_TOPICS = _rx(
    r"\b(philo\w*|dissertation|commentaire (compose|de texte)|francais|litterature|poeme|poesie|roman|"
    r"histoire-geo\w*|histoire geo\w*|hggsp|geographie|ses|svt|physique|chimie|physique-chimie|anglais|espagnol|"
    r"allemand|latin|eps|musique|arts? plastiques?)\b",
    r"\b(recette|cuisine|gateau|crepes?|pates|meteo|quel temps|temps qu.il fait|pleuvoir|pleut|neiger?|"
    r"horoscope|astrologie|football|foot|match|ligue 1|serie|netflix|film|chanson|lettre d.amour|"
    r"declaration d.amour|drague|regime|maigrir|medicament|maladie|symptomes?|docteur|medecin|voyage|vacances|"
    r"mode|maquillage|jeu video|fortnite|minecraft)\b",
    r"\b(capitale de|president de la republique|guerre mondiale|revolution francaise|napoleon)\b",
    r"\b(equation|derivee|integrale|primitive|theoreme de pythagore|thales|trigonometrie|fonction exponentielle|"
    r"logarithme|limite de la fonction|suite arithmetique|suite geometrique|probabilites?|vecteurs?|dm de maths|"
    r"exos? de maths?|devoirs? de maths?|cours de maths?)\b",
)
NSI_TERMS = _rx(
    r"\b(python|programme|programmation|code|algorithme|algo|fonction python|variable|boucle|liste|tableau|"
    r"dictionnaire|tuple|p-uplet|pile|file|arbre|graphe|recursi\w*|tri|dichotomi\w*|glouton|complexite|cout|"
    r"binaire|hexadecimal|octet|bit|flottant|booleen|unicode|utf-?8|ascii|html|css|javascript|http|https|web|"
    r"serveur|client|reseau|routage|routeur|tcp|ip|protocole|processus|ordonnancement|interblocage|linux|"
    r"commande|shell|terminal|sql|base de donnees|requete|table|cle primaire|chiffrement|cryptographie|rsa|"
    r"cle publique|turing|calculabilite|decidabilite|indecidab\w*|probleme de l.arret|"
    r"objet|classe python|methode|attribut|modularite|module|"
    r"bibliotheque|import|affectation|paradigme|debug|bug|erreur|exception|assert|test|csv|donnees|informatique|nsi|ordinateur|"
    r"processeur|memoire|von neumann|porte logique|circuit|systeme d.exploitation|kpp|k plus proches|"
    r"boyer|moore|programmation dynamique|diviser pour regner|fusion|invariant|terminaison|virus|pirat\w*|"
    r"injection sql|mot de passe (fort|securise)|hachage|compilateur|interpreteur|fichier|encodage|capteur|"
    r"actionneur|robot|microcontroleur|micro:bit|arduino|ihm|formulaire|get|post|dom|evenement|url|dns|"
    r"adresse ip|paquet|bit alterne)\b",
)


def check(message: str) -> Verdict | None:
    """The refusal verdict for a message, or None when ARIA may answer it."""
    text = fold(message)
    text = re.sub(r"[’`]", "'", text)
    for category, pattern in (("injection", INJECTION), ("triche", CHEATING), ("donnees_personnelles", PERSONAL_DATA)):
        match = pattern.search(text)
        if match:
            # An NSI question *about* the topic ("c'est quoi une injection de prompt ?") is not an attempt.
            if category == "injection" and _asks_about(text, ("injection", "prompt", "jailbreak")):
                continue
            return Verdict(category, match.group(0))  # type: ignore[arg-type]
    strong = STRONG_OTHER.search(text)
    if strong:
        return Verdict("hors_sujet", strong.group(0))
    other = OTHER_TOPICS.search(text)
    if other and not NSI_TERMS.search(text):
        return Verdict("hors_sujet", other.group(0))
    return None


def _asks_about(text: str, words: tuple[str, ...]) -> bool:
    asks = re.search(
        r"\b(c.est quoi|c quoi|qu.est.ce qu|comment (marche|fonctionne)|explique|definition|"
        r"comment (se|s.en) proteger|pourquoi)\b",
        text,
    )
    return (
        bool(asks)
        and any(w in text for w in words)
        and not re.search(r"\b(ignore|oublie)\w*\b.{0,30}\binstructions?", text)
    )


def has_nsi_vocabulary(message: str) -> bool:
    """Whether a message names an NSI notion (used with retrieval evidence for off-topic questions)."""
    return bool(NSI_TERMS.search(fold(message)))
