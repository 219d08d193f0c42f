"""Sentiment scoring: VADER on known headlines, and the transformers backend's mapping code."""

import importlib.util

import pytest

from providers import sentiment
from providers.sentiment import (
    MAX_TEXT_CHARS,
    MODEL_DIR_ENV,
    SentimentUnavailable,
    TransformersBackend,
    VaderBackend,
    get_backend,
    score_texts,
    summarize,
)

POSITIVE = [
    ("Bitcoin soars to record high as investors celebrate massive gains", 0.8442),
    ("ETF approval boosts market confidence", 0.8271),
    # Needs the crypto lexicon: plain VADER scores this 0.0.
    ("Bitcoin surges past $100,000 in historic rally", 0.6808),
]
NEGATIVE = [
    ("Crypto exchange hacked, investors lose millions in devastating crash", -0.9081),
    ("Token plunges 40% after founder arrested for fraud", -0.8779),
    ("Scam alert: fake wallet app steals funds from users", -0.836),
]
NEUTRAL = [
    ("Ethereum developers schedule network upgrade for Tuesday", 0.0),
    ("Bitcoin price holds at 60,000 dollars", 0.0),
]


# --- VADER (default) ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "score", "label"),
    [(t, s, "positive") for t, s in POSITIVE] + [(t, s, "negative") for t, s in NEGATIVE]
    + [(t, s, "neutral") for t, s in NEUTRAL],
)
def test_vader_scores_known_headlines(text, score, label):
    assert score_texts([text], backend=VaderBackend()) == [{"text": text, "score": score, "label": label}]


def test_scores_come_back_in_input_order_within_minus_one_and_one():
    texts = [t for t, _ in POSITIVE + NEGATIVE + NEUTRAL]
    results = score_texts(texts, backend=VaderBackend())
    assert [r["text"] for r in results] == texts
    assert all(-1.0 <= r["score"] <= 1.0 for r in results)


def test_empty_input_and_empty_text():
    assert score_texts([], backend=VaderBackend()) == []
    assert score_texts([""], backend=VaderBackend()) == [{"text": "", "score": 0.0, "label": "neutral"}]


def test_default_backend_is_vader_without_a_model_directory(monkeypatch):
    monkeypatch.delenv(MODEL_DIR_ENV, raising=False)
    assert get_backend().name == "vader"


def test_summarize_averages_scores_and_counts_labels():
    results = score_texts([POSITIVE[0][0], NEGATIVE[2][0], NEUTRAL[0][0]], backend=VaderBackend())
    assert summarize(results) == {
        "score": 0.0027,
        "label": "neutral",
        "count": 3,
        "counts": {"positive": 1, "neutral": 1, "negative": 1},
    }
    assert summarize([]) == {"score": 0.0, "label": "neutral", "count": 0,
                             "counts": {"positive": 0, "neutral": 0, "negative": 0}}


# --- transformers backend -----------------------------------------------------------------
# transformers and torch are not installed (too heavy for requirements.txt), so the mapping code
# is exercised with a fake pipeline injected at unit level: a legitimate unit-level mock of the
# one heavy dependency, with the real backend code around it.


class FakePipeline:
    """Answers like transformers' text-classification pipeline called with top_k=None."""

    def __init__(self, answers):
        self.answers = answers
        self.calls = []

    def __call__(self, texts, **kwargs):
        self.calls.append((list(texts), kwargs))
        return [self.answers[text] for text in texts]


def test_two_label_model_scores_positive_minus_negative():
    fake = FakePipeline({
        "up": [{"label": "POSITIVE", "score": 0.9}, {"label": "NEGATIVE", "score": 0.1}],
        "down": [{"label": "NEGATIVE", "score": 0.75}, {"label": "POSITIVE", "score": 0.25}],
    })
    backend = TransformersBackend(pipeline=fake)
    assert score_texts(["up", "down"], backend=backend) == [
        {"text": "up", "score": 0.8, "label": "positive"},
        {"text": "down", "score": -0.5, "label": "negative"},
    ]
    assert fake.calls == [(["up", "down"], {"top_k": None, "truncation": True})]


def test_three_unnamed_labels_follow_negative_neutral_positive():
    fake = FakePipeline({
        "meh": [
            {"label": "LABEL_1", "score": 0.6},
            {"label": "LABEL_2", "score": 0.3},
            {"label": "LABEL_0", "score": 0.1},
        ],
    })
    assert TransformersBackend(pipeline=fake).score(["meh"])[0].to_dict() == {
        "text": "meh", "score": 0.2, "label": "neutral",
    }


