# mypy: disable-error-code="no-untyped-call"
# (whoosh3 ships py.typed but many of its functions are unannotated)
"""HTML-safe highlights: every character of the source text is escaped, matches get <mark>.

Whoosh's highlighter runs the whole analyser (tokenizer, folding, stop words, stemmer) over
every token of the text: about 1 ms per hit, most of a typical search's time
(docs/benchmarks.md, "Search over HTTP"). Here one regular expression finds the words that
could stem to a query term (those starting with the term's first letters), and only those
go through the analyser: the same matches for a small part of the cost.
"""

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from html import escape
from typing import NamedTuple

from whoosh.analysis.analyzers import Analyzer
from whoosh.support.charset import accent_map

#: Only the start of long bodies is scanned for snippets.
MAX_SCAN_CHARS = 20_000
FALLBACK_CHARS = 200
#: A snippet: at most FRAGMENT_CHARS characters, with up to CONTEXT_CHARS around its matches.
FRAGMENT_CHARS = 200
CONTEXT_CHARS = 60
FRAGMENTS = 2
BETWEEN = " … "

#: Accent folding one character for one character, so offsets in the folded text are those
#: of the original (every value of Whoosh's accent_map is a single letter).
_FOLD: dict[int, str] = {int(k): v for k, v in accent_map.items() if len(v) == 1}
#: The same folding as a list indexed by code point (str.translate looks a list up ~2.5 times
#: faster than a dict), and the characters it changes beyond ASCII (its ASCII entries only
#: lowercase, which `.lower()` does anyway).
_FOLD_TABLE: list[int] = [ord(_FOLD[c]) if c in _FOLD else c for c in range(max(_FOLD) + 1)]
_FOLDABLE = re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(_FOLD) if c > 127) + "]")
#: A token as the index's tokenizer reads it (word characters, with inner dots: "e.g").
_INSIDE_TOKEN = re.compile(r"[\w.]")
_SPACE = re.compile(r"\s")
_TAIL = re.compile(r"\w*(?:\.\w+)*")


class Match(NamedTuple):
    start: int
    end: int
    term: str


def highlight_title(title: str, terms: Iterable[str], analyzer: Analyzer) -> str:
    found = find_matches(title, terms, analyzer)
    return _render(title, 0, len(title), found) if found else escape(title, quote=True)


def highlight_content(content: str, terms: Iterable[str], analyzer: Analyzer) -> str:
    text = content[:MAX_SCAN_CHARS]
    found = find_matches(text, terms, analyzer)
    if found:
        return BETWEEN.join(
            _render(text, start, end, matches) for start, end, matches in _snippets(text, found)
        )
    head = text[:FALLBACK_CHARS]
    return escape(head, quote=True) + ("…" if len(text) > FALLBACK_CHARS else "")


def find_matches(text: str, terms: Iterable[str], analyzer: Analyzer) -> list[Match]:
    """Every token of `text` whose analysed form is one of `terms` (stemmed), in order."""
    termset = frozenset(t for t in terms if t)
    if not termset or not text:
        return []
    folded = _fold(text).lower()
    # Lowercased, the heads are found by str.find, in C, and no pattern is compiled for the
    # query's terms (compiling one was ~0.3 ms, once per distinct query). A token start (not
    # after a word character or a dot) is checked for each candidate.
    if len(folded) == len(text):
        spans: Iterable[tuple[int, int]] = _candidates(folded, _heads(termset))
    else:  # lower() changed some length ("İ"): the slower way
        folded = _fold(text)
        spans = (hit.span() for hit in _heads_pattern(termset).finditer(folded))
    stems = _stems_of(analyzer)
    found: list[Match] = []
    for start, end in spans:
        # Folding maps one character to one, so offsets in `folded` are those of `text`.
        if start and _INSIDE_TOKEN.match(folded, start - 1):
            continue
        word = text[start:end]
        analysed = stems.get(word)
        if analysed is None:
            analysed = _analyse(stems, analyzer, word)
        for term in analysed:
            if term in termset:
                found.append(Match(start, end, term))
                break
    return found


def _fold(text: str) -> str:
    """`text` with accented letters folded, one character for one (up to letter case).

    str.translate leaves ASCII text alone in C, but a single non-ASCII character (a curly
    quote, a dash) sends a whole body through its per-character path: 2.6 ms for 20,000
    characters. Most such bodies have no letter to fold, which one search finds out."""
    if text.isascii() or not _FOLDABLE.search(text):
        return text
    return text.translate(_FOLD_TABLE)


