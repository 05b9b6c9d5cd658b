# mypy: disable-error-code="no-untyped-call"
# (whoosh3 ships py.typed but many of its functions are unannotated)
"""Index files read through memory maps.

Segments are written as separate files (writing.WRITER_OPTIONS) so that opening a searcher
does not copy a compound file into memory. Whoosh's FileStorage then reads them with a seek
and a read system call per access, and the terms lookups of typo correction make thousands of
those per query. Mapping each file instead gives in-memory speed with nothing copied: the
pages are the OS page cache, shared by every searcher and process.
"""

import mmap
import os
from typing import Any

from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import StructFile


class MappedFileStorage(FileStorage):
    """A FileStorage whose files open as read-only memory maps (plain files when empty)."""

    def open_file(self, name: str, **kwargs: Any) -> StructFile:
        path = os.path.join(self.folder, name)
        with open(path, "rb") as f:
            if os.fstat(f.fileno()).st_size == 0:
                plain: StructFile = super().open_file(name, **kwargs)
                return plain
            mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        return StructFile(mapped, name=name, **kwargs)  # type: ignore[arg-type]
