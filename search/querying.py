# mypy: disable-error-code="no-untyped-call"
# (whoosh3 ships py.typed but many of its functions are unannotated)
"""User query text -> Whoosh query: syntax, prefixes, typo tolerance, and the fallback.

Supported: plain words (OR with a coordination bonus, so documents with all words rank first),
"exact phrases", -excluded, OR / AND / NOT, grouping, `title:` `content:` `tag:` `author:`
prefixes and `word*` prefixes. Anything the parser cannot make sense of falls back to the
plain words of the text: a query never raises.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import islice

from whoosh.analysis.analyzers import Analyzer
from whoosh.fields import Schema
from whoosh.qparser.default import QueryParser
from whoosh.qparser.plugins import (
    BoostPlugin,
    EveryPlugin,
    MultifieldPlugin,
    PlusMinusPlugin,
    RangePlugin,
    SingleQuotePlugin,
)
from whoosh.qparser.syntax import OrGroup
from whoosh.query.compound import And, Or
from whoosh.query.qcore import Every, NullQuery, Query
from whoosh.query.terms import Prefix, Term, Wildcard
from whoosh.query.wrappers import Not
from whoosh.searching import Searcher

from search.fields import QUERY_FIELDS, TEXT_FIELDS, text_analyzer

MAX_QUERY_CHARS = 1000
MAX_WORDS = 64
#: Prefix queries are expanded to the most frequent matching terms only.
MAX_PREFIX_TERMS = 24
PREFIX_SCAN = 3000
#: Scoring weights (see docs/benchmarks.md "Search relevance" for how they were chosen).
TITLE_BOOST = 2.0
COORD_SCALE = 0.9
CORRECTION_WEIGHT = 0.5
MAX_TYPO_WORDS = 6

_FIELD_PREFIX = re.compile(r"(\w+):")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_WORD = re.compile(r"\w+")
EXACT_FIELDS = frozenset({"tags", "author"})
_ALIASES = {"tag": "tags", "body": "content"}


@dataclass
class ParsedQuery:
    """A query ready to run; `query` is None for "every document" (no words)."""

    query: Query | None
    #: stemmed term the user typed (not in the index) -> stemmed correction
    corrections: dict[str, str] = field(default_factory=dict)
    fallback: bool = False


class QueryBuilder:
    """Parses user text against one schema; safe to share between threads."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.analyzer: Analyzer = text_analyzer()
        group = OrGroup.factory(COORD_SCALE)
        parser = QueryParser(None, schema, group=group)
        for plugin in (SingleQuotePlugin, RangePlugin, BoostPlugin, EveryPlugin):
            parser.remove_plugin_class(plugin)
        # `-word` excludes only at the start of a word: pre-school and "a - b" are plain text.
        parser.add_plugin(PlusMinusPlugin(minusexpr=r"(?<![^\s(])-(?=[\w\"(])"))
        parser.add_plugin(MultifieldPlugin(list(TEXT_FIELDS), fieldboosts={"title": TITLE_BOOST}))
        self.parser = parser

    def stems(self, text: str) -> list[str]:
        return [t.text for t in self.analyzer(text, mode="query")]

    def build(self, text: str, searcher: Searcher) -> ParsedQuery:
        """The query for `text`, rewritten for this searcher's vocabulary."""
        text = _CONTROL.sub(" ", text)[:MAX_QUERY_CHARS]
        if not _WORD.search(text):
            return ParsedQuery(None)
        # Typo expansion helps short queries; in long natural-language ones an unknown word is
        # usually just a rare word, and its near-misses are noise.
        typos = len(_WORD.findall(text)) <= MAX_TYPO_WORDS
        rewriter = _Rewriter(searcher, self.stems, typos)
        try:
            parsed = self.parser.parse(_sanitize_fields(text))
            if _is_malformed(parsed):
                raise ValueError("malformed")
            q = _require_exact_fields(parsed.accept(rewriter).normalize())
            return ParsedQuery(q, rewriter.corrections)
        except Exception:  # any parse or rewrite problem: plain words
            rewriter = _Rewriter(searcher, self.stems, typos)
            q = self.plain(text).accept(rewriter).normalize()
            return ParsedQuery(q, rewriter.corrections, fallback=True)

    def plain(self, text: str) -> Query:
        """OR of the words of `text` over title and body, ignoring all syntax."""
        clauses: list[Query] = []
        seen: set[str] = set()
        for word in islice(_WORD.findall(text), MAX_WORDS):
            for stem in self.stems(word):
                if stem not in seen:
                    seen.add(stem)
                    clauses.append(
                        Or([Term("title", stem, boost=TITLE_BOOST), Term("content", stem)])
                    )
        if not clauses:
            return NullQuery
        return Or(clauses, scale=COORD_SCALE)


