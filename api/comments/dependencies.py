from typing import Annotated

from fastapi import Depends
from sqlmodel import select

from api.db import SessionDep, utcnow
from api.posts import service as post_service
from api.posts.dependencies import SlugPath
from api.posts.models import Post
from api.users.dependencies import OptionalUser


async def get_commented_post(slug: SlugPath, session: SessionDep, viewer: OptionalUser) -> Post:
    """The post, without its author and tags: comments need neither, and threads are read often.

    Renamed slugs (301) and posts this viewer may not see (404) are left to the posts service.
    """
    post = (await session.exec(select(Post).where(Post.slug == slug))).first()
    if post is None or not post_service.can_see(post, viewer, utcnow()):
        return await post_service.get_post(session, slug, viewer=viewer)
    return post


CommentedPost = Annotated[Post, Depends(get_commented_post)]
