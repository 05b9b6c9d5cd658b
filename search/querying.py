# mypy: disable-error-code="no-untyped-call"
# (whoosh3 ships py.typed but many of its functions are unannotated)
"""User query text -> Whoosh query: syntax, prefixes, typo tolerance, and the fallback.

Supported: plain words (OR with a coordination bonus, so documents with all words rank first),
"exact phrases", -excluded, OR / AND / NOT, grouping, `title:` `content:` `tag:` `author:`
prefixes and `word*` prefixes. Anything the parser cannot make sense of falls back to the
plain words of the text: a query never raises.

Term weighting (docs/benchmarks.md, "Search relevance"): a word repeated in the query counts
1 + ln(n) times; every term gets the Robertson/Sparck Jones idf instead of Whoosh's flatter
`ln(N / (n + 1)) + 1`, so rare words outweigh common ones; long queries (natural-language
questions) drop function words and request boilerplate ("I am interested in documents about").
"""

import copy
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from heapq import nlargest
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
from whoosh.query.compound import And, AndNot, Or
from whoosh.query.qcore import Every, NullQuery, Query
from whoosh.query.terms import Prefix, Term, Wildcard
from whoosh.query.wrappers import Not
from whoosh.searching import Searcher

from search.fields import QUERY_FIELDS, TEXT_FIELDS, text_analyzer
from search.spelling import TermLists, corrections
from search.terms import Vocabulary

MAX_QUERY_CHARS = 1000
MAX_WORDS = 64
#: Prefix queries are expanded to the most frequent matching terms only.
MAX_PREFIX_TERMS = 24
PREFIX_SCAN = 3000
#: Scoring weights (see docs/benchmarks.md "Search relevance" for how they were chosen).
#: A title match already scores high (short field, and it adds to the body's score): no
#: extra boost ranked better than 2x or 3x.
TITLE_BOOST = 1.0
COORD_SCALE = 0.9
CORRECTION_WEIGHT = 0.5
#: Corrections keep the first two letters of the word as typed (typos are rarely there), which
#: also keeps the candidate lists short (search/spelling.py).
CORRECTION_PREFIX = 2
MAX_TYPO_WORDS = 6
#: Queries of at least this many words are natural-language requests: they lose the
#: QUERY_STOP_WORDS. Blog-box queries (1-3 words) are never touched.
LONG_QUERY_WORDS = 5
#: Words that carry no topic in a long query. Applied to queries only (documents keep them),
#: and never when they are all the query has.
QUERY_STOP_WORDS = frozenset(
    """
    about above after again against all also am any anyone anything been before being below
    between both but could did do does doing down during each else etc even ever every few
    further had has having he her here hers herself him himself his how i into its itself just
    me more most my myself no nor now off once only other others our ours out over own same she
    should so some such than their theirs them themselves then there therefore these they those
    through thus too under until up upon very was were what whatever where whether which while
    who whom whose why would shall must might
    document documents article articles paper papers report reports publication publications
    literature interested interest want wish need needs like please receive find finding
    describe describes describing description discuss discusses discussing discussion give
    giving provide provides regarding concerning concern concerned relating related relevant
    pertaining pertinent particular particularly especially mention mentions mentioned identify
    example examples include includes including kind kinds various type types way ways
    something thing things know known looking seek seeking
    """.split()
)

_FIELD_PREFIX = re.compile(r"(\w+):")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_WORD = re.compile(r"\w+")
EXACT_FIELDS = frozenset({"tags", "author"})
_ALIASES = {"tag": "tags", "body": "content"}
#: Letters and digits separated by spaces, each perhaps ending in `*` (a prefix), and the
#: parser's operator words.
_BARE_WORDS = re.compile(r"\s*[^\W_]+\*?(?:\s+[^\W_]+\*?)*\s*")
_OPERATORS = frozenset({"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE"})


class PlainTerm(Term):
    """A Term that copies itself shallowly. Whoosh copies query nodes with deepcopy, ~40 us a
    term, and normalize() copies every child of a nested OR (a word's title and body terms,
    a prefix's expansions): 8% of a search. A term's attributes are all immutable."""

    def copy(self) -> "PlainTerm":
        # copy.copy goes through __reduce_ex__: three times the cost of this.
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        return new


