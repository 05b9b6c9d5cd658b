"""Typo correction: candidates by first letters and length, ranked by distance then use."""

from collections.abc import Iterator

import pytest

from search import SearchIndex, SearchQuery
from search.spelling import TermLists, corrections
from tests.search.docs import NOW, make_doc


@pytest.fixture
def index() -> Iterator[SearchIndex]:
    ix = SearchIndex.open(None)
    ix.apply(
        [
            make_doc(1, "Python packaging", "python wheels and python eggs"),
            make_doc(2, "Pythons in the wild", "a python snake, pythons everywhere"),
            make_doc(3, "Typing", "typing typed types"),
        ],
        [],
    )
    ix.apply([make_doc(4, "Pyramids", "pyramid pyramids pylon")], [])  # a second segment
    yield ix
    ix.close()


def fixes(index: SearchIndex, word: str, maxdist: int = 2) -> list[str]:
    searcher, _ = index._reading()
    return corrections(searcher, TermLists(), "content", word, maxdist, 2, 3)


def test_transposed_letters_are_one_edit(index: SearchIndex) -> None:
    assert fixes(index, "pyhton", maxdist=1) == ["python"]


def test_closest_first_then_most_used(index: SearchIndex) -> None:
    # "pyramid" (1 edit) before "python" (2 edits, more posts)
    assert fixes(index, "pyrmid")[0] == "pyramid"
    # two terms at one edit: the one in more posts first
    assert fixes(index, "pythom")[0] == "python"


def test_first_letters_must_match_and_the_word_itself_is_never_offered(
    index: SearchIndex,
) -> None:
    assert fixes(index, "bython") == []
    assert "python" not in fixes(index, "python")
    assert fixes(index, "py") == []


def test_terms_of_every_segment_are_candidates_and_lists_are_cached(index: SearchIndex) -> None:
    searcher, _ = index._reading()
    lists = TermLists()
    assert "pyramid" in lists.terms(searcher, "content", "py")
    assert "python" in lists.terms(searcher, "content", "py")
    cached = len(lists._lists)
    lists.terms(searcher, "content", "py")
    assert len(lists._lists) == cached >= 2


def test_search_offers_the_correction(index: SearchIndex) -> None:
    page = index.search(SearchQuery(q="pyhton wheels", now=NOW))
    assert page.suggestion == "python wheels"
    assert [h.post_id for h in page.hits][0] == 1
