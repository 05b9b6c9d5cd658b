"""Pure ASGI middleware: request IDs and security headers, body size limits, ETags."""

import hashlib
import json
import logging
import os
import random
import re
import time
from contextvars import ContextVar

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import timing

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
log = logging.getLogger("inkwell.access")
errors_log = logging.getLogger("inkwell")

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# For the API docs pages (FastAPI's Swagger UI and ReDoc load from jsDelivr and start with an
# inline script); the frontend sets its own, stricter policy.
_HTML_CSP = (
    "default-src 'self'; object-src 'none'; img-src 'self' data: https:; style-src 'self' 'unsafe-inline' https:; "
    "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
_API_CSP = "default-src 'none'; frame-ancestors 'none'"
#: hashlib lets go of the GIL for an update of 2,048 bytes or more (see body_etag)
_HASH_PIECE = 2047


#: Request IDs' own generator: seeded from the OS once, and again in every forked process;
#: no other code's random.seed() touches it.
_request_ids = random.Random()
os.register_at_fork(after_in_child=_request_ids.seed)


def new_request_id() -> str:
    """32 random hex digits, like `uuid4().hex`, from a Mersenne Twister seeded by the OS:
    uuid4 reads the OS's randomness on every call, a system call that lets go of the GIL, and
    a worker's event loop then waited for its search thread to hand it back."""
    return f"{_request_ids.getrandbits(128):032x}"


def body_etag(body: bytes) -> str:
    """A strong ETag of a response body: its blake2b digest, fed to the hash in pieces.

    In one piece, hashlib lets go of the GIL for any body of 2 KB or more; on a worker's
    event loop, with the search thread busy, taking it back waited up to the interpreter's
    switch interval (5 ms) for every search response. The digest is the same either way."""
    digest = hashlib.blake2b(digest_size=12)
    view = memoryview(body)
    for start in range(0, len(view), _HASH_PIECE):
        digest.update(view[start : start + _HASH_PIECE])
    return '"' + digest.hexdigest() + '"'


class RequestIdFilter(logging.Filter):
    """Stamps `record.request_id` (or "-" outside requests); installed by `api.logs`."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class RequestContextMiddleware:
    """Tags each request with an ID (kept from `X-Request-ID` when sane), hardens headers and
    adds the app's time to `Server-Timing` (api/timing.py)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get("x-request-id", "")
        request_id = incoming if _SAFE_ID.match(incoming) else new_request_id()
        token = request_id_var.set(request_id)
        began = time.perf_counter()
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                headers["X-Request-ID"] = request_id
                spent = timing.header([("app", time.perf_counter() - began)])
                parts = headers.get("server-timing")
                headers["Server-Timing"] = f"{parts}, {spent}" if parts else spent
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
                headers.setdefault("X-Frame-Options", "DENY")
                is_html = headers.get("content-type", "").startswith("text/html")
                headers.setdefault("Content-Security-Policy", _HTML_CSP if is_html else _API_CSP)
                if message["status"] >= 500:
                    log.warning("request %s %s answered %s", scope["method"], scope["path"], message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            # Answered here rather than by Starlette's outermost error middleware, which runs
            # outside this one: the 500 then carries the request ID and the security headers,
            # and the traceback is logged with the request ID. The body never tells the error.
            errors_log.exception("unhandled error on %s %s", scope["method"], scope["path"])
            if started:
                raise
            await _send_problem(send_with_headers, 500, "Internal Server Error",
                                "The server failed to handle this request.", scope["path"])
        finally:
            request_id_var.reset(token)


async def _send_problem(send: Send, status: int, title: str, detail: str, path: str) -> None:
    body = json.dumps({"type": "about:blank", "title": title, "status": status,
                       "detail": detail, "instance": path}).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """413 for bodies over the limit: by `Content-Length` up front, or while streaming.

    A streamed body over the limit is answered 413 at once, and the app is told the client
    left: an exception raised from `receive` would reach FastAPI's body parsing, which turns
    any error into a 400.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        detail = f"The request body is larger than {self.max_bytes} bytes."
        length = Headers(scope=scope).get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            await _send_problem(send, 413, "Payload Too Large", detail, scope["path"])
            return
        received = 0
        started = refused = False

        async def limited_receive() -> Message:
            nonlocal received, started, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    refused = True
                    if not started:
                        started = True
                        await _send_problem(send, 413, "Payload Too Large", detail, scope["path"])
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if refused:  # the 413 has been sent; whatever the app answers goes nowhere
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except Exception:
            if not refused:
                raise


class NulByteMiddleware:
    """400 for a NUL byte in the path or query string: PostgreSQL cannot compare text with
    one, so every lookup would fail, and no URL needs one."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (
            "\x00" in scope["path"]
            or b"%00" in scope["query_string"]
            or b"\x00" in scope["query_string"]
        ):
            await _send_problem(send, 400, "Bad Request",
                                "NUL bytes are not allowed in URLs.", scope["path"].replace("\x00", ""))
            return
        await self.app(scope, receive, send)


_ETAG_TYPES = ("application/json", "application/problem+json", "application/xml",
               "application/rss+xml", "application/atom+xml", "application/feed+json", "text/xml")


class ETagMiddleware:
    """A strong ETag on successful GET responses from their body; `If-None-Match` gives 304."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []
        passthrough = False

        async def buffering_send(message: Message) -> None:
            nonlocal start, passthrough
            if message["type"] == "http.response.start":
                headers = Headers(raw=message["headers"])
                ctype = headers.get("content-type", "").split(";")[0]
                if message["status"] != 200 or ctype not in _ETAG_TYPES or "etag" in headers:
                    passthrough = True
                    await send(message)
                else:
                    start = message
                return
            if passthrough or start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            etag = body_etag(body)
            headers = MutableHeaders(scope=start)
            headers["ETag"] = etag
            headers.setdefault("Cache-Control", "no-cache")
            match = Headers(scope=scope).get("if-none-match", "")
            tags = {t.strip().removeprefix("W/") for t in match.split(",")}
            if etag in tags or "*" in tags:
                del headers["content-length"]
                for name in ("content-type",):
                    if name in headers:
                        del headers[name]
                start["status"] = 304
                await send(start)
                await send({"type": "http.response.body", "body": b""})
                return
            await send(start)
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, buffering_send)
