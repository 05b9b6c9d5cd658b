"""Applying the change log (`search_change`) to the index.

Sequence numbers are handed out when a row is inserted, not when its transaction commits, so
a row can become visible after rows with higher numbers. The sync state stored in the index
is therefore a watermark W (every sequence <= W is applied or known never to commit) plus the
set of applied sequences above it. A missing sequence is waited for `gap_seconds` (it may
belong to a transaction still running) and then given up as rolled back.

Applying a row means: read the post as committed now and upsert or delete it. That makes
every application idempotent, so replaying rows is always safe.
"""

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, overload

import sqlalchemy as sa
from sqlalchemy import func
from sqlalchemy.orm import selectinload
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from api.db import utcnow
from api.posts.indexing import PostRow, search_document, to_search_document
from api.posts.models import Post, PostStatus, SearchChange
from api.tags.models import PostTag, Tag
from api.users.models import User
from search import SearchDocument

log = logging.getLogger("inkwell.search")
BATCH = 500


@dataclass
class SyncState:
    watermark: int = 0
    applied: set[int] = field(default_factory=set)
    synced_at: float = 0.0

    @classmethod
    def from_index(cls, raw: dict[str, Any]) -> "SyncState":
        return cls(
            watermark=int(raw.get("watermark", 0)),
            applied={int(s) for s in raw.get("applied", [])},
            synced_at=float(raw.get("synced_at", 0.0)),
        )

    def to_index(self) -> dict[str, Any]:
        return {"watermark": self.watermark, "applied": sorted(self.applied),
                "synced_at": self.synced_at}


@dataclass
class Batch:
    upserts: list[SearchDocument]
    deletes: list[int]
    state: SyncState
    rows: int


def indexable(post: Post) -> bool:
    """Posts that are or will become public; the index hides future ones until their time."""
    return post.status != PostStatus.draft and post.published_at is not None


async def documents_for(session: AsyncSession, post_ids: Iterable[int]) -> tuple[list[SearchDocument], list[int]]:
    """Upserts for the indexable posts among `post_ids`, deletes for the rest."""
    ids = set(post_ids)
    statement = (
        select(Post).where(col(Post.id).in_(ids))
        .options(selectinload(Post.author), selectinload(Post.tags))  # type: ignore[arg-type]
    )
    posts = {p.id: p for p in (await session.exec(statement)).all()}
    upserts = [to_search_document(p) for p in posts.values() if indexable(p)]
    deletes = sorted(i for i in ids if i not in posts or not indexable(posts[i]))
    return upserts, deletes


class RebuildDocuments(Sequence[SearchDocument]):
    """Every indexable post, each made into a SearchDocument only when it is read.

    A rebuild forks its indexing processes after reading the database (search/writing.py),
    so each process turns its own share of rows into documents: the HTML-to-text of 100,000
    bodies (~12 s) runs in parallel instead of before the fork, in the parent alone."""

    def __init__(self, rows: list[PostRow], tags: dict[int, list[tuple[str, str]]]) -> None:
        self.rows, self.tags = rows, tags

    def __len__(self) -> int:
        return len(self.rows)

    @overload
    def __getitem__(self, i: int) -> SearchDocument: ...

    @overload
    def __getitem__(self, i: slice) -> "RebuildDocuments": ...

    def __getitem__(self, i: int | slice) -> "SearchDocument | RebuildDocuments":
        if isinstance(i, slice):
            return RebuildDocuments(self.rows[i], self.tags)
        row = self.rows[i]
        return search_document(row, self.tags.get(row.id, ()))


