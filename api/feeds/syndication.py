"""RSS 2.0 and Atom 1.0 documents, rendered by feedgen from a `Feed`."""

import html
from datetime import UTC, datetime

from feedgen.feed import FeedGenerator

from api.feeds.documents import Feed

# An empty feed still needs an `updated` date; a fixed one keeps its ETag stable.
_EMPTY_FEED_DATE = datetime(2000, 1, 1, tzinfo=UTC)
GENERATOR = "Inkwell"


def _generator(feed: Feed, *, rss: bool) -> FeedGenerator:
    fg = FeedGenerator()
    if rss:
        # RSS's own <author> must be an e-mail address; Dublin Core's creator takes a name.
        fg.load_extension("dc", atom=False, rss=True)
    fg.id(feed.self_url)
    fg.title(feed.title)
    fg.subtitle(feed.description)  # also the RSS <description>
    # In this order: feedgen's RSS <link> is the last link given, whatever its rel.
    fg.link(href=feed.self_url, rel="self")
    fg.link(href=feed.home_url, rel="alternate", type="text/html")
    fg.generator(GENERATOR)
    # Set explicitly: feedgen would otherwise stamp the time of rendering, changing the ETag.
    fg.updated(feed.updated or _EMPTY_FEED_DATE)
    for item in feed.entries:
        fe = fg.add_entry(order="append")
        fe.id(item.id)
        fe.guid(item.id, permalink=False)
        fe.title(item.title)
        fe.link(href=item.url, rel="alternate", type="text/html")
        fe.published(item.published)
        fe.updated(item.updated)
        if item.summary:
            # Plain text. Atom says so (no `type` is text); RSS readers take <description> for
            # HTML, so there it is escaped: an excerpt reading "<script>" must stay text.
            fe.summary(html.escape(item.summary, quote=False) if rss else item.summary)
        fe.content(item.content_html, type="html")
        author = {"name": item.author.name}
        if item.author.url:
            author["uri"] = item.author.url
        fe.author(author)
        if rss:
            fe.dc.dc_creator(item.author.name)
        for cat in item.categories:
            category = {"term": cat.term, "label": cat.label}
            if cat.scheme:
                category["scheme"] = cat.scheme
            fe.category(category)
    return fg


def render_rss(feed: Feed) -> bytes:
    """An RSS 2.0 document: full HTML in `content:encoded`, tags as `<category>`."""
    data: bytes = _generator(feed, rss=True).rss_str(pretty=False)
    return data


def render_atom(feed: Feed) -> bytes:
    """An Atom 1.0 document: full HTML in `<content type="html">`, tags as `<category>`."""
    data: bytes = _generator(feed, rss=False).atom_str(pretty=False)
    return data
