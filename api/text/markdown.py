"""Markdown to safe HTML: markdown-it renders, nh3 (ammonia) sanitizes.

Sanitizing happens after rendering, so nothing a writer types (raw HTML, links, images) can
leave script, event handlers or `javascript:`/`data:` URLs in the output.
"""

import math
import re

import nh3
from markdown_it import MarkdownIt

_POST_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "figcaption", "figure", "h1",
    "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p",
    "pre", "s", "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "th", "thead",
    "tr", "ul",
}
_POST_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "code": {"class"},
    "th": {"align"},
    "td": {"align"},
    "ol": {"start"},
}
_COMMENT_TAGS = {
    "a", "b", "blockquote", "br", "code", "del", "em", "i", "li", "ol", "p", "pre", "s",
    "strong", "ul",
}
_URL_SCHEMES = {"http", "https", "mailto"}

# Posts: full CommonMark with tables and strikethrough; raw HTML is allowed in, then cleaned.
_post_md = MarkdownIt("commonmark", {"html": True, "linkify": False}).enable(
    ["table", "strikethrough"]
)
# Comments: a subset. No raw HTML, no images, no headings.
_comment_md = MarkdownIt("commonmark", {"html": False}).disable(["image", "heading", "lheading"])


def render_post_html(markdown: str) -> str:
    html = _post_md.render(markdown)
    return nh3.clean(
        html,
        tags=_POST_TAGS,
        attributes=_POST_ATTRIBUTES,
        url_schemes=_URL_SCHEMES,
        link_rel="noopener noreferrer",
    )


def render_comment_html(markdown: str) -> str:
    html = _comment_md.render(markdown)
    return nh3.clean(
        html,
        tags=_COMMENT_TAGS,
        attributes={"a": {"href"}},
        url_schemes=_URL_SCHEMES,
        link_rel="nofollow ugc noopener noreferrer",
    )


_WORD = re.compile(r"\w+")
WORDS_PER_MINUTE = 230


def reading_time_minutes(markdown: str) -> int:
    return max(1, math.ceil(len(_WORD.findall(markdown)) / WORDS_PER_MINUTE))


def plain_text(html: str) -> str:
    """Text of sanitized HTML, for excerpts and the search index."""
    return re.sub(r"\s+", " ", nh3.clean(html, tags=set())).strip()
