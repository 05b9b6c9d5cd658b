"""Pins the Whoosh behaviour search/ relies on, so an upgrade that changes it fails loudly."""

import whoosh
from whoosh.fields import ID, TEXT, Schema
from whoosh.filedb.filestore import RamStorage
from whoosh.query.terms import Term

from search.fields import complete_analyzer, fold_analyzer, text_analyzer


def _index():  # type: ignore[no-untyped-def]
    ix = RamStorage().create_index(Schema(pid=ID(stored=True, unique=True), body=TEXT(stored=True)))
    with ix.writer() as w:
        w.add_document(pid="1", body="alpha")
        w.add_document(pid="2", body="beta")
    return ix


def test_version_is_pinned() -> None:
    assert whoosh.__version__[:3] == (3, 54, 0)


def test_update_document_replaces_by_unique_field() -> None:
    ix = _index()
    with ix.writer() as w:
        w.update_document(pid="1", body="gamma")
    with ix.searcher() as s:
        assert s.doc_count() == 2
        assert [h["pid"] for h in s.search(Term("body", "gamma"))] == ["1"]
        assert list(s.search(Term("body", "alpha"))) == []


def test_delete_by_term() -> None:
    ix = _index()
    with ix.writer() as w:
        w.delete_by_term("pid", "2")
    with ix.searcher() as s:
        assert s.doc_count() == 1
        assert s.document_number(pid="2") is None


def test_new_searcher_sees_commit_old_one_does_not() -> None:
    ix = _index()
    old = ix.searcher()
    assert old.up_to_date()
    with ix.writer() as w:
        w.add_document(pid="3", body="delta")
    assert not old.up_to_date()
    assert len(old.search(Term("body", "delta"))) == 0
    new = ix.searcher()
    assert new.up_to_date()
    assert len(new.search(Term("body", "delta"))) == 1
    old.close()
    new.close()


def test_cancelled_writer_changes_nothing() -> None:
    ix = _index()
    w = ix.writer()
    w.add_document(pid="9", body="omega")
    w.cancel()
    with ix.searcher() as s:
        assert s.doc_count() == 2


def test_text_analyzer_stems_folds_and_drops_stop_words() -> None:
    tokens = [t.text for t in text_analyzer()("The Cafés were RUNNING libraries")]
    assert tokens == ["cafe", "were", "run", "librari"]


def test_fold_and_complete_analyzers() -> None:
    assert [t.text for t in fold_analyzer()("Éclair Running")] == ["eclair", "running"]
    assert [t.text for t in complete_analyzer()("Py")] == ["p", "py"]
