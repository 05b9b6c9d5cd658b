"""Each worker's view of the search index, and the indexer loop of the one that holds the lock.

Every worker opens the index folder for reading. The worker holding `IndexerLock` also applies
the change log after commits (woken by `notify()`, and polling for other workers' commits);
the others keep trying to take the lock, so a dead indexer is replaced within seconds.
"""

import asyncio
import fcntl
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import anyio.to_thread
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from api.errors import Problem
from api.searching import sync
from api.settings import Settings
from search import IndexerLock, IndexUnavailable, RelatedHit, SearchIndex, layout
from search.writer_process import WriterProcess

log = logging.getLogger("inkwell.search")
T = TypeVar("T")
TAKEOVER_SECONDS = 2.0
PRUNE_EVERY_SECONDS = 600.0
STOP_SECONDS = 5.0


class SearchUnavailable(Problem):
    status, title = 503, "Search unavailable"


class SyncLock:
    """Held while reading the sync state and applying a batch, and by a rebuild until its swap,
    so a rebuild from another process never has its state overwritten by a stale one.
    In async code use `acquire_async`."""

    def __init__(self, index_dir: Path) -> None:
        self.file = index_dir / "sync.lock"
        self.fd: int | None = None

    def acquire(self, blocking: bool = True) -> bool:
        self.file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.file, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(fd)
            return False
        self.fd = fd
        return True

    async def acquire_async(self) -> None:
        """Wait for the lock without a thread, so cancelling the waiter can never leak it."""
        while not self.acquire(blocking=False):  # noqa: ASYNC110 - a file lock has no event
            await asyncio.sleep(0.05)

    def release(self) -> None:
        if self.fd is not None:
            fd, self.fd = self.fd, None
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    @contextmanager
    def held(self) -> Iterator[None]:
        self.acquire()
        try:
            yield
        finally:
            self.release()


def rebuild_index(
    index_dir: Path,
    docs: Sequence[Any],
    state: sync.SyncState,
    progress: Callable[[int], None] | None = None,
    procs: int = 1,
) -> SearchIndex:
    with SyncLock(index_dir).held():
        return SearchIndex.rebuild(index_dir, docs, state.to_index(), progress, procs)


class RelatedCache:
    """Related posts per (index version, post, limit); a changed index is a new key. One per
    SearchService: version strings ("gen-1.3") repeat from one index folder to another."""

    def __init__(self, size: int = 2048, ttl: float = 5.0) -> None:
        self.size, self.ttl = size, ttl
        self.items: OrderedDict[tuple[str, int, int], tuple[float, list[RelatedHit]]] = OrderedDict()
        self.lock = threading.Lock()  # used from the thread pool

    def get(self, key: tuple[str, int, int]) -> list[RelatedHit] | None:
        with self.lock:
            found = self.items.get(key)
            # The short TTL lets scheduled posts appear on time even when the index is unchanged.
            if found is None or time.monotonic() - found[0] > self.ttl:
                return None
            self.items.move_to_end(key)
            return found[1]

    def put(self, key: tuple[str, int, int], hits: list[RelatedHit]) -> None:
        with self.lock:
            self.items[key] = (time.monotonic(), hits)
            if len(self.items) > self.size:
                self.items.popitem(last=False)