def _sanitize_fields(text: str) -> str:
    """Only our query fields may be named; `foo:bar` for any other name is plain text."""

    def fix(m: re.Match[str]) -> str:
        name = m.group(1).lower()
        name = _ALIASES.get(name, name)
        return f"{name}:" if name in QUERY_FIELDS else f"{m.group(1)} "

    return _FIELD_PREFIX.sub(fix, text)


def _require_exact_fields(q: Query) -> Query:
    """`author:bob paris` means posts by bob about paris: tag/author terms next to words filter."""
    if not isinstance(q, Or):
        return q
    children = list(q.children())
    required = [c for c in children if isinstance(c, Term) and c.fieldname in EXACT_FIELDS]
    rest = [c for c in children if c not in required]
    if not required or not rest:
        return q
    words = rest[0] if len(rest) == 1 else Or(rest, scale=q.scale)
    return And([*required, words])


def _leaves(q: Query) -> list[Query]:
    return [q] if q.is_leaf() else [leaf for child in q.children() for leaf in _leaves(child)]


def _is_malformed(q: Query) -> bool:
    leaves = _leaves(q)
    if q is NullQuery or not leaves or len(leaves) > 4 * MAX_WORDS:
        return True
    for leaf in leaves:
        if isinstance(leaf, Every):
            return True
        fieldname = getattr(leaf, "fieldname", None)
        if fieldname is not None and fieldname not in QUERY_FIELDS:
            return True
        if isinstance(leaf, Term | Prefix | Wildcard) and not leaf.text:
            return True
    # A query with only exclusions would return nearly everything: treat as plain words.
    return all(isinstance(n, Not) for n in _top_clauses(q))


def _top_clauses(q: Query) -> list[Query]:
    if isinstance(q, Or | And):
        return list(q.children())
    return [q]


class _Rewriter:
    """Query.accept() callback: expands prefixes and corrects words missing from the index."""

    def __init__(self, searcher: Searcher, stems: Callable[[str], list[str]], typos: bool) -> None:
        self.reader = searcher.reader()
        self.typos = typos
        self.stems = stems
        self.corrections: dict[str, str] = {}
        self._fixed: dict[str, list[str]] = {}

    def __call__(self, q: Query) -> Query:
        fieldname = getattr(q, "fieldname", None)
        if fieldname not in TEXT_FIELDS:
            return q
        if isinstance(q, Prefix | Wildcard):
            return self._prefix(fieldname, q)
        if isinstance(q, Term) and isinstance(q.text, str) and self.typos:
            return self._term(fieldname, q)
        return q

    def _prefix(self, fieldname: str, q: Prefix | Wildcard) -> Query:
        raw = re.split(r"[*?]", q.text, maxsplit=1)[0].lower()
        if len(raw) < 2:
            return NullQuery
        heads = {raw, *self.stems(raw)}
        found: set[str] = set()
        for head in heads:
            found.update(
                t.decode("utf-8") if isinstance(t, bytes) else t
                for t in islice(self.reader.expand_prefix(fieldname, head), PREFIX_SCAN)
            )
        # The stem of a word can be shorter than what was typed ("brewi*" -> "brew"):
        # also take existing terms the typed text starts with, cutting up to 3 letters.
        for cut in range(1, 4):
            head = raw[:-cut]
            if len(head) >= 3 and self.reader.doc_frequency(fieldname, head):
                found.add(head)
        if not found:
            return NullQuery
        top = sorted(found, key=lambda t: -self.reader.doc_frequency(fieldname, t))[
            :MAX_PREFIX_TERMS
        ]
        return Or([Term(fieldname, t, boost=q.boost) for t in top])

    def _term(self, fieldname: str, q: Term) -> Query:
        text = q.text
        if text not in self._fixed:
            self._fixed[text] = self._correct(text)
        fixes = self._fixed[text]
        if not fixes:
            return q
        return Or([q] + [Term(fieldname, t, boost=q.boost * CORRECTION_WEIGHT) for t in fixes])

    def _correct(self, text: str) -> list[str]:
        reader = self.reader
        if any(reader.doc_frequency(f, text) for f in TEXT_FIELDS) or len(text) < 3:
            return []
        maxdist = 1 if len(text) <= 5 else 2
        fixes = reader.corrector("content").suggest(text, limit=3, maxdist=maxdist, prefix=1)
        if not fixes:
            fixes = reader.corrector("title").suggest(text, limit=3, maxdist=maxdist, prefix=1)
        if fixes:
            self.corrections[text] = fixes[0]
        return list(fixes)
