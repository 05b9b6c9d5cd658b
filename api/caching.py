"""A shared-nothing cache of anonymous GET responses, kept correct across workers.

Every worker polls one cheap query, the content version: the newest change-log sequence
(every post write appends one, and so do comment and author changes that show in posts)
and the next moment a scheduled post becomes public. A cached response is served only while
the version it was made under is still current, so a write on any worker or machine
invalidates every worker's entries within one poll interval, and a write on this worker
invalidates them at once.
"""

import asyncio
import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from sqlalchemy import func
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.db import utcnow
from api.posts.models import Post, PostStatus, SearchChange
from api.posts.schemas import PostSummary

log = logging.getLogger("inkwell.cache")
T = TypeVar("T")

# Anonymous reads of these are cached. Search and related posts depend on the index too,
# and author pages on profiles, so they are left out.
CACHED_PREFIXES = ("/api/v1/posts", "/api/v1/tags", "/feed.", "/atom.xml", "/sitemap",
                   "/sitemaps/", "/tags/", "/posts/")
UNCACHED_SUFFIXES = ("/related",)
MAX_BODY = 512 * 1024


@dataclass(frozen=True)
class Version:
    seq: int
    next_due: datetime | None  # when the next scheduled post becomes public


class ContentVersion:
    """Polls the content version; `local_writes` counts this worker's own commits."""

    def __init__(self, make_session: async_sessionmaker[AsyncSession], interval: float) -> None:
        self.make_session = make_session
        self.interval = interval
        self.current: Version | None = None
        self.local_writes = 0
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.refresh()
        self._task = asyncio.create_task(self._run(), name="inkwell-content-version")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait({self._task}, timeout=5.0)  # bounded, like the search loop

    async def refresh(self) -> None:
        now = utcnow()
        due = (
            select(func.min(Post.published_at))
            .where(col(Post.status) != PostStatus.draft, col(Post.published_at) > now)
            .scalar_subquery()
        )
        # One statement (this runs ten times a second in every worker).
        async with self.make_session() as session:
            seq, next_due = (await session.exec(select(func.max(SearchChange.seq), due))).one()
        self.current = Version(int(seq or 0), next_due)

    def wrote(self) -> None:
        """This worker committed a change: nothing cached before it may be served again."""
        self.local_writes += 1
        self.current = None

    def usable(self) -> Version | None:
        version = self.current
        if version is None or (version.next_due is not None and utcnow() >= version.next_due):
            return None
        return version

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.refresh()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database may be away for a moment: serve uncached
                self.current = None
                log.warning("content version poll failed: %s", exc)


@dataclass
class Entry:
    version: Version
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    etag: str | None


class PublicCacheMiddleware:
    def __init__(self, app: ASGIApp, size: int = 2048) -> None:
        self.app = app
        self.size = size
        self.entries: OrderedDict[str, Entry] = OrderedDict()

    def _cacheable(self, scope: Scope) -> bool:
        if scope["type"] != "http" or scope["method"] != "GET":
            return False
        path: str = scope["path"]
        if not path.startswith(CACHED_PREFIXES) or path.endswith(UNCACHED_SUFFIXES):
            return False
        headers = Headers(scope=scope)
        # Date-based conditional GETs are answered by the routes themselves (feeds).
        return "authorization" not in headers and "if-modified-since" not in headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        versions: ContentVersion | None = getattr(scope["app"].state, "content_version", None) \
            if "app" in scope else None
        if versions is None or not self._cacheable(scope):
            await self.app(scope, receive, send)
            return
        key = scope["path"] + "?" + scope.get("query_string", b"").decode("latin-1")
        version = versions.usable()
        entry = self.entries.get(key)
        if entry is not None and version is not None and entry.version == version:
            self.entries.move_to_end(key)
            await self._serve(scope, send, entry)
            return
        writes_before = versions.local_writes
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, capture)
        body = b"".join(chunks)
        if (start is None or start["status"] != 200 or version is None or len(body) > MAX_BODY
                or versions.local_writes != writes_before or versions.usable() != version):
            return
        headers = [(k, v) for k, v in start["headers"]
                   if k.lower() not in (b"x-request-id", b"server-timing")]
        etag = Headers(raw=headers).get("etag")
        self.entries[key] = Entry(version, 200, headers, body, etag)
        if len(self.entries) > self.size:
            self.entries.popitem(last=False)

    async def _serve(self, scope: Scope, send: Send, entry: Entry) -> None:
        match = Headers(scope=scope).get("if-none-match")
        if entry.etag and match and entry.etag in {t.strip().removeprefix("W/") for t in match.split(",")}:
            headers = [(k, v) for k, v in entry.headers
                       if k.lower() not in (b"content-length", b"content-type")]
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.start", "status": entry.status,
                    "headers": list(entry.headers)})
        await send({"type": "http.response.body", "body": entry.body})




