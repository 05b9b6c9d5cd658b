"""Feeds as plain data, built from posts or comments; the renderers know nothing of the ORM."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from api.comments.models import Comment
from api.feeds.links import SiteLinks
from api.posts.models import Post
from api.text.markdown import plain_text

FEED_SIZE = 20
SUMMARY_WORDS = 40


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Category:
    term: str
    label: str
    scheme: str | None = None


@dataclass(frozen=True, slots=True)
class Entry:
    id: str
    url: str
    title: str
    content_html: str
    published: datetime
    updated: datetime
    author: Person
    summary: str | None = None
    categories: tuple[Category, ...] = ()


@dataclass(frozen=True, slots=True)
class Feed:
    title: str
    description: str
    home_url: str  # the HTML page this feed follows
    self_url: str  # the feed's own address
    entries: Sequence[Entry] = field(default_factory=tuple)

    @property
    def updated(self) -> datetime | None:
        """When an entry last changed; also the feed's `Last-Modified`."""
        return max((entry.updated for entry in self.entries), default=None)


def post_modified(post: Post) -> datetime:
    """A scheduled post changes its feed when it comes due, which may be after its last edit."""
    assert post.published_at is not None
    return max(post.updated_at, post.published_at)


def post_entry(post: Post, links: SiteLinks) -> Entry:
    """`post` must be public and loaded with its author and tags."""
    assert post.id is not None and post.published_at is not None
    return Entry(
        id=links.entry_id("post", post.id, post.created_at),
        url=links.post(post.slug),
        title=post.title,
        content_html=post.content_html,
        summary=post.excerpt or None,
        published=post.published_at,
        updated=post_modified(post),
        author=Person(post.author.display_name, links.author(post.author.username)),
        categories=tuple(
            Category(term=tag.slug, label=tag.name, scheme=links.tags_scheme()) for tag in post.tags
        ),
    )


def post_feed(
    posts: Sequence[Post],
    *,
    links: SiteLinks,
    title: str,
    description: str,
    home_url: str,
    self_url: str,
) -> Feed:
    """A feed of public posts in the given order (the saved-search feed reuses this)."""
    return Feed(
        title=title,
        description=description,
        home_url=home_url,
        self_url=self_url,
        entries=tuple(post_entry(post, links) for post in posts),
    )


def _summary(html: str) -> str:
    words = plain_text(html).split()
    return " ".join(words[:SUMMARY_WORDS]) + ("…" if len(words) > SUMMARY_WORDS else "")


def comment_entry(comment: Comment, post: Post, links: SiteLinks) -> Entry:
    """An approved comment; the commenter's e-mail address never leaves the database."""
    assert comment.id is not None
    website = (
        comment.author_url
        if (comment.author_url or "").startswith(("https://", "http://"))
        else None
    )
    return Entry(
        id=links.entry_id("comment", comment.id, comment.created_at),
        url=links.comment(post.slug, comment.id),
        title=f"{comment.author_name} on “{post.title}”",
        content_html=comment.content_html,
        summary=_summary(comment.content_html),
        published=comment.created_at,
        updated=max(comment.created_at, comment.updated_at),
        author=Person(comment.author_name, website),
    )
