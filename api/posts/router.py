from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from api.db import SessionDep
from api.errors import Forbidden
from api.pagination import PageDep, page_count, set_page_headers
from api.posts import service as post_service
from api.posts.dependencies import EditablePost, PostBySlug
from api.posts.models import PostStatus
from api.posts.presenters import post_public, post_summaries
from api.posts.schemas import Page, PostCreate, PostPublic, PostSort, PostSummary, PostUpdate
from api.users.dependencies import CurrentUser, OptionalUser

router = APIRouter(prefix="/posts", tags=["posts"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing, expired or invalid access token"},
    403: {"description": "Signed in, but not allowed to change this post"},
    404: {"description": "No such post, or not visible to you"},
}


@router.get("", response_model=Page[PostSummary],
            responses={403: {"description": "Filtering by `status` needs signing in"}})
async def list_posts(
    request: Request,
    response: Response,
    session: SessionDep,
    viewer: OptionalUser,
    pages: PageDep,
    tag: Annotated[str | None, Query(max_length=60, description="A tag slug.")] = None,
    author: Annotated[str | None, Query(max_length=40, description="A username.")] = None,
    sort: PostSort = "-published_at",
    status: Annotated[
        PostStatus | None, Query(description="Signed-in staff only: filter by status.")
    ] = None,
) -> Page[PostSummary]:
    """List published posts, newest first, with tag and author filters."""
    if status is not None and viewer is None:
        raise Forbidden("Sign in to filter posts by status.")
    posts, total = await post_service.list_posts(
        session, viewer=viewer, offset=pages.offset, limit=pages.per_page,
        tag=tag, author=author, status=status, sort=sort, summaries=True,
    )
    counts = await post_service.comment_counts(session, [p.id for p in posts if p.id])
    set_page_headers(request, response, pages, total)
    return Page[PostSummary](
        items=post_summaries(posts, counts), total=total, page=pages.page,
        per_page=pages.per_page, pages=page_count(total, pages.per_page),
    )


@router.get(
    "/{slug}", response_model=PostPublic,
    responses={301: {"description": "The post was renamed; `Location` has its new URL"}, **_ERRORS},
)
async def get_post(session: SessionDep, post: PostBySlug) -> PostPublic:
    """Get one post by its slug (drafts only for their author and editors)."""
    assert post.id is not None
    counts = await post_service.comment_counts(session, [post.id])
    return post_public(post, counts.get(post.id, 0))


@router.post("", response_model=PostPublic, status_code=201, responses=_ERRORS)
async def create_post(
    response: Response, session: SessionDep, author: CurrentUser, post_in: PostCreate
) -> PostPublic:
    """Create a post (a draft unless `status` says otherwise)."""
    post = await post_service.create_post(session, author=author, post_in=post_in)
    response.headers["Location"] = f"/api/v1/posts/{post.slug}"
    return post_public(post, 0)


@router.patch("/{slug}", response_model=PostPublic, responses=_ERRORS)
async def update_post(session: SessionDep, post: EditablePost, post_in: PostUpdate) -> PostPublic:
    """Change a post; a new slug keeps the old one working as a redirect."""
    post = await post_service.update_post(session, post=post, post_in=post_in)
    assert post.id is not None
    counts = await post_service.comment_counts(session, [post.id])
    return post_public(post, counts.get(post.id, 0))


@router.delete("/{slug}", status_code=204, responses=_ERRORS)
async def delete_post(session: SessionDep, post: EditablePost) -> Response:
    """Delete a post with its comments."""
    await post_service.delete_post(session, post=post)
    return Response(status_code=204)
