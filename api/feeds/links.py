"""The one place that decides the public URLs feeds and sitemaps point to.

Everything hangs off `INKWELL_SITE_URL`, the address readers use (the frontend, or this
server when it serves the demo frontend):

    {site}/                       home page
    {site}/posts/{slug}           a post; its comments are `#comment-{id}` on that page
    {site}/tags/{slug}            posts with a tag
    {site}/authors/{username}     posts by an author
    {site}/search?q=...           search results

Entry ids are `tag:` URIs (RFC 4151) built from the database id, so they survive a slug rename
and a reader never sees a renamed post as new.
"""

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, urlsplit


@dataclass(frozen=True, slots=True)
class SiteLinks:
    base: str

    @classmethod
    def from_site_url(cls, site_url: object) -> "SiteLinks":
        return cls(str(site_url).rstrip("/"))

    def absolute(self, path: str) -> str:
        return self.base + "/" + path.lstrip("/")

    def home(self) -> str:
        return self.base + "/"

    def post(self, slug: str) -> str:
        return self.absolute(f"posts/{quote(slug)}")

    def comment(self, post_slug: str, comment_id: int) -> str:
        return f"{self.post(post_slug)}#comment-{comment_id}"

    def tag(self, slug: str) -> str:
        return self.absolute(f"tags/{quote(slug)}")

    def tags_scheme(self) -> str:
        """The category scheme of feed entries: a tag's term appended gives its page."""
        return self.absolute("tags/")

    def author(self, username: str) -> str:
        return self.absolute(f"authors/{quote(username)}")

    def search(self, query_string: str) -> str:
        """The search page for an already encoded query string."""
        return self.absolute("search" + (f"?{query_string}" if query_string else ""))

    def entry_id(self, kind: str, item_id: int, created_at: datetime) -> str:
        host = urlsplit(self.base).hostname or "localhost"
        return f"tag:{host},{created_at:%Y-%m-%d}:{kind}/{item_id}"
