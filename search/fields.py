# mypy: disable-error-code="no-untyped-call"
# (whoosh3 ships py.typed but many of its functions are unannotated)
"""The one Whoosh schema of the search index, and the analysers it is built from.

Bump SCHEMA_VERSION whenever the schema or an analyser changes: an index with another
version is discarded and rebuilt from the database.
"""

from whoosh import columns
from whoosh.analysis.analyzers import Analyzer
from whoosh.analysis.filters import CharsetFilter, LowercaseFilter, StopFilter
from whoosh.analysis.morph import StemFilter
from whoosh.analysis.ngrams import NgramFilter
from whoosh.analysis.tokenizers import RegexTokenizer
from whoosh.fields import COLUMN, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.support.charset import accent_map

#: 2: segments carry their long posting lists as arrays (arrays.py); older indexes are rebuilt
#: so that every segment has them.
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
    return fold_analyzer() | StopFilter() | StemFilter(lang="en", cachesize=100_000)


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
