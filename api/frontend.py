"""The reference frontend (`examples/frontend/`), served at `/` by `inkwell serve --demo`.

A static site that talks only to the public API. Its pages are rendered in the browser, so
the client-side routes (the URLs feeds and the sitemap link to) all answer with `index.html`.
API routes are registered first and always win; anything else missing is a 404 problem.
"""

import re
from pathlib import Path

from fastapi import FastAPI
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

# Stricter than the API docs' policy: no inline script or style, no third-party code.
# Images may come from anywhere over https (Gravatar avatars, images in posts).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
    "connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; "
    "form-action 'self'"
)
_CLIENT_ROUTES = re.compile(r"(posts|tags|authors)/[^/]+/?|search/?")

_PACKAGE = Path(__file__).resolve().parent
# The wheel carries a copy in api/static/frontend (see setup.py); a checkout has the original.
CANDIDATES = (_PACKAGE / "static" / "frontend", _PACKAGE.parent / "examples" / "frontend")


def find_frontend() -> Path | None:
    return next((path for path in CANDIDATES if (path / "index.html").is_file()), None)


class FrontendFiles(StaticFiles):
    """Static files, with `index.html` for the client-side routes and a strict CSP."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        if _CLIENT_ROUTES.fullmatch(path):
            path = "index.html"
        response = await super().get_response(path, scope)
        response.headers["Content-Security-Policy"] = CSP
        response.headers.setdefault("Cache-Control", "no-cache")
        return response


def mount_frontend(app: FastAPI, directory: Path) -> None:
    """Serve `directory` at `/`; call it after every route so that routes win."""
    app.mount("/", FrontendFiles(directory=directory, html=True), name="frontend")
