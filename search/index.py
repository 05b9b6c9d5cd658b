# mypy: disable-error-code="no-untyped-call"
# (whoosh3 ships py.typed but many of its functions are unannotated)
"""SearchIndex: open / rebuild an index folder, write changes, and read with per-thread searchers."""

import threading
import time
import weakref
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Self, TypeVar

from whoosh.filedb.filestore import RamStorage
from whoosh.index import FileIndex, Index
from whoosh.scoring import BM25F
from whoosh.searching import Searcher

from search import layout
from search.champions import ChampionCache
from search.docinfo import DocInfo, DocInfoCache
from search.documents import RelatedHit, SearchDocument, SearchPage, SearchQuery, Suggestion
from search.fields import META_ID, SCHEMA_VERSION, build_schema
from search.querying import QueryBuilder
from search.related import related_hits
from search.scoring import SegmentCache
from search.searching import now_ts, run_search
from search.storage import MappedFileStorage
from search.suggesting import suggestions
from search.terms import Vocabulary
from search.writing import apply_changes, fill_index, init_index, merge_segments, parse_meta

T = TypeVar("T")
_OPEN_RETRIES = 5
#: How long a thread keeps using its searcher without asking whether another process changed
#: the index (a directory listing and a stat per request, ~3% of a search); this object's
#: own writes are seen at once.
REFRESH_SECONDS = 0.05
#: Commits add unmerged segments; at this many, a commit merges (see apply), and the
#: indexer compacts beyond COMPACT_SEGMENTS when idle.
MAX_SEGMENTS = 24
COMPACT_SEGMENTS = 6
#: BM25F parameters (Whoosh defaults: B=0.75, K1=1.2). Stronger length normalisation and a
#: slower-saturating term frequency rank better on every evaluation collection we tried
#: (docs/benchmarks.md, "Search relevance").
BM25_B = 0.9
BM25_K1 = 2.0


