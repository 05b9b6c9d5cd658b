from typing import Any

import pytest

from search import SearchIndex, SearchQuery
from tests.search.docs import NOW, make_doc


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

    def test_posting_lists_and_per_document_tags_agree(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from search import related as related_module

        ix = self._index()
        try:
            # 10 tag postings (baking 7, bread 3) against 12 scored posts: the posting lists.
            with_postings = ix.related(1, limit=20, now=NOW)
            calls: list[int] = []

            def per_document(fast: object, info: Any, tag_score: dict[str, float],
                             scores: dict[int, float]) -> None:
                calls.append(len(scores))
                for docnum in scores:
                    for t in info.tags[docnum]:
                        scores[docnum] += tag_score.get(t, 0.0)

            monkeypatch.setattr(related_module, "_add_tag_scores", per_document)
            by_document = ix.related(1, limit=20, now=NOW)
            assert calls == [12]
            assert [(h.post_id, round(h.score, 6), h.terms, h.tags) for h in with_postings] == [
                (h.post_id, round(h.score, 6), h.terms, h.tags) for h in by_document
            ]
            # The baking posts outrank the garden ones for the same words.
            ranks = {h.post_id: n for n, h in enumerate(with_postings)}
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
