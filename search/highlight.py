# mypy: disable-error-code="no-untyped-call"
# (whoosh3 ships py.typed but many of its functions are unannotated)
"""HTML-safe highlights: every character of the source text is escaped, matches get <mark>."""

from collections.abc import Iterable
from html import escape
from typing import Any

from whoosh import highlight
from whoosh.analysis.analyzers import Analyzer

#: Only the start of long bodies is scanned for snippets: analysis was over half of search
#: time with 20,000 characters (bench/search_speed.py).
MAX_SCAN_CHARS = 4_000
FALLBACK_CHARS = 200


class MarkFormatter(highlight.Formatter):
    """Escapes text between matches and wraps each match in <mark>…</mark>."""

    between = " … "

    def _text(self, text: str) -> str:
        return escape(text, quote=True)

    def format_token(self, text: str, token: Any, replace: bool = False) -> str:
        return "<mark>" + escape(highlight.get_text(text, token, replace), quote=True) + "</mark>"


_FORMATTER = MarkFormatter()


def highlight_title(title: str, terms: Iterable[str], analyzer: Analyzer) -> str:
    found = _highlight(title, terms, analyzer, highlight.WholeFragmenter(), top=1)
    return found or escape(title, quote=True)


def highlight_content(content: str, terms: Iterable[str], analyzer: Analyzer) -> str:
    text = content[:MAX_SCAN_CHARS]
    fragmenter = highlight.ContextFragmenter(maxchars=200, surround=60)
    found = _highlight(text, terms, analyzer, fragmenter, top=2)
    if found:
        return found
    head = text[:FALLBACK_CHARS]
    return escape(head, quote=True) + ("…" if len(text) > FALLBACK_CHARS else "")


def _highlight(
    text: str, terms: Iterable[str], analyzer: Analyzer, fragmenter: Any, top: int
) -> str:
    termset = frozenset(terms)
    if not termset or not text:
        return ""
    return str(highlight.highlight(text, termset, analyzer, fragmenter, _FORMATTER, top=top))
