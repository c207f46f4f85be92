"""Answer backends behind one interface: ``extractive`` (offline, grounded, deterministic) and ``openai``
(any OpenAI-compatible server: OpenAI, vLLM, Ollama, llama.cpp)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from knowledge.search import SearchHit
from knowledge.text import analyze
from tutor import prompts
from tutor.config import TutorSettings
from tutor.guardrails import INJECTION
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

_CODE_BLOCK = re.compile(r"```[^\n]*\n(.*?)```", re.DOTALL)
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-ZÀÂÉÈÊÎÔÛÇ«\"(`*])")
_DEFINITION = re.compile(
    r"\b(est (un|une|le|la|l')|sont des|désigne|s'appelle|on appelle|on dit qu|consiste à|permet de|signifie|"
    r"correspond à|représente)\b",
    re.IGNORECASE,
)
_LEVEL_NOTE = "*Remarque : cette notion est hors programme de Première (elle est étudiée en Terminale).*"


@dataclass
class _Sentence:
    text: str
    source: int
    score: float
    position: int = 0
    defines: bool = False


def _defines(sentence: str, terms: set[str]) -> bool:
    """A definition names a term of the question before its verb: "Une pile est une structure…"."""
    match = _DEFINITION.search(sentence)
    return match is not None and bool(terms & set(analyze(sentence[: match.start()])))


def _clean_markdown(text: str) -> str:
    text = re.sub(r"^#+\s*", "", text, flags=re.MULTILINE)
    text = re.sub(r"^\s*[-*]\s+", "", text, flags=re.MULTILINE)
    return " ".join(text.split())


def _prose(text: str) -> list[str]:
    """Sentences of a passage, without code blocks and table rows.

    A sentence announcing a list ("… vérifie :") keeps the list that follows it; one announcing a table (dropped)
    or anything else is left alone.
    """
    text = _CODE_BLOCK.sub("\n\n", text)
    raw = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
    merged: list[str] = []
    follows_colon = False
    for para in raw:
        is_table = para.lstrip().startswith("|")
        is_list = bool(re.match(r"\s*([-*]|\d+[.)])\s", para))
        clean = "" if is_table else _clean_markdown(para)
        if follows_colon and is_list and merged:
            merged[-1] = f"{merged[-1]} {clean}"
        elif clean:
            merged.append(clean)
        follows_colon = bool(merged) and merged[-1].endswith(":") and not is_table
    out: list[str] = []
    for para in merged:
        out += [s.strip() for s in _SENTENCE.split(para) if s.strip()]
    return out


class ExtractiveBackend:
    """A grounded French answer built from the best sentences of the retrieved passages.

    Definition first, then supporting sentences, then an example (code or "par exemple"), each cited and taken
    from the ``focus`` best-ranked passages when they have any; adapted to the asker's role; deterministic.
    Sentences that look like instructions to the assistant are never quoted.

    Example:
        >>> text = "".join([t async for t in ExtractiveBackend().generate(request)])
    """

    model = "extractive"

    def __init__(self, max_support: int = 2, focus: int = 2) -> None:
        self.max_support = max_support
        self.focus = focus

    async def generate(self, request: AnswerRequest) -> AsyncIterator[str]:
        text = self.compose(request)
        request.usage = {"prompt_tokens": 0, "completion_tokens": len(words(text))}
        for piece in words(text):
            yield piece

    def _candidates(self, request: AnswerRequest) -> list[_Sentence]:
        terms = set(analyze(request.query)) or set(analyze(request.question))
        out: list[_Sentence] = []
        for i, hit in enumerate(request.hits, start=1):
            for pos, sentence in enumerate(_prose(hit.text)):
                n_words = len(sentence.split())
                if n_words < 5 or n_words > 90 or sentence.endswith(":") or INJECTION.search(_fold(sentence)):
                    continue
                s_terms = set(analyze(sentence))
                overlap = len(terms & s_terms) / max(1, len(terms))
                defines = _defines(sentence, terms)
                score = overlap + 0.5 / i + (0.35 if defines else 0.0) + (0.1 if pos == 0 else 0.0)
                if hit.payload.get("content_type") in ("exercice", "corrige") and request.profile.role != "teacher":
                    score -= 0.4  # statements and answer keys make poor explanations
                out.append(_Sentence(sentence, i, score, pos, defines))
        return sorted(out, key=lambda s: s.score, reverse=True)

    def _example(self, request: AnswerRequest, used: set[int]) -> tuple[str, int] | None:
        for i, hit in enumerate(request.hits[: self.focus], start=1):
            if hit.payload.get("content_type") == "corrige" and request.profile.role == "student":
                continue
            for match in _CODE_BLOCK.finditer(hit.text):
                code = match.group(0).strip()
                if 2 <= code.count("\n") <= 18:
                    return code, i
        for i, hit in enumerate(request.hits[: self.focus], start=1):
            for sentence in _prose(hit.text):
                if re.search(r"\bpar exemple\b|\bexemple\b", sentence, re.IGNORECASE) and i not in used:
                    return sentence, i
        return None

    def compose(self, request: AnswerRequest) -> str:
        role = request.profile.role
        if not request.hits:
            return (
                "Je n'ai trouvé aucun passage de cours qui réponde à cette question. Reformule-la avec les mots "
                "de ton cours, ou précise le chapitre concerné."
            )
        candidates = self._candidates(request)
        if not request.confident or not candidates:
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
        # Grounded in the best-ranked passages: a sentence of a lower one that matches the question's words is
        # more often off the point than the passage ranked first (measured: most citations of ranks 3-5 were).
        candidates = [c for c in candidates if c.source <= self.focus] or candidates
        best = candidates[0]
        definition = next((c for c in candidates if c.defines and c.score >= best.score - 0.3), best)
        chosen = [definition]
        for c in candidates:
            if len(chosen) > self.max_support:
                break
            if c is definition or c.score < 0.5 or any(_similar(c.text, o.text) for o in chosen):
                continue
            chosen.append(c)
        # the definition's own passage first, in reading order, then the others by score
        chosen = [definition] + sorted(chosen[1:], key=lambda c: (c.source != definition.source, c.position))
        parts: list[str] = []
        if request.out_of_level:
            parts.append(_LEVEL_NOTE)
        if request.hints_only and role == "student":
            parts.append("Voici des pistes pour que tu trouves par toi-même (sans la solution complète) :")
            parts += [f"- {c.text} [{c.source}]" for c in chosen]
            parts.append(
                "Essaie d'écrire la première étape, puis montre-moi ce que tu as fait : je te dirai si tu "
                "es sur la bonne voie."
            )
            return "\n\n".join(parts)
        lead = {"parent": "En quelques mots : ", "student": "D'après ton cours : "}.get(role, "")
        parts.append(f"{lead}{definition.text} [{definition.source}]")
        parts += [f"{c.text} [{c.source}]" for c in chosen[1:]]
        if role != "parent":
            example = self._example(request, {c.source for c in chosen})
            if example:
                code, source = example
                label = "**Exemple**" + f" [{source}] :"
                parts.append(f"{label}\n\n{code}" if code.startswith("```") else f"{label} {code}")
        if role == "teacher":
            trap = next((h for h in request.hits if "Pièges fréquents" in h.section_path), None)
            if trap:
                n = list(request.hits).index(trap) + 1
                parts.append(f"**Piège fréquent chez les élèves** : {trap.section_path[-1]} [{n}]")
        if role == "student":
            parts.append("Tu veux un petit exercice pour vérifier que tu as bien compris ?")
        elif role == "parent":
            parts.append(
                "Pour accompagner votre enfant, vous pouvez lui demander de vous expliquer cette notion avec "
                "ses propres mots."
            )
        return "\n\n".join(parts)


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
