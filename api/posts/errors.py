from api.errors import NotFound, Problem


class PostNotFound(NotFound):
    title = "Post not found"


class PostMoved(Problem):
    """The slug was renamed: answered with 301 and the new location."""

    status, title = 301, "Moved Permanently"

    def __init__(self, slug: str) -> None:
        super().__init__(
            f"This post now lives at '{slug}'.",
            headers={"Location": f"/api/v1/posts/{slug}"},
            slug=slug,
        )