def test_named_finance_labels_and_a_single_dict_answer():
    fake = FakePipeline({
        "bull": [{"label": "Bullish", "score": 0.7}, {"label": "Bearish", "score": 0.3}],
        "finbert": {"label": "negative", "score": 0.95},
    })
    results = score_texts(["bull", "finbert"], backend=TransformersBackend(pipeline=fake))
    assert results == [
        {"text": "bull", "score": 0.4, "label": "positive"},
        {"text": "finbert", "score": -0.95, "label": "negative"},
    ]


def test_long_texts_are_cut_before_the_model_sees_them():
    long_text = "x" * (MAX_TEXT_CHARS + 500)
    fake = FakePipeline({"x" * MAX_TEXT_CHARS: [{"label": "NEUTRAL", "score": 1.0}]})
    [result] = TransformersBackend(pipeline=fake).score([long_text])
    assert result.text == long_text
    assert fake.calls[0][0] == ["x" * MAX_TEXT_CHARS]


def test_a_label_the_backend_cannot_place_is_refused():
    fake = FakePipeline({"t": [{"label": "joy", "score": 1.0}]})
    with pytest.raises(SentimentUnavailable, match="joy"):
        TransformersBackend(pipeline=fake).score(["t"])


def test_a_pipeline_that_drops_answers_is_refused():
    class Short(FakePipeline):
        def __call__(self, texts, **kwargs):
            return super().__call__(texts, **kwargs)[:1]

    fake = Short({"a": [{"label": "POSITIVE", "score": 1.0}], "b": [{"label": "POSITIVE", "score": 1.0}]})
    with pytest.raises(SentimentUnavailable, match="1 results for 2"):
        TransformersBackend(pipeline=fake).score(["a", "b"])


def test_no_texts_never_calls_the_model():
    fake = FakePipeline({})
    assert TransformersBackend(pipeline=fake).score([]) == []
    assert fake.calls == []


def test_a_missing_model_directory_falls_back_to_vader(monkeypatch, tmp_path):
    monkeypatch.setenv(MODEL_DIR_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(SentimentUnavailable, match="does not exist"):
        TransformersBackend(str(tmp_path / "nowhere"))
    assert get_backend().name == "vader"


def _heavy_packages_installed() -> bool:
    return importlib.util.find_spec("transformers") is not None and importlib.util.find_spec("torch") is not None


def _build_tiny_model(root):
    """A 1-layer BERT classifier with random (seeded) weights and a 9-word vocabulary."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

    torch.manual_seed(0)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "good", "bad", "news", "bitcoin"]
    (root / "vocab.txt").write_text("\n".join(vocab) + "\n")
    config = BertConfig(
        vocab_size=len(vocab), hidden_size=8, num_hidden_layers=1, num_attention_heads=2, intermediate_size=16,
        max_position_embeddings=32, num_labels=2, id2label={0: "NEGATIVE", 1: "POSITIVE"},
        label2id={"NEGATIVE": 0, "POSITIVE": 1},
    )
    model_dir = root / "model"
    BertForSequenceClassification(config).eval().save_pretrained(model_dir)
    BertTokenizer(vocab_file=str(root / "vocab.txt")).save_pretrained(model_dir)
    return model_dir


def test_transformers_backend_on_a_real_local_model_when_the_packages_exist(tmp_path):
    if _heavy_packages_installed():
        backend = TransformersBackend(str(_build_tiny_model(tmp_path)))
        results = backend.score(["good bitcoin news", "bad news"])
        assert [r.text for r in results] == ["good bitcoin news", "bad news"]
        assert all(-1.0 <= r.score <= 1.0 and r.label in ("positive", "negative") for r in results)
        assert backend.score(["bad news"]) == results[1:]
    else:
        # Without the optional packages a configured model fails with a clear reason, and the
        # service keeps scoring with VADER.
        (tmp_path / "config.json").write_text("{}")
        with pytest.raises(SentimentUnavailable, match="transformers"):
            TransformersBackend(str(tmp_path))
        assert get_backend(str(tmp_path)).name == "vader"
        sentiment._transformers_backend.cache_clear()
