"""IndexerLock: at most one indexing process per index folder."""

import fcntl
import os
from pathlib import Path


class IndexerLock:
    """A non-blocking `flock` on `<path>/indexer.lock`; the OS drops it when the process dies.

    >>> lock = IndexerLock(Path("data/index"))
    >>> if lock.try_acquire():
    ...     ...  # this process applies the change log
    """

    def __init__(self, path: Path) -> None:
        self._file = Path(path) / "indexer.lock"
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def try_acquire(self) -> bool:
        """Take the lock if nobody holds it; True if this object holds it now."""
        if self._fd is not None:
            return True
        self._file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._file, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        """Give the lock up (no-op when not held)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
