"""On-disk layout of an index folder.

    <path>/CURRENT        name of the active generation, replaced atomically (os.replace)
    <path>/gen-<n>/       one complete Whoosh index
    <path>/indexer.lock   see locking.IndexerLock

A rebuild fills a fresh `gen-<n+1>` and then swaps CURRENT, so readers of the old
generation keep working; they notice the new pointer on their next call.
"""

import os
import re
import shutil
from pathlib import Path

CURRENT = "CURRENT"
_GEN = re.compile(r"^gen-(\d+)$")


def read_current(path: Path) -> str | None:
    """The active generation's folder name, or None when there is no valid pointer."""
    try:
        name = (path / CURRENT).read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return name if _GEN.match(name) else None


def current_stamp(path: Path) -> tuple[int, int] | None:
    """A cheap fingerprint of CURRENT (inode, mtime): it changes whenever CURRENT is swapped."""
    try:
        st = os.stat(path / CURRENT)
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns)


def _generations(path: Path) -> list[int]:
    if not path.is_dir():
        return []
    return sorted(int(m.group(1)) for p in path.iterdir() if (m := _GEN.match(p.name)))


def new_generation(path: Path) -> Path:
    """Create and return an empty, never used `gen-<n>` folder."""
    path.mkdir(parents=True, exist_ok=True)
    n = max(_generations(path), default=0) + 1
    while True:
        folder = path / f"gen-{n}"
        try:
            folder.mkdir()
        except FileExistsError:  # another process got there first
            n += 1
            continue
        return folder


def swap_current(path: Path, generation: Path) -> None:
    """Point CURRENT at `generation` atomically, then remove older generations."""
    tmp = path / f"{CURRENT}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(generation.name)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path / CURRENT)
    active = int(generation.name.split("-")[1])
    for n in _generations(path):
        # Readers still holding files of an old generation keep them: unlink is safe on Linux.
        if n < active:
            shutil.rmtree(path / f"gen-{n}", ignore_errors=True)
