"""Term-at-a-time scoring gives Whoosh's own BM25F scores, on every query shape it takes."""

import random
from collections.abc import Iterator
from typing import Any

import pytest
from whoosh.query.compound import And, AndNot
from whoosh.query.positional import Phrase
from whoosh.query.qcore import Query
from whoosh.query.terms import Term
from whoosh.util.numeric import byte_to_length

from search import SearchIndex, SearchQuery
from search.scoring import SegmentCache, TermAtATime
from search.searching import _word_groups
from tests.search.docs import NOW, make_doc

WORDS = "garden tomato basil river stone bread coffee python search index tree light".split()


def corpus(first: int, count: int, seed: int) -> list:
    rng = random.Random(seed)
    docs = []
    for n in range(first, first + count):
        title = " ".join(rng.sample(WORDS, rng.randint(1, 3)))
        body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 60)))
        tags = tuple(rng.sample(["green", "food", "tech"], rng.randint(1, 2)))
        author = rng.choice(["alice", "bob"])
        docs.append(make_doc(n, title, body, tags=tags, author=author))
    return docs


@pytest.fixture(scope="module")
def index() -> Iterator[SearchIndex]:
    """Three segments (three commits) and deletions, so offsets and deleted docs matter."""
    ix = SearchIndex.open(None)
    ix.apply(corpus(1, 150, 1), [])
    ix.apply(corpus(151, 120, 2), [3, 160])
    ix.apply(corpus(271, 40, 3), [200])
    yield ix
    ix.close()


QUERIES = [
    "garden",
    "tomato basil",
    "tomato basil river stone",
    "garden -coffee",
    "garden NOT coffee NOT bread",
    "python OR search",
    "title:light tree",
    "tag:food bread",
    "author:bob stone",
    "gardn tomatoe",  # typo corrections
    "tom* basil",  # prefix expansion
    "basil basil basil river",  # repeated word boost
    '"tomato basil"',  # phrases
    '"garden tomato basil"',
    'river "basil stone"',
    'title:"light tree" garden',
    '"basil basil"',
    '"stone river" -coffee',
]


def whoosh_scores(searcher: Any, q: Query) -> dict[int, float]:
    """Whoosh's scores for `q`. Exclusions are applied as a set difference: whoosh3's
    AND-NOT matcher across several segments keeps some excluded documents (pinned below)."""
    if isinstance(q, AndNot):
        out = set(searcher.docs_for_query(q.b))
        kept = whoosh_scores(searcher, q.a)
        return {d: s * q.boost for d, s in kept.items() if d not in out}
    return {hit.docnum: hit.score for hit in searcher.search(q, limit=None, scored=True)}


@pytest.mark.parametrize("text", QUERIES)
def test_scores_equal_whooshs(index: SearchIndex, text: str) -> None:
    searcher, info = index._reading()
    assert len(searcher.leaf_searchers()) >= 3
    built = index._builder.build(text, searcher)
    parsed = built.query
    assert parsed is not None
    shapes = [parsed]
    groups = _word_groups(parsed, built.stands_for)
    if groups is not None:
        shapes.append(And(groups))  # the all-words-first shape
    fast = TermAtATime(searcher, SegmentCache(), field_weights={})
    for q in shapes:
        found = fast.evaluate(q)
        assert found is not None, q
        ours = {d: s for d, s in found[0].items() if d not in info.deleted}
        whoosh = whoosh_scores(searcher, q)
        assert whoosh or q is not parsed, q
        assert set(ours) == set(whoosh), q
        for d, score in whoosh.items():
            assert ours[d] == pytest.approx(score, rel=1e-6), (q, d)


def test_whoosh_and_not_across_segments_keeps_excluded_documents(index: SearchIndex) -> None:
    """Why exclusions are not left to Whoosh's AndNot matcher: if this starts failing, the
    upgrade fixed it (then the set-difference workaround in whoosh_scores can go)."""
    searcher, _ = index._reading()
    q = index._builder.build("garden NOT coffee NOT bread", searcher).query
    assert isinstance(q, AndNot)
    excluded = set(searcher.docs_for_query(q.b))
    assert {hit.docnum for hit in searcher.search(q, limit=None)} & excluded


def test_restricting_to_candidates_gives_the_same_scores(index: SearchIndex) -> None:
    searcher, info = index._reading()
    q = index._builder.build("garden tomato river", searcher).query
    assert q is not None
    fast = TermAtATime(searcher, SegmentCache(), field_weights={})
    everything = fast.evaluate(q)
    assert everything is not None
    some = set(random.Random(5).sample(sorted(everything[0]), 12)) | {10_000}
    restricted = fast.evaluate(q, some)
    assert restricted is not None
    assert restricted[0] == pytest.approx({d: everything[0][d] for d in some if d < 10_000})


