"""JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/), written with the standard library."""

import json
from datetime import datetime
from typing import Any

from api.feeds.documents import Entry, Feed

VERSION = "https://jsonfeed.org/version/1.1"


def _date(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


def _item(entry: Entry) -> dict[str, Any]:
    author: dict[str, str] = {"name": entry.author.name}
    if entry.author.url:
        author["url"] = entry.author.url
    item: dict[str, Any] = {
        "id": entry.id,
        "url": entry.url,
        "title": entry.title,
        "content_html": entry.content_html,
        "date_published": _date(entry.published),
        "date_modified": _date(entry.updated),
        "authors": [author],
    }
    if entry.summary:
        item["summary"] = entry.summary
    if entry.categories:
        item["tags"] = [cat.label for cat in entry.categories]
    return item


def render_json_feed(feed: Feed) -> bytes:
    """A JSON Feed 1.1 document with full HTML content and tag names as `tags`."""
    document = {
        "version": VERSION,
        "title": feed.title,
        "home_page_url": feed.home_url,
        "feed_url": feed.self_url,
        "description": feed.description,
        "items": [_item(entry) for entry in feed.entries],
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
