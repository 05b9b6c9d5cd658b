import re
from datetime import UTC, datetime, timedelta

import pytest

from search import SearchIndex, SearchQuery
from tests.search.docs import NOW, make_doc


def ids(index: SearchIndex, q: str, **kw: object) -> list[int]:
    kw.setdefault("now", NOW)
    page = index.search(SearchQuery(q=q, **kw))  # type: ignore[arg-type]
    return [h.post_id for h in page.hits]


class TestQueryLanguage:
    def test_plain_words_rank_documents_with_all_words_first(self, index: SearchIndex) -> None:
        found = ids(index, "python libraries")
        assert found[0] == 4  # the only post with both words
        assert {1, 2} <= set(found)  # posts with one of the words still match

    def test_stemming_and_accent_folding(self, index: SearchIndex) -> None:
        assert ids(index, "runs") == [1]
        assert ids(index, "cafe") == [3]
        assert ids(index, "CAFÉS") == [3]

    def test_title_outranks_body(self, index: SearchIndex) -> None:
        # "coffee" is in the title of 5 and only in the body of 3
        assert ids(index, "coffee")[:2] == [5, 3]

    def test_phrase(self, index: SearchIndex) -> None:
        assert ids(index, '"massive collections"') == [2]
        assert ids(index, '"collections massive"') == []

    def test_exclusion(self, index: SearchIndex) -> None:
        assert ids(index, "python -packaging") == [1]

    def test_or(self, index: SearchIndex) -> None:
        assert set(ids(index, "qubits OR croissants")) == {3, 6}

    def test_field_prefixes(self, index: SearchIndex) -> None:
        assert ids(index, "title:coffee") == [5]
        assert set(ids(index, "tag:travel")) == {3, 5}
        assert set(ids(index, "author:bob")) == {2, 3}
        assert ids(index, "author:bob paris") == [3]

    def test_prefix_wildcards_match_stemmed_terms(self, index: SearchIndex) -> None:
        assert ids(index, "mass*") == [2]
        assert set(ids(index, "librar*")) == {2, 4}
        assert ids(index, "brewi*") == [5]

    def test_typo_tolerance_and_suggestion(self, index: SearchIndex) -> None:
        page = index.search(SearchQuery(q="quantm computing", now=NOW))
        assert [h.post_id for h in page.hits] == [6]
        assert page.suggestion == "quantum computing"

    def test_no_suggestion_for_known_words(self, index: SearchIndex) -> None:
        assert index.search(SearchQuery(q="coffee", now=NOW)).suggestion is None

    def test_long_natural_language_query_is_not_and_only(self, index: SearchIndex) -> None:
        q = "What are good ways to brew coffee at home, and which grinders and kettles help most?"
        assert ids(index, q)[0] == 5


MALFORMED = [
    '"unbalanced',
    "(python",
    "python)",
    "((",
    "))",
    "-",
    "--python",
    "OR",
    "AND",
    "NOT",
    "python AND",
    "OR python",
    "title:",
    "tag:",
    "author:",
    ":",
    "*",
    "?",
    "**",
    "*python",
    "title:(",
    'title:"',
    "foo:bar",
    "post_id:1",
    "meta:x",
    "python^",
    "^2",
    "[a TO b]",
    "{a TO}",
    "\x00\x01",
    "☃ 😀 ∑",
    "ab\u200bcd",
    "'",
    "''",
    "\\",
    "python\\",
    "a" * 10_000,
    "python " * 2000,
    "-python -coffee",
    "NOT python",
    "*:*",
    "title:*",
    "<script>alert(1)</script>",
]


@pytest.mark.parametrize("q", MALFORMED)
def test_malformed_queries_never_raise(index: SearchIndex, q: str) -> None:
    page = index.search(SearchQuery(q=q, now=NOW))
    assert page.total >= 0
    assert len(page.hits) <= page.per_page


def test_malformed_query_falls_back_to_plain_words(index: SearchIndex) -> None:
    assert ids(index, '"paris (coffee') == ids(index, "paris coffee")
    assert 1 in ids(index, "python AND")


class TestVisibility:
    def test_future_posts_are_invisible_everywhere(self, index: SearchIndex) -> None:
        index.apply(
            [
                make_doc(
                    7,
                    "Scheduled zebra post",
                    "zebra",
                    tags=("secret",),
                    author="dave",
                    published_at=NOW + timedelta(hours=1),
                )
            ],
            [],
        )
        page = index.search(SearchQuery(q="zebra", now=NOW))
        assert page.total == 0
        assert page.hits == []
        everything = index.search(SearchQuery(q="", now=NOW, per_page=50))
        assert 7 not in [h.post_id for h in everything.hits]
        assert "secret" not in [f.value for f in everything.facets["tags"]]
        assert "dave" not in [f.value for f in everything.facets["authors"]]
        assert index.suggest("zeb", now=NOW) == []
        assert all(r.post_id != 7 for r in index.related(1, now=NOW))
        assert ids(index, "zebra", now=NOW + timedelta(hours=2)) == [7]  # type: ignore[arg-type]

    def test_default_now_is_utcnow(self) -> None:
        ix = SearchIndex.open(None)
        soon = datetime.now(UTC) + timedelta(minutes=5)
        ix.apply(
            [make_doc(1, "Later", "later", published_at=soon), make_doc(2, "Earlier", "earlier")],
            [],
        )
        assert ix.search(SearchQuery(q="")).total == 1


