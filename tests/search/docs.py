"""Plain SearchDocument builders for the search tests."""

from datetime import UTC, datetime, timedelta
from typing import Any

from search import SearchDocument

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def make_doc(post_id: int, title: str, content: str = "", **overrides: Any) -> SearchDocument:
    tags = tuple(overrides.pop("tags", ("general",)))
    fields: dict[str, Any] = {
        "post_id": post_id,
        "slug": f"post-{post_id}",
        "title": title,
        "excerpt": content[:50],
        "content": content,
        "tags": tags,
        "tag_names": tuple(t.title() for t in tags),
        "author": "alice",
        "author_name": "Alice",
        "published_at": NOW - timedelta(days=post_id),
        "updated_at": NOW,
    }
    fields.update(overrides)
    return SearchDocument(**fields)


CORPUS = [
    make_doc(
        1,
        "Running Python in production",
        "We run asyncio servers behind a proxy. Running fast matters.",
        tags=("python", "ops"),
    ),
    make_doc(
        2,
        "Massive libraries of books",
        "Libraries keep massive collections of books and journals.",
        tags=("books",),
        author="bob",
        author_name="Bob",
    ),
    make_doc(
        3,
        "Café culture in Paris",
        "The cafés of Paris serve strong coffee and croissants.",
        tags=("travel",),
        author="bob",
        author_name="Bob",
    ),
    make_doc(
        4,
        "Python packaging guide",
        "Packaging Python libraries with wheels and pyproject files.",
        tags=("python",),
    ),
    make_doc(
        5,
        "Coffee brewing at home",
        "Brewing coffee at home: grinders, kettles and patience.",
        tags=("coffee", "travel"),
        author="carol",
        author_name="Carol",
    ),
    make_doc(
        6,
        "Quantum computing basics",
        "Qubits, superposition and entanglement explained simply.",
        tags=("science",),
        author="carol",
        author_name="Carol",
        published_at=datetime(2023, 3, 1, tzinfo=UTC),
    ),
]
