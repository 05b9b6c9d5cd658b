

import pytest

from search import SearchIndex, SearchQuery
from search.related import bo1_terms
from tests.search.docs import NOW, make_doc
from tests.search.test_scoring import corpus


class TestSuggest:
    def test_titles_then_terms(self, index: SearchIndex) -> None:
        found = index.suggest("pyth", now=NOW)
        titles = [s.text for s in found if s.kind == "title"]
        assert set(titles) == {"Running Python in production", "Python packaging guide"}
        assert {s.slug for s in found if s.kind == "title"} == {"post-1", "post-4"}
        assert [s.text for s in found if s.kind == "term"] == ["python"]

    def test_several_words_and_accents(self, index: SearchIndex) -> None:
        assert [s.text for s in index.suggest("python pack", now=NOW) if s.kind == "title"] == [
            "Python packaging guide"
        ]
        assert [s.slug for s in index.suggest("cafe", now=NOW) if s.kind == "title"] == ["post-3"]

    def test_limit_and_junk(self, index: SearchIndex) -> None:
        assert len(index.suggest("p", limit=2, now=NOW)) <= 2
        assert index.suggest("", now=NOW) == []
        assert index.suggest("!!! ***", now=NOW) == []
        assert index.suggest("x" * 5000, now=NOW) == []


class TestRelated:
    def test_related_posts_share_terms_and_tags(self, index: SearchIndex) -> None:
        related = index.related(4, now=NOW)
        assert related
        assert related[0].post_id == 1
        assert 4 not in [r.post_id for r in related]
        assert "python" in related[0].tags
        assert "python" in related[0].terms

    def test_unknown_post(self, index: SearchIndex) -> None:
        assert index.related(999, now=NOW) == []

    def test_draft_text(self, index: SearchIndex) -> None:
        related = index.related_to_text(
            "Espresso", "strong coffee beans and grinders", ["coffee"], now=NOW
        )
        assert related[0].post_id == 5
        assert related[0].tags == ["coffee"]
        assert "coffee" in related[0].terms

    def test_limit(self, index: SearchIndex) -> None:
        index.apply([make_doc(10 + i, f"Python tip {i}", "python python") for i in range(10)], [])
        assert len(index.related(1, limit=3, now=NOW)) == 3
        assert index.search(SearchQuery(q="tip", now=NOW)).total == 10

    def test_reasons_read_as_the_posts_own_words(self) -> None:
        """Shared terms are named by the first word of the post with that stem, lowercased
        (not by the stem), whether it comes from the title or the body."""
        ix = SearchIndex.open(None)
        ix.apply(
            [
                make_doc(1, "Massages for Runners", "Sore calves? Weekly massaging helps a runner."),
                make_doc(2, "Runner's massage", "A massage after running, and stretching."),
                make_doc(3, "Baking bread", "Flour, water and salt after a long rise."),
            ],
            [],
        )
        related = ix.related(1, now=NOW)
        ix.close()
        assert related[0].post_id == 2
        assert {"massages", "runners"} <= set(related[0].terms)
        assert not {"massag", "runner", "massaging"} & set(related[0].terms)

    def test_function_words_never_explain_a_match(self) -> None:
        """Seen in the demo: "after", "does", "actually" offered as reasons in a small blog."""
        ix = SearchIndex.open(None)
        ix.apply(
            [
                make_doc(
                    1,
                    "Does massage actually help after a run?",
                    "Massage after running: does it actually ease sore muscles?",
                ),
                make_doc(
                    2,
                    "Foam rolling after a run actually helps",
                    "Foam rolling after running eases sore muscles, and massage does too.",
                ),
                make_doc(3, "Baking bread", "Flour, water and salt after a long rise."),
            ],
            [],
        )
        related = ix.related(1, now=NOW)
        ix.close()
        assert related[0].post_id == 2
        assert {"massag", "massage"} & set(related[0].terms)
        assert not {"after", "does", "actually", "actual", "doe"} & set(related[0].terms)


class TestRelatedTagBoost:
    """Shared tags add to posts found by terms, whichever way the tagged posts are found."""

    @staticmethod
    def _index() -> SearchIndex:
        ix = SearchIndex.open(None)
        docs = [make_doc(1, "Sourdough starter care", "starter flour water feeding schedule",
                         tags=("baking", "bread"))]
        docs += [make_doc(10 + i, f"Feeding notes {i}", "starter feeding flour",
                          tags=("baking",) if i % 2 else ("garden",)) for i in range(12)]
        docs.append(make_doc(40, "Loner", "zyzzyva quixotic", tags=("bread",)))
        docs.append(make_doc(41, "Bread crust", "crust oven steam", tags=("bread",)))
        ix.apply(docs, [])
        return ix

    def test_tag_boosts_skip_only_posts_that_cannot_reach_the_top(self) -> None:
        import random
        from types import SimpleNamespace

        from search.related import _add_tag_scores
        from search.scoring import best_scored

        rng = random.Random(3)
        for _ in range(300):
            n = rng.randrange(1, 60)
            info = SimpleNamespace(tags=[tuple(rng.sample("abcde", rng.randrange(3)))
                                         for _ in range(n)])
            tag_score = {t: rng.choice([0.0, 0.5, 2.0, 7.0]) for t in rng.sample("abcd", 2)}
            scores = {d: float(rng.randrange(20)) for d in range(n) if rng.random() < 0.8}
            limit = rng.randrange(1, 8)
            everyone = {d: s + sum(tag_score.get(t, 0.0) for t in info.tags[d])
                        for d, s in scores.items()}
            boosted = _add_tag_scores(info, tag_score, dict(scores), limit)  # type: ignore[arg-type]
            assert best_scored(boosted, limit) == best_scored(everyone, limit)
            assert all(boosted[d] == everyone[d] for d in boosted)

    def test_shared_tags_rank_first(self) -> None:
        ix = self._index()
        try:
            related = ix.related(1, limit=20, now=NOW)
            # The baking posts outrank the garden ones for the same words.
            ranks = {h.post_id: n for n, h in enumerate(related)}
            assert max(ranks[10 + i] for i in range(1, 12, 2)) < min(
                ranks[10 + i] for i in range(0, 12, 2)
            )
        finally:
            ix.close()

    def test_a_post_whose_words_only_it_uses_gets_its_tag_neighbours(self) -> None:
        ix = self._index()
        try:
            related = ix.related(40, now=NOW)
            assert {h.post_id for h in related} == {1, 41}
            assert all(h.tags == ["bread"] and h.terms == [] for h in related)
        finally:
            ix.close()


@pytest.mark.parametrize("fieldname", ["content", "title"])
def test_bo1_terms_are_whooshs_key_terms(fieldname: str) -> None:
    """search.related.bo1_terms is Whoosh's key_terms_from_text without its detours: same
    terms, same weights, same order, on segments with deletions, for texts with unknown
    words, repeats, accents, only stop words, or nothing at all."""
    index = SearchIndex.open(None)
    index.apply(corpus(1, 150, 1), [])
    index.apply(corpus(151, 120, 2), [3, 160])
    index.apply(corpus(271, 40, 3), [200])
    searcher, _ = index._reading()
    texts = [
        *(f"{d.title}\n{d.content}" for d in corpus(400, 30, 9)),
        "Zyzzyva quokka garden garden garden basil",
        "Café crème and the naïve gardener's basil",
        "the and of to a in",
        "",
    ]
    for number in (1, 4, 12, 50):
        for text in texts:
            expected = searcher.key_terms_from_text(fieldname, text, numterms=number)
            assert bo1_terms(searcher, fieldname, text, number) == expected
    index.close()
