"""A bounded write load against a running Inkwell, recording every request and its outcome.

N concurrent clients create, edit, publish, unpublish and delete posts, and post, moderate and
delete comments, as an editor, an author (who may only change their own posts) and guests.
Every write carries a unique token (`t<n>x`) in the title or comment it writes, so the checker
(`bench/check_writes.py`) can tell which request put each value in the database.

    python bench/load_writes.py --url http://127.0.0.1:8000 \\
        --database-url sqlite+aiosqlite:///data/inkwell.db --index-dir data/index \\
        --editor ed:password --author au:password --seconds 15 --clients 8

Loopback only, bounded in time (`--seconds`) and in requests (`--max-requests`). The server
needs a high `INKWELL_COMMENT_RATE_PER_MINUTE`: every guest here shares one address.
"""

import argparse
import asyncio
import itertools
import json
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

if __package__ in (None, ""):  # run as a script: make `bench.*` and `api.*` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.text.slugs import slugify

WORDS = ("kale", "rye", "quince", "fennel", "sorrel", "barley", "medlar", "chard")
MARK = "loadmark"  # in every post's title and content: one search finds them all
COMMENT_STATUSES = ("approved", "pending", "spam", "trash")

#: (operation, weight): the mix of writes each client draws from.
MIX = (
    ("create_post", 22), ("create_post_bad_slug", 3), ("edit_post", 22), ("publish", 8),
    ("unpublish", 6), ("delete_post", 6), ("create_comment", 19), ("moderate_comment", 11),
    ("delete_comment", 3),
)


@dataclass
class Write:
    """One request and what came back. `status` None: no answer (outcome unknown);
    0: the connection was refused (the request never reached a server).

    Posts are known by slug (unique, never reused here); comments by id, which SQLite hands
    out again after the newest comment is deleted, so a comment write's target is only sure
    from its answer (the checker reads the token in the returned content).
    """

    n: int
    op: str
    method: str
    path: str
    payload: dict[str, Any] | None
    who: str  # "editor", "author" or "guest"
    slug: str  # the post written to (or commented on)
    comment_id: int | None = None
    sent: float = 0.0
    done: float = 0.0
    status: int | None = None
    body: Any = None

    @property
    def token(self) -> str:
        return f"t{self.n}x"

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def failed(self) -> bool:
        """Definitely not applied: an error answer, or never delivered."""
        return self.status is not None and not self.ok

    @property
    def outcome(self) -> str:
        if self.status is None:
            return "no answer"
        return "refused" if self.status == 0 else str(self.status)