def test_phrases_with_slop_are_left_to_whoosh(index: SearchIndex) -> None:
    searcher, _ = index._reading()
    fast = TermAtATime(searcher, SegmentCache())
    assert fast.evaluate(Phrase("content", ["tomato", "basil"], slop=2)) is None
    assert fast.evaluate(Phrase("content", ["tomato", "basil"])) is not None


def test_phrases_match_only_adjacent_words_in_order() -> None:
    ix = SearchIndex.open(None)
    ix.apply([
        make_doc(1, "One", "tomato basil soup"),
        make_doc(2, "Two", "basil tomato soup"),
        make_doc(3, "Three", "tomato and fresh basil"),
        make_doc(4, "Four", "soup of basil then tomato basil again"),
    ], [])
    try:
        found = {h.post_id for h in ix.search(SearchQuery(q='"tomato basil"', now=NOW)).hits}
        assert found == {1, 4}
        assert {h.post_id for h in ix.search(SearchQuery(q='"basil tomato soup"', now=NOW)).hits} == {2}
    finally:
        ix.close()


def test_search_totals_are_whooshs_match_counts(index: SearchIndex) -> None:
    searcher, _ = index._reading()
    page = index.search(SearchQuery(q="river stone", now=NOW, per_page=20))
    both = And([Term("content", "river") | Term("title", "river"),
                Term("content", "stone") | Term("title", "stone")])  # fmt: skip
    assert page.exact and page.total == len(searcher.search(both, limit=None)) >= 10


def test_bm25f_adds_field_frequencies_before_saturating(index: SearchIndex) -> None:
    searcher, _ = index._reading()
    q = Term("title", "basil") | Term("content", "basil")
    weights = {"title": 2.0, "content": 1.0}
    found = TermAtATime(searcher, SegmentCache(), field_weights=weights).evaluate(q)
    assert found is not None
    scores, counts = found
    K1, B = searcher.weighting.K1, searcher.weighting.B
    reader = searcher.reader()
    # the idf is the field where the word is most common
    field = max(weights, key=lambda f: reader.doc_frequency(f, "basil"))
    idf = searcher.idf(field, "basil")
    both = 0
    for docnum, score in scores.items():
        total = 0.0
        for name, weight in weights.items():
            tf = sum(1 for t in reader.stored_fields(docnum)[name].split() if t == "basil")
            if tf:
                length = reader.doc_field_length(docnum, name, 1)
                avg = searcher.avg_field_length(name)
                total += weight * tf / ((1 - B) + B * length / avg)
        assert score == pytest.approx(idf * (K1 + 1) * total / (K1 + total), rel=1e-6)
        both += counts[docnum] == 2
    assert both  # some posts have the word in title and body: counted once, saturated once
    per_field = TermAtATime(searcher, SegmentCache(), field_weights={}).evaluate(q)
    assert per_field is not None and set(per_field[0]) == set(scores)


def test_length_bytes_are_whooshs_field_lengths(index: SearchIndex) -> None:
    searcher, _ = index._reading()
    lengths = SegmentCache()
    for sub, _offset in searcher.leaf_searchers():
        reader = sub.reader()
        for fieldname in ("title", "content"):
            encoded = lengths.lengths(reader, fieldname)
            assert len(encoded) == reader.doc_count_all()
            for d in range(reader.doc_count_all()):
                if encoded[d]:
                    assert byte_to_length(encoded[d]) == reader.doc_field_length(d, fieldname)


def test_cached_postings_are_whooshs_and_bounded(index: SearchIndex) -> None:
    searcher, _ = index._reading()
    cache = SegmentCache(max_postings=200)
    for reader, _ in searcher.reader().leaf_readers():
        for text in ("garden", "basil", "nosuchword"):
            if ("content", text) not in reader:
                continue
            pairs = []  # what Whoosh's matcher gives, deleted documents skipped
            matcher = reader.postings("content", text)
            while matcher.is_active():
                pairs.append((matcher.id(), matcher.weight()))
                matcher.next()
            ids, weights = cache.postings(reader, "content", text)
            deleted = reader.deleted_docs_set
            assert [(d, w) for d, w in zip(ids, weights, strict=True) if d not in deleted] == pairs
            assert cache.postings(reader, "content", text) == (ids, weights)
    assert 0 < cache._held <= 200
    # A list longer than a quarter of the budget is decoded but not kept.
    small = SegmentCache(max_postings=8)
    reader = next(r for r, _ in searcher.reader().leaf_readers() if ("content", "garden") in r)
    ids, _ = small.postings(reader, "content", "garden")
    assert len(ids) > 2 and small._held == 0


