from collections.abc import Iterator

import pytest

from search import SearchIndex
from tests.search.docs import CORPUS


@pytest.fixture
def index() -> Iterator[SearchIndex]:
    ix = SearchIndex.open(None)
    ix.apply(CORPUS, [], {"seq": len(CORPUS)})
    yield ix
    ix.close()
