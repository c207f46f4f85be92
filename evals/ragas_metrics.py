"""ragas metrics: the four that need no LLM always, faithfulness and answer relevancy when an OpenAI-compatible
endpoint is configured in the tutor settings.

Notes on what the offline figures mean here:
- context precision/recall compare the passages the answer used with the gold passages (the text under the gold
  heading, one passage per section as ARIA cites them, or the gold page) by normalised Levenshtein similarity
  (ragas' default threshold 0.5);
- ROUGE-L uses rouge-score's tokenizer, which keeps only ``[a-z0-9]``: accented letters split words, so French
  figures are lower than English ones but stable from one run to the next.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("RAGAS_DO_NOT_TRACK", "true")

from knowledge.embedder import Embedder  # noqa: E402
from tutor.config import TutorSettings  # noqa: E402

OFFLINE = ("context_precision", "context_recall", "string_similarity", "rouge_l")
LLM_JUDGED = ("faithfulness", "answer_relevancy")


def llm_endpoint_configured(settings: TutorSettings) -> bool:
    """An OpenAI-compatible endpoint is configured when its URL or API key is set."""
    return bool(settings.openai_base_url or settings.openai_api_key)


class RagasScorer:
    """Scores one answer with ragas; LLM-judged metrics only when ``settings`` names an endpoint.

    Args:
        settings: the tutor settings (endpoint, model, key).
        embedder: the dense model, for answer relevancy's question similarity.
    """

    def __init__(self, settings: TutorSettings, embedder: Embedder) -> None:
        from ragas.metrics._context_precision import NonLLMContextPrecisionWithReference
        from ragas.metrics._context_recall import NonLLMContextRecall
        from ragas.metrics._string import NonLLMStringSimilarity
        from ragas.metrics.collections import RougeScore

        self._offline: dict[str, Any] = {
            "context_precision": NonLLMContextPrecisionWithReference(),
            "context_recall": NonLLMContextRecall(),
            "string_similarity": NonLLMStringSimilarity(),
        }
        self._rouge = RougeScore(rouge_type="rougeL", mode="fmeasure")
        self._judged: dict[str, Any] = {}
        if llm_endpoint_configured(settings):
            self._judged = _judged_metrics(settings, embedder)
        self.names = OFFLINE + tuple(self._judged)
        self.errors = 0

    async def score(
        self, question: str, response: str, reference: str, contexts: Sequence[str], references: Sequence[str]
    ) -> dict[str, float | None]:
        from ragas.dataset_schema import SingleTurnSample

        out: dict[str, float | None] = dict.fromkeys(self.names)
        contexts, references = list(contexts), list(references)
        if contexts and references:
            sample = SingleTurnSample(retrieved_contexts=contexts, reference_contexts=references)
            out["context_precision"] = _num(await self._offline["context_precision"].single_turn_ascore(sample))
            out["context_recall"] = _num(await self._offline["context_recall"].single_turn_ascore(sample))
        if response and reference:
            pair = SingleTurnSample(response=response, reference=reference)
            out["string_similarity"] = _num(await self._offline["string_similarity"].single_turn_ascore(pair))
            out["rouge_l"] = _num((await self._rouge.ascore(reference=reference, response=response)).value)
        if response and contexts and "faithfulness" in self._judged:
            out["faithfulness"] = await self._judge(
                "faithfulness", user_input=question, response=response, retrieved_contexts=contexts
            )
        if response and "answer_relevancy" in self._judged:
            out["answer_relevancy"] = await self._judge("answer_relevancy", user_input=question, response=response)
        return out

    async def _judge(self, name: str, **kwargs: Any) -> float | None:
        try:
            return _num((await self._judged[name].ascore(**kwargs)).value)
        except Exception:  # a judge that returns unusable output scores nothing for this answer
            self.errors += 1
            return None


def _num(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if number != number else number  # NaN: nothing to score


def _judged_metrics(settings: TutorSettings, embedder: Embedder) -> dict[str, Any]:
    from openai import AsyncOpenAI
    from ragas.embeddings.base import BaseRagasEmbedding
    from ragas.llms import llm_factory
    from ragas.metrics.collections import AnswerRelevancy, Faithfulness

    class _Embedding(BaseRagasEmbedding):
        """Our model for ragas: answer relevancy compares the question with questions generated from the answer."""

        def embed_text(self, text: str, **kwargs: Any) -> list[float]:  # noqa: ARG002 - ragas' signature
            return list(embedder.embed_query(text))

        async def aembed_text(self, text: str, **kwargs: Any) -> list[float]:  # noqa: ARG002
            return self.embed_text(text)

    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else "not-needed"
    client = AsyncOpenAI(base_url=settings.openai_base_url, api_key=key, timeout=settings.llm_timeout_s)
    llm = llm_factory(settings.openai_model, client=client)
    return {
        "faithfulness": Faithfulness(llm=llm),
        "answer_relevancy": AnswerRelevancy(llm=llm, embeddings=_Embedding()),
    }
