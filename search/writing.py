# mypy: disable-error-code="no-untyped-call"
# (whoosh3 ships py.typed but many of its functions are unannotated)
"""Turning SearchDocuments into Whoosh documents and committing them."""

import json
import multiprocessing
import multiprocessing.connection
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from whoosh.index import Index
from whoosh.writing import IndexWriter, SegmentWriter

from search.arrays import ArrayCodec
from search.documents import SearchDocument
from search.fields import META_ID, META_PUBLISHED, SCHEMA_VERSION
from search.pool import TermPool

#: Unit separator between values in the `facets` column.
SEP = "\x1f"
#: Segments as separate files, not one compound file: a reader of a compound segment copies
#: its terms file into memory, so opening a searcher on 100,000 posts took 120-260 ms and
#: ~60 MB per searcher (and searchers are reopened after every commit); separate files are
#: memory-mapped: 0.2 ms.
#: The codec also writes each segment's long posting lists as flat arrays (arrays.py).
WRITER_OPTIONS: dict[str, Any] = {"compound": False, "codec": ArrayCodec()}


#: Memory for a bulk load's postings before they go to a run file (per process).
FILL_LIMIT_MB = 128


class Writer(SegmentWriter):
    """Whoosh's segment writer, keeping its postings grouped by term (search/pool.py)."""

    def __init__(self, ix: Index, limitmb: int = 128, **kwargs: Any) -> None:
        super().__init__(ix, limitmb=limitmb, **WRITER_OPTIONS, **kwargs)
        # Whoosh's own pool is only a list until used; this one takes its place.
        self.pool = TermPool(self._tempstorage, limitmb=limitmb)  # type: ignore[assignment]


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
    with Writer(ix) as writer:
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
    writer = Writer(ix)
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
    Writer(ix).commit(merge=True)


def fill_index(
    ix: Index,
    docs: Sequence[SearchDocument],
    state: dict[str, Any],
    progress: Callable[[int], None] | None = None,
    procs: int = 1,
) -> None:
    """Bulk-load an empty index: add_document (no delete lookups), one commit.

    With `procs` > 1, that many forked processes each index a share of `docs` into a segment
    of their own (no final merge), the parent writing the meta document and the table of
    contents: indexing is pure Python and CPU-bound, so 2 processes rebuild in about half the
    time on 2 cores. Children inherit `docs` through the fork, nothing is pickled. Only for
    processes without threads of their own (the `inkwell reindex` command): forking a
    threaded server is not safe.
    """
    writer = Writer(ix, limitmb=FILL_LIMIT_MB)
    try:
        if procs > 1 and len(docs) >= procs:
            segments = _fill_in_children(ix, docs, procs, progress)
        else:
            segments = []
            _add_documents(writer, docs, progress)
        _write_meta(writer, state)
    except BaseException:
        writer.cancel()
        raise
    writer.commit(mergetype=lambda _writer, existing: [*existing, *segments])
    if progress is not None:
        progress(len(docs))


#: Documents between two progress reports.
PROGRESS_EVERY = 1000


def _add_documents(
    writer: SegmentWriter, docs: Sequence[SearchDocument], progress: Callable[[int], None] | None
) -> None:
    for count, doc in enumerate(docs, 1):
        writer.add_document(**to_fields(doc))
        if progress is not None and count % PROGRESS_EVERY == 0:
            progress(count)


def _fill_in_children(
    ix: Index, docs: Sequence[SearchDocument], procs: int, progress: Callable[[int], None] | None
) -> list[Any]:
    """The segments `procs` forked children wrote, one each, from consecutive shares of docs."""
    context = multiprocessing.get_context("fork")
    done = context.Value("q", 0)
    children = []
    for i in range(procs):
        share = docs[len(docs) * i // procs : len(docs) * (i + 1) // procs]
        receiver, sender = context.Pipe(duplex=False)
        child = context.Process(target=_fill_child, args=(ix, share, done, sender), daemon=True)
        child.start()
        sender.close()
        children.append((child, receiver))
    try:
        waiting = [receiver for _, receiver in children]
        segments: dict[Any, Any] = {}
        while waiting:
            ready: Any
            for ready in multiprocessing.connection.wait(waiting, timeout=0.5):
                try:
                    segments[ready] = ready.recv()
                except EOFError:
                    segments[ready] = None
                waiting.remove(ready)
            if progress is not None:
                progress(int(done.value))
        for child, receiver in children:
            child.join()
            if segments[receiver] is None or child.exitcode != 0:
                raise RuntimeError(
                    f"an indexing process failed (exit code {child.exitcode}); see its output"
                )
        return [segments[receiver] for _, receiver in children]
    finally:
        for child, receiver in children:
            receiver.close()
            if child.is_alive():
                child.kill()
                child.join()


def _fill_child(
    ix: Index, docs: Sequence[SearchDocument], done: Any, sender: Any
) -> None:
    """In a forked child: index `docs` into a new segment and send the segment back."""
    writer = Writer(ix, _lk=False, limitmb=FILL_LIMIT_MB)  # the parent holds the lock

    def report(count: int) -> None:  # called every PROGRESS_EVERY documents
        with done.get_lock():
            done.value += PROGRESS_EVERY

    _add_documents(writer, docs, report)
    # What Whoosh's own multiprocess writer has its children do: write the segment's
    # files, and leave the table of contents (and the writer's temporary folder) to the
    # parent.
    sender.send(writer._finalize_segment())
    sender.close()
