"""Answer backends behind one interface: ``extractive`` (offline, grounded, deterministic) and ``openai``
(any OpenAI-compatible server: OpenAI, vLLM, Ollama, llama.cpp)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from knowledge.search import SearchHit
from knowledge.text import analyze
from tutor import prompts, render
from tutor.config import TutorSettings
from tutor.guardrails import INJECTION
from tutor.render import Block
from tutor.types import LearnerProfile, Turn


@dataclass
class AnswerRequest:
    """Everything a backend needs; ``hits[i]`` is source number ``i + 1``."""

    question: str
    query: str
    profile: LearnerProfile
    hits: Sequence[SearchHit]
    recent: Sequence[Turn] = ()
    summary: str | None = None
    out_of_level: bool = False
    hints_only: bool = False
    confident: bool = True
    usage: dict[str, int] = field(default_factory=dict)


class AnswerBackend(Protocol):
    """Streams answer text; fills ``request.usage`` with ``prompt_tokens``/``completion_tokens`` when known."""

    model: str

    def generate(self, request: AnswerRequest) -> AsyncIterator[str]: ...


def words(text: str) -> list[str]:
    """Split text into streamable pieces (a word and its trailing space)."""
    return re.findall(r"\S+\s*|\s+", text)


# --------------------------------------------------------------------------------------------------- extractive

_DEFINITION = re.compile(
    r"\b(est (un|une|le|la|l')|sont des|désigne|s'appelle|on appelle|on dit qu|consiste à|permet de|signifie|"
    r"correspond à|représente)\b",
    re.IGNORECASE,
)
# What a question asks, on its folded text: how to do something (the code shows it), why something fails (the
# pitfall and its fix), what something is (the definition), or about an exercise or an exam subject.
_ASKS_HOW = re.compile(
    r"\bcomment (on |je |tu |faire|fait|ecri|cod|program|implement|utilis|cre|parcour|ajout|supprim|calcul|trouv|"
    r"obten|convert|tri|lire|ouvr|affich|inverse|echang|compt|recup|modifi|declar|definir|teste|verifi)|"
    r"\b(ecrire|coder|programmer|implementer|syntaxe|en python|le code|un code|quel code)\b"
)
_ASKS_WHY = re.compile(
    r"\b(plante|plantage|erreur|error|bug|beug\w*|crash\w*|marche pas|fonctionne pas|traceback|exception|"
    r"boucle infinie|\w+error)\b"
)
_ASKS_WHAT = re.compile(
    r"\b(c.?est quoi|c koi|ckoi|qu.est.ce qu|que veut dire|veut dire quoi|ca veut dire|signifie|definition|"
    r"definir|ca sert a quoi|sert a quoi|c.est quoi)\b"
)
_ABOUT_EXERCISE = re.compile(
    r"\b(exo|exos|exercice|exercices|sujet|sujets|bac|ds|dm|devoir|devoirs|controle|epreuve|interro|evaluation|"
    r"corrige|correction|la solution|la reponse a la question|question \d+)\b"
)
_PITFALL = re.compile(r"\b(piege|erreur|attention|bug|oubli|se tromper|confondre)", re.IGNORECASE)
_METHOD = re.compile(r"\b(methode|principe|algorithme|demarche|etapes?)\b")
_GENERIC_SECTIONS = re.compile(
    r"(cours|definitions?|exemples?|exercices|remarques?|introduction|methode|resume|a retenir|vocabulaire|"
    r"activites?|synthese|pieges frequents|corriges?)"
)
_LEVEL_NOTE = "*Remarque : cette notion est hors programme de Première (elle est étudiée en Terminale).*"
_EXERCISE_LEAD = (
    "Je ne te donne pas la solution toute faite de l'exercice : voici la méthode et ce que dit ton cours "
    "sur {topic} [{n}] :"
)
_EXERCISE_CLOSE = (
    "Essaie d'appliquer cette méthode à ton exercice, étape par étape. Tu veux un indice pour la première "
    "étape ? Dis-moi ce que tu as déjà essayé."
)


def _defines(sentence: str, terms: set[str]) -> bool:
    """A definition names a term of the question before its verb: "Une pile est une structure…"."""
    match = _DEFINITION.search(sentence)
    return match is not None and bool(terms & set(analyze(sentence[: match.start()])))


@dataclass(frozen=True)
class _Intent:
    how: bool
    why: bool
    what: bool
    exercise: bool


def _intent(question: str) -> _Intent:
    q = _fold(question)
    why = bool(_ASKS_WHY.search(q)) or q.startswith(("pourquoi", "pk ", "pq "))
    return _Intent(bool(_ASKS_HOW.search(q)), why, bool(_ASKS_WHAT.search(q)), bool(_ABOUT_EXERCISE.search(q)))


@dataclass
class _Passage:
    n: int
    hit: SearchHit
    blocks: list[Block]
    scores: list[float]
    score: float

    @property
    def best(self) -> int:
        return max(range(len(self.scores)), key=lambda i: (self.scores[i], -i))


class ExtractiveBackend:
    """A grounded French answer made of whole, clean passages of the retrieved course.

    A short lead (the defining sentence of the asked notion, or "Voici ce que dit ton cours sur …"), then the part
    of the best passage that answers as clean Markdown (:mod:`tutor.render`: lists whole, code blocks whole and
    balanced, console sessions as code, no markup syntax, no cut sentence), then at most ``max_extra`` more
    passages when they add words of the question; each cited. "Comment on fait ?" and "pourquoi ça plante ?"
    questions are answered by the passage that shows how (code, pitfalls), "c'est quoi ?" by the definition. A
    student asking about an exercise or an exam subject gets the method and the course, never an answer key.
    Adapted to the asker's role; deterministic; sentences that look like instructions to the assistant are
    never quoted.

    Example:
        >>> text = "".join([t async for t in ExtractiveBackend().generate(request)])
    """

    model = "extractive"

    def __init__(
        self, max_extra: int = 2, focus: int = 2, budget_words: int = 170, budget_code_lines: int = 30
    ) -> None:
        self.max_extra = max_extra
        self.focus = focus
        self.budget_words = budget_words
        self.budget_code_lines = budget_code_lines

    async def generate(self, request: AnswerRequest) -> AsyncIterator[str]:
        text = self.compose(request)
        request.usage = {"prompt_tokens": 0, "completion_tokens": len(words(text))}
        for piece in words(text):
            yield piece

    # ------------------------------------------------------------------------------------------------ scoring

    def _passages(self, request: AnswerRequest, terms: set[str], intent: _Intent) -> list[_Passage]:
        role = request.profile.role
        out: list[_Passage] = []
        for n, hit in enumerate(request.hits, start=1):
            kind = hit.payload.get("content_type")
            if kind == "corrige" and role == "student" and (intent.exercise or request.hints_only):
                continue  # an exercise's answer key is never pasted to a student working on it
            found = [b for b in render.blocks(hit.text) if not (b.is_code and INJECTION.search(_fold(b.text)))]
            if role == "parent":
                found = render.tidy([b for b in found if b.kind in ("text", "list", "label")])
            if not any(b.kind != "label" for b in found):
                continue
            scores = [self._block_score(b, terms, intent) for b in found]
            where = set(analyze(" ".join([hit.title, *hit.section_path])))
            section = _fold(" ".join(hit.section_path))
            score = max(scores) + 0.5 / n + 0.3 * len(terms & where) / max(1, len(terms))
            if kind in ("exercice", "corrige") and role != "teacher":
                score -= 0.4  # statements and answer keys make poor explanations
            if intent.exercise and role == "teacher" and kind == "corrige":
                score += 0.5  # a teacher asking about an exercise wants its answer key
            if intent.why and _PITFALL.search(section):
                score += 0.3
            if intent.exercise and _METHOD.search(section):
                score += 0.2
            out.append(_Passage(n, hit, found, scores, score))
        return out

    @staticmethod
    def _block_score(block: Block, terms: set[str], intent: _Intent) -> float:
        if block.kind == "label":
            return -1.0
        overlap = len(terms & set(analyze(block.text))) / max(1, len(terms))
        bonus = 0.0
        if block.is_code and (intent.how or intent.why):
            bonus += 0.5
        if intent.what and block.kind == "text" and any(_defines(s, terms) for s in render.split_sentences(block.text)):
            bonus += 0.5
        return overlap + bonus

    # ------------------------------------------------------------------------------------------------ excerpt

    def _excerpt(self, passage: _Passage, words_budget: int, code_budget: int) -> list[Block]:
        """The blocks around the best one: its introduction before it, what follows while the budget lasts."""
        found = passage.blocks
        a = passage.best
        start = a
        while start > 0 and (
            found[start - 1].kind == "label"
            or render.introduces(found[start - 1])
            or (found[start].is_code and found[start - 1].kind == "text" and start == a)
        ):
            start -= 1
            if found[start].kind != "label" and not render.introduces(found[start]):
                break
        chosen: list[Block] = []
        used_words = used_lines = 0
        for i in range(start, len(found)):
            block = found[i]
            cost_words = 0 if block.is_code else render.count_words(block) // (2 if block.kind == "table" else 1)
            cost_lines = block.text.count("\n") + 1 if block.is_code else 0
            if i > a and (used_words + cost_words > words_budget or used_lines + cost_lines > code_budget):
                break
            if i > a and block.kind == "label" and used_words >= words_budget // 3:
                break
            if i <= a and block.is_code and cost_lines > code_budget and block is not found[a]:
                continue
            chosen.append(block)
            used_words += cost_words
            used_lines += cost_lines
        return render.tidy(chosen)

    @staticmethod
    def _definition(blocks: Sequence[Block], terms: set[str]) -> str | None:
        for block in blocks:
            if block.kind != "text":
                continue
            for sentence in render.split_sentences(block.text):
                if _defines(sentence, terms) and 5 <= len(sentence.split()) <= 70:
                    return sentence
        return None

    # ------------------------------------------------------------------------------------------------ compose

    def compose(self, request: AnswerRequest) -> str:
        role = request.profile.role
        if not request.hits:
            return (
                "Je n'ai trouvé aucun passage de cours qui réponde à cette question. Reformule-la avec les mots "
                "de ton cours, ou précise le chapitre concerné."
            )
        terms = set(analyze(request.query)) or set(analyze(request.question))
        intent = _intent(request.question)
        exercise = intent.exercise and role == "student"
        passages = self._passages(request, terms, intent)
        if not request.confident or not passages:
            return _not_sure(request)
        # Grounded in the best-ranked passages: a passage of a lower rank that matches the question's words is
        # more often off the point than the one ranked first (measured: most citations of ranks 3-5 were).
        ranked = sorted(passages, key=lambda p: (-p.score, p.n))
        main = next((p for p in ranked if p.n <= self.focus), ranked[0])
        if exercise:  # the method is in the course, not in the statement of the exercise
            main = next((p for p in ranked if p.hit.payload.get("content_type") not in ("exercice", "corrige")), main)
        excerpt = self._excerpt(main, self.budget_words, self.budget_code_lines)
        parts: list[str] = []
        if request.out_of_level:
            parts.append(_LEVEL_NOTE)
        if request.hints_only and role == "student":
            return "\n\n".join([*parts, *_hints(excerpt, main, ranked, terms)])
        if role == "parent":
            excerpt = excerpt[:2]
        topic = _topic(main.hit)
        definition = None if (intent.how or intent.why or exercise) else self._definition(excerpt, terms)
        if definition is None and not (intent.how or intent.why or exercise):
            definition = self._definition(main.blocks, terms)
        if exercise:
            lead = _EXERCISE_LEAD.format(topic=topic, n=main.n)
        elif definition:
            prefix = {"parent": "En quelques mots : ", "student": "D'après ton cours : "}.get(role, "")
            lead = f"{prefix}{definition} [{main.n}]"
            excerpt = _without(excerpt, definition)
        else:
            whose = {"student": "ton cours", "parent": "le cours de votre enfant"}.get(role, "le cours")
            lead = f"Voici ce que dit {whose} sur {topic} [{main.n}] :"
        if not excerpt and lead.endswith(":"):
            lead = f"{lead[:-2]}."
        parts.append(lead)
        parts += [b.markdown() for b in excerpt]
        if role != "parent":
            parts += self._extras(ranked, main, excerpt, terms, intent, exercise, role == "student")
        if role == "teacher":
            trap = next((h for h in request.hits if "Pièges fréquents" in h.section_path), None)
            if trap:
                n = list(request.hits).index(trap) + 1
                parts.append(f"**Piège fréquent chez les élèves** : {trap.section_path[-1]} [{n}]")
        if exercise:
            parts.append(_EXERCISE_CLOSE)
        elif role == "student":
            parts.append("Tu veux un petit exercice pour vérifier que tu as bien compris ?")
        elif role == "parent":
            parts.append(
                "Pour accompagner votre enfant, vous pouvez lui demander de vous expliquer cette notion avec "
                "ses propres mots."
            )
        return "\n\n".join(parts)

    def _extras(
        self,
        ranked: Sequence[_Passage],
        main: _Passage,
        excerpt: Sequence[Block],
        terms: set[str],
        intent: _Intent,
        exercise: bool,
        student: bool,
    ) -> list[str]:
        """At most ``max_extra`` more passages among the best ranked, each when it adds a word of the question
        (or, for a "how" question, the code the main passage lacks)."""
        shown = " ".join(b.text for b in excerpt)
        covered = terms & set(analyze(shown))
        has_code = any(b.is_code for b in excerpt)
        out: list[str] = []
        added = 0
        for passage in sorted(ranked, key=lambda p: p.n):
            if added >= self.max_extra or passage is main or passage.n > self.focus + 1:
                continue
            if exercise and passage.hit.payload.get("content_type") in ("exercice", "corrige"):
                continue
            part = self._excerpt(passage, self.budget_words // 2, self.budget_code_lines // 2)
            text = " ".join(b.text for b in part)
            new = (terms & set(analyze(text))) - covered
            code = (intent.how or intent.why) and not has_code and any(b.is_code for b in part)
            if not part or _similar(text, shown) or not (len(new) >= max(1, len(terms) // 4) or code):
                continue
            if passage.scores[passage.best] < 0.34 and not code:
                continue
            covered |= new
            has_code = has_code or any(b.is_code for b in part)
            shown += " " + text
            added += 1
            whose = "Ton cours" if student else "Le cours"
            out.append(f"{whose} en parle aussi dans {_topic(passage.hit)} [{passage.n}] :")
            out += [b.markdown() for b in part]
        return out


def _topic(hit: SearchHit) -> str:
    """How an answer names a passage: « section » (chapter), or « chapter » when the section is generic."""
    section = hit.section_path[-1] if hit.section_path else ""
    if not section or _GENERIC_SECTIONS.fullmatch(_fold(section).strip()):
        return f"« {hit.title} »"
    return f"« {section} » ({hit.title})"


def _without(blocks: Sequence[Block], sentence: str) -> list[Block]:
    """The blocks without a sentence already said (the lead), dropping a paragraph it leaves empty."""
    out: list[Block] = []
    for block in blocks:
        if block.kind == "text" and sentence in block.text:
            rest = " ".join(s for s in render.split_sentences(block.text) if s != sentence)
            if not rest:
                continue
            block = Block("text", rest)
        out.append(block)
    return render.tidy(out)


def _hints(excerpt: Sequence[Block], main: _Passage, ranked: Sequence[_Passage], terms: set[str]) -> list[str]:
    """Hints only: whole sentences of the course (never code), the best ones first, and a nudge to try."""
    sentences: list[tuple[float, int, str, int]] = []
    for passage in [main, *(p for p in ranked if p is not main and p.n <= 2)]:
        for block in excerpt if passage is main else passage.blocks:
            if block.kind != "text":
                continue
            for s in render.split_sentences(block.text):
                if s.rstrip().endswith(":") or len(s.split()) < 5:
                    continue
                overlap = len(terms & set(analyze(s))) / max(1, len(terms))
                sentences.append((-(overlap + (0.3 if passage is main else 0.0)), len(sentences), s, passage.n))
    chosen: list[tuple[str, int]] = []
    for _, _, s, n in sorted(sentences):
        if len(chosen) == 3:
            break
        if not any(_similar(s, c) for c, _ in chosen):
            chosen.append((s, n))
    parts = ["Voici des pistes pour que tu trouves par toi-même (sans la solution complète) :"]
    parts += [f"- {s} [{n}]" for s, n in chosen] or [f"- Relis la partie {_topic(main.hit)} de ton cours [{main.n}]."]
    parts.append(
        "Essaie d'écrire la première étape, puis montre-moi ce que tu as fait : je te dirai si tu es sur la bonne voie."
    )
    return parts


def _not_sure(request: AnswerRequest) -> str:
    closest = []
    for i, hit in enumerate(request.hits[:3], start=1):
        where = " > ".join([hit.title, *hit.section_path[:1]])
        closest.append(f"- {where} [{i}]")
    return (
        "Je ne suis pas sûr que ton cours traite exactement cette question, je préfère ne pas inventer. "
        "Voici les passages les plus proches, qui peuvent t'aider :\n"
        + "\n".join(closest)
        + "\n\nTu peux reformuler ta question ou me dire de quel chapitre il s'agit."
    )


def _fold(text: str) -> str:
    from knowledge.text import fold

    return fold(text)


def _similar(a: str, b: str) -> bool:
    ta, tb = set(analyze(a)), set(analyze(b))
    return bool(ta and tb) and len(ta & tb) / len(ta | tb) > 0.6


# ------------------------------------------------------------------------------------------------------- openai


def build_messages(request: AnswerRequest) -> list[dict[str, str]]:
    """System prompt for the role and level, numbered sources as untrusted quotations, history, question."""
    profile = request.profile
    level_rule = prompts.load(f"level_{profile.level}.txt") if profile.level else ""
    system = prompts.load("system_common.txt").format(level_rule=level_rule)
    role_prompt = prompts.load(f"system_{profile.role}.txt")
    if profile.role == "student":
        role_prompt = role_prompt.format(hints_rule=prompts.load("hints_only.txt") if request.hints_only else "")
    items = []
    for n, hit in enumerate(request.hits, start=1):
        page = f' page="{hit.page}"' if hit.page else ""
        items.append(
            prompts.load("source_item.txt").format(
                n=n, title=hit.title, section=" > ".join(hit.section_path), page=page, text=hit.text.strip()
            )
        )
    sources = prompts.load("sources.txt").format(sources="\n".join(items) or "(aucune source trouvée)")
    notes = []
    if request.out_of_level:
        notes.append("Les sources pertinentes sont de Terminale : signale que c'est hors programme de Première.")
    if not request.confident:
        notes.append("Les sources semblent peu pertinentes : dis que tu n'es pas sûr et indique les chapitres proches.")
    messages = [{"role": "system", "content": "\n\n".join([system, role_prompt, sources, *notes])}]
    if request.summary:
        messages.append({"role": "system", "content": request.summary})
    messages += [{"role": t.role, "content": t.content} for t in request.recent]
    messages.append({"role": "user", "content": request.question})
    return messages


class OpenAIBackend:
    """Streams from an OpenAI-compatible chat completions endpoint with the ``openai`` SDK (it retries itself).

    Args:
        settings: base URL, key, model, timeout and token limit.
        client: an ``AsyncOpenAI`` to reuse (built from the settings otherwise).
    """

    def __init__(self, settings: TutorSettings, client: Any = None) -> None:
        from openai import AsyncOpenAI

        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else "sans-cle"
        self.client: Any = client or AsyncOpenAI(
            base_url=settings.openai_base_url, api_key=key, timeout=settings.llm_timeout_s, max_retries=2
        )
        self.model = settings.openai_model
        self.max_tokens = settings.llm_max_tokens

    async def generate(self, request: AnswerRequest) -> AsyncIterator[str]:
        stream = await self.client.chat.completions.create(
            model=self.model,
            messages=build_messages(request),
            stream=True,
            stream_options={"include_usage": True},
            max_tokens=self.max_tokens,
            temperature=0.2,
        )
        deltas = 0
        async for chunk in stream:
            if chunk.usage is not None:
                request.usage = {
                    "prompt_tokens": chunk.usage.prompt_tokens,
                    "completion_tokens": chunk.usage.completion_tokens,
                }
            for choice in chunk.choices:
                if choice.delta and choice.delta.content:
                    deltas += 1
                    yield choice.delta.content
        if not sum(request.usage.values()):  # servers that ignore include_usage stream ~one token per delta
            request.usage = {"completion_tokens": deltas}

    async def condense(self, question: str, history: Sequence[Turn]) -> str:
        """A standalone version of a follow-up question, by the LLM."""
        lines = "\n".join(f"{'Élève' if t.role == 'user' else 'ARIA'} : {t.content[:400]}" for t in history[-6:])
        response = await self.client.chat.completions.create(
            model=self.model,
            messages=[
                {"role": "user", "content": prompts.load("condense.txt").format(history=lines, question=question)}
            ],
            max_tokens=80,
            temperature=0,
        )
        text = (response.choices[0].message.content or "").strip()
        return text or question


def build_backend(settings: TutorSettings) -> AnswerBackend:
    """The backend the settings name."""
    if settings.llm_backend == "openai":
        return OpenAIBackend(settings)
    return ExtractiveBackend()
