"""The highlighter: the analyser decides what matches; only the cheap pre-filter is ours."""

import re

import pytest

from search.fields import text_analyzer
from search.highlight import (
    BETWEEN,
    FRAGMENT_CHARS,
    find_matches,
    highlight_content,
    highlight_title,
)

ANALYZER = text_analyzer()


def stems(text: str) -> set[str]:
    return {t.text for t in ANALYZER(text, mode="query")}


def marked(html: str) -> list[str]:
    return re.findall(r"<mark>(.*?)</mark>", html)


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        ("brew", "Brewing at home: she brews, we brewed.", ["Brewing", "brews", "brewed"]),
        ("study", "Two studies and one study.", ["studies", "study"]),
        ("hoping", "We hope so; hoping helps.", ["hope", "hoping"]),
        ("cafe", "A café, a CAFÉ and a cafeteria.", ["café", "CAFÉ"]),
        ("cat", "Cats, a cat, catalogues and concatenation.", ["Cats", "cat"]),
        ("u.s", "The U.S. economy", ["U.S"]),
        ("garden", "gardens, xgarden, my_garden, e.garden and (garden)", ["gardens", "garden"]),
        # lower() makes "İ" two characters: offsets must still be those of the text
        ("garden", "İstanbul garden, GARDENS", ["garden", "GARDENS"]),
    ],
)
def test_every_word_the_analyser_maps_to_a_term_is_marked(
    query: str, text: str, expected: list[str]
) -> None:
    found = find_matches(text, stems(query), ANALYZER)
    assert [text[m.start : m.end] for m in found] == expected
    assert marked(highlight_title(text, stems(query), ANALYZER)) == expected


def test_same_matches_as_running_the_analyser_over_every_word() -> None:
    text = (
        "Searching the searchable index: searches, researched topics, SEARCHERS, and a "
        "search-engine for running runners who ran and run daily; generously generous."
    )
    terms = stems("search runner generous")
    # (Whoosh reuses one Token object: read its offsets as the analyser goes)
    every = [
        (t.startchar, t.endchar)
        for t in ANALYZER(text, chars=True, mode="query")
        if t.text in terms
    ]
    assert len(every) == 6  # searching, searches, search(-engine), runners, generous(ly)
    assert [(m.start, m.end) for m in find_matches(text, terms, ANALYZER)] == every


def test_snippets_are_the_best_windows_in_text_order() -> None:
    filler = "lorem ipsum dolor sit amet " * 20
    text = f"{filler}coffee alone. {filler}coffee and tea together. {filler}tea alone. {filler}"
    html = highlight_content(text, stems("coffee tea"), ANALYZER)
    parts = html.split(BETWEEN)
    assert len(parts) == 2
    # the window with both words wins; the runner-up is the earlier single-word one
    assert marked(parts[0]) == ["coffee"]
    assert marked(parts[1]) == ["coffee", "tea"]
    for part in parts:
        plain = re.sub(r"</?mark>", "", part)
        assert len(plain) <= FRAGMENT_CHARS
        assert not plain.startswith(" ") and not plain.endswith(" ")
    assert parts[1].index("<mark>coffee</mark>") < parts[1].index("<mark>tea</mark>")


def test_text_around_matches_is_escaped() -> None:
    text = '<b>x</b> "quoted" & <script>coffee()</script> <img onerror=coffee>'
    html = highlight_content(text, stems("coffee"), ANALYZER)
    assert marked(html) == ["coffee", "coffee"]
    assert re.sub(r"</?mark>", "", html).count("<") == 0
    assert "&lt;script&gt;" in html and "&amp;" in html and "&quot;quoted&quot;" in html


def test_no_match_gives_the_start_of_the_text() -> None:
    text = "word " * 100
    html = highlight_content(text, stems("absent"), ANALYZER)
    assert "<mark>" not in html and html.endswith("…") and len(html) == 201
    assert highlight_title("A <title>", stems("absent"), ANALYZER) == "A &lt;title&gt;"


def test_random_texts_mark_exactly_what_the_analyser_matches() -> None:
    """Tokens with dots, underscores, accents, capitals, curly quotes and query heads inside
    other words: the pre-filter finds every token the analyser turns into a query term, and
    only those (texts with accents are folded; texts whose only non-ASCII characters are
    punctuation are not)."""
    import random

    rng = random.Random(4)
    pieces = ["garden", "Gardens", "gardening", "xgarden", "my_garden", "e.g.", "U.S.",
              "café", "CAFÉS", "cafeteria", "run", "runners", "re-run", "rerun", "ran",
              "studies", "study.com", "İstanbul", "the", "a", "(garden)", "garden.", "ga",
              "runner's", "éa", "runrun", "garde", "gardenia", "runner’s", "“garden”", "—",
              "gardén", "…"]
    for _ in range(300):
        text = " ".join(rng.choice(pieces) for _ in range(rng.randrange(1, 25)))
        terms = stems(" ".join(rng.sample(["garden", "cafe", "runner", "study", "u.s", "run"],
                                          rng.randrange(1, 4))))
        every = [(t.startchar, t.endchar) for t in ANALYZER(text, chars=True, mode="query")
                 if t.text in terms]
        assert [(m.start, m.end) for m in find_matches(text, terms, ANALYZER)] == every, text
