"""A deleted comment's id is never given to a new comment (found by the crash-recovery load:
on SQLite a moderator's late DELETE of comment 1 removed the next comment, which got id 1)."""

import httpx
from sqlmodel.ext.asyncio.session import AsyncSession

from api.users.models import Role
from tests.factories import auth, make_comment, make_post, make_user


async def test_ids_of_deleted_comments_are_not_reused(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    editor = await make_user(session, role=Role.editor)
    post = await make_post(session, author=editor)
    first = await make_comment(session, post=post)
    r = await client.delete(f"/api/v1/comments/{first.id}", headers=auth(editor))
    assert r.status_code == 204
    r = await client.post(f"/api/v1/posts/{post.slug}/comments", json={"content": "Next"},
                          headers=auth(editor))
    assert r.status_code == 201
    assert first.id is not None
    assert r.json()["id"] > first.id
    assert (await client.delete(f"/api/v1/comments/{first.id}", headers=auth(editor))).status_code == 404
