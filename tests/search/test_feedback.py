"""Pseudo-relevance feedback (RM3) for long plain-word queries: search/feedback.py."""

from collections.abc import Iterator
from datetime import timedelta

import pytest

from search import SearchIndex, SearchQuery, feedback
from search.documents import SearchPage
from tests.search.docs import NOW, make_doc

LONG = "volcanic eruption ash cloud aviation disruption"
FILLER = "Lorem ipsum dolor sit amet gardening recipes weather holidays music."
DOCS = [
    make_doc(
        i,
        f"Eruption report {i}",
        "Volcanic eruption ash cloud aviation disruption. The magma plume and tephra "
        "fallout grounded flights.",
    )
    for i in range(1, 5)
] + [
    # Shares no query word; only the feedback terms magma, plume, tephra, fallout.
    make_doc(10, "Geology notes", "Magma plume tephra fallout magma plume tephra fallout."),
    *[make_doc(20 + i, f"Unrelated {i}", f"{FILLER} cooking bread {i}") for i in range(8)],
    # Scheduled: not visible yet; its words must never become expansion terms.
    make_doc(
        30,
        "Scheduled eruption post",
        "Volcanic eruption ash cloud aviation disruption zeppelin zeppelin zeppelin.",
        published_at=NOW + timedelta(days=3),
    ),
    make_doc(31, "Airships", "Zeppelin zeppelin zeppelin hangar."),
]


@pytest.fixture
def index() -> Iterator[SearchIndex]:
    ix = SearchIndex.open(None)
    ix.apply(DOCS, [], {})
    yield ix
    ix.close()


def search(index: SearchIndex, q: str) -> SearchPage:
    return index.search(SearchQuery(q=q, now=NOW, per_page=20))


def test_only_long_plain_queries_apply() -> None:
    builder = SearchIndex.open(None)._builder
    assert feedback.applies(builder, LONG)
    assert not feedback.applies(builder, "volcanic eruption")
    assert not feedback.applies(builder, "I am interested in documents about eruptions")
    for syntax in ('"volcanic eruption" ash cloud aviation disruption',
                   f"{LONG} -magma", f"title:volcanic {LONG}", f"volcanic OR {LONG}",
                   f"volc* {LONG}", f"vol?anic {LONG}", f"{LONG} NOT tephra"):  # fmt: skip
        assert not feedback.applies(builder, syntax), syntax
    assert feedback.applies(builder, f"What about {LONG}?")


def test_long_query_finds_document_sharing_only_feedback_terms(index: SearchIndex) -> None:
    page = search(index, LONG)
    ids = [h.post_id for h in page.hits]
    assert ids[:4] == [1, 2, 3, 4] or set(ids[:4]) == {1, 2, 3, 4}
    assert 10 in ids
    assert not {21, 22, 23} & set(ids)


def test_short_query_is_untouched(index: SearchIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    for q in ("volcanic eruption", "magma", "ash cloud aviation"):
        before = [(h.post_id, h.score) for h in search(index, q).hits]
        monkeypatch.setattr(feedback, "applies", lambda builder, text: False)
        assert [(h.post_id, h.score) for h in search(index, q).hits] == before
        monkeypatch.undo()
    assert 10 not in [h.post_id for h in search(index, "volcanic eruption").hits]


def test_scheduled_documents_give_no_expansion_terms(index: SearchIndex) -> None:
    ids = [h.post_id for h in search(index, LONG).hits]
    assert 30 not in ids and 31 not in ids  # zeppelin only in a scheduled post: never added
    later = index.search(SearchQuery(q=LONG, now=NOW + timedelta(days=5), per_page=20))
    assert 30 in [h.post_id for h in later.hits]


def test_highlights_mark_only_query_words(index: SearchIndex) -> None:
    page = search(index, LONG)
    hit = next(h for h in page.hits if h.post_id == 10)
    assert "<mark>" not in hit.highlights["content"] + hit.highlights["title"]
    first = page.hits[0].highlights["content"]
    assert "<mark>" in first and "<mark>magma" not in first.lower()


def test_totals_and_facets_are_those_of_the_original_query(index: SearchIndex) -> None:
    page = search(index, LONG)
    assert page.total == len(page.hits) == 5
    assert page.suggestion is None
