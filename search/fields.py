# mypy: disable-error-code="no-untyped-call"
# (whoosh3 ships py.typed but many of its functions are unannotated)
"""The one Whoosh schema of the search index, and the analysers it is built from.

Bump SCHEMA_VERSION whenever the schema or an analyser changes: an index with another
version is discarded and rebuilt from the database.
"""

import re
from collections.abc import Iterator
from typing import Any

from whoosh import columns
from whoosh.analysis.acore import Token
from whoosh.analysis.analyzers import Analyzer
from whoosh.analysis.filters import STOP_WORDS, CharsetFilter, LowercaseFilter, StopFilter
from whoosh.analysis.morph import StemFilter
from whoosh.analysis.ngrams import NgramFilter
from whoosh.analysis.tokenizers import RegexTokenizer, default_pattern
from whoosh.fields import COLUMN, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.lang.snowball.english import EnglishStemmer
from whoosh.support.charset import accent_map

#: 2: segments carry their long posting lists as arrays (arrays.py); older indexes are rebuilt
#: so that every segment has them.
#: (TextAnalyzer replaced the composed chain without a bump: the same tokens, so an index
#: built before it, which keeps the chain pickled in its schema, stays valid.)
SCHEMA_VERSION = 2

#: The post_id of the document that holds the sync state and the schema version.
META_ID = "__meta__"
#: published value of the meta document: far in the future, so it is never visible.
META_PUBLISHED = 2**62

TEXT_FIELDS = ("title", "content")
#: Fields a user may name in a query (`tag:` is an alias of `tags`).
QUERY_FIELDS = frozenset({"title", "content", "tags", "author"})
#: Longest edge n-gram indexed for completion; longer prefixes are cut to this.
COMPLETE_MAXSIZE = 15


def fold_analyzer() -> Analyzer:
    """Words lowercased and accent-folded, no stemming and no stop words."""
    return RegexTokenizer() | LowercaseFilter() | CharsetFilter(accent_map)


def text_analyzer() -> Analyzer:
    """Stemming + stop words + accent folding: used for documents and queries alike."""
    return TextAnalyzer()


def text_chain() -> Analyzer:
    """What TextAnalyzer does, as Whoosh's composed tokenizer and filters."""
    return fold_analyzer() | StopFilter() | StemFilter(lang="en", cachesize=100_000)


class TextAnalyzer(Analyzer):
    """`text_chain()` in one loop: the same tokens, about three times as fast.

    The chain passes each token through five generators (tokenizer, lowercase, accent
    folding, stop words, stemmer), setting attributes at each step; analysis was a third of
    a rebuild's time and of a related-posts request's. Here each distinct word's outcome
    (its stem, or that it is a stop word) is looked up once and remembered, and positions are
    numbered as the stop filter numbers them: a kept token follows the previous kept one,
    stop words keep the tokenizer's count. Calls this loop does not cover (no tokenizing, no
    stemming, original text kept) go through the chain. tests/search/test_analysis.py
    compares the two on real text."""

    is_morph = True
    #: Distinct words remembered before the memory is emptied and starts again.
    MEMO_WORDS = 100_000

    def __init__(self) -> None:
        self._setup()

    def _setup(self) -> None:
        self._chain = text_chain()
        self._words: dict[str, tuple[str | None, str]] = {}
        self._stem = EnglishStemmer().stem

    def __getstate__(self) -> dict[str, Any]:
        return {}  # everything is rebuilt on load (an index pickles its schema)

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._setup()

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other)

    def __hash__(self) -> int:
        return hash(type(self))

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        mode: str = "",
        **kwargs: Any,
    ) -> Iterator[Token]:
        if not kwargs.get("tokenize", True) or kwargs.get("no_morph") or kwargs.get(
            "keeporiginal"
        ):
            yield from self._chain(
                value, positions=positions, chars=chars, removestops=removestops,
                start_pos=start_pos, start_char=start_char, mode=mode, **kwargs,
            )
            return
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        t.boost = 1.0
        known = self._words.get
        matches: list[tuple[str, re.Match[str] | None]]
        if chars:
            matches = [(m.group(), m) for m in default_pattern.finditer(value)]
        else:
            matches = [(word, None) for word in _WORDS.findall(value)]
        kept: int | None = None
        for count, (word, match) in enumerate(matches):
            stem, folded = known(word) or self._learn(word)
            if stem is not None:
                t.text, t.stopped = stem, False
                if positions:
                    kept = start_pos + count if kept is None else kept + 1
                    t.pos = kept
            elif removestops:
                continue
            else:
                t.text, t.stopped = folded, True
                if positions:
                    t.pos = start_pos + count
            if match is not None:
                t.startchar = start_char + match.start()
                t.endchar = start_char + match.end()
            yield t

    def _learn(self, word: str) -> tuple[str | None, str]:
        folded = word.lower().translate(_FOLD)
        stem = self._stem(folded) if len(folded) >= 2 and folded not in _STOP_WORDS else None
        if len(self._words) >= self.MEMO_WORDS:
            self._words.clear()
        found = self._words[word] = (stem, folded)
        return found


#: The tokenizer's pattern without its capturing group, so that findall returns whole words.
_WORDS = re.compile(default_pattern.pattern.replace("(", "(?:"), default_pattern.flags)
_STOP_WORDS = frozenset(STOP_WORDS)
_FOLD: dict[int, str] = {int(k): v for k, v in accent_map.items()}


def complete_analyzer() -> Analyzer:
    """Edge n-grams of every title word, so completion is one term lookup."""
    return fold_analyzer() | NgramFilter(minsize=1, maxsize=COMPLETE_MAXSIZE, at="start")


def build_schema() -> Schema:
    text = text_analyzer()
    return Schema(
        post_id=ID(stored=True, unique=True),
        slug=STORED(),
        title=TEXT(analyzer=text, stored=True),
        excerpt=STORED(),
        content=TEXT(analyzer=text, stored=True),
        tags=KEYWORD(stored=True, commas=True, scorable=True),
        tag_names=STORED(),
        author=ID(stored=True),
        author_name=STORED(),
        published=NUMERIC(int, 64, signed=True, stored=True, sortable=True),
        updated=STORED(),
        complete=TEXT(analyzer=complete_analyzer(), phrase=False),
        title_words=TEXT(analyzer=fold_analyzer(), phrase=False),
        # tags and author of each document as one column, read per segment for facets
        facets=COLUMN(columns.VarBytesColumn()),
        meta=STORED(),
    )
