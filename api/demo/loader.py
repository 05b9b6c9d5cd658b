"""Loads the demo blog (api/demo/content.json) through the same services the API uses."""

import hashlib
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from api.comments.models import Comment
from api.db import utcnow
from api.posts import service as post_service
from api.posts.models import Post, PostStatus
from api.posts.schemas import PostCreate
from api.text.markdown import render_comment_html
from api.users import service as user_service
from api.users.models import Role, User
from api.users.schemas import UserCreate

CONTENT = Path(__file__).parent / "content.json"


async def has_content(session: AsyncSession) -> bool:
    return bool((await session.exec(select(func.count()).select_from(Post))).one())


async def load_demo(session: AsyncSession, content_path: Path = CONTENT) -> dict[str, int]:
    """Create the demo authors, posts and comment threads; flushes, the caller commits."""
    content = json.loads(await anyio.Path(content_path).read_text(encoding="utf-8"))
    users: dict[str, User] = {}
    for raw in content["authors"]:
        existing = (await session.exec(select(User).where(User.username == raw["username"]))).first()
        users[raw["username"]] = existing or await user_service.create_user(
            session,
            user_in=UserCreate(
                username=raw["username"], display_name=raw["display_name"], email=raw["email"],
                bio=raw.get("bio", ""), role=Role(raw.get("role", "author")),
                password=raw["password"], avatar_url=raw.get("avatar_url"),
            ),
        )
    now = utcnow()
    counts = {"authors": len(users), "posts": 0, "comments": 0}
    for raw in content["posts"]:
        when = now - timedelta(days=raw.get("days_ago", 0), hours=len(raw["title"]) % 12)
        post = await post_service.create_post(
            session,
            author=users[raw["author"]],
            post_in=PostCreate(
                title=raw["title"], content=raw["content"], tags=raw.get("tags", []),
                status=PostStatus(raw.get("status", "published")), published_at=when,
                excerpt=raw.get("excerpt"),
            ),
        )
        counts["posts"] += 1
        for comment in raw.get("comments", []):
            counts["comments"] += await _add_thread(session, post, comment, None, users, now)
    await session.flush()
    return counts


async def _add_thread(
    session: AsyncSession, post: Post, raw: dict[str, Any], parent: Comment | None,
    users: dict[str, User], now: Any,
) -> int:
    assert post.id is not None
    user = users.get(raw.get("username", ""))
    created = now - timedelta(days=raw.get("days_ago", 0), minutes=len(raw["content"]) % 50)
    comment = Comment(
        post_id=post.id,
        parent_id=parent.id if parent else None,
        depth=parent.depth + 1 if parent else 0,
        user_id=user.id if user else None,
        author_name=user.display_name if user else raw["author_name"],
        author_email=user.email if user else raw["author_email"],
        author_url=None if user else raw.get("author_url"),
        content=raw["content"],
        content_html=render_comment_html(raw["content"]),
        status=raw.get("status", "approved"),
        created_at=created,
        updated_at=created,
        ip_hash=hashlib.sha256(b"demo").hexdigest()[:32],
        user_agent="inkwell-demo",
    )
    session.add(comment)
    await session.flush()
    total = 1
    for reply in raw.get("replies", []):
        total += await _add_thread(session, post, reply, comment, users, now)
    return total