def test_cached_stored_fields_are_whooshs_and_bounded(index: SearchIndex) -> None:
    searcher, _ = index._reading()
    reader = searcher.reader()
    cache = SegmentCache(max_stored_chars=5_000)
    docnums = [d for d in range(reader.doc_count_all()) if not reader.is_deleted(d)]
    assert len(docnums) > 250  # every segment: offsets matter
    for docnum in docnums:
        assert cache.stored(reader, docnum) == reader.stored_fields(docnum)
    assert 0 < cache._stored_chars <= 5_000
    for docnum in docnums[-5:]:  # the latest are still there, and the same dict
        assert cache.stored(reader, docnum) is cache.stored(reader, docnum)


def test_candidate_lookups_agree_with_and_without_decoded_lists(index: SearchIndex) -> None:
    """A few candidates against long lists: looked up block by block when the lists are not
    decoded yet, by bisection once they are."""
    searcher, _ = index._reading()
    q = index._builder.build("garden tomato river", searcher).query
    assert q is not None
    some = set(random.Random(7).sample(range(300), 6))
    cold = TermAtATime(searcher, SegmentCache(), field_weights={})
    first = cold.evaluate(q, some)
    assert first is not None and first[0]
    assert not cold.segments._postings  # nothing decoded whole
    warm = TermAtATime(searcher, SegmentCache(), field_weights={})
    assert warm.evaluate(q) is not None and warm.segments._postings
    second = warm.evaluate(q, some)
    assert second is not None
    assert second[0] == pytest.approx(first[0]) and second[1] == first[1]


def test_best_scored_is_nlargest_with_ties_to_the_lower_docnum() -> None:
    from heapq import nlargest

    from search.scoring import best_scored

    rng = random.Random(7)
    for _ in range(200):
        # Few distinct values, so that ties are common, also at the cut.
        scores = {rng.randrange(10_000): float(rng.randrange(6)) for _ in range(rng.randrange(40))}
        limit = rng.randrange(0, 12)
        docs = [d for d in scores if rng.random() < 0.7]
        assert best_scored(scores, limit) == nlargest(
            limit, scores, key=lambda d: (scores[d], -d)
        )
        assert best_scored(scores, limit, docs) == nlargest(
            limit, docs, key=lambda d: (scores[d], -d)
        )
        assert best_scored(scores, limit, iter(docs)) == best_scored(scores, limit, docs)


@pytest.mark.parametrize("limit", [0, 1, 5, 40, 10_000])
def test_best_in_segment_is_add_segment_then_best_scored(index: SearchIndex, limit: int) -> None:
    """Champion lists are computed as arrays: the same documents, order and scores as
    scoring the term into a dict and taking the best (ties to the lower docnum)."""
    from search.scoring import best_scored

    searcher, _ = index._reading()
    fast = TermAtATime(searcher, SegmentCache())
    checked = 0
    for sub, _offset in searcher.leaf_searchers():
        reader = sub.reader()
        for term in (Term("content", "garden"), Term("title", "basil", boost=2.5),
                     Term("content", "nosuchword"), Term("author", "bob")):
            scores: dict[int, float] = {}
            fast.add_segment(scores, reader, 0, term)
            expected = [(d, scores[d]) for d in best_scored(scores, limit)]
            found = fast.best_in_segment(reader, term, limit)
            assert [d for d, _ in found] == [d for d, _ in expected], term
            assert [s for _, s in found] == pytest.approx([s for _, s in expected], rel=1e-12)
            checked += bool(expected)
    assert checked or limit == 0


def test_long_lists_scored_as_arrays_give_the_same_scores(
    index: SearchIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every list taken the array way (as long lists are): the same scores as term by term."""
    from search import scoring

    searcher, _ = index._reading()

    def shapes(text: str) -> list[Query]:
        """The query, and its all-words-first AND (whose later words score within the
        documents the first ones found)."""
        built = index._builder.build(text, searcher)
        assert built.query is not None
        groups = _word_groups(built.query, built.stands_for)
        return [built.query] + ([And(groups)] if groups is not None else [])

    by_loop = {}
    for text in QUERIES:
        for n, q in enumerate(shapes(text)):
            found = TermAtATime(searcher, SegmentCache()).evaluate(q)
            assert found is not None
            by_loop[text, n] = found
    assert len(by_loop) > len(QUERIES) + 3
    monkeypatch.setattr(scoring, "ARRAY_POSTINGS", 1)
    for text in QUERIES:
        for n, q in enumerate(shapes(text)):
            found = TermAtATime(searcher, SegmentCache()).evaluate(q)
            assert found is not None
            assert found[0] == pytest.approx(by_loop[text, n][0], rel=1e-12), (text, q)
            assert found[1] == by_loop[text, n][1], (text, q)