class SearchService:
    def __init__(self, settings: Settings, make_session: async_sessionmaker[AsyncSession]) -> None:
        self.settings = settings
        self.make_session = make_session
        self.dir = Path(settings.index_dir)
        self.lock = IndexerLock(self.dir)
        self.index: SearchIndex | None = None
        self.gaps = sync.GapTracker(settings.outbox_gap_seconds)
        self.related_cache = RelatedCache()
        self._wake = asyncio.Event()
        self._compacted = False  # segments checked for merging since the last commit
        self._task: asyncio.Task[None] | None = None
        self._last_prune = time.monotonic()  # the first prune waits a period, not start-up
        self.last_error: str | None = None
        # Settings.search_threads: None runs searches on the event loop.
        self._readers = (
            ThreadPoolExecutor(settings.search_threads, thread_name_prefix="inkwell-search")
            if settings.search_threads
            else None
        )
        # Settings.index_writer_process: the indexer's writes run in a child process.
        self._writer = WriterProcess(self.dir) if settings.index_writer_process else None

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        if await anyio.to_thread.run_sync(self.lock.try_acquire):
            await self._open_as_indexer()
        self._task = asyncio.create_task(self._run(), name="inkwell-search")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            # Bounded: a blocking call in a thread cannot be interrupted, and shutdown must
            # not hang on it (everything the loop does is safe to redo at the next start).
            done, _ = await asyncio.wait({self._task}, timeout=STOP_SECONDS)
            if not done:
                log.warning(
                    "search sync still busy after %s s at shutdown; leaving it", STOP_SECONDS
                )
        if self._readers is not None:
            self._readers.shutdown(wait=False, cancel_futures=True)
        if self._writer is not None:  # waits for a write the child is in the middle of
            await anyio.to_thread.run_sync(self._writer.close)
        if self.index is not None:
            try:
                self.index.close()
            except Exception as exc:  # a read still running in a worker thread at shutdown
                log.info("search index closed while in use: %r", exc)
        self.lock.release()

    def notify(self) -> None:
        """A transaction with change-log rows committed in this process."""
        self._wake.set()

    @property
    def is_indexer(self) -> bool:
        return self.lock.held

    async def _open_as_indexer(self) -> None:
        reason: str | None = None
        index: SearchIndex | None = None
        try:
            index = await anyio.to_thread.run_sync(SearchIndex.open_existing, self.dir)
        except IndexUnavailable as exc:
            reason = exc.reason
        if index is not None:
            state = sync.SyncState.from_index(await anyio.to_thread.run_sync(index.sync_state))
            age_hours = (time.time() - state.synced_at) / 3600
            if state.synced_at and age_hours > self.settings.outbox_retention_hours:
                reason = f"index is {age_hours:.0f} h behind, past the change-log retention"
                index.close()
        if reason is not None:
            # Built into a fresh generation: readers keep the old one (if any) until the swap.
            log.warning("search index will be rebuilt from the database: %s", reason)
            index = await self.rebuild()
        self.index = index
        if self._writer is not None:
            self._writer.start()  # started now, so the first write does not wait for it

    async def rebuild(self) -> SearchIndex:
        async with self.make_session() as session:
            state = await sync.rebuild_state(session, self.settings.outbox_gap_seconds)
            docs = await sync.all_documents(session)
        index = await anyio.to_thread.run_sync(rebuild_index, self.dir, docs, state)
        log.info("search index rebuilt with %d posts", len(docs))
        return index

    async def _open_as_reader(self) -> None:
        """Readers never create or replace an index: that is the indexer's job."""
        try:
            self.index = await anyio.to_thread.run_sync(SearchIndex.open_existing, self.dir)
        except IndexUnavailable as exc:
            log.debug("search index not readable yet: %s", exc.reason)

    # -- the loop ----------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            try:
                if self.is_indexer:
                    if await self.sync_now():
                        self._compacted = False
                    elif not self._compacted:  # idle after commits: merge their segments
                        await self._compact()
                        self._compacted = True
                    await self._maybe_prune()
                    try:
                        await asyncio.wait_for(
                            self._wake.wait(), self.settings.indexer_poll_seconds
                        )
                    except TimeoutError:
                        pass
                    self._wake.clear()
                else:
                    if self.index is None:
                        await self._open_as_reader()
                    if await anyio.to_thread.run_sync(self.lock.try_acquire):
                        log.info("this worker is now the search indexer")
                        # Reads keep using the reader's index until the indexer's is open
                        # (it may have to rebuild): no "unavailable" window at a takeover.
                        old = self.index
                        await self._open_as_indexer()
                        if old is not None:  # after reads already running on it are done
                            asyncio.get_running_loop().call_later(TAKEOVER_SECONDS, old.close)
                        continue
                    await asyncio.sleep(TAKEOVER_SECONDS if self.index else 0.2)
                self.last_error = None
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # keep indexing alive; the database may come back
                self.last_error = repr(exc)
                log.exception("search sync failed; retrying")
                await asyncio.sleep(1.0)

    async def sync_now(self) -> int:
        """Apply every committed change not yet in the index; the number of rows applied."""
        if self.index is None:
            return 0
        index = self.index
        total = 0
        while True:
            lock = SyncLock(self.dir)
            await lock.acquire_async()
            try:
                async with self.make_session() as session:
                    state = sync.SyncState.from_index(
                        await anyio.to_thread.run_sync(index.sync_state)
                    )
                    batch = await sync.next_batch(session, state, self.gaps)
                    if batch is None:
                        return total
                    await self._write(
                        index, "apply", batch.upserts, batch.deletes, batch.state.to_index()
                    )
            finally:
                lock.release()
            total += batch.rows
            if batch.rows < sync.BATCH:
                return total

    async def _write(self, index: SearchIndex, name: str, *args: Any) -> Any:
        """`index.<name>(*args)` (apply or compact): in the writer child, or on a thread."""
        if self._writer is None:
            return await anyio.to_thread.run_sync(getattr(index, name), *args)
        try:
            return await asyncio.wrap_future(getattr(self._writer, name)(*args))
        finally:  # even after a failure: the child may have committed before it failed
            index.changed()

    async def _compact(self) -> None:
        index = self.index
        if index is None:
            return
        lock = SyncLock(self.dir)
        await lock.acquire_async()
        try:
            if await self._write(index, "compact"):
                log.debug("search index segments merged")
        finally:
            lock.release()

    async def _maybe_prune(self) -> None:
        now = time.monotonic()
        if now - self._last_prune < PRUNE_EVERY_SECONDS:
            return
        self._last_prune = now
        async with self.make_session() as session:
            removed = await sync.prune(session, self.settings.outbox_retention_hours)
            await session.commit()
        if removed:
            log.info("pruned %d applied change-log rows", removed)

    # -- reading -----------------------------------------------------------------------

    async def read(self, fn: Callable[[SearchIndex], T]) -> T:
        """Run `fn(index)`, a blocking read, on the event loop or on a search thread
        (Settings.search_threads; searchers are per thread)."""
        index = self.index
        if index is None:
            raise SearchUnavailable("The search index is being built; try again in a moment.")
        try:
            return await self._run_read(fn, index)
        except (OSError, ValueError) as exc:
            # A rebuild in another process may have swapped the folder and removed the files
            # this reader had open: follow the new generation once, then give up loudly.
            if self.is_indexer or layout.read_current(self.dir) is None:
                raise
            log.info("search index changed under this reader (%r); reopening", exc)
            try:
                fresh = await anyio.to_thread.run_sync(SearchIndex.open_existing, self.dir)
            except IndexUnavailable:
                raise SearchUnavailable(
                    "The search index is being rebuilt; try again soon."
                ) from exc
            self.index, old = fresh, index
            old.close()
            return await self._run_read(fn, fresh)

    async def _run_read(self, fn: Callable[[SearchIndex], T], index: SearchIndex) -> T:
        if self._readers is None:  # on the event loop (Settings.search_threads)
            return fn(index)
        # Dedicated threads, not anyio's pool of 40: every thread keeps its own searcher (and
        # reopens it after each commit), so 40 threads meant 40 copies of the readers' memory
        # and 40 reopenings per commit, for no gain under the GIL.
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, fn, index)

    async def status(self) -> dict[str, Any]:
        if self.index is None:
            return {"status": "building", "documents": 0}
        index = self.index
        state = sync.SyncState.from_index(await anyio.to_thread.run_sync(index.sync_state))
        count = await anyio.to_thread.run_sync(index.doc_count)
        async with self.make_session() as session:
            head = await sync.head(session)
        return {
            "status": "ok" if self.last_error is None else "error",
            "documents": count,
            "last_applied_seq": state.watermark,
            "log_head_seq": head,
            "backlog": max(0, head - state.watermark - len(state.applied)),
            "indexer": self.is_indexer,
        }
