"""Comment thread benchmark (issue 3, "Speed"): a post with 200 approved comments in threads.

    .venv/bin/python bench/comments_bench.py [--requests 3000] [--connections 16] [--no-write]

Seeds a migrated SQLite database with one published post and 200 approved comments (40
threads of 5: half nested four levels deep, half flat replies), plus 40 held or binned ones
that must stay out. Starts Inkwell under uvicorn (one worker, 127.0.0.1, a free port), waits
for its search index to go idle, then sends a bounded number of
`GET /api/v1/posts/{slug}/comments` requests from an httpx async client with N concurrent
connections, for the whole thread on one page (`per_page=40`, 200 comments) and the default
page (`per_page=10`, 50 comments). Goal: p99 < 50 ms at 16 connections. Results go to the
"Comments" section of docs/benchmarks.md.
"""

import argparse
import asyncio
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

import api.tables  # noqa: E402, F401
from api.comments.models import Comment, CommentStatus  # noqa: E402
from api.migrate import upgrade  # noqa: E402
from api.posts.models import Post, PostStatus  # noqa: E402
from api.text.markdown import render_comment_html  # noqa: E402
from api.users.models import Role, User  # noqa: E402
from bench import servers  # noqa: E402
from bench.posts_bench import run_wrk  # noqa: E402
from bench.report import write_section  # noqa: E402

SLUG = "does-massage-help"
SECRET = "inkwell-bench-secret-key-0123456789"
GOAL_P99_MS = 50.0
THREADS, PER_THREAD = 40, 5


@dataclass(frozen=True)
class Result:
    label: str
    requests: int
    comments: int
    body_bytes: int
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: int


async def seed(database_url: str) -> None:
    """One post, 200 approved comments in 40 threads, and 40 that are not approved."""
    now = datetime.now(UTC)
    start = now - timedelta(days=2)
    engine = create_async_engine(database_url)
    async with engine.begin() as conn:
        await conn.execute(insert(User), [{
            "id": 1, "username": "ann", "display_name": "Ann", "email": "ann@example.com",
            "role": Role.author, "password_hash": "x", "bio": "", "is_active": True,
            "created_at": start}])
        await conn.execute(insert(Post), [{
            "id": 1, "slug": SLUG, "title": "Does massage help?", "excerpt": "", "content": "Yes.",
            "content_html": "<p>Yes.</p>", "status": PostStatus.published, "published_at": start,
            "created_at": start, "updated_at": start, "reading_time_minutes": 1,
            "comments_open": True, "author_id": 1}])
        rows = []
        n = 0
        for t in range(THREADS):
            root_id = parent_id = None
            for level in range(PER_THREAD):
                n += 1
                text = f"Comment {n}: *sore legs* after [the run](https://example.org/{n}) — it helps."
                depth = 0 if level == 0 else (level if t % 2 == 0 else 1)
                rows.append({
                    "id": n, "post_id": 1, "parent_id": parent_id, "user_id": 1 if n % 7 == 0 else None,
                    "author_name": f"Reader {n}", "author_email": f"reader{n}@example.org",
                    "author_url": None, "content": text, "content_html": render_comment_html(text),
                    "status": CommentStatus.approved, "depth": depth,
                    "created_at": start + timedelta(minutes=n), "updated_at": start + timedelta(minutes=n),
                    "ip_hash": "0" * 32, "user_agent": "bench"})
                if level == 0:
                    root_id = parent_id = n
                elif t % 2 == 0:
                    parent_id = n
                else:
                    parent_id = root_id
        for i in range(40):
            n += 1
            rows.append({**rows[i], "id": n, "parent_id": None, "depth": 0,
                         "status": (CommentStatus.pending, CommentStatus.spam)[i % 2]})
        await conn.execute(insert(Comment), rows)
    await engine.dispose()


def _caught_up(base: str) -> bool:
    search = httpx.get(base + "/health", timeout=5).json().get("search") or {}
    return bool(search.get("backlog", 0) == 0 and search.get("documents", 1) >= 1)


@contextmanager
def uvicorn(env: dict[str, str]) -> Iterator[str]:
    """Inkwell in a uvicorn subprocess (one worker) on a free loopback port; yields its URL."""
    with servers.uvicorn("api.main:create_app", env, factory=True, ready=_caught_up) as (base, _):
        yield base


def _count(items: list[dict[str, Any]]) -> int:
    return sum(1 + _count(item["replies"]) for item in items)


