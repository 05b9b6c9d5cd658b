"""WriterProcess: index writes made by a child process, seen by this process's readers."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest

from search import SearchIndex, SearchQuery
from search import index as search_index
from search.writer_process import WriterProcess
from tests.search.docs import CORPUS, NOW, make_doc


@pytest.fixture
def reader(tmp_path: Path) -> Iterator[SearchIndex]:
    index = SearchIndex.open(tmp_path / "ix")
    yield index
    index.close()


@pytest.fixture
def writer(tmp_path: Path, reader: SearchIndex) -> Iterator[WriterProcess]:
    process = WriterProcess(tmp_path / "ix")
    yield process
    process.close()


def ids(index: SearchIndex, q: str) -> list[int]:
    return sorted(h.post_id for h in index.search(SearchQuery(q=q, now=NOW)).hits)


def test_writes_happen_in_another_process(writer: WriterProcess) -> None:
    assert writer.start().result(timeout=30) is True
    pool = writer._pool
    assert pool is not None
    children = [p.pid for p in pool._processes.values()]
    assert children
    assert os.getpid() not in children


def test_apply_and_delete_are_seen_by_the_reader(
    writer: WriterProcess, reader: SearchIndex
) -> None:
    assert reader.doc_count() == 0  # this thread's searcher is open before the write
    assert writer.apply(CORPUS, [], {"seq": 6}).result(timeout=30) == len(CORPUS)
    reader.changed()
    assert reader.doc_count() == len(CORPUS)
    assert reader.sync_state() == {"seq": 6}
    assert ids(reader, "libraries") == [2, 4]

    writer.apply([make_doc(7, "Kayak trips", "paddling")], [2], {"seq": 8}).result(timeout=30)
    reader.changed()
    assert ids(reader, "libraries") == [4]
    assert ids(reader, "kayak") == [7]
    assert reader.sync_state() == {"seq": 8}


def test_compact_merges_segments_written_by_commits(
    writer: WriterProcess, reader: SearchIndex
) -> None:
    writer.apply(CORPUS, [], {"seq": 0}).result(timeout=30)
    for n in range(8):  # one unmerged segment per commit
        doc = make_doc(100 + n, f"Zeppelin {n}", "airship")
        writer.apply([doc], [], {"seq": n + 1}).result(timeout=30)
    reader.changed()
    assert reader._segments() > search_index.COMPACT_SEGMENTS
    assert writer.compact().result(timeout=30) is True
    reader.changed()
    assert reader._segments() <= search_index.COMPACT_SEGMENTS
    assert reader.doc_count() == len(CORPUS) + 8
    assert writer.compact().result(timeout=30) is False  # nothing left to merge


def test_a_failed_apply_raises_here_and_commits_nothing(
    writer: WriterProcess, reader: SearchIndex
) -> None:
    writer.apply(CORPUS[:1], [], {"seq": 1}).result(timeout=30)
    bad = make_doc(2, "Bad", "x", published_at="not a date")
    with pytest.raises(Exception):  # noqa: B017, PT011 - whatever the child raised
        writer.apply([bad], [], {"seq": 2}).result(timeout=30)
    reader.changed()
    assert reader.doc_count() == 1
    assert reader.sync_state() == {"seq": 1}
    writer.apply(CORPUS[1:2], [], {"seq": 2}).result(timeout=30)  # and it still writes
    reader.changed()
    assert reader.doc_count() == 2


def test_a_dead_child_is_replaced(writer: WriterProcess, reader: SearchIndex) -> None:
    writer.start().result(timeout=30)
    assert writer._pool is not None
    for pid in list(writer._pool._processes):
        os.kill(pid, signal.SIGKILL)
    with pytest.raises(BrokenProcessPool):
        writer.apply(CORPUS[:1], [], {"seq": 1}).result(timeout=30)
    writer.apply(CORPUS[:2], [], {"seq": 2}).result(timeout=30)
    reader.changed()
    assert reader.doc_count() == 2
    assert reader.sync_state() == {"seq": 2}


def test_the_child_follows_a_rebuild(tmp_path: Path, writer: WriterProcess) -> None:
    writer.apply(CORPUS[:1], [], {"seq": 1}).result(timeout=30)
    rebuilt = SearchIndex.rebuild(tmp_path / "ix", CORPUS[:3], {"seq": 3})
    writer.apply([make_doc(9, "After the rebuild", "fresh")], [], {"seq": 4}).result(timeout=30)
    rebuilt.changed()
    assert rebuilt.doc_count() == 4
    assert ids(rebuilt, "rebuild") == [9]
    rebuilt.close()


def test_the_child_exits_when_its_caller_is_killed(tmp_path: Path) -> None:
    """A caller killed with SIGKILL cannot shut its child down: the child must notice and
    exit by itself, or every crash of a worker would leave a process behind."""
    SearchIndex.open(tmp_path / "ix").close()
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from search.writer_process import WriterProcess\n"
        f"w = WriterProcess(Path({str(tmp_path / 'ix')!r}))\n"
        "w.start().result(timeout=30)\n"
        "print(*w._pool._processes, flush=True)\n"
        "time.sleep(60)\n"
    )
    caller = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert caller.stdout is not None
        children = [int(pid) for pid in caller.stdout.readline().split()]
        assert children and all(_alive(pid) for pid in children)
    finally:
        caller.kill()
        caller.wait()
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in children)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_the_child_ignores_stop_signals_sent_to_the_group(
    writer: WriterProcess, reader: SearchIndex
) -> None:
    """SIGTERM / SIGINT to the process group (a service stop, Ctrl-C) must not cut a write
    short: the caller stops the child itself, after its last write."""
    writer.start().result(timeout=30)
    assert writer._pool is not None
    children = list(writer._pool._processes)
    for pid in children:
        os.kill(pid, signal.SIGTERM)
        os.kill(pid, signal.SIGINT)
    time.sleep(0.2)
    assert all(_alive(pid) for pid in children)
    writer.apply(CORPUS[:2], [], {"seq": 2}).result(timeout=30)  # the same child still writes
    assert list(writer._pool._processes) == children
    reader.changed()
    assert reader.doc_count() == 2
