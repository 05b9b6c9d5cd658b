"""Every error leaves as `application/problem+json` (RFC 9457).

    Problem
    ├── BadRequest (400)
    ├── Unauthorized (401)
    ├── Forbidden (403)
    ├── NotFound (404)
    ├── Conflict (409)
    ├── Gone (410)
    ├── PayloadTooLarge (413)
    ├── Unprocessable (422)
    └── TooManyRequests (429)

`add_exception_handlers` also documents these answers in the OpenAPI schema, so the schema
lists every status an operation can give and the problem+json body that comes with it.
"""

import logging
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("inkwell")

PROBLEM_JSON = "application/problem+json"


class Problem(Exception):
    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal Server Error"

    def __init__(
        self, detail: str | None = None, *, headers: dict[str, str] | None = None, **extensions: Any
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.headers = headers
        self.extensions = extensions

    def answer(self, request: Request) -> tuple[int, dict[str, str] | None]:
        """The status and headers to answer this request with (a redirect may depend on it)."""
        return self.status, self.headers


class BadRequest(Problem):
    status, title = 400, "Bad Request"


class Unauthorized(Problem):
    status, title = 401, "Unauthorized"

    def __init__(self, detail: str | None = None, **extensions: Any) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"}, **extensions)


class Forbidden(Problem):
    status, title = 403, "Forbidden"


class NotFound(Problem):
    status, title = 404, "Not Found"


class Conflict(Problem):
    status, title = 409, "Conflict"


class PayloadTooLarge(Problem):
    status, title = 413, "Payload Too Large"


class Unprocessable(Problem):
    status, title = 422, "Unprocessable Content"


class TooManyRequests(Problem):
    status, title = 429, "Too Many Requests"


def problem_response(
    request: Request,
    status: int,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    body = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        **extensions,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


async def _problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    status, headers = exc.answer(request)
    return problem_response(request, status, exc.title, exc.detail, headers, **exc.extensions)


def _field_name(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or str(loc[0] if loc else "request")


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": _field_name(err.get("loc", ())), "in": str(err.get("loc", ("body",))[0]),
         "message": str(err.get("msg", "invalid value")), "type": str(err.get("type", ""))}
        for err in exc.errors()
    ]
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    return problem_response(
        request, 422, "Validation failed", f"The request is invalid: {summary}", errors=errors
    )


_TITLES = {
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    405: "Method Not Allowed", 406: "Not Acceptable", 409: "Conflict", 413: "Payload Too Large",
    415: "Unsupported Media Type", 422: "Unprocessable Content", 429: "Too Many Requests",
}


async def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    title = _TITLES.get(exc.status_code, "Error")
    detail = exc.detail if isinstance(exc.detail, str) else title
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"There is nothing at {request.url.path}."
    if exc.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}."
    if exc.status_code == 400 and detail == "There was an error parsing the body":
        detail = ("The request body could not be read: it must be valid UTF-8 JSON (or a form "
                  "where one is expected), nested at most a few hundred levels deep.")
    return problem_response(request, exc.status_code, title, detail, dict(exc.headers or {}))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem_response(
        request, 500, "Internal Server Error", "The server failed to handle this request."
    )


PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An RFC 9457 problem: every error answer has this shape.",
    "type": "object",
    "required": ["type", "title", "status", "detail", "instance"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "Validation failures, one per field.",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "in": {"type": "string"},
                               "message": {"type": "string"}, "type": {"type": "string"}},
            },
        },
    },
}
_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
_DESCRIPTIONS = {
    301: "Moved: `Location` has the new URL", 308: "Moved: repeat the request at `Location`",
    400: "A NUL byte in the URL, or a body that could not be parsed",
    401: "Missing, expired or invalid access token",
    413: "The request body is too large", 422: "Invalid parameters or body",
}


# A renamed post's old slug redirects (api.posts.errors.PostMoved), wherever a path names a post.
_REDIRECTING = "/posts/{slug}"


def _problem_statuses(path: str, method: str, operation: dict[str, Any]) -> set[int]:
    """What any operation of this shape can answer, whatever its own code does."""
    statuses = {400}  # a NUL byte in the URL (api.middleware.NulByteMiddleware)
    if _REDIRECTING in path:
        statuses.add(301 if method in ("get", "head") else 308)
    if operation.get("parameters") or "requestBody" in operation:
        statuses.add(422)
    if "requestBody" in operation:
        statuses.add(413)
    if operation.get("security"):  # a bad token is refused even where signing in is optional
        statuses.add(401)
    return statuses


def document_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """Every error answer of every operation documented as `application/problem+json`."""
    schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    for path, path_item in schema.get("paths", {}).items():
        for method, operation in path_item.items():
            responses = operation.setdefault("responses", {})
            for status in _problem_statuses(path, method, operation):
                responses.setdefault(str(status), {"description": _DESCRIPTIONS[status]})
            for code, response in responses.items():
                if code.isdigit() and (int(code) >= 400 or int(code) in (301, 308)):
                    response["content"] = {PROBLEM_JSON: {"schema": _PROBLEM_REF}}
    for unused in ("HTTPValidationError", "ValidationError"):
        schema["components"]["schemas"].pop(unused, None)
    return schema


def add_exception_handlers(app: FastAPI) -> None:
    """Answer every error as problem+json, and say so in the OpenAPI schema."""
    app.add_exception_handler(Problem, _problem)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)

    generate = app.openapi

    def openapi() -> dict[str, Any]:
        return document_problems(generate())  # idempotent, on FastAPI's cached schema

    app.openapi = openapi  # type: ignore[method-assign]
