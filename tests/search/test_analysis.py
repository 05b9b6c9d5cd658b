"""search.fields.TextAnalyzer gives exactly the tokens of Whoosh's composed chain."""

import pickle
import random

import pytest
from whoosh.analysis.analyzers import Analyzer

from search.fields import TextAnalyzer, build_schema, text_chain
from tests.search.docs import CORPUS

SAMPLES = [
    "",
    "   ",
    "The quick brown Fox jumped over the lazy dogs.",
    "Crème brûlée and CAFÉ au lait: naïve façades, Ærø, Straße, İstanbul, ĳssel.",
    "e.g. i.e. U.S.A. v1.2.3 3.14159 file.tar.gz ...dots... a.b",
    "wild* car*ds *stars* and snake_case_words, don't won't it's o'clock",
    "a I x y z 1 2 33 4444 — stop words: a an and are as at be by for if in into is it",
    "Тест кириллицы, 中文字符, العربية, ελληνικά, emoji 🙂 tabs\tand\nnew\nlines",
    "running runs ran runner easily fairly generously happiness relational conditional",
    "THE THE THE the the the; repeated repeated repeated words words",
]


def _random_text(rng: random.Random) -> str:
    words = " ".join(SAMPLES).split() + [doc.title for doc in CORPUS][:20]
    return " ".join(rng.choice(words) for _ in range(rng.randrange(1, 200)))


def _tokens(analyzer: Analyzer, text: str, **kwargs: object) -> list[tuple[object, ...]]:
    out = []
    for t in analyzer(text, **kwargs):
        out.append((
            t.text,
            t.stopped,
            t.boost,
            t.pos if kwargs.get("positions") else None,
            (t.startchar, t.endchar) if kwargs.get("chars") else None,
        ))
    return out


CALLS: list[dict[str, object]] = [
    {},
    {"mode": "query"},
    {"positions": True, "boosts": True, "mode": "index"},
    {"positions": True, "chars": True, "removestops": False},
    {"chars": True, "mode": "query"},
    {"positions": True, "start_pos": 7, "chars": True, "start_char": 100},
    {"no_morph": True, "positions": True},
    {"tokenize": False},
    {"keeporiginal": True, "positions": True},
]


@pytest.mark.parametrize("kwargs", CALLS, ids=lambda kw: ",".join(kw) or "plain")
def test_same_tokens_as_the_whoosh_chain(kwargs: dict[str, object]) -> None:
    fast, chain = TextAnalyzer(), text_chain()
    rng = random.Random(4)
    texts = SAMPLES + [f"{doc.title}\n{doc.content}" for doc in CORPUS]
    texts += [_random_text(rng) for _ in range(50)]
    for text in texts:
        # twice: once learning each word, once from what it remembered
        assert _tokens(fast, text, **kwargs) == _tokens(chain, text, **kwargs), text
        assert _tokens(fast, text, **kwargs) == _tokens(chain, text, **kwargs), text


def test_the_memory_of_words_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(TextAnalyzer, "MEMO_WORDS", 5)
    fast, chain = TextAnalyzer(), text_chain()
    text = SAMPLES[3] + " " + SAMPLES[8]
    assert _tokens(fast, text, positions=True) == _tokens(chain, text, positions=True)
    assert len(fast._words) <= 5


def test_it_survives_the_schema_pickle_an_index_keeps() -> None:
    schema = pickle.loads(pickle.dumps(build_schema()))
    analyzer = schema["content"].analyzer
    assert isinstance(analyzer, TextAnalyzer) and analyzer == TextAnalyzer()
    assert analyzer.has_morph()
    assert [t.text for t in analyzer("Running the cafés")] == ["run", "cafe"]
