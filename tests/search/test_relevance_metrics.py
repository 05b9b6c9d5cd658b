import math

import pytest

from bench.relevance import mrr_at_k, ndcg_at_k


def test_ndcg_perfect_and_empty() -> None:
    assert ndcg_at_k(["a", "b"], {"a": 1, "b": 1}) == pytest.approx(1.0)
    assert ndcg_at_k(["x", "y"], {"a": 1}) == 0.0
    assert ndcg_at_k([], {}) == 0.0


def test_ndcg_by_hand() -> None:
    # relevant docs a (gain 2) and b (gain 1); ranking: x, a, b
    dcg = 2 / math.log2(3) + 1 / math.log2(4)
    idcg = 2 / math.log2(2) + 1 / math.log2(3)
    assert ndcg_at_k(["x", "a", "b"], {"a": 2, "b": 1}) == pytest.approx(dcg / idcg)


def test_ndcg_cuts_at_k() -> None:
    assert ndcg_at_k(["x"] * 10 + ["a"], {"a": 1}) == 0.0


def test_mrr() -> None:
    assert mrr_at_k(["x", "a"], {"a": 1}) == 0.5
    assert mrr_at_k(["a"], {"a": 1}) == 1.0
    assert mrr_at_k(["x"] * 10 + ["a"], {"a": 1}) == 0.0
