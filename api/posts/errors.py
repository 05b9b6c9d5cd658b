from urllib.parse import quote

from fastapi import Request

from api.errors import NotFound, Problem


class PostNotFound(NotFound):
    title = "Post not found"


class PostMoved(Problem):
    """The slug was renamed: the same URL under the new slug, in `Location`.

    301 for reads; 308 for writes, so the client repeats the same method and body there
    (after a 301 clients turn a POST into a GET, and a comment would be silently dropped).
    """

    status, title = 301, "Moved Permanently"

    def __init__(self, slug: str, *, old_slug: str | None = None) -> None:
        super().__init__(
            f"This post now lives at '{slug}'.",
            headers={"Location": f"/api/v1/posts/{slug}"},
            slug=slug,
        )
        self.old_slug = old_slug

    def answer(self, request: Request) -> tuple[int, dict[str, str] | None]:
        status = 301 if request.method in ("GET", "HEAD") else 308
        path, new = request.url.path, f"/posts/{quote(str(self.extensions['slug']))}"
        old = f"/posts/{self.old_slug}"
        start = path.find(old + "/") if self.old_slug else -1
        if start < 0 and self.old_slug and path.endswith(old):
            start = len(path) - len(old)
        if start < 0:
            return status, self.headers
        location = path[:start] + new + path[start + len(old):]
        if request.url.query:
            location += "?" + request.url.query
        return status, {"Location": location}
