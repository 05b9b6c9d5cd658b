import multiprocessing
import threading
import time
from pathlib import Path

import pytest

from search import SCHEMA_VERSION, IndexerLock, SearchIndex, SearchQuery
from search import index as search_index
from tests.search.docs import CORPUS, NOW, make_doc


def titles(index: SearchIndex, q: str) -> list[int]:
    return [h.post_id for h in index.search(SearchQuery(q=q, now=NOW)).hits]


def test_new_folder_is_created_and_flagged_for_refill(tmp_path: Path) -> None:
    index = SearchIndex.open(tmp_path / "ix")
    assert index.rebuild_reason is not None
    assert "no index" in index.rebuild_reason
    assert index.doc_count() == 0
    assert index.sync_state() == {}
    assert (tmp_path / "ix" / "CURRENT").read_text() == "gen-1"
    index.close()
    again = SearchIndex.open(tmp_path / "ix")
    assert again.rebuild_reason is None


def test_apply_state_doc_count_and_version(tmp_path: Path) -> None:
    index = SearchIndex.open(tmp_path)
    v0 = index.version()
    index.apply(CORPUS, [], {"seq": 6})
    assert index.doc_count() == 6
    assert index.sync_state() == {"seq": 6}
    v1 = index.version()
    assert v1 != v0
    index.apply([], [2, 3])
    assert index.doc_count() == 4
    assert index.sync_state() == {"seq": 6}  # unchanged without a state
    assert index.version() != v1
    index.apply([make_doc(1, "Renamed", "renamed body")], [], {"seq": 9})
    assert index.doc_count() == 4
    assert titles(index, "renamed") == [1]
    assert index.sync_state() == {"seq": 9}
    # meta document never shows up in reads
    assert index.search(SearchQuery(q="", now=NOW, per_page=100)).total == 4


def test_failed_apply_commits_nothing(tmp_path: Path) -> None:
    index = SearchIndex.open(tmp_path)
    index.apply(CORPUS[:1], [], {"seq": 1})

    def docs():  # type: ignore[no-untyped-def]
        yield CORPUS[1]
        raise RuntimeError("db went away")

    with pytest.raises(RuntimeError):
        index.apply(docs(), [], {"seq": 2})
    assert index.doc_count() == 1
    assert index.sync_state() == {"seq": 1}


def wait_for_refresh() -> None:
    time.sleep(search_index.REFRESH_SECONDS + 0.02)


def test_writer_and_reader_objects_see_each_others_commits(tmp_path: Path) -> None:
    writer = SearchIndex.open(tmp_path)
    reader = SearchIndex.open(tmp_path)
    assert reader.doc_count() == 0
    writer.apply(CORPUS, [], {"seq": 6})
    assert writer.doc_count() == 6  # its own commit: at once
    wait_for_refresh()  # another object's (another process's): within REFRESH_SECONDS
    assert reader.doc_count() == 6
    assert titles(reader, "quantum") == [6]
    assert reader.sync_state() == {"seq": 6}
    writer.apply([], [6])
    wait_for_refresh()
    assert titles(reader, "quantum") == []


def test_rebuild_swaps_generation_while_reader_is_open(tmp_path: Path) -> None:
    old = SearchIndex.open(tmp_path)
    old.apply(CORPUS[:3], [], {"seq": 3})
    assert titles(old, "coffee") == [3]
    progress: list[int] = []
    new = SearchIndex.rebuild(tmp_path, CORPUS, {"seq": 6}, progress=progress.append)
    assert progress[-1] == 6
    assert new.rebuild_reason is None
    assert (tmp_path / "CURRENT").read_text() == "gen-2"
    assert not (tmp_path / "gen-1").exists()
    # the reader opened before the rebuild follows the pointer
    wait_for_refresh()
    assert titles(old, "coffee") == [5, 3]
    assert old.sync_state() == {"seq": 6}
    assert old.version().startswith("gen-2")
    # and the writer applies to the new generation
    old.apply([make_doc(9, "Zebra", "zebra")], [])
    wait_for_refresh()
    assert titles(new, "zebra") == [9]


def test_corrupt_folder_is_replaced(tmp_path: Path) -> None:
    index = SearchIndex.open(tmp_path)
    index.apply(CORPUS, [], {"seq": 6})
    index.close()
    for toc in (tmp_path / "gen-1").glob("*.toc"):
        toc.write_bytes(b"garbage")
    again = SearchIndex.open(tmp_path)
    assert again.rebuild_reason is not None
    assert again.rebuild_reason.startswith("index failed to open")
    assert again.doc_count() == 0


def test_missing_segment_files_are_replaced(tmp_path: Path) -> None:
    index = SearchIndex.open(tmp_path)
    index.apply(CORPUS, [], {"seq": 6})
    index.close()
    for f in (tmp_path / "gen-1").iterdir():
        if f.suffix != ".toc":
            f.unlink()
    again = SearchIndex.open(tmp_path)
    assert again.rebuild_reason is not None
    assert again.rebuild_reason.startswith("index failed to open")


