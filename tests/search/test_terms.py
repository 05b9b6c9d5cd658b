"""Term lookups remembered per segment (search/terms.py) answer as Whoosh's own readers do."""

from collections.abc import Iterator
from typing import Any

import pytest

from search import SearchIndex, SearchQuery, terms
from search.terms import MemoTerms, Vocabulary
from tests.search.docs import NOW, make_doc
from tests.search.test_scoring import corpus

ASKED = [
    ("content", "garden"), ("title", "garden"), ("content", "basil"), ("content", "nosuchword"),
    ("title", "light"), ("tags", "food"), ("tags", "nosuchtag"), ("author", "bob"),
    ("content", "tomato"), ("title", "zzz"),
]  # fmt: skip


@pytest.fixture
def index() -> Iterator[SearchIndex]:
    ix = SearchIndex.open(None)
    ix.apply(corpus(1, 80, 1), [])
    ix.apply(corpus(81, 60, 2), [3, 90])
    ix.apply(corpus(141, 30, 3), [])
    yield ix
    ix.close()


def answers(reader: Any) -> list[Any]:
    out: list[Any] = []
    for fieldname, text in ASKED:
        present = (fieldname, text) in reader
        out.append(
            (present, reader.doc_frequency(fieldname, text), reader.frequency(fieldname, text))
        )
        if present:
            out.append(reader.term_info(fieldname, text).doc_frequency())
            out.append(list(reader.postings(fieldname, text).all_ids()))
    out.append([(t, i.doc_frequency()) for t, i in reader.iter_prefix("content", "ba")])
    return out


def test_memoised_readers_answer_as_whooshs(index: SearchIndex) -> None:
    with index._ix.searcher() as raw:
        expected = answers(raw.reader())
    searcher, _ = index._reading()
    leaves = [r for r, _ in searcher.reader().leaf_readers()]
    assert len(leaves) >= 3 and all(isinstance(r._terms, MemoTerms) for r in leaves)
    assert answers(searcher.reader()) == expected
    assert answers(searcher.reader()) == expected  # the second time from the memos


def test_a_bounded_memo_still_answers_right(
    index: SearchIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(terms, "MAX_TERMS", 3)
    with index._ix.searcher() as raw:
        expected = answers(raw.reader())
    searcher, _ = index._reading()
    assert answers(searcher.reader()) == expected
    for reader, _ in searcher.reader().leaf_readers():
        assert len(reader._terms._infos) <= 3


def test_prefix_listings_sum_the_segments(index: SearchIndex) -> None:
    searcher, _ = index._reading()
    vocabulary = Vocabulary()
    found = vocabulary.prefixed(searcher, "content", "b", 1000)
    with index._ix.searcher() as raw:
        expected = {
            t.decode(): i.doc_frequency() for t, i in raw.reader().iter_prefix("content", "b")
        }
    assert found == expected and "basil" in found and "bread" in found
    assert vocabulary.prefixed(searcher, "content", "b", 1000) == expected  # remembered
    # The limit holds per segment, in term order.
    assert set(vocabulary.prefixed(searcher, "content", "b", 1)) == {min(expected)}


def test_new_segments_bring_their_words(index: SearchIndex) -> None:
    """Memos belong to segments: words of a later commit are found, and a merge (a new
    segment) forgets nothing."""
    assert index.search(SearchQuery(q="quinoa", now=NOW)).total == 0
    assert index.search(SearchQuery(q="qui*", now=NOW)).total == 0
    index.apply([make_doc(500, "Quinoa salad", "quinoa with basil")], [])
    assert [h.post_id for h in index.search(SearchQuery(q="quinoa", now=NOW)).hits] == [500]
    assert [h.post_id for h in index.search(SearchQuery(q="qui*", now=NOW)).hits] == [500]
    index.search(SearchQuery(q="basil garden", now=NOW))  # memos filled
    index._ix.optimize()  # one segment, with a new id
    index._writes += 1  # as SearchIndex's own writes do: its searchers reopen at once
    assert index._segments() == 1
    fresh = SearchIndex(None, index._ix, "mem")  # the same index, nothing remembered yet
    for text in ("basil garden", "gard*", "quinoa tomato"):
        ours = index.search(SearchQuery(q=text, now=NOW, per_page=50))
        theirs = fresh.search(SearchQuery(q=text, now=NOW, per_page=50))
        assert ours.total == theirs.total > 0
        assert [(h.post_id, h.score) for h in ours.hits] == [
            (h.post_id, h.score) for h in theirs.hits
        ]


def test_small_segments_are_read_whole_and_absent_words_cost_no_lookup(
    index: SearchIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    with index._ix.searcher() as raw:
        expected = answers(raw.reader())
    searcher, _ = index._reading()
    leaves = [r for r, _ in searcher.reader().leaf_readers()]
    small = [r for r in leaves if r.doc_count_all() <= terms.PRELOAD_DOCS]
    large = [r for r in leaves if r.doc_count_all() > terms.PRELOAD_DOCS]
    assert small and large  # the fixture has both kinds
    asked: list[tuple[int, str, bytes]] = []
    for r in leaves:
        inner = r._terms._inner

        def counting(fieldname: str, tbytes: bytes, _inner: Any = inner, _r: Any = r) -> Any:
            asked.append((id(_r), fieldname, tbytes))
            return type(_inner).term_info(_inner, fieldname, tbytes)

        monkeypatch.setattr(inner, "term_info", counting)
    assert answers(searcher.reader()) == expected
    assert not any(rid in {id(r) for r in small} for rid, _, _ in asked)
    assert any(rid in {id(r) for r in large} for rid, _, _ in asked)


def test_whole_prefix_listings_answer_document_frequencies(index: SearchIndex) -> None:
    """A listing no segment cut short knows each term's count over the index: those are the
    document frequencies searches then read, without asking every segment again."""
    searcher, _ = index._reading()
    memo = searcher.reader().doc_frequency
    with index._ix.searcher() as raw:
        expected = {t.decode(): raw.reader().doc_frequency("content", t.decode())
                    for t, _ in raw.reader().iter_prefix("content", "t")}
    Vocabulary().prefixed(searcher, "content", "t", 1)  # cut short: nothing learnt
    assert not any(key in memo.known for key in (("content", t) for t in expected))
    Vocabulary().prefixed(searcher, "content", "t", 1000)
    assert len(expected) >= 2
    assert {t: memo.known[("content", t)] for t in expected} == expected
    assert {t: searcher.reader().doc_frequency("content", t) for t in expected} == expected
    # Whoosh's idf asks the searcher, which must answer from the same memo.
    assert searcher.doc_frequency is memo and searcher.frequency is searcher.reader().frequency
    assert {t: searcher.doc_frequency("content", t) for t in expected} == expected
