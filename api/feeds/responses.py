"""Feed formats and conditional GET: `ETag` + `If-None-Match`, `Last-Modified` + `If-Modified-Since`.

Feeds set their own ETag (the ETag middleware then leaves them alone) so that a 304 answered
from `If-Modified-Since` carries the same validators as the 200 would (RFC 9110, 15.4.5).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

from fastapi import Request, Response
from starlette.datastructures import Headers

from api.feeds.documents import Feed
from api.feeds.jsonfeed import render_json_feed
from api.feeds.syndication import render_atom, render_rss
from api.middleware import body_etag

XML = "application/xml"


@dataclass(frozen=True, slots=True)
class FeedFormat:
    name: str
    filename: str
    media_type: str
    render: Callable[[Feed], bytes]


RSS = FeedFormat("rss", "feed.xml", "application/rss+xml", render_rss)
ATOM = FeedFormat("atom", "atom.xml", "application/atom+xml", render_atom)
JSON_FEED = FeedFormat("json", "feed.json", "application/feed+json", render_json_feed)
FORMATS = (RSS, ATOM, JSON_FEED)


def _not_modified(headers: Headers, etag: str, last_modified: datetime | None) -> bool:
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:  # when both are sent, If-Modified-Since is ignored
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return etag in tags or "*" in tags
    if_modified_since = headers.get("if-modified-since")
    if not if_modified_since or last_modified is None:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False  # an unparsable date is ignored, as RFC 9110 asks
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    # HTTP dates have whole seconds.
    return last_modified.replace(microsecond=0) <= since


def document_response(
    request: Request, body: bytes, media_type: str, last_modified: datetime | None
) -> Response:
    """200 with `body`, or 304 when the client's copy is current."""
    etag = body_etag(body)
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if last_modified is not None:
        headers["Last-Modified"] = format_datetime(last_modified.astimezone(UTC), usegmt=True)
    if _not_modified(request.headers, etag, last_modified):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=f"{media_type}; charset=utf-8", headers=headers)


def feed_response(request: Request, fmt: FeedFormat, feed: Feed) -> Response:
    return document_response(request, fmt.render(feed), fmt.media_type, feed.updated)
