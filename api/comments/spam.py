"""The moderation policy for new comments: pure functions of the comment and the settings."""

import re
from collections.abc import Iterable

from api.comments.models import CommentStatus
from api.settings import Settings

_LINK = re.compile(r"(?:https?://|\bwww\.)", re.IGNORECASE)


def count_links(text: str) -> int:
    """Links a reader would see: URLs typed bare count as much as Markdown links."""
    return len(_LINK.findall(text))


def blocklisted(texts: Iterable[str], blocklist: Iterable[str]) -> bool:
    """Whether any blocklist entry appears as whole words, ignoring case."""
    patterns = [re.compile(rf"(?<!\w){re.escape(word.strip())}(?!\w)", re.IGNORECASE)
                for word in blocklist if word.strip()]
    return any(p.search(text) for p in patterns for text in texts)


def initial_status(
    *,
    settings: Settings,
    content: str,
    author_name: str,
    is_staff: bool,
    honeypot_filled: bool,
    known_guest: bool,
) -> CommentStatus:
    """Where a new comment starts: staff and known guests approved, the rest held or binned."""
    if honeypot_filled:
        return CommentStatus.spam
    if is_staff:
        return CommentStatus.approved
    if blocklisted((content, author_name), settings.comment_blocklist):
        return CommentStatus(settings.comment_blocklist_status)
    if count_links(content) > settings.comment_max_links:
        return CommentStatus.pending
    return CommentStatus.approved if known_guest else CommentStatus.pending