def validity_tag(versions: ContentVersion) -> tuple[Version, int] | None:
    """What data read from the database from now on is valid for: the content version and this
    worker's write count (None while the version is unknown or due to change: do not cache)."""
    version = versions.usable()
    return None if version is None else (version, versions.local_writes)


class VersionedValue(Generic[T]):
    """One value built from the database, reused while nothing it could depend on has changed
    (see SummaryCache): the sitemap's URLs, which every page of a split sitemap needs and whose
    pages are too large for the response cache."""

    def __init__(self, versions: ContentVersion) -> None:
        self.versions = versions
        self._held: tuple[tuple[Version, int], T] | None = None

    def tag(self) -> tuple[Version, int] | None:
        return validity_tag(self.versions)

    def get(self) -> T | None:
        held, tag = self._held, self.tag()
        return held[1] if held is not None and tag is not None and held[0] == tag else None

    def put(self, tag: tuple[Version, int] | None, value: T) -> None:
        """Keep `value`, read from the database under `tag`, if that is still current."""
        if tag is not None and tag == self.tag():
            self._held = (tag, value)


class SummaryCache:
    """Post summaries by id, for search hits and related posts, valid for one content version.

    Searches that differ (ResultCache keeps those that repeat) still bring up the same posts
    again and again; each summary costs four SQL queries. Entries are tagged with the
    content version and this worker's write count read before the database was, so a summary
    is reused only while nothing that could change it (a post, comment or author write
    anywhere, a scheduled post coming due) has happened since. Used from the event loop and
    from the search thread (api/searching/router.py), hence the lock.
    """

    def __init__(self, versions: ContentVersion, size: int = 10_000) -> None:
        self.versions = versions
        self.size = size
        self._tag: tuple[Version, int] | None = None
        self._items: OrderedDict[int, PostSummary | None] = OrderedDict()
        self._lock = threading.Lock()

    def tag(self) -> tuple[Version, int] | None:
        """The validity tag of data read from the database from now on (None: do not cache)."""
        return validity_tag(self.versions)

    def get(self, ids: Sequence[int]) -> tuple[dict[int, PostSummary], list[int]]:
        """(cached public summaries, ids to read from the database)."""
        tag = self.tag()
        found: dict[int, PostSummary] = {}
        missing: list[int] = []
        with self._lock:
            if tag is None or tag != self._tag:
                return {}, list(ids)
            for post_id in ids:
                if post_id not in self._items:
                    missing.append(post_id)
                    continue
                self._items.move_to_end(post_id)
                summary = self._items[post_id]
                if summary is not None:  # None: known not to be public
                    found[post_id] = summary
        return found, missing

    def put(self, tag: tuple[Version, int] | None, read: Sequence[int],
            summaries: dict[int, PostSummary]) -> None:
        """Remember what a database read under `tag` found for the ids in `read`."""
        if tag is None or tag != self.tag():
            return
        with self._lock:
            if tag != self._tag:
                self._tag = tag
                self._items.clear()
            for post_id in read:
                self._items[post_id] = summaries.get(post_id)
                self._items.move_to_end(post_id)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


class ResultCache:
    """Whole search responses (the encoded body) of this worker, by what they depend on: the
    index version, the content version tag (`validity_tag`) and the request's parameters.

    A reader's searches repeat: popular queries, a search box asking again for a page it has
    shown, several readers following one link. An entry is only ever found under the index
    version and content version it was made under, so a commit to the index (another post
    searchable), a write anywhere (a title or a comment count in the summaries) or a
    scheduled post coming due (the tag is None then, and nothing is stored or served) each
    move every later request to new keys, and old entries age out of the LRU. Used from the
    search thread, hence the lock.
    """

    def __init__(self, versions: ContentVersion, max_bytes: int) -> None:
        self.versions = versions
        self.max_bytes = max_bytes
        self._items: OrderedDict[tuple[object, ...], bytes] = OrderedDict()
        self._held = 0
        self._lock = threading.Lock()

    def tag(self) -> tuple[Version, int] | None:
        """The validity tag to key a search made from now on with (None: do not cache)."""
        return validity_tag(self.versions)

    def get(self, key: tuple[object, ...]) -> bytes | None:
        """The body stored under `key`, which holds the tag it was made under."""
        with self._lock:
            body = self._items.get(key)
            if body is not None:
                self._items.move_to_end(key)
            return body

    def put(self, tag: tuple[Version, int] | None, key: tuple[object, ...], body: bytes) -> None:
        """Keep `body`, made under `tag`, if nothing has changed since (as SummaryCache.put)."""
        if tag is None or tag != self.tag() or len(body) > self.max_bytes // 16:
            return
        with self._lock:
            old = self._items.pop(key, None)
            self._held += len(body) - (len(old) if old is not None else 0)
            self._items[key] = body
            while self._held > self.max_bytes:
                _, dropped = self._items.popitem(last=False)
                self._held -= len(dropped)
