# mypy: disable-error-code="no-untyped-call"
# (whoosh3 ships py.typed but many of its functions are unannotated)
"""Turning SearchDocuments into Whoosh documents and committing them."""

import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from whoosh.index import Index
from whoosh.writing import IndexWriter

from search.arrays import ArrayCodec
from search.documents import SearchDocument
from search.fields import META_ID, META_PUBLISHED, SCHEMA_VERSION

#: Unit separator between values in the `facets` column.
SEP = "\x1f"
#: Segments as separate files, not one compound file: a reader of a compound segment copies
#: its terms file into memory, so opening a searcher on 100,000 posts took 120-260 ms and
#: ~60 MB per searcher (and searchers are reopened after every commit); separate files are
#: memory-mapped: 0.2 ms.
#: The codec also writes each segment's long posting lists as flat arrays (arrays.py).
WRITER_OPTIONS: dict[str, Any] = {"compound": False, "codec": ArrayCodec()}


def to_timestamp(dt: datetime) -> int:
    if dt.tzinfo is None:  # treat naive datetimes as UTC rather than local time
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp())


def encode_facets(tags: Iterable[str], author: str) -> bytes:
    return SEP.join([author, *tags]).encode("utf-8")


def decode_facets(raw: bytes) -> tuple[str, tuple[str, ...]]:
    """(author, tags) from a `facets` column value."""
    if not raw:
        return "", ()
    author, *tags = raw.decode("utf-8").split(SEP)
    return author, tuple(tags)


def to_fields(doc: SearchDocument) -> dict[str, Any]:
    return {
        "post_id": str(doc.post_id),
        "slug": doc.slug,
        "title": doc.title,
        "excerpt": doc.excerpt,
        "content": doc.content,
        "tags": ",".join(doc.tags),
        "tag_names": tuple(doc.tag_names),
        "author": doc.author,
        "author_name": doc.author_name,
        "published": to_timestamp(doc.published_at),
        "updated": doc.updated_at.isoformat(),
        "complete": doc.title,
        "title_words": doc.title,
        "facets": encode_facets(doc.tags, doc.author),
    }


def _write_meta(writer: IndexWriter, state: dict[str, Any]) -> None:
    meta = json.dumps({"schema_version": SCHEMA_VERSION, "state": state})
    writer.update_document(post_id=META_ID, meta=meta, published=META_PUBLISHED)


def parse_meta(stored: dict[str, Any] | None) -> tuple[int | None, dict[str, Any]]:
    """(schema_version, state) from the meta document's stored fields."""
    if not stored or "meta" not in stored:
        return None, {}
    meta = json.loads(stored["meta"])
    return meta.get("schema_version"), dict(meta.get("state") or {})


def init_index(ix: Index) -> None:
    """Give a freshly created index its meta document (schema version, empty state)."""
    with ix.writer(**WRITER_OPTIONS) as writer:
        _write_meta(writer, {})


def apply_changes(
    ix: Index,
    upserts: Iterable[SearchDocument],
    deletes: Iterable[int],
    state: dict[str, Any] | None,
    merge: bool = True,
) -> None:
    """Upserts, deletes and the new state in one commit (or none of it on error).

    Without `merge`, the commit only adds a segment: Whoosh's default merges small segments
    on commit, up to hundreds of ms of pure Python at 100,000 posts, which under read load
    (the GIL shared with the search threads) delayed new posts by seconds. The caller merges
    when it has time (SearchIndex.compact) or when segments pile up.
    """
    writer = ix.writer(**WRITER_OPTIONS)
    try:
        for doc in upserts:
            writer.update_document(**to_fields(doc))
        for post_id in deletes:
            writer.delete_by_term("post_id", str(post_id))
        if state is not None:
            _write_meta(writer, state)
    except BaseException:
        writer.cancel()
        raise
    writer.commit(merge=merge)


def merge_segments(ix: Index) -> None:
    """Merge the index's small segments (Whoosh's default policy), changing no document."""
    ix.writer(**WRITER_OPTIONS).commit(merge=True)


def fill_index(
    ix: Index,
    docs: Iterable[SearchDocument],
    state: dict[str, Any],
    progress: Callable[[int], None] | None = None,
    procs: int = 1,
) -> None:
    """Bulk-load an empty index: add_document (no delete lookups), one commit.

    With `procs` > 1, Whoosh's multiprocess writer analyses and writes in that many forked
    processes, each leaving its own segment (no final merge): the posting writer is pure
    Python and CPU-bound, so 2 processes rebuild 100,000 posts in about half the time on 2
    cores. Only for processes without threads of their own (the `inkwell reindex` command):
    forking a threaded server is not safe.
    """
    count = 0
    options: dict[str, Any] = {"procs": procs, "multisegment": True} if procs > 1 else {}
    with ix.writer(limitmb=256, **WRITER_OPTIONS, **options) as writer:
        for doc in docs:
            writer.add_document(**to_fields(doc))
            count += 1
            if progress is not None and count % 1000 == 0:
                progress(count)
        _write_meta(writer, state)
    if progress is not None:
        progress(count)