async def all_documents(session: AsyncSession, batch: int = 5000) -> RebuildDocuments:
    """Every indexable post, for a rebuild: plain rows, a batch of posts at a time, and
    their tags (loading ORM objects for 100,000 posts took ~10 s more)."""
    rows: list[PostRow] = []
    tags: dict[int, list[tuple[str, str]]] = {}
    conn = await session.connection()
    last_id = 0
    while True:
        statement = (
            sa.select(
                col(Post.id), col(Post.slug), col(Post.title), col(Post.excerpt),
                col(Post.content_html), col(Post.published_at), col(Post.updated_at),
                col(User.username), col(User.display_name),
            )
            .join(User, col(User.id) == col(Post.author_id))
            .where(col(Post.id) > last_id, col(Post.status) != PostStatus.draft,
                   col(Post.published_at).is_not(None))
            .order_by(col(Post.id)).limit(batch)
        )  # fmt: skip
        found = [PostRow(*r) for r in await conn.execute(statement)]  # type: ignore[arg-type]
        if not found:
            return RebuildDocuments(rows, tags)
        tagged = (
            sa.select(col(PostTag.post_id), col(Tag.slug), col(Tag.name))
            .join(Tag, col(Tag.id) == col(PostTag.tag_id))
            .where(col(PostTag.post_id) > last_id, col(PostTag.post_id) <= found[-1].id)
            .order_by(col(PostTag.post_id), col(Tag.slug))
        )
        for post_id, slug, name in await conn.execute(tagged):
            tags.setdefault(post_id, []).append((slug, name))
        rows.extend(found)
        last_id = found[-1].id


async def rebuild_state(session: AsyncSession, gap_seconds: float) -> SyncState:
    """The state for an index built from a snapshot taken now.

    Rows older than the gap window were committed (or rolled back) before the snapshot; rows
    in the window are replayed afterwards, which is harmless.
    """
    cutoff = utcnow() - timedelta(seconds=gap_seconds)
    statement = select(func.max(SearchChange.seq)).where(col(SearchChange.created_at) < cutoff)
    watermark = (await session.exec(statement)).one() or 0
    return SyncState(watermark=int(watermark), synced_at=time.time())


async def head(session: AsyncSession) -> int:
    return int((await session.exec(select(func.max(SearchChange.seq)))).one() or 0)


#: Holes timed at once; more than this many in a row are timed as the watermark nears them.
MAX_TRACKED = 10_000


class GapTracker:
    """Remembers since when each missing sequence number has been missing (in memory)."""

    def __init__(self, gap_seconds: float) -> None:
        self.gap_seconds = gap_seconds
        self.first_seen: dict[int, float] = {}

    def advance(self, state: SyncState, now: float) -> None:
        """Move the watermark over applied sequences and over gaps that have timed out."""
        # Every hole below the highest applied sequence starts its clock now, not when the
        # watermark reaches it: timed one after another, n holes (a crash leaves one per
        # transaction in flight) would hold the watermark for n times the gap timeout.
        top = max(state.applied, default=state.watermark)
        for seq in range(state.watermark + 1, min(top, state.watermark + 1 + MAX_TRACKED)):
            if seq not in state.applied:
                self.first_seen.setdefault(seq, now)
        while state.applied:
            nxt = state.watermark + 1
            if nxt in state.applied:
                state.applied.discard(nxt)
                state.watermark = nxt
                self.first_seen.pop(nxt, None)
                continue
            since = self.first_seen.setdefault(nxt, now)
            if now - since < self.gap_seconds:
                return
            log.info("search sync: sequence %d never committed; skipping it", nxt)
            self.first_seen.pop(nxt, None)
            state.watermark = nxt


async def next_batch(
    session: AsyncSession, state: SyncState, gaps: GapTracker
) -> Batch | None:
    """The changes not applied yet (None when there are none and the watermark is final)."""
    statement = (
        select(SearchChange.seq, SearchChange.post_id)
        .where(col(SearchChange.seq) > state.watermark)
        .order_by(col(SearchChange.seq)).limit(BATCH + len(state.applied))
    )
    rows = [
        (s, p)
        for s, p in (await session.exec(statement)).all()
        if s is not None and s not in state.applied  # seq is the primary key: never None
    ]
    rows = rows[:BATCH]
    new_state = SyncState(state.watermark, set(state.applied), time.time())
    new_state.applied.update(seq for seq, _ in rows)
    gaps.advance(new_state, time.monotonic())
    if not rows and new_state.watermark == state.watermark:
        return None
    upserts, deletes = await documents_for(session, {post_id for _, post_id in rows})
    return Batch(upserts, deletes, new_state, len(rows))


async def prune(session: AsyncSession, retention_hours: float) -> int:
    """Drop change-log rows older than the retention period (every machine has had time)."""
    cutoff = utcnow() - timedelta(hours=retention_hours)
    result = await session.exec(delete(SearchChange).where(col(SearchChange.created_at) < cutoff))
    return int(result.rowcount or 0)