class IndexUnavailable(Exception):
    """There is no usable index at a path; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SearchIndex:
    """The full-text index of published posts: a derived view of the database.

    >>> index = SearchIndex.open(Path("data/index"))
    >>> if index.rebuild_reason:
    ...     index = SearchIndex.rebuild(Path("data/index"), all_documents(), {"seq": 42})
    >>> index.search(SearchQuery(q="whoosh tips")).hits
    """

    def __init__(self, path: Path | None, ix: FileIndex, generation: str) -> None:
        self.path = path
        self.rebuild_reason: str | None = None
        self._ix = ix
        self._generation = generation
        self._stamp = layout.current_stamp(path) if path is not None else None
        self._lock = threading.Lock()
        self._local = threading.local()
        self._searchers: weakref.WeakSet[Searcher] = weakref.WeakSet()
        self._cache = DocInfoCache()
        self._champions = ChampionCache()
        self._segment_cache = SegmentCache()
        self._writes = 0  # commits made through this object
        self._vocabulary = Vocabulary(self._segment_cache.arrays)
        self._builder = QueryBuilder(ix.schema, self._vocabulary)

    # -- opening and rebuilding ---------------------------------------------------------

    @classmethod
    def open(cls, path: Path | None) -> Self:
        """Open the index at `path` (None: in memory), creating a fresh one when needed."""
        if path is None:
            ix = RamStorage().create_index(build_schema())
            init_index(ix)
            return cls(None, ix, "mem")
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        try:
            return cls.open_existing(path)
        except IndexUnavailable as exc:
            reason = exc.reason
        index = cls._create(path)
        index.rebuild_reason = reason
        return index

    @classmethod
    def open_existing(cls, path: Path) -> Self:
        """Open the index at `path` without ever creating or replacing one (for readers).

        Raises IndexUnavailable, with the reason, when there is no usable index.
        """
        path = Path(path)
        name = layout.read_current(path)
        if name is None:
            raise IndexUnavailable(f"no index at {path}")
        try:
            ix = MappedFileStorage(str(path / name)).open_index()
            with ix.searcher() as s:
                version, _ = parse_meta(s.document(post_id=META_ID))
        except Exception as exc:  # any damage means: start over
            raise IndexUnavailable(f"index failed to open: {exc!r}") from exc
        if version != SCHEMA_VERSION:
            ix.close()
            raise IndexUnavailable(f"schema version {version} != {SCHEMA_VERSION}")
        return cls(path, ix, name)

    @classmethod
    def _create(cls, path: Path) -> Self:
        folder = layout.new_generation(path)
        ix = MappedFileStorage(str(folder)).create_index(build_schema())
        init_index(ix)
        layout.swap_current(path, folder)
        return cls(path, ix, folder.name)

    @classmethod
    def rebuild(
        cls,
        path: Path,
        docs: Sequence[SearchDocument],
        state: dict[str, Any],
        progress: Callable[[int], None] | None = None,
        procs: int = 1,
    ) -> Self:
        """Index `docs` into a fresh generation, then swap it in; readers of `path` follow.

        `procs` > 1 indexes in forked processes (see writing.fill_index).
        """
        path = Path(path)
        folder = layout.new_generation(path)
        ix = MappedFileStorage(str(folder)).create_index(build_schema())
        fill_index(ix, docs, state, progress, procs)
        ix.close()
        layout.swap_current(path, folder)
        return cls.open(path)

    # -- writing ---------------------------------------------------------------------------

    def apply(
        self,
        upserts: Iterable[SearchDocument],
        deletes: Iterable[int],
        state: dict[str, Any] | None = None,
    ) -> None:
        """Upsert and delete posts, and store `state`, in one commit.

        The commit adds a segment without merging (fast, so new posts are searchable soon)
        unless MAX_SEGMENTS are there already; `compact` merges when there is time.
        """
        self._follow_current()
        try:
            merge = self._segments() >= MAX_SEGMENTS
            apply_changes(self._ix, upserts, deletes, state, merge=merge)
        finally:
            self.changed()

    def changed(self) -> None:
        """This object, or another process for it (search.writer_process), committed to the
        index: this object's readers look for the new segment at their next read."""
        self._writes += 1

    def compact(self) -> bool:
        """Merge small segments if there are more than COMPACT_SEGMENTS; whether it did."""
        self._follow_current()
        if self._segments() <= COMPACT_SEGMENTS:
            return False
        try:
            merge_segments(self._ix)
        finally:
            self.changed()
        return True

    def _segments(self) -> int:
        return len(self._ix._segments())

    def sync_state(self) -> dict[str, Any]:
        """The state stored by the last apply/rebuild ({} if none)."""
        searcher, _ = self._reading()
        return parse_meta(searcher.document(post_id=META_ID))[1]

    # -- reading ---------------------------------------------------------------------------

    def doc_count(self) -> int:
        """Number of posts in the index (scheduled ones included)."""
        searcher, _ = self._reading()
        has_meta = searcher.document_number(post_id=META_ID) is not None
        return int(searcher.doc_count()) - int(has_meta)

    def version(self) -> str:
        """Changes whenever the searchable content changes (for ETags and cache keys)."""
        searcher, _ = self._reading()
        return f"{self._generation}.{searcher.reader().generation()}"

    def search(self, query: SearchQuery) -> SearchPage:
        """One page of visible posts matching `query`, with facets and a "did you mean"."""
        return self._read(
            lambda searcher, info: run_search(
                searcher, info, self._builder, query, self._champions, self._segment_cache
            )
        )

    def suggest(self, prefix: str, limit: int = 8, now: datetime | None = None) -> list[Suggestion]:
        """Completions for what the user is typing: visible post titles, then words."""

        def suggest(searcher: Searcher, info: DocInfo) -> list[Suggestion]:
            hidden = info.outside(None, now_ts(now)) | info.deleted
            return suggestions(
                searcher, prefix, limit, hidden, self._segment_cache, self._vocabulary
            )

        return self._read(suggest)

    def related(
        self, post_id: int, limit: int = 5, now: datetime | None = None
    ) -> list[RelatedHit]:
        """Visible posts similar to post `post_id` (never itself); [] if it is unknown."""
        return self._read(lambda searcher, info: self._related(searcher, info, post_id, limit, now))

    def _related(
        self, searcher: Searcher, info: DocInfo, post_id: int, limit: int, now: datetime | None
    ) -> list[RelatedHit]:
        docnum = searcher.document_number(post_id=str(post_id))
        if docnum is None:
            return []
        stored = self._segment_cache.stored(searcher.reader(), docnum)
        tags = [t for t in (stored.get("tags") or "").split(",") if t]
        hidden = info.outside(None, now_ts(now)) | {docnum}
        return related_hits(
            searcher,
            info,
            stored.get("title", ""),
            stored.get("content", ""),
            tags,
            hidden,
            limit,
            self._segment_cache,
        )

    def related_to_text(
        self,
        title: str,
        content: str,
        tags: Sequence[str],
        limit: int = 5,
        now: datetime | None = None,
    ) -> list[RelatedHit]:
        """Visible posts similar to an unsaved draft."""
        return self._read(
            lambda searcher, info: related_hits(
                searcher,
                info,
                title,
                content,
                list(tags),
                info.outside(None, now_ts(now)),
                limit,
                self._segment_cache,
            )
        )

    def close(self) -> None:
        """Close every searcher this object opened, and the index."""
        for searcher in list(self._searchers):
            # A searcher replaced after a commit is closed already, but can linger in the
            # weak set until garbage collection (result objects refer to it in cycles).
            if not searcher.is_closed:
                searcher.close()
        self._ix.close()

    # -- internals ---------------------------------------------------------------------

    def _follow_current(self) -> None:
        """Switch to the generation CURRENT names if a rebuild swapped it (cheap: one stat)."""
        if self.path is None:
            return
        stamp = layout.current_stamp(self.path)
        if stamp == self._stamp:
            return
        with self._lock:
            if stamp == self._stamp:
                return
            name = layout.read_current(self.path)
            if name is None or name == self._generation:
                self._stamp = stamp
                return
            ix = MappedFileStorage(str(self.path / name)).open_index()
            self._ix, self._generation, self._stamp = ix, name, stamp

    def _read(self, fn: Callable[[Searcher, DocInfo], T]) -> T:
        """`fn` with this thread's searcher; once more with a fresh one if it fails because
        another process changed the index under it (a merge deleted segment files this
        searcher had not opened yet: they are opened lazily)."""
        searcher, info = self._reading()
        try:
            return fn(searcher, info)
        except Exception:
            self._follow_current()
            if self._ix is self._local.ix and searcher.up_to_date():
                raise
        self._local.checked = float("-inf")  # re-check and reopen now
        searcher, info = self._reading()
        return fn(searcher, info)

    def _reading(self) -> tuple[Searcher, DocInfo]:
        """This thread's searcher, replaced when the index has changed since it was opened."""
        local = self._local
        searcher: Searcher | None = getattr(local, "searcher", None)
        now = time.monotonic()
        writes = self._writes
        if (
            searcher is not None
            and local.writes == writes
            and now - local.checked < REFRESH_SECONDS
            and local.ix is self._ix
        ):
            return searcher, local.info
        self._follow_current()
        ix = self._ix
        local.checked, local.writes = now, writes
        if searcher is not None and local.ix is ix and searcher.up_to_date():
            return searcher, local.info
        if searcher is not None:
            searcher.close()
        searcher = self._open_searcher(ix)
        local.searcher, local.ix, local.info = searcher, ix, self._cache.for_searcher(searcher)
        return searcher, local.info

    def _open_searcher(self, ix: Index) -> Searcher:
        # A commit in another process may delete segment files between reading the table of
        # contents and opening them: retry with the newer generation.
        for attempt in range(_OPEN_RETRIES):
            try:
                searcher = ix.searcher(weighting=BM25F(B=BM25_B, K1=BM25_K1))
                self._vocabulary.install(searcher)
                self._searchers.add(searcher)
                return searcher
            except OSError:
                if attempt == _OPEN_RETRIES - 1:
                    raise
                time.sleep(0.01 * (attempt + 1))
        raise AssertionError("unreachable")
