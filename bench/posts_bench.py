"""Posts list benchmark (issue 2, "Speed"): Inkwell against a bare FastAPI endpoint.

    .venv/bin/python bench/posts_bench.py [--backend sqlite|postgres|both] [--posts 10000]
                                          [--duration 10] [--connections 16] [--no-write]

For each database: seed a migrated database with published posts (3 authors, tags, some
approved comments) by bulk inserts, start Inkwell under uvicorn (one worker, 127.0.0.1, a free
port), wait until its search index has caught up (so the indexer is idle, as in steady state),
then load `GET /api/v1/posts?per_page=10` with wrk, and in the same run, with the same wrk
settings, `bench/bare_app.py` (10 in-memory post-shaped objects through a response model).
Goal: Inkwell reaches >= 40% of the bare throughput with p99 < 50 ms. PostgreSQL runs in a
throwaway database (created and dropped here) on `--pg-url`'s server. Results go to the
"Posts list" section of docs/benchmarks.md.
"""

import argparse
import asyncio
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

import api.tables  # noqa: E402, F401
from api.comments.models import Comment, CommentStatus  # noqa: E402
from api.migrate import upgrade  # noqa: E402
from api.posts.models import Post, PostStatus  # noqa: E402
from api.tags.models import PostTag, Tag  # noqa: E402
from api.text.markdown import plain_text, reading_time_minutes, render_post_html  # noqa: E402
from api.users.models import Role, User  # noqa: E402
from bench import servers  # noqa: E402
from bench.report import write_section  # noqa: E402

PATH = "/api/v1/posts?per_page=10"
SECRET = "inkwell-bench-secret-key-0123456789"
GOAL_RATIO, GOAL_P99_MS = 0.40, 50.0
WORDS = (
    "running recovery muscle stretch walk trail river morning coffee bread garden winter "
    "summer train city mountain story friend kitchen recipe light window paper quiet"
).split()


@dataclass(frozen=True)
class Result:
    target: str
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


# ---------------------------------------------------------------- seeding


def _content(rng: random.Random) -> str:
    paragraphs = [
        " ".join(rng.choice(WORDS) for _ in range(rng.randint(40, 80))).capitalize() + "."
        for _ in range(4)
    ]
    return "## A heading\n\n" + "\n\n*Emphasis* and **strong** words.\n\n".join(paragraphs)


async def seed(database_url: str, posts: int) -> None:
    """Bulk inserts into the migrated schema: users, tags, posts, post tags, comments."""
    rng = random.Random(42)
    now = datetime.now(UTC)
    engine = create_async_engine(database_url)
    contents = [_content(rng) for _ in range(20)]
    rendered = [(c, render_post_html(c)) for c in contents]
    async with engine.begin() as conn:
        await conn.execute(insert(User), [
            {"username": name, "display_name": name.title(), "email": f"{name}@example.com",
             "role": Role.author, "password_hash": "x", "bio": "", "is_active": True,
             "created_at": now}
            for name in ("ann", "bob", "cleo")
        ])
        user_ids = list((await conn.execute(text('SELECT id FROM "user" ORDER BY id'))).scalars())
        tag_names = [f"{a} {b}" for a in WORDS[:6] for b in WORDS[6:11]]
        await conn.execute(insert(Tag), [
            {"name": name.title(), "slug": name.replace(" ", "-")} for name in tag_names
        ])
        tag_ids = list((await conn.execute(text("SELECT id FROM tag ORDER BY id"))).scalars())
        batch = 1000
        for start in range(0, posts, batch):
            rows = []
            for i in range(start, min(start + batch, posts)):
                content, html = rendered[i % len(rendered)]
                published = now - timedelta(minutes=30 * (posts - i))
                rows.append({
                    "slug": f"post-{i}", "title": f"Post {i}: {' '.join(rng.sample(WORDS, 4))}",
                    "excerpt": " ".join(plain_text(html).split()[:40]) + "…",
                    "content": content, "content_html": html, "status": PostStatus.published,
                    "published_at": published, "created_at": published, "updated_at": published,
                    "reading_time_minutes": reading_time_minutes(content), "comments_open": True,
                    "author_id": user_ids[i % len(user_ids)],
                })
            await conn.execute(insert(Post), rows)
        post_ids = list((await conn.execute(text("SELECT id FROM post ORDER BY id"))).scalars())
        links = [
            {"post_id": post_id, "tag_id": tag_id}
            for post_id in post_ids
            for tag_id in rng.sample(tag_ids, rng.randint(1, 3))
        ]
        for start in range(0, len(links), 5000):
            await conn.execute(insert(PostTag), links[start : start + 5000])
        comments = [
            {"post_id": post_id, "author_name": f"Guest {n}", "author_email": f"g{n}@example.org",
             "content": "Nice post.", "content_html": "<p>Nice post.</p>",
             "status": CommentStatus.approved, "depth": 0, "created_at": now, "updated_at": now,
             "ip_hash": "", "user_agent": ""}
            for post_id in post_ids[::3]
            for n in range(2)
        ]
        for start in range(0, len(comments), 5000):
            await conn.execute(insert(Comment), comments[start : start + 5000])
    await engine.dispose()


