from typing import Annotated

from fastapi import APIRouter, Path
from sqlmodel import col, select

from api.db import SessionDep
from api.posts import service as post_service
from api.users import service as user_service
from api.users.models import User
from api.users.schemas import AuthorProfile

router = APIRouter(prefix="/authors", tags=["authors"])


def _profile(user: User, post_count: int) -> AuthorProfile:
    return AuthorProfile(
        username=user.username, display_name=user.display_name, avatar_url=user.avatar_url,
        bio=user.bio, post_count=post_count,
    )


@router.get("", response_model=list[AuthorProfile])
async def list_authors(session: SessionDep) -> list[AuthorProfile]:
    """Everyone with at least one public post, with their public post counts."""
    users = (await session.exec(select(User).where(col(User.is_active)).order_by(col(User.username)))).all()
    counts = await post_service.count_public_by_author(session, [u.id for u in users if u.id])
    return [_profile(u, counts[u.id]) for u in users if u.id in counts]


@router.get("/{username}", response_model=AuthorProfile, responses={404: {"description": "No such author"}})
async def get_author(
    session: SessionDep, username: Annotated[str, Path(max_length=40)]
) -> AuthorProfile:
    """An author's public profile."""
    user = await user_service.get_by_username(session, username)
    assert user.id is not None
    counts = await post_service.count_public_by_author(session, [user.id])
    return _profile(user, counts.get(user.id, 0))
