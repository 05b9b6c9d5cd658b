"""The change log applied out of order: sequence numbers are handed out before commit.

A transaction that took sequence N can commit after one that took N+1. The indexer must
apply N+1 at once without moving its watermark past N, apply N when it commits, and give
up on a sequence that never commits (a rollback) only after `outbox_gap_seconds`.
"""

import asyncio
import logging
import random
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.exc import NoResultFound
from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from api.posts import service as post_service
from api.posts.models import Post, PostStatus, SearchChange
from api.posts.schemas import PostCreate, PostUpdate
from api.searching.sync import SyncState
from api.settings import Settings
from api.users.models import Role, User
from bench.check_writes import read_index
from tests.conftest import reset_schema, running_app
from tests.factories import make_post, make_user

SQLITE_SERIAL = (
    "SQLite runs one write transaction at a time (BEGIN IMMEDIATE for every write request), so "
    "a transaction can never commit after a later-numbered one there"
)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    """An app whose indexer only syncs when the test says so (no commits reach it by HTTP)."""
    await reset_schema(settings.database_url)
    async with running_app(settings, indexer_poll_seconds=3600, outbox_gap_seconds=0.5) as app:
        yield app


async def _state(app: FastAPI) -> SyncState:
    await app.state.search.sync_now()
    return SyncState.from_index(await asyncio.to_thread(app.state.search.index.sync_state))


async def _head(session: AsyncSession) -> int:
    return int((await session.exec(select(func.max(SearchChange.seq)))).one() or 0)


async def _editor(app: FastAPI) -> User:
    async with app.state.make_write_session() as session:
        return await make_user(session, role=Role.editor)


def _published(title: str) -> PostCreate:
    return PostCreate(title=title, content=f"About {title.lower()}.", status=PostStatus.published)


async def _leave_hole(app: FastAPI, backend: str, editor: User) -> None:
    """Take a sequence number that never commits."""
    async with app.state.make_write_session() as session:
        if backend == "postgres":
            # A rolled-back transaction's sequence number is gone for good.
            await post_service.create_post(session, author=editor, post_in=_published("Rolled back"))
            await session.rollback()
        else:
            # SQLite's AUTOINCREMENT rolls back with the transaction and hands the number out
            # again; leave the same hole by hand to test the same logic.
            await session.exec(text(  # type: ignore[call-overload]
                "UPDATE sqlite_sequence SET seq = seq + 1 WHERE name = 'search_change'"))
            await session.commit()


async def test_a_change_committed_after_a_later_one_is_still_applied(
    app: FastAPI, settings: Settings, backend: str
) -> None:
    if backend == "sqlite":
        pytest.skip(SQLITE_SERIAL)
    editor = await _editor(app)
    async with app.state.make_write_session() as session:
        other = await make_post(session, author=editor, title="Original title")
    assert other.id is not None
    await _state(app)

    make_session = app.state.make_write_session
    async with make_session() as first, make_session() as second:
        late = await post_service.create_post(first, author=editor, post_in=_published("Committed late"))
        n = await _head(first)  # flushed, not committed: sequence N is taken
        post = await post_service.reload(second, other.id)
        await post_service.update_post(second, post=post, post_in=PostUpdate(title="Committed first"))
        assert await _head(second) == n + 1
        await second.commit()

        state = await _state(app)
        assert n + 1 in state.applied
        assert state.watermark < n
        assert read_index(settings.index_dir) == {other.id: "Committed first"}

        await first.commit()

    state = await _state(app)
    assert (state.watermark, state.applied) == (n + 1, set())
    assert read_index(settings.index_dir) == {other.id: "Committed first", late.id: "Committed late"}


