"""Full-text search over posts: a pure library (no HTTP, no SQL) on top of Whoosh.

The API layer builds SearchDocuments from posts, feeds them to SearchIndex.apply/rebuild,
and turns SearchHits back into posts.
"""

from search.documents import (
    Facet,
    RelatedHit,
    SearchDocument,
    SearchHit,
    SearchPage,
    SearchQuery,
    Suggestion,
)
from search.fields import SCHEMA_VERSION
from search.index import IndexUnavailable, SearchIndex
from search.locking import IndexerLock

__all__ = [
    "SCHEMA_VERSION",
    "Facet",
    "IndexUnavailable",
    "IndexerLock",
    "RelatedHit",
    "SearchDocument",
    "SearchHit",
    "SearchIndex",
    "SearchPage",
    "SearchQuery",
    "Suggestion",
]
