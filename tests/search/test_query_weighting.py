"""Query term weighting: repeats, idf, and query-only stop words for long queries."""

from collections.abc import Iterator

import pytest

from search import SearchIndex, SearchQuery
from search.fields import build_schema
from search.querying import QueryBuilder
from tests.search.docs import NOW, make_doc

DOCS = [
    make_doc(1, "Library opening hours", "The library opens at nine. Library cards at the desk."),
    make_doc(2, "Library budgets", "How a library spends its budget on books and staff."),
    make_doc(3, "Quantum dots in the library", "A library exhibit about quantum dots."),
    make_doc(4, "Reading rooms", "Quiet library reading rooms for students."),
    make_doc(5, "Coffee at the library", "The library cafe serves coffee and tea."),
    make_doc(6, "Articles about coffee", "Documents and articles that describe coffee."),
]


@pytest.fixture
def index() -> Iterator[SearchIndex]:
    ix = SearchIndex.open(None)
    ix.apply(DOCS, [], {})
    yield ix
    ix.close()


def ids(index: SearchIndex, q: str) -> list[int]:
    return [h.post_id for h in index.search(SearchQuery(q=q, now=NOW)).hits]


def terms(index: SearchIndex, q: str) -> set[str]:
    searcher, _ = index._reading()
    parsed = QueryBuilder(build_schema()).build(q, searcher).query
    assert parsed is not None
    return {str(text) for _, text in parsed.iter_all_terms()}


def test_rare_word_outweighs_common_one(index: SearchIndex) -> None:
    assert ids(index, "library quantum")[0] == 3


def test_repeated_word_counts_more(index: SearchIndex) -> None:
    assert ids(index, "coffee budget")[0] in {2, 5, 6}
    assert ids(index, "budget coffee coffee coffee")[0] in {5, 6}
    assert ids(index, "coffee budget budget budget")[0] == 2


def test_long_query_drops_query_stop_words(index: SearchIndex) -> None:
    assert terms(index, "I am interested in articles that describe coffee") == {"coffe"}


def test_short_query_keeps_every_word(index: SearchIndex) -> None:
    assert terms(index, "articles about coffee") == {"articl", "about", "coffe"}
    assert ids(index, "articles about coffee")[0] == 6


def test_query_stop_words_never_empty_a_query(index: SearchIndex) -> None:
    assert terms(index, "what would you describe and discuss about it") >= {"describ", "discuss"}
    assert ids(index, "which documents describe what it is about")[0] == 6


def test_stop_words_are_kept_in_phrases(index: SearchIndex) -> None:
    assert ids(index, 'I want the documents "articles about coffee" please') == [6]


def test_long_query_in_capitals_has_no_operators(index: SearchIndex) -> None:
    # Typed with caps lock: AND / NOT are words (dropped as stop words), nothing is excluded.
    found = ids(index, "LIBRARY OPENING HOURS AND READING ROOMS, NOT COFFEE")
    assert set(found) >= {1, 4, 5}
    # The same request in mixed case keeps its syntax: NOT excludes.
    assert 5 not in ids(index, "library opening hours and reading rooms NOT coffee")
    # A short query in capitals keeps its operators too.
    assert ids(index, "LIBRARY NOT COFFEE") and 5 not in ids(index, "LIBRARY NOT COFFEE")


BARE = [
    "library", "library coffee", "  quantum   dots ", "coffee coffee library", "café crème",
    "libary cofee", "the library", "Library Budgets", "x1 2024 reading", "über naïve",
    "i am interested in documents that describe library budgets and coffee",
    "EFFORTS OF THE LIBRARY TO CHANGE POLICIES OR NOT",  # lowercased first: no operators
    "libr*", "Libraries*", "coffee libr*", "café* crème", "the* library", "x1* 20*", "a* b",
    "libr* cof* rea*", "Über*", "OR*", "NOT* coffee", "日本*", "ÆØÅ*",
]
PARSED = [
    "coffee OR tea", "library -coffee", '"reading rooms"', "title:library", "foo_bar",
    "libr**", "li*r", "*", "libr?", "coffee* OR tea", "-libr*", "title:libr*",
    "coffee AND tea", "NOT coffee", "a the of",
]


@pytest.mark.parametrize("text", BARE + PARSED)
def test_bare_words_build_the_parsers_query(index: SearchIndex, text: str) -> None:
    searcher, _ = index._reading()
    fast = QueryBuilder(build_schema())
    slow = QueryBuilder(build_schema())
    slow.fast_plain = False
    if text in BARE:  # never reaches the parser: a call would fail, and build fall back

        def no_parser(*args: object, **kwargs: object) -> None:
            raise AssertionError("parsed")

        fast.parser.parse = no_parser  # type: ignore[method-assign]
    built, parsed = fast.build(text, searcher), slow.build(text, searcher)
    assert built.query == parsed.query
    assert repr(built.query) == repr(parsed.query)  # boosts and scales too
    assert (built.corrections, built.fallback) == (parsed.corrections, parsed.fallback)