@dataclass
class ParsedQuery:
    """A query ready to run; `query` is None for "every document" (no words)."""

    query: Query | None
    #: stemmed term the user typed (not in the index) -> stemmed correction
    corrections: dict[str, str] = field(default_factory=dict)
    fallback: bool = False
    #: term the rewriter added (a prefix's expansion, a typo's correction) -> what the user
    #: typed that it stands for: normalize() flattens the query, and this keeps the words apart
    stands_for: dict[str, str] = field(default_factory=dict)


class QueryBuilder:
    """Parses user text against one schema; safe to share between threads."""

    def __init__(self, schema: Schema, vocabulary: Vocabulary | None = None) -> None:
        self.schema = schema
        self.vocabulary = vocabulary if vocabulary is not None else Vocabulary()
        self.analyzer: Analyzer = text_analyzer()
        group = OrGroup.factory(COORD_SCALE)
        parser = QueryParser(None, schema, group=group, termclass=PlainTerm)
        for plugin in (SingleQuotePlugin, RangePlugin, BoostPlugin, EveryPlugin):
            parser.remove_plugin_class(plugin)
        # `-word` excludes only at the start of a word: pre-school and "a - b" are plain text.
        parser.add_plugin(PlusMinusPlugin(minusexpr=r"(?<![^\s(])-(?=[\w\"(])"))
        parser.add_plugin(MultifieldPlugin(list(TEXT_FIELDS), fieldboosts={"title": TITLE_BOOST}))
        self.parser = parser
        self.term_lists = TermLists(arrays=self.vocabulary.arrays)
        #: Build bare-word queries without the parser (see _parse); tests switch it off.
        self.fast_plain = True

    def stems(self, text: str) -> list[str]:
        return [t.text for t in self.analyzer(text, mode="query")]

    def build(self, text: str, searcher: Searcher) -> ParsedQuery:
        """The query for `text`, rewritten for this searcher's vocabulary."""
        text = unshout(_CONTROL.sub(" ", text)[:MAX_QUERY_CHARS])
        if not _WORD.search(text):
            return ParsedQuery(None)
        # Typo expansion helps short queries; in long natural-language ones an unknown word is
        # usually just a rare word, and its near-misses are noise.
        words = len(_WORD.findall(text))
        typos = words <= MAX_TYPO_WORDS
        if words >= LONG_QUERY_WORDS:
            text = drop_query_stop_words(text, self.stems)
        rewriter = _Rewriter(searcher, self.stems, typos, self.term_lists, self.vocabulary)
        try:
            parsed = self._parse(text)
            if _is_malformed(parsed.normalize()):
                raise ValueError("malformed")
            q = _weigh_words(_exclusions(parsed)).accept(rewriter).normalize()
            q = _require_exact_fields(q.accept(_IdfReweighter(searcher)))
            return ParsedQuery(q, rewriter.corrections, stands_for=rewriter.stands_for())
        except Exception:  # any parse or rewrite problem: plain words
            rewriter = _Rewriter(searcher, self.stems, typos, self.term_lists, self.vocabulary)
            q = _weigh_words(self.plain(text)).accept(rewriter).normalize()
            q = q.accept(_IdfReweighter(searcher))
            return ParsedQuery(
                q, rewriter.corrections, fallback=True, stands_for=rewriter.stands_for()
            )

    def _parse(self, text: str) -> Query:
        """The parser's un-normalised tree for `text`. Text of bare words and `word*` prefixes
        (no quotes, signs, fields, other wildcards or operators: most of what is typed in a
        search box) is the OR of its words over title and body, built directly: Whoosh's
        parser took 5% of a search, and a quarter of building a prefix query, to reach the
        same tree (tests/search/test_query_weighting.py compares the two)."""
        if self.fast_plain and _BARE_WORDS.fullmatch(text) and not _OPERATORS & set(text.split()):
            q = self._bare(text)
            if q is not NullQuery:
                return q
        parsed: Query = self.parser.parse(_sanitize_fields(text), normalize=False)
        return parsed

    def _bare(self, text: str) -> Query:
        """`plain`, where a word ending in `*` is a prefix over title and body; NullQuery
        where a prefix does not analyse to one term (the parser decides then)."""
        clauses: list[Query] = []
        for word in islice(text.split(), MAX_WORDS):
            if not word.endswith("*"):
                clauses += self._word_clauses(word)
                continue
            prefixes = [
                self.parser.term_query(
                    f, word[:-1], Prefix, boost=TITLE_BOOST if f == "title" else 1.0,
                    removestops=False,
                )
                for f in TEXT_FIELDS
            ]
            if not all(type(p) is Prefix for p in prefixes):
                return NullQuery
            clauses.append(Or(prefixes))
        if not clauses:
            return NullQuery
        return Or(clauses, scale=COORD_SCALE)

    def plain(self, text: str) -> Query:
        """OR of the words of `text` over title and body, ignoring all syntax.

        A repeated word gives a repeated clause, as the parser does (see _weigh_words).
        """
        clauses = [c for word in islice(_WORD.findall(text), MAX_WORDS) for c in self._word_clauses(word)]
        if not clauses:
            return NullQuery
        return Or(clauses, scale=COORD_SCALE)

    def _word_clauses(self, word: str) -> list[Query]:
        return [
            Or([PlainTerm("title", stem, boost=TITLE_BOOST), PlainTerm("content", stem)])
            for stem in self.stems(word)
        ]