#: Analysed forms of words met in texts, per analyser: a word is analysed once, not once per
#: highlight (the analyser is ~10 us a word, a dictionary lookup ~50 ns).
#: Keyed by id(), with the analyser kept alive so that its id is never reused.
_ANALYSED: dict[int, tuple[Analyzer, dict[str, tuple[str, ...]]]] = {}
MAX_ANALYSED = 100_000


def _stems_of(analyzer: Analyzer) -> dict[str, tuple[str, ...]]:
    found = _ANALYSED.get(id(analyzer))
    if found is None:
        if len(_ANALYSED) >= 16:
            _ANALYSED.clear()
        found = _ANALYSED[id(analyzer)] = (analyzer, {})
    return found[1]


def _analyse(stems: dict[str, tuple[str, ...]], analyzer: Analyzer, word: str) -> tuple[str, ...]:
    if len(stems) >= MAX_ANALYSED:
        stems.clear()
    analysed = stems[word] = tuple(t.text for t in analyzer(word, mode="query"))
    return analysed


def _heads(terms: frozenset[str]) -> list[str]:
    """What the words that may stem to one of `terms` start with: a term less its last
    letter. A stem is the start of its words but for the last letter at most ("studi" from
    "study", "hope" from "hoping"); the analyser then decides. Longest first."""
    return sorted({t[:-1] if len(t) > 3 else t for t in terms}, key=len, reverse=True)


def _candidates(folded: str, heads: list[str]) -> Iterator[tuple[int, int]]:
    """Spans of lowercase `folded` that start with one of `heads` and run to the end of the
    token (word characters, with inner dots), left to right and not overlapping; also
    inside tokens (the caller checks where tokens start)."""
    starts: dict[int, str] = {}
    for head in heads:  # longest first: it is the one kept where several start
        at = folded.find(head)
        while at >= 0:
            starts.setdefault(at, head)
            at = folded.find(head, at + 1)
    end = 0
    for start in sorted(starts):
        if start >= end:
            end = _TAIL.match(folded, start + len(starts[start])).end()  # type: ignore[union-attr]
            yield start, end


@lru_cache(maxsize=64)
def _heads_pattern(terms: frozenset[str]) -> re.Pattern[str]:
    """`_candidates` for text that lowercasing would change in length: whole tokens starting
    with a head, case-insensitive."""
    alternatives = "|".join(re.escape(h) for h in _heads(terms))
    return re.compile(rf"(?<![\w.])(?:{alternatives})\w*(?:\.\w+)*", re.IGNORECASE)


def _snippets(text: str, found: list[Match]) -> list[tuple[int, int, list[Match]]]:
    """The best FRAGMENTS windows of `text` around `found`, in text order.

    Consecutive matches share a window while they fit in FRAGMENT_CHARS; windows score by
    their number of matches times their number of distinct terms (as Whoosh's
    BasicFragmentScorer), ties going to the earlier one.
    """
    windows: list[tuple[int, int, list[Match]]] = []
    i = 0
    while i < len(found):
        start = max(0, found[i].start - CONTEXT_CHARS)
        j = i + 1
        while j < len(found) and found[j].end - start <= FRAGMENT_CHARS:
            j += 1
        group = found[i:j]
        end = min(
            len(text), group[-1].end + CONTEXT_CHARS, max(start + FRAGMENT_CHARS, group[-1].end)
        )
        windows.append(
            (_snap_start(text, start, group[0].start), _snap_end(text, end, group[-1].end), group)
        )
        i = j
    best = sorted(
        range(len(windows)),
        key=lambda k: (-len(windows[k][2]) * len({m.term for m in windows[k][2]}), k),
    )[:FRAGMENTS]
    return [windows[k] for k in sorted(best)]


def _snap_start(text: str, start: int, first: int) -> int:
    """Move a window's start to the beginning of a word, never past its first match."""
    if start == 0:
        return 0
    space = _SPACE.search(text, start, first)
    return space.end() if space else start


def _snap_end(text: str, end: int, last: int) -> int:
    """Move a window's end back to the end of a word, never before its last match."""
    if end >= len(text):
        return len(text)
    for at in range(end - 1, last - 1, -1):
        if text[at].isspace():
            return at
    return end


def _render(text: str, start: int, end: int, matches: list[Match]) -> str:
    out: list[str] = []
    at = start
    for m in matches:
        out.append(escape(text[at : m.start], quote=True))
        out.append("<mark>" + escape(text[m.start : m.end], quote=True) + "</mark>")
        at = m.end
    out.append(escape(text[at:end], quote=True))
    return "".join(out)
