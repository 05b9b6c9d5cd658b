from collections.abc import Sequence

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from api.db import utcnow
from api.posts.models import Post, is_hidden_clause
from api.tags.errors import TagNotFound
from api.tags.models import PostTag, Tag
from api.text.slugs import slugify


async def get_or_create_tags(session: AsyncSession, names: Sequence[str]) -> list[Tag]:
    """Tags for these names, created when new; safe when two workers create the same tag."""
    by_slug: dict[str, str] = {}
    for name in names:
        slug = slugify(name, max_length=60) or "tag"
        by_slug.setdefault(slug, name)
    if not by_slug:
        return []
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(Tag).values(
        [{"name": name, "slug": slug} for slug, name in by_slug.items()]
    ).on_conflict_do_nothing(index_elements=["slug"])
    await session.exec(statement)
    result = await session.exec(select(Tag).where(col(Tag.slug).in_(by_slug)))
    return sorted(result.all(), key=lambda tag: tag.slug)


async def get_by_slug(session: AsyncSession, slug: str) -> Tag:
    tag = (await session.exec(select(Tag).where(Tag.slug == slug))).first()
    if tag is None:
        raise TagNotFound(f"No tag with the slug '{slug}'.")
    return tag


async def list_tags_with_counts(session: AsyncSession) -> list[tuple[Tag, int]]:
    """Tags with how many public posts carry them; tags with none are left out.

    Counted as all of a tag's links less those of hidden posts (drafts, scheduled): the first
    is read from the post_tag index alone and hidden posts are few. Joining every link to its
    post instead took 230-320 ms at 100,000 posts on SQLite (1,835 tags); this 57-134 ms.
    """
    hidden = select(Post.id).where(is_hidden_clause(utcnow()))
    links = func.count().label("n")
    every = select(col(PostTag.tag_id), links).group_by(col(PostTag.tag_id)).subquery()
    held = (
        select(col(PostTag.tag_id), links)
        .where(col(PostTag.post_id).in_(hidden))
        .group_by(col(PostTag.tag_id))
        .subquery()
    )
    count = (every.c.n - func.coalesce(held.c.n, 0)).label("public")
    statement = (
        select(Tag, count)
        .join(every, every.c.tag_id == col(Tag.id))
        .outerjoin(held, held.c.tag_id == col(Tag.id))
        .where(count > 0)
        .order_by(count.desc(), col(Tag.slug))
    )
    return [(tag, n) for tag, n in (await session.exec(statement)).all()]
