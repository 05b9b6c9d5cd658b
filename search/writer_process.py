"""Index writes in a process of their own.

Whoosh writes a segment in pure Python. Done in a thread of a worker that is also answering
searches, a commit shares one GIL with them: under a steady search load both slow down, and a
new post waits behind the searches to become searchable. `WriterProcess` runs `apply` and
`compact` for one index folder in a child process instead, which has a GIL (and, on a
multi-core machine, a core) of its own. The caller keeps every decision (what to write, when,
which state to record) and its locks; the child only writes. Readers in the caller's process
see the new segment as they see any other process's commit.

The child is started through a fork server (never a fork of a threaded server), with this
module imported in advance, so starting or restarting it costs a fork, not an interpreter.
"""

import multiprocessing
import multiprocessing.context
import os
import select
import signal
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, TypeVar

from search.documents import SearchDocument
from search.index import SearchIndex

T = TypeVar("T")
_context: multiprocessing.context.BaseContext | None = None


def _fork_server() -> multiprocessing.context.BaseContext:
    global _context
    if _context is None:
        context = multiprocessing.get_context("forkserver")
        # "__main__": a main module started by path (a script) is imported once, in the fork
        # server, instead of again in every child.
        context.set_forkserver_preload(["__main__", "search.writer_process"])
        _context = context
    return _context


# -- in the child ----------------------------------------------------------------------

_open: dict[Path, SearchIndex] = {}


def _index(path: Path) -> SearchIndex:
    index = _open.get(path)
    if index is None:
        index = _open[path] = SearchIndex.open_existing(path)
    return index


def _forget(path: Path) -> None:
    index = _open.pop(path, None)
    if index is not None:
        try:
            index.close()
        except Exception:  # a damaged index; the next call opens it afresh anyway
            pass


def _with_index(path: Path, use: Callable[[SearchIndex], T]) -> T:
    try:
        return use(_index(path))
    except BaseException:
        _forget(path)  # whatever went wrong, the next call starts from a fresh open
        raise


def _apply(
    path: Path, upserts: list[SearchDocument], deletes: list[int], state: dict[str, Any] | None
) -> int:
    _with_index(path, lambda index: index.apply(upserts, deletes, state))
    return len(upserts) + len(deletes)


def _compact(path: Path) -> bool:
    return _with_index(path, SearchIndex.compact)


def _ping() -> bool:
    return True


def _child_init(pid: int) -> None:
    """Run in the child as it starts. Its life follows the caller's, not signals:

    - SIGTERM and SIGINT are ignored. They reach the whole process group at once (a service
      manager stopping the service, Ctrl-C in a terminal), and would cut a commit short while
      the caller is still shutting down cleanly, which waits for the write (`close`).
    - It exits as soon as process `pid` (the one that started it) is gone. The child is the
      fork server's, not the caller's, and a pool worker left alone waits for work forever.
      Killed mid-write it leaves nothing the next commit does not clean up, and the caller's
      successor redoes the batch from the stored watermark.
    """
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        try:
            fd = os.pidfd_open(pid)
        except (AttributeError, OSError):  # no pidfd: ask every second
            while True:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    os._exit(0)
                except PermissionError:
                    pass
                time.sleep(1.0)
        select.select([fd], [], [])
        os._exit(0)

    threading.Thread(target=watch, name="inkwell-writer-watch", daemon=True).start()


# -- in the caller ---------------------------------------------------------------------


class WriterProcess:
    """One child process that writes to the index folder `path`.

    >>> writer = WriterProcess(Path("data/index"))
    >>> writer.apply(upserts, deletes, {"watermark": 42}).result()
    >>> writer.close()

    Calls return futures; one call runs at a time, in order. If the child dies, the call
    running fails with BrokenProcessPool and the next one starts a new child.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._pool: ProcessPoolExecutor | None = None

    def start(self) -> Future[bool]:
        """Start the child now (the first write would otherwise pay for it)."""
        return self._submit(_ping)

    def apply(
        self,
        upserts: Iterable[SearchDocument],
        deletes: Iterable[int],
        state: dict[str, Any] | None = None,
    ) -> Future[int]:
        """SearchIndex.apply in the child; the future's result is the number of changes."""
        return self._submit(_apply, self.path, list(upserts), list(deletes), state)

    def compact(self) -> Future[bool]:
        """SearchIndex.compact in the child; whether it merged."""
        return self._submit(_compact, self.path)

    def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            pool.shutdown(wait=True, cancel_futures=True)

    def _submit(self, fn: Any, *args: Any) -> Future[Any]:
        if self._pool is None:
            self._pool = self._new_pool()
        try:
            return self._pool.submit(fn, *args)
        except BrokenProcessPool:  # the child died since the last call: start another
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool()
            return self._pool.submit(fn, *args)

    @staticmethod
    def _new_pool() -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            1, mp_context=_fork_server(), initializer=_child_init, initargs=(os.getpid(),)
        )