async def test_a_sequence_that_never_commits_is_skipped_after_the_gap_timeout(
    app: FastAPI, settings: Settings, backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    editor = await _editor(app)
    async with app.state.make_write_session() as session:
        await make_post(session, author=editor, title="Before the hole")
    before = await _state(app)

    await _leave_hole(app, backend, editor)
    async with app.state.make_write_session() as session:
        after = await make_post(session, author=editor, title="After the hole")
        hole = await _head(session) - 1

    caplog.set_level(logging.INFO, logger="inkwell.search")
    state = await _state(app)
    assert before.watermark == hole - 1
    assert (state.watermark, state.applied) == (hole - 1, {hole + 1})
    assert after.id in read_index(settings.index_dir)  # applied although the watermark waits

    await asyncio.sleep(0.6)
    state = await _state(app)
    assert (state.watermark, state.applied) == (hole + 1, set())
    assert f"sequence {hole} never committed; skipping it" in caplog.text


async def test_holes_left_by_a_crash_time_out_together(
    app: FastAPI, settings: Settings, backend: str
) -> None:
    """Regression: each hole's clock started only when the watermark reached it, so the
    holes a crash leaves (one per transaction in flight) held the watermark for one gap
    timeout each: 20 kills left /health reporting a backlog for minutes."""
    editor = await _editor(app)
    async with app.state.make_write_session() as session:
        await make_post(session, author=editor)
    for _ in range(3):
        await _leave_hole(app, backend, editor)
        async with app.state.make_write_session() as session:
            await make_post(session, author=editor)
            head = await _head(session)
    assert len((await _state(app)).applied) == 3

    await asyncio.sleep(0.6)  # one gap timeout (0.5 s), not three
    state = await _state(app)
    assert (state.watermark, state.applied) == (head, set())


async def test_concurrent_writers_and_a_syncing_indexer_end_in_agreement(
    app: FastAPI, settings: Settings, backend: str
) -> None:
    """Property: whatever the interleaving, after a last sync the index holds exactly the
    public posts with their current titles."""
    editor = await _editor(app)
    ids: list[int] = []
    done = asyncio.Event()
    outcomes = {"committed": 0, "failed": 0}

    async def write(rng: random.Random, k: int, i: int) -> None:
        # Each transaction stays open a moment after taking its sequence number, so commits
        # often land out of sequence order (on PostgreSQL; SQLite runs them one at a time).
        async def commit(session: AsyncSession) -> None:
            if backend == "postgres":
                await asyncio.sleep(rng.random() / 25)
            await session.commit()

        async with app.state.make_write_session() as session:
            op = rng.choice(("create",) * 3 + ("edit", "edit", "publish", "unpublish", "delete"))
            if op == "create" or not ids:
                post = await post_service.create_post(
                    session, author=editor,
                    post_in=PostCreate(title=f"Writer {k} post {i}", content="words",
                                       status=PostStatus.published))
                await commit(session)
                assert post.id is not None
                ids.append(post.id)
                return
            post = await post_service.reload(session, rng.choice(ids))
            if op == "delete":
                await post_service.delete_post(session, post=post)
                await commit(session)
                if post.id in ids:
                    ids.remove(post.id)
                return
            change = {"edit": PostUpdate(title=f"Writer {k} edit {i}"),
                      "publish": PostUpdate(status=PostStatus.published),
                      "unpublish": PostUpdate(status=PostStatus.draft)}[op]
            await post_service.update_post(session, post=post, post_in=change)
            await commit(session)

    async def writer(k: int) -> None:
        rng = random.Random(k)
        for i in range(25):
            try:
                await write(rng, k, i)
                outcomes["committed"] += 1
            except NoResultFound:  # deleted by another writer: nothing was written
                outcomes["failed"] += 1
            except Exception:  # a lost race (e.g. an update of a row deleted meanwhile)
                outcomes["failed"] += 1
            await asyncio.sleep(rng.random() / 100)

    async def indexer() -> None:
        while not done.is_set():
            await app.state.search.sync_now()
            await asyncio.sleep(0.005)

    syncing = asyncio.create_task(indexer())
    await asyncio.gather(*(writer(k) for k in range(8)))
    done.set()
    await syncing
    await app.state.search.sync_now()

    async with app.state.make_session() as session:
        posts = (await session.exec(select(Post))).all()
    public = {p.id: p.title for p in posts if p.status == PostStatus.published}
    assert outcomes["committed"] > 120
    assert public, "the writers left no public post: the check would be empty"
    assert read_index(settings.index_dir) == public