def most_used(counts: dict[str, int], limit: int) -> list[str]:
    """The `limit` keys with the highest counts, ties in key order: the limit-th count is
    found among the bare numbers, and only the keys at or above it are sorted (a prefix
    lists thousands of terms; a key call for each cost ~0.5 ms). Also picks the facets."""
    if len(counts) > limit:
        floor = nlargest(limit, counts.values())[-1]
        counts = {t: n for t, n in counts.items() if n >= floor}
    return sorted(counts, key=lambda t: (-counts[t], t))[:limit]


def unshout(text: str) -> str:
    """A long query typed in capitals, lowercased: its AND / OR / NOT are words, not syntax.

    In "EFFORTS OF THE U.S. AND ITS ALLIES TO CHANGE POLICIES OR NOT" the parser would make
    AND join its neighbours and NOT exclude a word; with no lowercase letter to set operators
    apart, a natural-language request is the likelier reading. Short queries ("NASA NOT
    SPACEX") keep their operators.
    """
    if any(c.islower() for c in text) or len(_WORD.findall(text)) < LONG_QUERY_WORDS:
        return text
    return text.lower()


_STOP_CANDIDATE = re.compile(r"(?<![\w:*?-])\w+(?![\w:*?])")


def drop_query_stop_words(text: str, stems: Callable[[str], list[str]]) -> str:
    """`text` without QUERY_STOP_WORDS outside quotes, field prefixes, exclusions and
    wildcards; `text` itself if no searchable word (one `stems` keeps) would be left.

    Matched on the words as typed, not on stems: "publications" is boilerplate, but its
    stem is also the stem of "public", and "documents" shares one with "documentation".
    """
    parts = text.split('"')
    if len(parts) % 2 == 0:  # unbalanced quote: leave the text to the parser's fallback
        return text
    for i in range(0, len(parts), 2):
        parts[i] = _STOP_CANDIDATE.sub(
            lambda m: "" if m.group(0).lower() in QUERY_STOP_WORDS else m.group(0), parts[i]
        )
    if not any(stems(part) for part in parts[::2]):
        return text
    return '"'.join(parts)


def _word_of(q: Query) -> str | None:
    """The stem of a plain-word clause (`w` in title and/or body, one term), else None."""
    leaves = [q] if isinstance(q, Term) else list(q.children()) if isinstance(q, Or) else []
    if not leaves or not all(
        isinstance(leaf, Term) and leaf.fieldname in TEXT_FIELDS for leaf in leaves
    ):
        return None
    texts = {getattr(leaf, "text", None) for leaf in leaves}
    return str(texts.pop()) if len(texts) == 1 else None


def _weigh_words(q: Query) -> Query:
    """A word repeated n times in the query counts once, with weight 1 + ln(n).

    Works on the parser's un-normalised tree (normalize() would drop the repeats): an OR of
    per-word clauses, possibly under AND-NOT for exclusions.
    """
    if isinstance(q, AndNot):
        return AndNot(_weigh_words(q.a), q.b)
    if type(q) is not Or:
        return q
    counts: dict[Query, int] = {}
    others: list[Query] = []
    for child in q.children():
        if _word_of(child) is None:
            others.append(child)
        else:
            counts[child] = counts.get(child, 0) + 1
    if all(n == 1 for n in counts.values()):
        return q
    children = [
        c.with_boost(getattr(c, "boost", 1.0) * (1 + math.log(n))) for c, n in counts.items()
    ]
    return Or([*children, *others], boost=q.boost, scale=q.scale)


