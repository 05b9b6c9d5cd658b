"""The shortcuts taken for speed: all words first, estimated totals and facets, related terms."""

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from search import SearchIndex, SearchPage, SearchQuery, champions, docinfo, scoring, searching
from tests.search.docs import NOW, make_doc


@pytest.fixture
def many() -> Iterator[SearchIndex]:
    """20 posts with both "garden" and "tomato", 10 with only "garden", 5 with only "tomato"."""
    docs = [make_doc(i, f"Garden tomato {i}", "garden tomato notes") for i in range(1, 21)]
    docs += [make_doc(i, f"Garden shed {i}", "garden tools", tags=("shed",)) for i in range(21, 31)]
    docs += [
        make_doc(i, f"Tomato sauce {i}", "tomato recipe", tags=("food",)) for i in range(31, 36)
    ]
    ix = SearchIndex.open(None)
    ix.apply(docs, [])
    yield ix
    ix.close()


def search(index: SearchIndex, q: str, **kw: object) -> SearchPage:
    return index.search(SearchQuery(q=q, now=NOW, **kw))  # type: ignore[arg-type]


class TestAllWordsFirst:
    def test_enough_posts_with_every_word_hide_partial_matches(self, many: SearchIndex) -> None:
        page = search(many, "garden tomato", per_page=50)
        assert page.total == 20
        assert {h.post_id for h in page.hits} == set(range(1, 21))
        assert page.exact

    def test_few_posts_with_every_word_fall_back_to_any_word(
        self, many: SearchIndex, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(searching, "ALL_WORDS_MIN", 21)
        page = search(many, "garden tomato", per_page=50)
        assert page.total == 35
        assert {h.post_id for h in page.hits[:20]} == set(range(1, 21))  # all words rank first

    def test_a_prefix_is_one_word_however_many_terms_it_expands_to(
        self, many: SearchIndex
    ) -> None:
        # "to*" expands to "tomato" and "tool" (and more): all words first must not ask for
        # a post with every expansion, nor call a lone prefix several words.
        searcher, _ = many._reading()
        built = many._builder.build("to*", searcher)
        assert searching._word_groups(built.query, built.stands_for) is None
        both = many._builder.build("garden to*", searcher)
        groups = searching._word_groups(both.query, both.stands_for)
        assert groups is not None and len(groups) == 2
        page = search(many, "garden to*", per_page=50)
        # 20 posts have garden and tomato, 10 garden and tools: all 30 have both words.
        assert page.total == 30

    def test_a_typo_and_its_corrections_are_one_word(self, many: SearchIndex) -> None:
        searcher, _ = many._reading()
        built = many._builder.build("gardn tomato", searcher)
        assert built.stands_for.get("garden") == "gardn"
        groups = searching._word_groups(built.query, built.stands_for)
        assert groups is not None and len(groups) == 2
        assert search(many, "gardn tomato", per_page=50).total == 20

    def test_phrases_and_exclusions_are_not_rewritten(self, many: SearchIndex) -> None:
        assert search(many, "garden -tomato", per_page=50).total == 10
        assert search(many, '"tomato sauce" garden', per_page=50).total == 35


class TestEstimates:
    def test_small_sets_are_exact(self, many: SearchIndex) -> None:
        page = search(many, "garden")
        assert page.exact
        assert page.total == 30
        assert {f.value: f.count for f in page.facets["tags"]} == {"general": 20, "shed": 10}

    def test_large_sets_get_an_estimated_total(
        self, many: SearchIndex, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        exact = search(many, "garden")
        monkeypatch.setattr(searching, "EXACT_MAX", 5)
        page = search(many, "garden")
        assert not page.exact
        # independence estimate over title OR body: 1 - (1 - 30/35)^2 of 35 posts
        assert page.total == 34
        # the pruned walk still finds the same best posts
        assert [h.post_id for h in page.hits] == [h.post_id for h in exact.hits]

    def test_facets_of_large_sets_are_sampled_and_scaled(
        self, many: SearchIndex, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(searching, "FACET_EXACT_MAX", 10)
        facets = {f.value: f.count for f in search(many, "garden").facets["tags"]}
        assert set(facets) <= {"general", "shed"}
        assert sum(facets.values()) == pytest.approx(30, abs=1)


class TestRelated:
    def test_shared_tags_boost_posts_found_by_terms(self, many: SearchIndex) -> None:
        related = many.related(21, limit=3, now=NOW)
        assert related
        assert all(r.post_id in range(22, 31) for r in related)
        assert all(r.tags == ["shed"] for r in related)
        assert "garden" in related[0].terms or "shed" in related[0].terms

    def test_tags_alone_find_posts_when_the_text_has_no_key_terms(self, many: SearchIndex) -> None:
        related = many.related_to_text("", "", ["food"], limit=10, now=NOW)
        assert {r.post_id for r in related} == set(range(31, 36))


class TestChampionLists:
    def test_big_ors_rank_from_champion_lists_like_the_full_walk(
        self, many: SearchIndex, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # a second segment: champion lists are kept per segment
        many.apply([make_doc(40, "Garden gnome", "garden garden shed", tags=("shed",))], [])
        exact = search(many, "garden OR tomato OR shed", per_page=5)
        monkeypatch.setattr(searching, "EXACT_MAX", 5)
        monkeypatch.setattr(champions, "CHAMPIONS", 8)
        monkeypatch.setattr(champions, "RARE_POSTINGS", 12)
        page = search(many, "garden OR tomato OR shed", per_page=5)
        assert not page.exact
        assert [h.post_id for h in page.hits] == [h.post_id for h in exact.hits]
        assert [h.score for h in page.hits] == pytest.approx([h.score for h in exact.hits])

    def test_hidden_posts_never_come_from_champion_lists(
        self, many: SearchIndex, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(searching, "EXACT_MAX", 5)
        many.apply([], [1, 2, 3])
        found = {h.post_id for h in search(many, "garden", per_page=50).hits}
        assert found and not found & {1, 2, 3}


def test_segments_are_separate_files(tmp_path: Path) -> None:
    """Compound segments are copied into memory by every reader (see writing.WRITER_OPTIONS)."""
    index = SearchIndex.rebuild(tmp_path, [make_doc(1, "Garden")], {})
    index.apply([make_doc(2, "Tomato")], [])
    assert index.search(SearchQuery(q="garden OR tomato", now=NOW)).total == 2
    index.close()
    assert list(tmp_path.glob("gen-*/*.trm"))
    assert not list(tmp_path.glob("gen-*/*.seg"))


def test_close_skips_searchers_replaced_after_a_commit(tmp_path: Path) -> None:
    index = SearchIndex.rebuild(tmp_path, [make_doc(1, "Garden")], {})
    page = index.search(SearchQuery(q="garden", now=NOW))
    stale = list(index._searchers)
    index.apply([make_doc(2, "Tomato")], [])
    index.search(SearchQuery(q="tomato", now=NOW))  # replaces (closes) this thread's searcher
    assert page.total == 1 and all(s.is_closed for s in stale)
    index.close()  # must not close the stale one a second time


class TestDateOrderAcrossSegments:
    """Sorting by date over several segments, both ways the order is found: a heap over the
    matching set, and (large dense sets) a walk down each segment's time order."""

    @pytest.fixture
    def segmented(self, tmp_path: Path) -> Iterator[SearchIndex]:
        # Three commits, three segments; newer posts in earlier segments and the other way
        # round, so no segment holds a contiguous run of dates.
        index = SearchIndex.rebuild(tmp_path, [], {})
        for batch in ((3, 6, 9, 12), (1, 4, 7, 10), (2, 5, 8, 11)):
            index.apply(
                [make_doc(i, f"Note {i}", "garden" if i % 2 else "garden tomato") for i in batch],
                [],
            )
        assert index._segments() >= 3
        yield index
        index.close()

    @pytest.mark.parametrize("walk_min", [0, 5000])
    def test_newest_and_oldest_over_segments(
        self, segmented: SearchIndex, monkeypatch: pytest.MonkeyPatch, walk_min: int
    ) -> None:
        monkeypatch.setattr(docinfo, "BY_TIME_WALK_MIN", walk_min)
        # make_doc dates post i i days before NOW: newest first is 1, 2, 3...
        newest = [h.post_id for h in search(segmented, "", per_page=5).hits]
        assert newest == [1, 2, 3, 4, 5]
        oldest = [h.post_id for h in search(segmented, "", sort="oldest", per_page=5).hits]
        assert oldest == [12, 11, 10, 9, 8]
        page2 = [h.post_id for h in search(segmented, "garden", sort="newest", page=2, per_page=4).hits]
        assert page2 == [5, 6, 7, 8]
        tomato = [h.post_id for h in search(segmented, "tomato", sort="oldest", per_page=3).hits]
        assert tomato == [12, 10, 8]

    def test_date_order_leaves_out_deleted_and_updated_copies(self, segmented: SearchIndex) -> None:
        # Deleted: post 1. Updated (its old copy is a deleted document): post 2 loses "tomato".
        segmented.apply([make_doc(2, "Note 2", "garden")], [1])
        newest = [h.post_id for h in search(segmented, "garden", sort="newest", per_page=3).hits]
        assert newest == [2, 3, 4]
        tomato = [h.post_id for h in search(segmented, "tomato", sort="newest").hits]
        assert tomato == [4, 6, 8, 10, 12]
        tagged = search(segmented, "", tags=("general",), sort="newest", per_page=20)
        assert [h.post_id for h in tagged.hits] == list(range(2, 13))
        assert tagged.total == 11


class TestPhraseBudget:
    """Phrases over many documents with every word read positions for the best ones only."""

    @pytest.fixture
    def phrases(self) -> Iterator[SearchIndex]:
        # 60 posts have "garden" and "hose"; every third has the phrase "garden hose". More
        # "garden"s and "hose"s score higher, so the best-scored half holds 10 phrase posts.
        docs = []
        for i in range(1, 61):
            words = "garden " * (1 + i % 7) + "watering can and a hose " * (1 + i % 5)
            text = f"a garden hose for {words}" if i % 3 == 0 else f"the hose by the {words}"
            docs.append(make_doc(i, f"Note {i}", text))
        ix = SearchIndex.open(None)
        ix.apply(docs, [])
        yield ix
        ix.close()

    def exact(self, index: SearchIndex, q: str, monkeypatch: pytest.MonkeyPatch, **kw: object) -> SearchPage:
        with monkeypatch.context() as m:
            m.setattr(scoring, "PHRASE_CHECK", 10**9)
            return search(index, q, **kw)

    @pytest.mark.parametrize("per_page", [3, 10, 20])
    def test_the_page_is_the_exact_one(
        self, phrases: SearchIndex, monkeypatch: pytest.MonkeyPatch, per_page: int
    ) -> None:
        monkeypatch.setattr(scoring, "PHRASE_CHECK", 4)
        exact = self.exact(phrases, '"garden hose"', monkeypatch, per_page=per_page)
        assert exact.total == 20 and exact.exact
        found = search(phrases, '"garden hose"', per_page=per_page)
        assert [(h.post_id, h.score) for h in found.hits] == [
            (h.post_id, h.score) for h in exact.hits
        ]
        assert all(h.post_id % 3 == 0 for h in found.hits)
        if per_page < 20:  # read in part: the total is estimated from the share found
            assert not found.exact and 5 <= found.total <= 60

    def test_later_pages_too(self, phrases: SearchIndex, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(scoring, "PHRASE_CHECK", 4)
        exact = self.exact(phrases, '"garden hose"', monkeypatch, per_page=5, page=3)
        found = search(phrases, '"garden hose"', per_page=5, page=3)
        assert [h.post_id for h in found.hits] == [h.post_id for h in exact.hits]
        assert len(found.hits) == 5

    def test_hidden_matches_make_it_read_everything(
        self, phrases: SearchIndex, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(scoring, "PHRASE_CHECK", 4)
        # Only posts published before the 40 most recent ones: the best-scored phrase posts
        # may all be outside the window.
        before = NOW - timedelta(days=40, hours=12)
        exact = self.exact(phrases, '"garden hose"', monkeypatch, before=before, per_page=10)
        found = search(phrases, '"garden hose"', before=before, per_page=10)
        assert [h.post_id for h in found.hits] == [h.post_id for h in exact.hits]
        assert found.total == exact.total == 7

    def test_an_excluded_phrase_is_always_read_in_full(
        self, phrases: SearchIndex, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(scoring, "PHRASE_CHECK", 1)
        page = search(phrases, 'hose -"garden hose"', per_page=5)
        assert page.total == 40
        assert all(h.post_id % 3 for h in page.hits)
        every = search(phrases, 'hose -"garden hose"', per_page=50)
        assert len(every.hits) == 40 and all(h.post_id % 3 for h in every.hits)