# ---------------------------------------------------------------- servers and load


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


@contextmanager
def uvicorn(app: str, env: dict[str, str], *, factory: bool = False) -> Iterator[str]:
    """A uvicorn subprocess (one worker) on a free loopback port; yields its base URL."""
    with servers.uvicorn(app, env, factory=factory,
                         ready=lambda base: get_json(base + PATH) is not None) as (base, _pid):
        yield base


def wait_for_index(base: str, posts: int, timeout: float = 600) -> None:
    """The startup rebuild of the search index must be over before measuring."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        search = get_json(base + "/health").get("search", {})
        if search.get("documents", 0) >= posts and search.get("backlog", 1) == 0:
            return
        time.sleep(1)
    raise TimeoutError("the search index did not catch up")


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS_MS[unit]


def run_wrk(target: str, url: str, *, duration: int, connections: int) -> Result:
    base = ["wrk", "-t1", f"-c{connections}", "--latency", "--timeout", "5s"]
    subprocess.run([*base, "-d2s", url], check=True, capture_output=True)  # warm-up
    out = subprocess.run(
        [*base, f"-d{duration}s", url], check=True, capture_output=True, text=True
    ).stdout
    percentiles = dict(re.findall(r"^\s+(\d+)%\s+([\d.]+\w+)$", out, re.M))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)$", out, re.M)
    if socket_errors:
        print(f"  {target}: socket errors: {socket_errors.group(1)}", file=sys.stderr)
    return Result(
        target=target,
        requests=int(re.search(r"(\d+) requests in", out).group(1)),  # type: ignore[union-attr]
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        # wrk prints no distribution when nothing completed (every request timed out)
        p50_ms=_ms(percentiles["50"]) if "50" in percentiles else float("nan"),
        p99_ms=_ms(percentiles["99"]) if "99" in percentiles else float("nan"),
        errors=int(errors.group(1)) if errors else 0,
    )


# ---------------------------------------------------------------- per database


@contextmanager
def database(backend: str, pg_url: str, workdir: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
        return
    name = f"inkwell_bench_{uuid.uuid4().hex[:10]}"

    async def admin(statement: str) -> None:
        engine = create_async_engine(pg_url, isolation_level="AUTOCOMMIT")
        async with engine.connect() as conn:
            await conn.execute(text(statement))
        await engine.dispose()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def bench_backend(backend: str, args: argparse.Namespace) -> tuple[Result, Result, Result]:
    workdir = Path(tempfile.mkdtemp(prefix=f"inkwell-bench-{backend}-"))
    try:
        with database(backend, args.pg_url, workdir) as url:
            started = time.monotonic()
            upgrade(url)
            asyncio.run(seed(url, args.posts))
            print(f"{backend}: seeded {args.posts} posts in {time.monotonic() - started:.1f}s",
                  file=sys.stderr)
            env = {"INKWELL_DATABASE_URL": url, "INKWELL_INDEX_DIR": str(workdir / "index"),
                   "INKWELL_SECRET_KEY": SECRET}
            with uvicorn("api.main:create_app", env, factory=True) as base:
                wait_for_index(base, args.posts)
                inkwell = run_wrk(f"Inkwell ({backend})", base + PATH,
                                  duration=args.duration, connections=args.connections)
            # The same server with the anonymous response cache off: every request runs SQL.
            env["INKWELL_RESPONSE_CACHE"] = "false"
            with uvicorn("api.main:create_app", env, factory=True) as base:
                wait_for_index(base, args.posts)
                uncached = run_wrk(f"Inkwell ({backend}), cache off", base + PATH,
                                   duration=args.duration, connections=args.connections)
            with uvicorn("bench.bare_app:app", {}) as base:
                bare = run_wrk("bare FastAPI", base + PATH,
                               duration=args.duration, connections=args.connections)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    for result in (inkwell, uncached, bare):
        print(f"  {result}", file=sys.stderr)
    return inkwell, uncached, bare


# What the profiles (py-spy on the server, pyinstrument in-process) showed; rerun them when the
# list endpoint changes. Kept here so that a rerun rewrites the section with its explanation.
NOTES = """
The goal is met by the anonymous response cache (`api/caching.py`): a hit is served from
memory after checking the content version that every worker polls every 100 ms (the newest
change-log sequence and the next scheduled publication), so it costs no SQL and skips
validation. A write on the same worker drops the cached pages at once; a write on another
worker or machine is seen within one poll. Signed-in requests are never cached; search and
related posts have caches of their own, keyed by the index version too. The "cache off" row is the same server answering every request from SQL.