@dataclass
class WriteLoad:
    """The load's state survives several `run`s (the crash test restarts the server between)."""

    headers: dict[str, dict[str, str]]  # "editor" / "author" -> Authorization header
    clients: int = 8
    seed: int = 0
    max_requests: int = 20_000
    writes: list[Write] = field(default_factory=list)
    posts: set[str] = field(default_factory=set)  # slugs of posts believed to exist
    comments: dict[int, str] = field(default_factory=dict)  # comment id -> post slug
    anchor: str | None = None  # a post nobody changes: its slug is the "taken" one
    elapsed: float = 0.0

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self._numbers = itertools.count(1)

    async def run(self, base_url: str, seconds: float) -> None:
        """Write for `seconds` (or until `max_requests`) with `clients` concurrent clients."""
        assert urlsplit(base_url).hostname in ("127.0.0.1", "localhost", "::1"), "loopback only"
        started = time.monotonic()
        deadline = started + seconds
        await asyncio.gather(*(self._client(base_url, deadline) for _ in range(self.clients)))
        self.elapsed += time.monotonic() - started

    async def _client(self, base_url: str, deadline: float) -> None:
        async with httpx.AsyncClient(base_url=base_url, timeout=15.0) as http:
            while time.monotonic() < deadline and len(self.writes) < self.max_requests:
                write = self._next_write()
                await self._send(http, write)
                if write.status == 0:  # server down: don't spin
                    await asyncio.sleep(0.05)

    # -- choosing the next write ------------------------------------------------------

    def _next_write(self) -> Write:
        n = next(self._numbers)
        token = f"t{n}x"
        word = self.rng.choice(WORDS)
        who = self.rng.choice(("editor", "author"))
        ops, weights = zip(*MIX, strict=True)
        op = self.rng.choices(ops, weights)[0]
        if op == "create_post_bad_slug" and self.anchor is None:
            op = "create_anchor"
        elif op in ("moderate_comment", "delete_comment") and not self.comments:
            op = "create_comment"
        if op in ("edit_post", "publish", "unpublish", "delete_post", "create_comment") \
                and not self.posts:
            op = "create_post"

        if op in ("create_post", "create_anchor"):
            title = f"Loadmark {word} {token}"
            payload = {
                "title": title,
                "content": f"{MARK} body about {word} ({token}).",
                "status": self.rng.choice(("published", "published", "draft")),
                "tags": self.rng.sample(WORDS, self.rng.randint(0, 3)),
            }
            # Titles are unique, so the slug is known before the answer (even with none).
            return Write(n, op, "POST", "/api/v1/posts", payload, who, slugify(title))
        if op == "create_post_bad_slug":
            # The anchor's slug is taken for good: 422, and nothing (post, tag) left behind.
            assert self.anchor is not None
            payload = {"title": f"Loadmark {word} {token}", "slug": self.anchor,
                       "status": "published", "content": f"{MARK} {token}",
                       "tags": [f"failtag {token}"]}
            return Write(n, op, "POST", "/api/v1/posts", payload, who, self.anchor)
        if op in ("moderate_comment", "delete_comment"):
            comment_id = self.rng.choice(list(self.comments))
            path = f"/api/v1/comments/{comment_id}"
            payload = {"status": self.rng.choice(COMMENT_STATUSES)} \
                if op == "moderate_comment" else None
            return Write(n, op, "PATCH" if payload else "DELETE", path, payload, "editor",
                         self.comments[comment_id], comment_id=comment_id)

        slug = self.rng.choice(sorted(self.posts))
        path = f"/api/v1/posts/{slug}"
        if op == "edit_post":
            payload = {"title": f"Loadmark {word} {token}",
                       "tags": self.rng.sample(WORDS, self.rng.randint(0, 3))}
            return Write(n, op, "PATCH", path, payload, who, slug)
        if op in ("publish", "unpublish"):
            payload = {"status": "published" if op == "publish" else "draft"}
            return Write(n, op, "PATCH", path, payload, who, slug)
        if op == "delete_post":
            return Write(n, op, "DELETE", path, None, who, slug)
        payload = {"content": f"A comment on {word} ({token})."}
        if self.rng.random() < 0.5:
            who = "guest"
            payload |= {"author_name": f"Guest {token}",
                        "author_email": f"guest{self.rng.randint(1, 20)}@example.org"}
        else:
            who = "editor"
        return Write(n, "create_comment", "POST", f"{path}/comments", payload, who, slug)

    # -- sending and recording ----------------------------------------------------------

    async def _send(self, http: httpx.AsyncClient, write: Write) -> None:
        headers = self.headers.get(write.who, {})
        self.writes.append(write)
        write.sent = time.monotonic()
        try:
            response = await http.request(write.method, write.path, json=write.payload,
                                          headers=headers)
        except httpx.ConnectError:
            write.status = 0
        except httpx.HTTPError:
            write.status = None  # sent, maybe applied: the server died or timed out
        else:
            write.status = response.status_code
            if response.content:
                try:
                    write.body = response.json()
                except ValueError:
                    write.body = response.text[:500]
        write.done = time.monotonic()
        self._learn(write)

    def _learn(self, write: Write) -> None:
        """Remember what now exists, so later writes can target it."""
        body = write.body if isinstance(write.body, dict) else {}
        if write.op == "create_anchor" and write.ok:
            self.anchor = body["slug"]
        elif write.op == "create_post" and write.ok:
            assert body["slug"] == write.slug
            self.posts.add(write.slug)
        elif write.op == "create_comment" and write.ok:
            write.comment_id = int(body["id"])
            self.comments[write.comment_id] = write.slug
        elif write.op == "delete_post" and write.status in (204, 404):
            self.posts.discard(write.slug)
            for comment_id in [c for c, slug in self.comments.items() if slug == write.slug]:
                del self.comments[comment_id]
        elif write.op == "delete_comment" and write.status in (204, 404):
            self.comments.pop(write.comment_id or 0, None)

    # -- reporting ----------------------------------------------------------------------

    def by_type_and_status(self) -> dict[str, dict[str, int]]:
        table: dict[str, Counter[str]] = {}
        for w in self.writes:
            table.setdefault(w.op, Counter())[w.outcome] += 1
        return {op: dict(sorted(c.items())) for op, c in sorted(table.items())}

    def dump(self, path: Path) -> None:
        """Every request with its outcome, as JSON lines (for looking into a failed check)."""
        with open(path, "w", encoding="utf-8") as f:
            for w in self.writes:
                f.write(json.dumps({**w.__dict__, "outcome": w.outcome}, default=str) + "\n")

    def writes_per_second(self) -> float:
        return sum(w.ok for w in self.writes) / self.elapsed if self.elapsed else 0.0


async def sign_in(base_url: str, credentials: str) -> dict[str, str]:
    username, password = credentials.split(":", 1)
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        r = await http.post("/api/v1/auth/token", data={"username": username, "password": password})
        r.raise_for_status()
        return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def _main(args: argparse.Namespace) -> int:
    from bench.check_writes import check

    headers = {"editor": await sign_in(args.url, args.editor),
               "author": await sign_in(args.url, args.author)}
    load = WriteLoad(headers, clients=args.clients, seed=args.seed, max_requests=args.max_requests)
    await load.run(args.url, args.seconds)
    report = await check(load, args.database_url, args.url,
                         index_dir=Path(args.index_dir) if args.index_dir else None)
    print(json.dumps({"writes_per_second": round(load.writes_per_second(), 1),
                      "requests": load.by_type_and_status(), **report.summary()}, indent=2))
    return 1 if report.problems else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--index-dir", help="also read the index folder itself")
    parser.add_argument("--editor", required=True, help="username:password of an editor")
    parser.add_argument("--author", required=True, help="username:password of an author")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--max-requests", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    raise SystemExit(asyncio.run(_main(parser.parse_args())))


if __name__ == "__main__":
    main()
