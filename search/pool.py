"""A posting pool that groups postings by term: Whoosh's PostingPool, without sorting them.

A segment writer hands every posting, as `(field, term, docnum, weight, value)`, to a pool,
and at commit takes them back sorted by field, term and docnum. Whoosh's pool keeps the
tuples in a list, sorts it, and past its memory budget pickles each tuple to a run file and
merges the runs with a heap: a third of a rebuild's time went to that, one Python call or
more per posting. Postings arrive in docnum order (documents are added, and segments merged,
in order), so grouping them by term as they come is enough: only the terms are sorted, and a
term's postings are already in order. Past the budget the groups go to a run file, a pickle
per term; runs are merged by term and their postings concatenated in run order, which is
docnum order again.

The pool is installed by the writers in search/writing.py; Whoosh reaches it through the
`add`, `iter_postings`, `save`, `cleanup` and `fieldnames` members its own pool has.
"""

import heapq
import pickle
from array import array
from collections.abc import Iterator
from itertools import groupby
from typing import Any

from whoosh.util import random_name

#: A term's postings: docnums, weights, encoded values (positions or frequencies).
Group = tuple["array[int]", "array[float]", list[Any]]
#: Bytes a new term costs in memory (dict slot, key, the group's tuple, arrays and list),
#: roughly; and bytes per posting besides its value.
TERM_BYTES = 330
POSTING_BYTES = 28


class TermPool:
    def __init__(self, tempstore: Any, limitmb: int = 128) -> None:
        self.tempstore = tempstore
        self.limit = limitmb * 1024 * 1024
        self.size = 0
        self.fieldnames: set[str] = set()
        self.runs: list[str] = []
        self._fields: dict[str, dict[bytes, Group]] = {}

    def add(self, item: tuple[str, bytes, int, float, Any]) -> None:
        fieldname, tbytes, docnum, weight, value = item
        terms = self._fields.get(fieldname)
        if terms is None:
            terms = self._fields[fieldname] = {}
            self.fieldnames.add(fieldname)
        group = terms.get(tbytes)
        if group is None:
            group = terms[tbytes] = (array("I"), array("d"), [])
            self.size += TERM_BYTES + len(tbytes)
        group[0].append(docnum)
        group[1].append(weight)
        group[2].append(value)
        self.size += POSTING_BYTES + (len(value) + 33 if value else 0)
        if self.size > self.limit:
            self.save()

    def _sorted_groups(self) -> Iterator[tuple[str, bytes, Group]]:
        for fieldname in sorted(self._fields):
            terms = self._fields[fieldname]
            for tbytes in sorted(terms):
                yield fieldname, tbytes, terms[tbytes]

    def save(self) -> None:
        """Write the groups held in memory to a run file, sorted by field and term."""
        if not self._fields:
            return
        name = f"{random_name()}.termrun"  # writers in other processes share the folder
        f = self.tempstore.create_file(name)
        # pickle.dump per group, not one Pickler: a Pickler's memo would keep every group
        # written alive (and an Unpickler's every group read) until the run is done.
        for fieldname, tbytes, (ids, weights, values) in self._sorted_groups():
            pickle.dump((fieldname, tbytes, ids.tobytes(), weights.tobytes(), values), f,
                        pickle.HIGHEST_PROTOCOL)
        f.close()
        self.runs.append(name)
        self._fields = {}
        self.size = 0

    def _read_run(self, order: int, name: str) -> Iterator[tuple[str, bytes, int, Group]]:
        """A run's groups, each with `order` for the merge to keep runs in docnum order."""
        f = self.tempstore.open_file(name).raw_file()
        try:
            while True:
                try:
                    fieldname, tbytes, idbytes, weightbytes, values = pickle.load(f)
                except EOFError:
                    return
                ids, weights = array("I"), array("d")
                ids.frombytes(idbytes)
                weights.frombytes(weightbytes)
                yield fieldname, tbytes, order, (ids, weights, values)
        finally:
            f.close()

    def iter_postings(self) -> "Postings":
        """Every posting, sorted by field, term and docnum."""
        if not self.runs:
            return Postings(self._sorted_groups())
        self.save()
        sources = [self._read_run(order, name) for order, name in enumerate(self.runs)]
        # (field, term, run order) never ties, so the groups themselves are never compared.
        return Postings(_joined(heapq.merge(*sources)))

    def cleanup(self) -> None:
        for name in self.runs:
            try:
                self.tempstore.delete_file(name)
            except OSError:
                pass
        self.runs = []
        self._fields = {}


def _joined(
    merged: Iterator[tuple[str, bytes, int, Group]],
) -> Iterator[tuple[str, bytes, Group]]:
    """One group per term: a term's groups from several runs, concatenated in run order."""
    for (fieldname, tbytes), same_term in groupby(merged, key=lambda g: (g[0], g[1])):
        parts = [g for _, _, _, g in same_term]
        if len(parts) == 1:
            yield fieldname, tbytes, parts[0]
            continue
        ids, weights, values = array("I"), array("d"), []
        for part_ids, part_weights, part_values in parts:
            ids.extend(part_ids)
            weights.extend(part_weights)
            values.extend(part_values)
        yield fieldname, tbytes, (ids, weights, values)


class Postings:
    """A pool's postings in order: one at a time, as `(field, term, docnum, weight, value)`
    (what Whoosh's field writers take), or a term at a time, as `(field, term, group)`
    (what search.arrays' field writer takes, to write each block in one step)."""

    def __init__(self, groups: Iterator[tuple[str, bytes, Group]]) -> None:
        self._groups = groups

    def groups(self) -> Iterator[tuple[str, bytes, Group]]:
        return self._groups

    def __iter__(self) -> Iterator[tuple[str, bytes, int, float, Any]]:
        for fieldname, tbytes, (ids, weights, values) in self._groups:
            for docnum, weight, value in zip(ids, weights, values, strict=True):
                yield fieldname, tbytes, docnum, weight, value