Where the time goes on a miss (SQLite, 10,000 posts, profiled 2026-11-26):

- Before the fix in this run's code, the page query sorted whole post rows (HTML included)
  in a temporary b-tree on every request: 27 ms of SQLite per request, 23 req/s. The list
  now sorts and pages over ids on the `(status, published_at)` index and reads only the
  page's rows (2 ms).
- Still O(number of posts) per request: `count(*)` for `total` and the sort over all public
  ids (about 0.5 + 2 ms raw SQLite at 10,000 posts; more under load). An index on
  `published_at` would make the page O(page size); the count stays linear.
- Python dominates the rest: five queries (count, page, authors, tags, comment counts), each
  through SQLAlchemy's ORM and aiosqlite's worker thread (several thread hand-offs per
  query), ORM objects validated into `PostSummary` and validated again by the response
  model, and five middlewares (one buffers and hashes the body for the ETag). PostgreSQL is
  no faster: the cost is in the process, not the database.
- 40% of a bare endpoint is about 0.3 ms per request: out of reach for any request that
  runs SQL through the ORM, hence the cache. Fewer round trips (author joined, comment counts
  as a subquery) and one serialization pass would still speed up misses.
- The machine is shared: other benchmarks and test runs were using the 2 CPUs at the same
  time (see the load average), which hurts the heavier Inkwell path more than the bare one.
"""


def report(runs: dict[str, tuple[Result, Result, Result]], args: argparse.Namespace) -> str:
    lines = [
        f"`GET {PATH}` against a bare FastAPI endpoint returning 10 in-memory post-shaped "
        f"objects (`bench/bare_app.py`), measured in the same run with the same load generator: "
        f"{args.posts:,} published posts (3 authors, 30 tags, approved comments on a third), one "
        f"uvicorn worker, wrk with 1 thread and {args.connections} connections on loopback, "
        f"{args.duration} s per target after a 2 s warm-up. Goal: >= {GOAL_RATIO:.0%} of the "
        f"bare throughput, p99 < {GOAL_P99_MS:.0f} ms.",
        "",
        "| Database | Target | Requests | req/s | p50 (ms) | p99 (ms) | Errors | Ratio | Goal |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for backend, (inkwell, uncached, bare) in runs.items():
        def verdict(result: Result, bare: Result = bare) -> str:
            ratio = result.rps / bare.rps
            met = ratio >= GOAL_RATIO and result.p99_ms < GOAL_P99_MS and not result.errors
            return f"{ratio:.0%} | {'met' if met else 'missed'}"

        for result, extra in ((inkwell, verdict(inkwell)), (uncached, verdict(uncached)),
                              (bare, "100% | ")):
            lines.append(
                f"| {backend} | {result.target} | {result.requests:,} | {result.rps:,.0f} | "
                f"{result.p50_ms:.1f} | {result.p99_ms:.1f} | {result.errors} | {extra} |"
            )
    cpu = platform.processor() or platform.machine()
    load = ", ".join(f"{n:.1f}" for n in os.getloadavg())
    lines += ["", f"Machine: {os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, "
              f"load average at the end {load}, {datetime.now(UTC):%Y-%m-%d}. "
              "Run: `.venv/bin/python bench/posts_bench.py`.", NOTES]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per target")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--pg-url", default=os.environ.get(
        "INKWELL_BENCH_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--no-write", action="store_true", help="print, don't touch docs/")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    runs = {backend: bench_backend(backend, args) for backend in backends}
    body = report(runs, args)
    print(body)
    if not args.no_write:
        write_section("Posts list", body)


if __name__ == "__main__":
    main()