def _exclusions(q: Query) -> Query:
    """`a b NOT c` excludes c, as `a b -c` does.

    In an OR group the parser leaves `NOT c` as one more alternative, "or anything without
    c", which matched nearly every post. Applied to every OR group of the parsed tree.
    """
    if isinstance(q, AndNot):
        return AndNot(_exclusions(q.a), q.b)
    if type(q) is not Or:
        return q
    children = [_exclusions(c) for c in q.children()]
    nots = [c.query for c in children if isinstance(c, Not)]
    rest = [c for c in children if not isinstance(c, Not)]
    if not nots or not rest:
        return Or(children, boost=q.boost, scale=q.scale)
    kept = Or(rest, boost=q.boost, scale=q.scale)
    return AndNot(kept, nots[0] if len(nots) == 1 else Or(nots))


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


class _IdfReweighter:
    """Query.accept() callback: rescales each text term from the searcher's idf to
    ln((N - n + 0.5) / (n + 0.5) + 1) (Robertson/Sparck Jones, as Lucene's BM25).

    Whoosh's BM25F uses ln(N / (n + 1)) + 1: its "+ 1" keeps a word found in half the
    documents worth a quarter of the rarest word, which lets common words of a long query
    drown its rare ones. BM25's score is idf times a tf part, so a boost swaps the idf.
    """

    def __init__(self, searcher: Searcher) -> None:
        self.searcher = searcher
        self.reader = searcher.reader()
        self.n = max(1, self.reader.doc_count_all())

    def __call__(self, q: Query) -> Query:
        if not (isinstance(q, Term) and q.fieldname in TEXT_FIELDS and isinstance(q.text, str)):
            return q
        df = self.reader.doc_frequency(q.fieldname, q.text)
        old = self.searcher.idf(q.fieldname, q.text)
        if not df or old <= 0:
            return q
        new = math.log((self.n - df + 0.5) / (df + 0.5) + 1)
        term = q.copy() if isinstance(q, PlainTerm) else copy.copy(q)  # see PlainTerm
        term.boost = q.boost * new / old
        return term


class _Rewriter:
    """Query.accept() callback: expands prefixes and corrects words missing from the index."""

    def __init__(
        self,
        searcher: Searcher,
        stems: Callable[[str], list[str]],
        typos: bool,
        term_lists: TermLists,
        vocabulary: Vocabulary,
    ) -> None:
        self.searcher = searcher
        self.term_lists = term_lists
        self.vocabulary = vocabulary
        self.reader = searcher.reader()
        self.typos = typos
        self.stems = stems
        self.corrections: dict[str, str] = {}
        self._fixed: dict[str, list[str]] = {}
        self._added: dict[str, str] = {}  # term added -> the typed word or prefix it is for
        self._typed: set[str] = set()

    def stands_for(self) -> dict[str, str]:
        """Each added term's typed word; a term the user also typed stands for itself."""
        return {t: w for t, w in self._added.items() if t not in self._typed}

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
        # term -> document frequency, read from the term list as it is walked
        found: dict[str, int] = {}
        for head in heads:
            found |= self.vocabulary.prefixed(self.searcher, fieldname, head, PREFIX_SCAN)
        # The stem of a word can be shorter than what was typed ("brewi*" -> "brew"):
        # also take existing terms the typed text starts with, cutting up to 3 letters.
        for cut in range(1, 4):
            head = raw[:-cut]
            if len(head) >= 3 and (df := self.reader.doc_frequency(fieldname, head)):
                found[head] = df
        if not found:
            return NullQuery
        top = most_used(found, MAX_PREFIX_TERMS)
        for t in top:
            self._added.setdefault(t, raw + "*")
        return Or([PlainTerm(fieldname, t, boost=q.boost) for t in top])

    def _term(self, fieldname: str, q: Term) -> Query:
        text = q.text
        self._typed.add(text)
        if text not in self._fixed:
            self._fixed[text] = self._correct(text)
        fixes = self._fixed[text]
        if not fixes:
            return q
        for t in fixes:
            self._added.setdefault(t, text)
        fixed = [PlainTerm(fieldname, t, boost=q.boost * CORRECTION_WEIGHT) for t in fixes]
        return Or([q, *fixed])

    def _correct(self, text: str) -> list[str]:
        reader = self.reader
        if any(reader.doc_frequency(f, text) for f in TEXT_FIELDS) or len(text) < 3:
            return []
        maxdist = 1 if len(text) <= 5 else 2
        fixes: list[str] = []
        for fieldname in ("content", "title"):
            fixes = corrections(
                self.searcher, self.term_lists, fieldname, text, maxdist, CORRECTION_PREFIX, 3
            )
            if fixes:
                break
        if fixes:
            self.corrections[text] = fixes[0]
        return list(fixes)