async def load(base: str, label: str, per_page: int, *, requests: int, connections: int) -> Result:
    """`requests` GETs, `connections` at a time over kept-alive connections; latency per request."""
    url = f"{base}/api/v1/posts/{SLUG}/comments"
    params = {"per_page": per_page}
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=10) as client:
        first = await client.get(url, params=params)
        first.raise_for_status()
        comments, size = _count(first.json()["items"]), len(first.content)
        for _ in range(200):  # warm-up: connections, caches, the interpreter
            await client.get(url, params=params)
        latencies: list[float] = []
        errors = 0
        remaining = requests

        async def worker() -> None:
            nonlocal remaining, errors
            while remaining > 0:
                remaining -= 1
                started = time.perf_counter()
                r = await client.get(url, params=params)
                latencies.append((time.perf_counter() - started) * 1000)
                errors += r.status_code != 200

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - began
    q = statistics.quantiles(latencies, n=100, method="inclusive")
    return Result(label=label, requests=len(latencies), comments=comments, body_bytes=size,
                  rps=len(latencies) / elapsed, p50_ms=q[49], p90_ms=q[89], p99_ms=q[98],
                  max_ms=max(latencies), errors=errors)


def report(results: list[Result], args: argparse.Namespace, load: tuple[float, float]) -> str:
    lines = [
        f"`GET /api/v1/posts/{{slug}}/comments` for a post with 200 approved comments in "
        f"{THREADS} threads of {PER_THREAD} (half nested four levels deep, half flat) and 40 "
        f"held or binned ones, on SQLite; one uvicorn worker on 127.0.0.1; an httpx async "
        f"client (a separate process on the same machine, its time included) sends "
        f"{args.requests:,} requests per row over {args.connections} kept-alive connections "
        f"after 200 warm-up requests. The handler runs a fixed number of SQL queries whatever "
        f"the thread size (tests/api/comments/test_router.py::test_constant_number_of_queries). "
        f"Goal: p99 < {GOAL_P99_MS:.0f} ms at 16 connections.",
        "",
        "| Page | Comments | Body (KB) | Requests | req/s | p50 (ms) | p90 (ms) | p99 (ms) | max (ms) | Errors | Goal |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        met = r.p99_ms < GOAL_P99_MS and not r.errors
        lines.append(
            f"| {r.label} | {r.comments} | {r.body_bytes / 1024:.1f} | {r.requests:,} | "
            f"{r.rps:,.0f} | {r.p50_ms:.1f} | {r.p90_ms:.1f} | {r.p99_ms:.1f} | {r.max_ms:.1f} | "
            f"{r.errors} | {'met' if met else 'missed'} |"
        )
    cpu = platform.processor() or platform.machine()
    lines += ["", f"Machine: {os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, "
              f"{datetime.now(UTC):%Y-%m-%d}; 1-minute load average {load[0]:.1f} before and "
              f"{load[1]:.1f} after the run (server, client and anything else on the machine "
              f"share the CPUs). Run: `.venv/bin/python bench/comments_bench.py`."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--no-write", action="store_true", help="print, don't touch docs/")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    workdir = Path(tempfile.mkdtemp(prefix="inkwell-bench-comments-"))
    try:
        url = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
        upgrade(url)
        asyncio.run(seed(url))
        env = {"INKWELL_DATABASE_URL": url, "INKWELL_INDEX_DIR": str(workdir / "index"),
               "INKWELL_SECRET_KEY": SECRET}
        pages = (("whole thread (`per_page=40`)", 40), ("first page (`per_page=10`)", 10))
        with uvicorn(env) as base:
            results = [
                asyncio.run(load(base, label, per_page, requests=args.requests,
                                 connections=args.connections))
                for label, per_page in pages
            ]
            # The Python client above spends as much CPU as the server; wrk (C) shows the
            # server's own latency when it is installed.
            wrk_rows = [
                run_wrk(label, f"{base}/api/v1/posts/{SLUG}/comments?per_page={per_page}",
                        duration=8, connections=args.connections)
                for label, per_page in pages
            ] if shutil.which("wrk") else []
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    body = report(results, args, (load_before, os.getloadavg()[0]))
    body += (
        "\n\nAnonymous readers get the thread from the response cache (api/caching.py) after the "
        "first request, checked against the content version, so the numbers above are the "
        "cached path; the first request of a thread, or any after a change, runs the two SQL "
        "queries. The httpx client costs about as much CPU as the server on this 2-core "
        "machine, so its latencies include its own queueing."
    )
    if wrk_rows:
        body += "\n\nThe same URLs under wrk (16 connections, 8 s after a 2 s warm-up):\n\n"
        body += "| Page | req/s | p50 (ms) | p99 (ms) | Errors | Goal |\n|---|---:|---:|---:|---:|---|\n"
        body += "\n".join(
            f"| {r.target} | {r.rps:,.0f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | {r.errors} | "
            f"{'met' if r.p99_ms < GOAL_P99_MS and not r.errors else 'missed'} |"
            for r in wrk_rows
        )
    print(body)
    if not args.no_write:
        write_section("Comments", body)


if __name__ == "__main__":
    main()
