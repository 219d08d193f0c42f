"""Sentiment scores for short texts (news headlines): a score in -1..1 and a label.

Two backends with one interface, `score(texts) -> list[SentimentScore]`:

- VADER (default): rule-based, ships its lexicon inside the package, needs no network or model,
  and is fast enough to score every headline of a news answer inline. A small crypto-market
  lexicon is added on top, because VADER's general-English lexicon has no opinion on "surges",
  "plunges" or "bullish".
- transformers: a text-classification pipeline loaded from a LOCAL model directory, used when
  CRYPTOHUB_SENTIMENT_MODEL_DIR (or an explicit model_dir) names one. transformers/torch are not
  in requirements.txt (too heavy); they are imported only when this backend is built.

No Django here: the caller passes the settings value, or the environment variable is read.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

logger = logging.getLogger(__name__)

MODEL_DIR_ENV = "CRYPTOHUB_SENTIMENT_MODEL_DIR"
# VADER's documented cut-offs on the compound score for positive / negative.
POSITIVE_THRESHOLD = 0.05
NEGATIVE_THRESHOLD = -0.05
LABELS = ("positive", "neutral", "negative")
# Headlines are short; this bounds the work one request can ask of a model.
MAX_TEXT_CHARS = 1000

# Market words VADER lacks or weighs for general English (its scale runs -4..+4).
CRYPTO_LEXICON: dict[str, float] = {
    "surge": 1.8, "surges": 1.8, "surged": 1.8, "surging": 1.8,
    "soar": 2.0, "soars": 2.0, "soared": 2.0, "soaring": 2.0,
    "rally": 1.8, "rallies": 1.8, "rallied": 1.8, "rallying": 1.8,
    "jumps": 1.2, "rises": 1.0, "inflows": 1.0, "breakout": 1.2, "bullish": 2.0,
    "bearish": -2.0, "plunge": -2.2, "plunges": -2.2, "plunged": -2.2, "plunging": -2.2,
    "crashes": -2.0, "crashed": -2.0, "tumble": -1.8, "tumbles": -1.8, "tumbled": -1.8,
    "slump": -1.8, "slumps": -1.8, "slumped": -1.8, "selloff": -1.6, "sell-off": -1.6,
    "falls": -1.0, "drops": -1.1, "outflows": -1.0, "liquidated": -1.5, "liquidations": -1.2,
    "hack": -2.0, "hacks": -2.0, "exploit": -2.0, "rug": -2.5, "rugpull": -2.5,
    "bankruptcy": -2.6, "sues": -1.5, "bans": -2.0,
}


class SentimentUnavailable(RuntimeError):
    """The configured backend cannot run here (missing package or model directory)."""


@dataclass(frozen=True)
class SentimentScore:
    text: str
    score: float  # -1 (most negative) .. 1 (most positive)
    label: str  # positive | neutral | negative

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class SentimentBackend(Protocol):
    name: str

    def score(self, texts: Sequence[str]) -> list[SentimentScore]: ...


def label_for(score: float) -> str:
    if score >= POSITIVE_THRESHOLD:
        return "positive"
    if score <= NEGATIVE_THRESHOLD:
        return "negative"
    return "neutral"


@functools.cache
def _vader_analyzer() -> Any:
    # Loading the lexicon file takes ~20 ms; one analyzer per process serves every request.
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    analyzer.lexicon.update(CRYPTO_LEXICON)
    return analyzer


class VaderBackend:
    name = "vader"

    def score(self, texts: Sequence[str]) -> list[SentimentScore]:
        analyzer = _vader_analyzer()
        results = []
        for text in texts:
            compound = float(analyzer.polarity_scores(text[:MAX_TEXT_CHARS])["compound"])
            results.append(SentimentScore(text=text, score=round(compound, 4), label=label_for(compound)))
        return results


def _canonical_label(raw: str, label_count: int) -> str:
    """positive/neutral/negative from a model's label ("POSITIVE", "Bearish", "LABEL_2")."""
    name = raw.strip().lower()
    if name in ("positive", "pos", "bullish"):
        return "positive"
    if name in ("negative", "neg", "bearish"):
        return "negative"
    if name in ("neutral", "neu"):
        return "neutral"
    if name.startswith("label_") and name[6:].isdigit():
        index = int(name[6:])
        # Unnamed labels follow the usual order: (negative, positive) or (negative, neutral, positive).
        order = ("negative", "positive") if label_count == 2 else ("negative", "neutral", "positive")
        if index < len(order):
            return order[index]
    raise SentimentUnavailable(f"model label {raw!r} is not positive, neutral or negative")


