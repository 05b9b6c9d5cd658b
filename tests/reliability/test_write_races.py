"""Two write requests on the same post at once: the second waits, and never gets a 500.

On PostgreSQL (READ COMMITTED) an edit that read a post and then updated it after a
concurrent delete committed hit "UPDATE ... expected to update 1 row(s); 0 were matched"
(StaleDataError, a 500); found by the crash-recovery load. Edits and deletes now lock the
post's row (comment moderation, the comment's) when they read it. SQLite runs write
transactions one at a time (BEGIN IMMEDIATE), so the race cannot happen there.
"""

import asyncio
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI

from api.comments import service as comment_service
from api.comments.errors import CommentNotFound
from api.comments.schemas import CommentCreate
from api.db import utcnow
from api.posts import service as post_service
from api.posts.errors import PostNotFound
from api.posts.schemas import PostUpdate
from api.settings import Settings
from api.users.models import Role
from tests.conftest import reset_schema, running_app
from tests.factories import make_comment, make_post, make_user

SQLITE_SERIAL = "SQLite runs one write transaction at a time (BEGIN IMMEDIATE): no race"


@pytest.fixture
async def app(settings: Settings, backend: str) -> AsyncIterator[FastAPI]:
    if backend == "sqlite":
        pytest.skip(SQLITE_SERIAL)
    await reset_schema(settings.database_url)
    async with running_app(settings) as app:
        yield app


async def test_a_delete_waits_for_an_edit_in_progress(app: FastAPI) -> None:
    make_session = app.state.make_write_session
    async with make_session() as session:
        editor = await make_user(session, role=Role.editor)
        post = await make_post(session, author=editor)

    async def delete() -> None:
        async with make_session() as session:
            found = await post_service.get_editable_post(session, post.slug, editor=editor)
            await post_service.delete_post(session, post=found)
            await session.commit()

    async with make_session() as editing:
        found = await post_service.get_editable_post(editing, post.slug, editor=editor)
        deleting = asyncio.create_task(delete())
        await asyncio.sleep(0.3)
        assert not deleting.done()  # waits for the edit's row lock
        await post_service.update_post(editing, post=found, post_in=PostUpdate(title="Edited"))
        await editing.commit()
    await deleting


async def test_an_edit_after_a_delete_in_progress_is_a_404(app: FastAPI) -> None:
    make_session = app.state.make_write_session
    async with make_session() as session:
        editor = await make_user(session, role=Role.editor)
        post = await make_post(session, author=editor)
        comment = await make_comment(session, post=post)
    assert comment.id is not None

    async def edit() -> None:
        async with make_session() as session:
            found = await post_service.get_editable_post(session, post.slug, editor=editor)
            await post_service.update_post(session, post=found, post_in=PostUpdate(title="Late"))

    async def moderate() -> None:
        async with make_session() as session:
            await comment_service.get_comment(session, comment.id)  # type: ignore[arg-type]

    async with make_session() as deleting:
        found = await post_service.get_editable_post(deleting, post.slug, editor=editor)
        await post_service.delete_post(deleting, post=found)
        editing, moderating = asyncio.create_task(edit()), asyncio.create_task(moderate())
        await asyncio.sleep(0.3)
        assert not editing.done() and not moderating.done()
        await deleting.commit()
    with pytest.raises(PostNotFound):
        await editing
    with pytest.raises(CommentNotFound):
        await moderating


async def test_a_comment_on_a_post_being_deleted_is_a_404(app: FastAPI) -> None:
    """Found by the concurrent-writers load: the comment insert hit a foreign-key error (500)."""
    make_session = app.state.make_write_session
    async with make_session() as session:
        editor = await make_user(session, role=Role.editor)
        post = await make_post(session, author=editor)

    async def comment() -> None:
        async with make_session() as session:
            await comment_service.create_comment(
                session, post=post, user=None, ip_hash="x", user_agent="test",
                comment_in=CommentCreate(content="Late reply", author_name="Guest",
                                         author_email="guest@example.org"),
                settings=app.state.settings, now=utcnow(),
            )

    async with make_session() as deleting:
        found = await post_service.get_editable_post(deleting, post.slug, editor=editor)
        await post_service.delete_post(deleting, post=found)
        commenting = asyncio.create_task(comment())
        await asyncio.sleep(0.3)
        assert not commenting.done()  # waits for the delete's row lock
        await deleting.commit()
    with pytest.raises(PostNotFound):
        await commenting
