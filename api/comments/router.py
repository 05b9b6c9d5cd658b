from typing import Annotated, Any

import pydantic_core
from fastapi import APIRouter, Depends, Path, Query, Request, Response

from api.comments import service as comment_service
from api.comments.dependencies import CommentedPost
from api.comments.models import CommentStatus
from api.comments.presenters import (
    CommentRow,
    build_threads,
    comment_moderation,
    comment_with_status,
)
from api.comments.schemas import (
    CommentCreate,
    CommentModeration,
    CommentPublic,
    CommentUpdate,
    CommentWithStatus,
)
from api.db import SessionDep, utcnow
from api.errors import Forbidden
from api.pagination import PageDep, page_count, set_page_headers
from api.posts.schemas import Page
from api.ratelimit import client_ip, hash_ip, rate_limit
from api.users.dependencies import CurrentUser, OptionalUser

router = APIRouter(tags=["comments"])

CommentId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The comment's id.")]
_POST_404: dict[int | str, dict[str, Any]] = {404: {"description": "No such post, or not visible to you"}}
_MODERATION: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in"},
    403: {"description": "Not a moderator of this comment's post"},
    404: {"description": "No such comment"},
}


@router.get("/posts/{slug}/comments", response_model=Page[CommentPublic], responses=_POST_404)
async def list_post_comments(
    request: Request, session: SessionDep, post: CommentedPost, pages: PageDep
) -> Response:
    """Approved comments as threads: top-level oldest first, paginated, replies nested."""
    assert post.id is not None
    rows, total = await comment_service.list_thread(
        session, post_id=post.id, offset=pages.offset, limit=pages.per_page
    )
    page = {
        "items": build_threads(rows), "total": total, "page": pages.page,
        "per_page": pages.per_page, "pages": page_count(total, pages.per_page),
    }
    # Serialized here from plain data in the `Page[CommentPublic]` shape (a test holds it to
    # the model): validating a model per comment would cost more than the queries.
    response = Response(pydantic_core.to_json(page), media_type="application/json")
    set_page_headers(request, response, pages, total)
    return response


@router.post(
    "/posts/{slug}/comments",
    response_model=CommentWithStatus,
    status_code=201,
    dependencies=[Depends(rate_limit("comment", "comment_rate_per_minute"))],
    responses={
        **_POST_404,
        403: {"description": "Comments are closed, or the post is not published"},
        409: {"description": "The same comment was just posted"},
        422: {"description": "Invalid fields, or a reply to a comment that is not published"},
        429: {"description": "Too many comments from this address; see `Retry-After`"},
    },
)
async def create_comment(
    request: Request,
    response: Response,
    session: SessionDep,
    post: CommentedPost,
    user: OptionalUser,
    comment_in: CommentCreate,
) -> CommentWithStatus:
    """Comment on a post as a guest (name and e-mail) or signed in; `status` says if it is held."""
    settings = request.app.state.settings
    comment = await comment_service.create_comment(
        session, post=post, comment_in=comment_in, user=user,
        ip_hash=hash_ip(client_ip(request), settings.secret_key.get_secret_value()),
        user_agent=request.headers.get("user-agent", ""), settings=settings, now=utcnow(),
    )
    response.headers["Location"] = f"/api/v1/comments/{comment.id}"
    shown = comment_with_status(CommentRow(comment, user))
    if comment_in.homepage:
        # The bot must not learn that its comment was binned: answer as for any held comment.
        shown.status = CommentStatus.pending
    return shown


@router.get("/comments", response_model=Page[CommentModeration],
            responses={401: _MODERATION[401], 403: _MODERATION[403], **_POST_404})
async def list_comments_for_moderation(
    request: Request,
    response: Response,
    session: SessionDep,
    user: CurrentUser,
    pages: PageDep,
    status: Annotated[CommentStatus | None, Query(description="Only comments in this state.")] = None,
    post: Annotated[str | None, Query(max_length=200, description="Only this post's (a slug).")] = None,
) -> Page[CommentModeration]:
    """The moderation queue, newest first: every post's for editors, their own posts' for authors."""
    target = None
    if post is not None:
        target = await comment_service.find_post(session, post)
        if not comment_service.can_moderate(user, target):
            raise Forbidden("Authors may only moderate comments on their own posts.")
    rows, total = await comment_service.list_for_moderation(
        session, moderator=user, status=status, post=target,
        offset=pages.offset, limit=pages.per_page,
    )
    set_page_headers(request, response, pages, total)
    return Page[CommentModeration](
        items=[comment_moderation(row, slug) for row, slug in rows], total=total,
        page=pages.page, per_page=pages.per_page, pages=page_count(total, pages.per_page),
    )


@router.patch("/comments/{comment_id}", response_model=CommentModeration | CommentWithStatus,
              responses=_MODERATION)
async def update_comment(
    request: Request, session: SessionDep, user: CurrentUser, comment_id: CommentId,
    comment_in: CommentUpdate,
) -> CommentModeration | CommentWithStatus:
    """Moderate a comment (status, content); its signed-in author may fix the content for a while."""
    row, post = await comment_service.get_comment(session, comment_id)
    await comment_service.update_comment(
        session, comment=row.comment, post=post, editor=user, comment_in=comment_in,
        settings=request.app.state.settings, now=utcnow(),
    )
    if comment_service.can_moderate(user, post):
        return comment_moderation(row, post.slug)
    return comment_with_status(row)


@router.delete("/comments/{comment_id}", status_code=204, responses=_MODERATION)
async def delete_comment(session: SessionDep, user: CurrentUser, comment_id: CommentId) -> Response:
    """Delete a comment with its replies (to hide just one, set its status to `trash`)."""
    row, post = await comment_service.get_comment(session, comment_id)
    await comment_service.delete_comment(session, comment=row.comment, post=post, user=user)
    return Response(status_code=204)
