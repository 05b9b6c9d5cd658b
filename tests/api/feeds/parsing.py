"""Feeds as a real feed reader sees them."""

from typing import Any

import feedparser
import httpx


def parse(r: httpx.Response, media_type: str) -> Any:
    """The parsed feed of a 200 response of `media_type`; fails on any feed error."""
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith(media_type)
    parsed = feedparser.parse(r.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed
