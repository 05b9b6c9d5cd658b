"""Postings grouped by term (search/pool.py) and the bulk load built on them (writing.py)."""

import random
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from whoosh.filedb.filestore import FileStorage, RamStorage

from search import SearchIndex, writing
from search.fields import META_ID, build_schema
from search.pool import TermPool
from search.writing import WRITER_OPTIONS, fill_index, to_fields
from tests.search.test_scoring import corpus


def _postings(seed: int) -> list[tuple[str, bytes, int, float, Any]]:
    """Postings in the order a writer adds them: document by document, terms in any order."""
    rng = random.Random(seed)
    items = []
    for docnum in range(300):
        for fieldname in rng.sample(["title", "content", "tags"], 2):
            for term in rng.sample([f"w{n}".encode() for n in range(40)], rng.randint(1, 12)):
                items.append((fieldname, term, docnum, rng.random() * 3, bytes(rng.randint(0, 9))))
    return items


@pytest.mark.parametrize("limit", [None, 3000])
def test_postings_come_back_sorted_by_field_term_and_docnum(limit: int | None) -> None:
    storage = RamStorage()
    pool = TermPool(storage)
    if limit is not None:
        pool.limit = limit  # a few kB: dozens of run files
    items = _postings(1)
    for item in items:
        pool.add(item)
    assert (len(pool.runs) > 10) == (limit is not None)
    assert list(pool.iter_postings()) == sorted(items)
    # A term at a time: each term once (its parts from several runs joined), in order.
    groups = [(f, t, list(zip(*g, strict=True))) for f, t, g in pool.iter_postings().groups()]
    assert [(f, t) for f, t, _ in groups] == sorted({(f, t) for f, t, *_ in items})
    assert [(f, t, *p) for f, t, ps in groups for p in ps] == sorted(items)
    assert pool.fieldnames == {"title", "content", "tags"}
    pool.cleanup()
    assert list(storage.list()) == []


def test_run_files_are_written_and_read_back_without_keeping_them_in_memory(
    tmp_path: Path,
) -> None:
    """A pool past its budget holds about its budget, also while it writes and reads runs
    (found: one Pickler and one Unpickler per run kept every group alive in their memos)."""
    pool = TermPool(FileStorage(str(tmp_path)).create())
    pool.limit = 100_000
    rng = random.Random(2)
    tracemalloc.start()
    try:
        for docnum in range(5_000):
            for term in rng.sample(range(5_000), 20):
                pool.add(("content", b"t%d" % term, docnum, 1.0, bytes(12)))
        adding = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        postings = sum(len(ids) for _, _, (ids, _, _) in pool.iter_postings().groups())
        reading = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert postings == 100_000 and len(pool.runs) > 20
    # The budget is 0.1 MB; reading merges ~70 runs, a buffer and a group each open at once
    # (~2 MB). Holding every group read took 42 MB.
    assert adding < 1_000_000 and reading < 5_000_000, (adding, reading)
    pool.cleanup()


def _contents(ix: Any) -> dict[str, Any]:
    """Everything a reader can tell about the documents, keyed by post id, not docnum."""
    with ix.reader() as reader:
        ids = {n: f["post_id"] for n, f in reader.iter_docs()}
        terms = {}
        for fieldname in ("title", "content", "tags", "author", "complete", "title_words"):
            for term in reader.lexicon(fieldname):
                info = reader.term_info(fieldname, term)
                m = reader.postings(fieldname, term)
                postings = []  # in docnum order: the shares keep the documents' order
                while m.is_active():
                    postings.append((ids[m.id()], m.weight(), m.value()))
                    m.next()
                terms[fieldname, term] = (
                    postings, info.weight(), info.doc_frequency(), info.max_weight(),
                    info.min_length(), info.max_length(),
                )
        # (the meta document has none: one reader says None, several say 0)
        lengths = {
            (ids[n], name): reader.doc_field_length(n, name)
            for n in ids if ids[n] != META_ID for name in ("title", "content", "tags")
        }
        stored = {f["post_id"]: f for _, f in reader.iter_docs()}
    return {"terms": terms, "lengths": lengths, "stored": stored}


@pytest.mark.parametrize("procs", [1, 2, 3])
def test_a_bulk_load_writes_what_whooshs_own_writer_writes(
    tmp_path: Path, procs: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = corpus(1, 200, 7)
    # Whoosh's writer with its own pool, as the index was written before the term pool.
    whoosh_ix = FileStorage(str(tmp_path / "whoosh")).create().create_index(build_schema())
    with whoosh_ix.writer(**WRITER_OPTIONS) as writer:
        for doc in docs:
            writer.add_document(**to_fields(doc))
        writing._write_meta(writer, {"seq": 3})
    # A small memory budget, so that the pool goes through run files too.
    monkeypatch.setattr(writing, "FILL_LIMIT_MB", 0.2)
    ix = FileStorage(str(tmp_path / "ours")).create().create_index(build_schema())
    progress: list[int] = []
    fill_index(ix, docs, {"seq": 3}, progress.append, procs=procs)
    assert len(ix._segments()) == (procs if procs > 1 else 1) + (procs > 1)
    assert progress[-1] == len(docs)
    assert _contents(ix) == _contents(whoosh_ix)
    assert not (tmp_path / "ours" / "MAIN.tmp").exists()


def test_a_failing_child_fails_the_rebuild_and_keeps_the_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = SearchIndex.rebuild(tmp_path, corpus(1, 20, 1), {"seq": 1})
    real = writing.to_fields

    def broken(doc: Any) -> dict[str, Any]:
        if doc.post_id == 150:
            raise ValueError("a document the index cannot take")
        return real(doc)

    monkeypatch.setattr(writing, "to_fields", broken)  # the forked children inherit it
    with pytest.raises(RuntimeError, match="indexing process failed"):
        SearchIndex.rebuild(tmp_path, corpus(101, 100, 2), {"seq": 2}, procs=2)
    reopened = SearchIndex.open(tmp_path)
    assert reopened.doc_count() == 20
    index.close()
    reopened.close()