class TestFiltersAndSorting:
    def test_empty_query_returns_all_visible_newest_first(self, index: SearchIndex) -> None:
        page = index.search(SearchQuery(q="", now=NOW))
        assert page.total == 6
        assert [h.post_id for h in page.hits] == [1, 2, 3, 4, 5, 6]

    def test_tag_and_author_filters(self, index: SearchIndex) -> None:
        assert ids(index, "", tags=("python",)) == [1, 4]
        assert ids(index, "", tags=("python", "ops")) == [1]
        assert ids(index, "", author="carol") == [5, 6]
        assert ids(index, "coffee", author="carol") == [5]

    def test_date_range(self, index: SearchIndex) -> None:
        after = NOW - timedelta(days=3, hours=1)
        before = NOW - timedelta(days=1, hours=12)
        assert ids(index, "", after=after, before=before) == [2, 3]

    def test_sort_oldest(self, index: SearchIndex) -> None:
        assert ids(index, "python", sort="oldest") == [4, 1]

    def test_pagination(self, index: SearchIndex) -> None:
        first = index.search(SearchQuery(q="", now=NOW, per_page=4))
        second = index.search(SearchQuery(q="", now=NOW, per_page=4, page=2))
        assert [h.post_id for h in first.hits] == [1, 2, 3, 4]
        assert [h.post_id for h in second.hits] == [5, 6]
        assert second.total == 6


def test_facets_count_the_whole_matching_set(index: SearchIndex) -> None:
    page = index.search(SearchQuery(q="", now=NOW, per_page=1))
    facets = {k: {f.value: f.count for f in v} for k, v in page.facets.items()}
    assert facets["tags"]["python"] == 2
    assert facets["tags"]["travel"] == 2
    assert facets["authors"] == {"alice": 2, "bob": 2, "carol": 2}
    assert facets["years"] == {"2025": 5, "2023": 1}


class TestHighlights:
    def test_matches_are_marked(self, index: SearchIndex) -> None:
        hit = index.search(SearchQuery(q="coffee", now=NOW)).hits[0]
        assert hit.highlights["title"] == "<mark>Coffee</mark> brewing at home"
        assert "<mark>coffee</mark>" in hit.highlights["content"]

    def test_hostile_content_is_escaped(self) -> None:
        ix = SearchIndex.open(None)
        evil = '<script>alert(1)</script> <img src=x onerror="alert(2)"> & evil'
        ix.apply([make_doc(1, f"{evil} title", f"body {evil} body")], [])
        for q in ["evil", "script", "alert", "img", "body"]:
            hit = ix.search(SearchQuery(q=q, now=NOW)).hits[0]
            for html in hit.highlights.values():
                assert re.sub(r"</?mark>", "", html).count("<") == 0, html
                assert "&lt;" in html


def test_facets_keep_the_most_common_values_ties_by_name() -> None:
    """More distinct values than MAX_FACETS, ties at the cut: the first MAX_FACETS by count,
    then by value, as a full sort gives."""
    import random
    from collections import Counter
    from types import SimpleNamespace

    from search.docinfo import Distinct
    from search.searching import MAX_FACETS, count_facets

    rng = random.Random(5)
    names = [f"t{n:02d}" for n in range(60)]
    tags = [tuple(rng.sample(names, rng.randint(0, 4))) for _ in range(400)]
    people = [rng.choice(names[:30]) for _ in tags]
    tag_sets: Distinct[tuple[str, ...]] = Distinct()
    authors_seen: Distinct[str] = Distinct()
    info = SimpleNamespace(tag_ids=tag_sets.ids_of(tags), tag_sets=tag_sets.values,
                           author_ids=authors_seen.ids_of(people), author_names=authors_seen.values,
                           years=[rng.choice([2023, 2024, 2025]) for _ in tags])
    docs = set(range(len(tags)))
    facets = count_facets(info, docs, len(docs))  # type: ignore[arg-type]
    counted = Counter(t for d in docs for t in tags[d])
    expected = sorted(counted.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_FACETS]
    assert [(f.value, f.count) for f in facets["tags"]] == expected
    assert len({n for _, n in expected}) < len(expected)  # there are ties
    authors = Counter(people[d] for d in docs)
    assert [(f.value, f.count) for f in facets["authors"]] == sorted(
        authors.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_FACETS]


@pytest.mark.parametrize("ids", [[], [3], [3, 0], {4, 1, 2}, list(range(5)) * 3])
def test_picked_values_in_the_order_of_the_ids(ids: list[int] | set[int]) -> None:
    from array import array

    from search.searching import _picked

    values = array("q", [10, 11, 12, 13, 14])
    assert _picked(values, ids) == tuple(values[i] for i in ids)
    assert _picked(["a", "b", "c", "d", "e"], ids) == tuple("abcde"[i] for i in ids)


@pytest.mark.parametrize("days", [6, 25], ids=["narrow window", "wide window"])
def test_deleted_posts_never_match_inside_a_date_window(days: int) -> None:
    """A window covering few posts is an allow-list, a wide one a deny-list (Window): either
    way posts deleted since their segment was written stay out of hits, totals and facets."""
    index = SearchIndex.open(None)
    index.apply([make_doc(n, f"alpha post {n}", "alpha beta", tags=["t"]) for n in range(1, 31)], [])
    deleted = {2, 3, 5, 20}
    index.apply([], sorted(deleted))  # no merge: the postings still hold them
    after = NOW - timedelta(days=days)  # post n was published n days ago
    for q in ["alpha", "alpha beta", '"alpha beta"', ""]:
        page = index.search(SearchQuery(q=q, after=after, per_page=50, now=NOW))
        expected = {n for n in range(1, days + 1) if n not in deleted}
        assert {h.post_id for h in page.hits} == expected, q
        assert page.total == len(expected)
        assert page.facets["tags"][0].count == len(expected)
