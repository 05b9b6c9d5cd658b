"""Sitemaps (https://www.sitemaps.org/protocol.html): one `<urlset>`, or an index of several."""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from xml.etree import ElementTree as ET

NAMESPACE = "http://www.sitemaps.org/schemas/sitemap/0.9"
# The protocol's limit per file; past it /sitemap.xml becomes an index of /sitemaps/{n}.xml.
URLS_PER_SITEMAP = 50_000


@dataclass(frozen=True, slots=True)
class SitemapUrl:
    loc: str
    lastmod: datetime | None = None


def _w3c(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


def _document(root_tag: str, child_tag: str, urls: Sequence[SitemapUrl]) -> bytes:
    root = ET.Element(root_tag, xmlns=NAMESPACE)
    for url in urls:
        child = ET.SubElement(root, child_tag)
        ET.SubElement(child, "loc").text = url.loc
        if url.lastmod is not None:
            ET.SubElement(child, "lastmod").text = _w3c(url.lastmod)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data


def split_sitemap(urls: Sequence[SitemapUrl]) -> list[Sequence[SitemapUrl]]:
    """The pages of a sitemap too large for one file (a single page when it fits)."""
    size = URLS_PER_SITEMAP
    pages = max(1, math.ceil(len(urls) / size))
    return [urls[i * size : (i + 1) * size] for i in range(pages)]


def newest(urls: Sequence[SitemapUrl]) -> datetime | None:
    return max((url.lastmod for url in urls if url.lastmod is not None), default=None)


def render_urlset(urls: Sequence[SitemapUrl]) -> bytes:
    """A `<urlset>` of at most `URLS_PER_SITEMAP` URLs."""
    return _document("urlset", "url", urls)


def render_sitemap_index(sitemaps: Sequence[SitemapUrl]) -> bytes:
    """A `<sitemapindex>` listing sitemap pages, each with its newest `lastmod`."""
    return _document("sitemapindex", "sitemap", sitemaps)