class TransformersBackend:
    """A transformers text-classification pipeline over a local model directory.

    `pipeline` may be given directly (any callable with the pipeline's call signature), which is
    how unit tests exercise the mapping without the heavy packages installed.
    """

    name = "transformers"

    def __init__(self, model_dir: str | None = None, *, pipeline: Callable[..., Any] | None = None):
        if pipeline is None:
            if not model_dir or not os.path.isdir(model_dir):
                raise SentimentUnavailable(f"sentiment model directory {model_dir!r} does not exist")
            pipeline = _load_pipeline(model_dir)
        self._pipeline = pipeline

    def score(self, texts: Sequence[str]) -> list[SentimentScore]:
        if not texts:
            return []
        # top_k=None returns every label's probability, so the score can weigh both sides.
        outputs = self._pipeline([text[:MAX_TEXT_CHARS] for text in texts], top_k=None, truncation=True)
        if len(outputs) != len(texts):
            raise SentimentUnavailable(f"pipeline answered {len(outputs)} results for {len(texts)} texts")
        return [self._one(text, output) for text, output in zip(texts, outputs, strict=True)]

    def _one(self, text: str, output: Any) -> SentimentScore:
        rows = [output] if isinstance(output, dict) else list(output)
        probabilities = dict.fromkeys(LABELS, 0.0)
        for row in rows:
            probabilities[_canonical_label(str(row["label"]), len(rows))] += float(row["score"])
        score = max(-1.0, min(1.0, probabilities["positive"] - probabilities["negative"]))
        # The model's own winner is the label; the score keeps the margin between the two sides.
        label = max(LABELS, key=lambda name: probabilities[name])
        return SentimentScore(text=text, score=round(score, 4), label=label)


def _load_pipeline(model_dir: str) -> Callable[..., Any]:
    try:
        from transformers import pipeline
    except ImportError as exc:  # the packages are optional, see the module docstring
        raise SentimentUnavailable("the transformers backend needs `transformers` and `torch` installed") from exc
    logger.info("sentiment: loading transformers model from %s", model_dir)
    return pipeline("text-classification", model=model_dir, tokenizer=model_dir)


@functools.cache
def _transformers_backend(model_dir: str) -> TransformersBackend:
    # Loading a model takes seconds and hundreds of MB: once per process and directory.
    return TransformersBackend(model_dir)


def get_backend(model_dir: str | None = None) -> SentimentBackend:
    """The transformers backend when a model directory is configured, otherwise VADER.

    A configured but unusable model falls back to VADER with a warning rather than failing
    every sentiment request.
    """
    model_dir = model_dir if model_dir is not None else os.environ.get(MODEL_DIR_ENV, "")
    if model_dir:
        try:
            return _transformers_backend(model_dir)
        except SentimentUnavailable as exc:
            logger.warning("sentiment: falling back to VADER: %s", exc)
    return VaderBackend()


def score_texts(texts: Sequence[str], *, backend: SentimentBackend | None = None) -> list[dict[str, Any]]:
    """[{"text", "score", "label"}] for each text, in order."""
    return [result.to_dict() for result in (backend or get_backend()).score(list(texts))]


def summarize(scores: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Mean score, its label and the count per label over scored texts (e.g. a coin's headlines)."""
    counts = dict.fromkeys(LABELS, 0)
    for item in scores:
        counts[item["label"]] += 1
    mean = round(sum(item["score"] for item in scores) / len(scores), 4) if scores else 0.0
    return {"score": mean, "label": label_for(mean), "count": len(scores), "counts": counts}
