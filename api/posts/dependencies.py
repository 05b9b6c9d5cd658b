from typing import Annotated

from fastapi import Depends, Path

from api.db import SessionDep
from api.posts import service as post_service
from api.posts.models import Post
from api.users.dependencies import CurrentUser, OptionalUser

SlugPath = Annotated[str, Path(max_length=200, description="The post's slug.")]


async def get_visible_post(slug: SlugPath, session: SessionDep, viewer: OptionalUser) -> Post:
    return await post_service.get_post(session, slug, viewer=viewer)


async def get_editable_post(slug: SlugPath, session: SessionDep, editor: CurrentUser) -> Post:
    return await post_service.get_editable_post(session, slug, editor=editor)


PostBySlug = Annotated[Post, Depends(get_visible_post)]
EditablePost = Annotated[Post, Depends(get_editable_post)]