def test_schema_version_mismatch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("search.writing.SCHEMA_VERSION", SCHEMA_VERSION - 1)
    index = SearchIndex.open(tmp_path)
    index.apply(CORPUS, [], {"seq": 6})
    index.close()
    monkeypatch.undo()
    again = SearchIndex.open(tmp_path)
    assert again.rebuild_reason == f"schema version {SCHEMA_VERSION - 1} != {SCHEMA_VERSION}"
    assert again.doc_count() == 0
    assert again.sync_state() == {}


def _try_lock(path: str, queue: "multiprocessing.Queue[bool]") -> None:
    lock = IndexerLock(Path(path))
    queue.put(lock.try_acquire())


def test_indexer_lock_is_exclusive_across_processes(tmp_path: Path) -> None:
    lock = IndexerLock(tmp_path)
    assert lock.try_acquire()
    assert lock.held
    ctx = multiprocessing.get_context("spawn")
    queue: multiprocessing.Queue[bool] = ctx.Queue()
    proc = ctx.Process(target=_try_lock, args=(str(tmp_path), queue))
    proc.start()
    proc.join(30)
    assert queue.get(timeout=5) is False
    assert not IndexerLock(tmp_path).try_acquire()  # a second holder in-process fails too
    lock.release()
    assert not lock.held
    proc = ctx.Process(target=_try_lock, args=(str(tmp_path), queue))
    proc.start()
    proc.join(30)
    assert queue.get(timeout=5) is True  # and the lock died with that process
    assert lock.try_acquire()
    lock.release()


def test_threads_search_while_a_writer_applies(tmp_path: Path) -> None:
    index = SearchIndex.open(tmp_path)
    index.apply(CORPUS, [], {"seq": 0})
    errors: list[BaseException] = []
    stop = threading.Event()

    def read() -> None:
        try:
            while not stop.is_set():
                page = index.search(SearchQuery(q="python coffee", now=NOW))
                assert page.total >= 3
                ids = [h.post_id for h in page.hits]
                assert len(ids) == len(set(ids))
                index.suggest("py", now=NOW)
                index.related(1, now=NOW)
        except BaseException as exc:
            errors.append(exc)

    readers = [threading.Thread(target=read) for _ in range(4)]
    for t in readers:
        t.start()
    for n in range(20):
        index.apply([make_doc(100 + n, f"Python note {n}", "coffee and python")], [], {"seq": n})
    stop.set()
    for t in readers:
        t.join()
    assert errors == []
    assert index.search(SearchQuery(q="note", now=NOW)).total == 20


def test_rebuild_in_forked_writer_processes(tmp_path: Path) -> None:
    """procs=2 (what `inkwell reindex` uses on large blogs): one segment per process, the
    same documents, searches and sync state as a one-process rebuild."""
    docs = [make_doc(n, f"Post {n} about kayaks" if n % 3 else f"Post {n}", f"body {n}")
            for n in range(1, 401)]  # fmt: skip
    index = SearchIndex.rebuild(tmp_path, docs, {"seq": 400}, procs=2)
    searcher, _ = index._reading()
    assert len(searcher.leaf_searchers()) >= 2
    assert index.doc_count() == 400
    assert index.sync_state() == {"seq": 400}
    assert index.search(SearchQuery(q="kayaks", now=NOW)).total == len(
        [n for n in range(1, 401) if n % 3]
    )
    assert not list((tmp_path / "gen-1").glob("*.seg"))  # separate files, as every writer
    index.close()


def test_commits_add_segments_and_compaction_merges_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_index, "MAX_SEGMENTS", 12)
    index = SearchIndex.open(tmp_path)
    index.apply(CORPUS, [], {"seq": 0})
    for n in range(8):  # each commit only adds a segment: nothing merged on the way
        index.apply([make_doc(100 + n, f"Zeppelin {n}", "airship")], [], {"seq": n + 1})
    assert index._segments() >= 9
    assert index.compact()
    assert index._segments() <= search_index.COMPACT_SEGMENTS
    assert not index.compact()  # nothing left to do
    assert index.search(SearchQuery(q="zeppelin", now=NOW)).total == 8
    assert index.sync_state() == {"seq": 8}
    for n in range(20):  # segments never pile up past MAX_SEGMENTS
        index.apply([make_doc(200 + n, f"Blimp {n}", "airship")], [])
        assert index._segments() <= 12
    assert index.search(SearchQuery(q="airship", now=NOW)).total == 28
    index.close()


def test_a_reader_whose_segments_were_merged_away_retries_with_a_fresh_searcher(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process compacts the index: the segment files an open searcher has not read
    yet (Whoosh opens them lazily) are deleted. The read is retried on a new searcher."""
    monkeypatch.setattr(search_index, "REFRESH_SECONDS", 60.0)  # keep the stale searcher
    writer = SearchIndex.open(tmp_path)
    for n in range(8):
        writer.apply([make_doc(n + 1, f"Glacier {n}", "ice")], [])
    reader = SearchIndex.open(tmp_path)
    assert titles(reader, "nothingmatches") == []  # a searcher, no stored fields read yet
    assert writer.compact()
    assert sorted(titles(reader, "glacier")) == list(range(1, 9))
    assert reader.suggest("glac", now=NOW)
