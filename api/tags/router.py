from fastapi import APIRouter

from api.db import SessionDep
from api.tags import service as tag_service
from api.tags.schemas import TagWithCount

router = APIRouter(prefix="/tags", tags=["tags"])


@router.get("", response_model=list[TagWithCount])
async def list_tags(session: SessionDep) -> list[TagWithCount]:
    """All tags used by public posts, with their post counts, most used first."""
    rows = await tag_service.list_tags_with_counts(session)
    return [TagWithCount(name=tag.name, slug=tag.slug, post_count=n) for tag, n in rows]
