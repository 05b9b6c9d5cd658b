"""Search over HTTP (issue 4, "Speed"): latency, reindex time, memory, throughput, freshness.

    .venv/bin/python bench/search_http.py [--posts 100000] [--small 10000] [--queries 50]
                                          [--duration 15] [--connections 16] [--no-write]

1. Seeds a migrated SQLite database with `--posts` published posts from ../shared/corpora (the
   same posts as bench/search_speed.py: all of 20 Newsgroups and the Debian package
   descriptions, then posts made of one post's title and two other posts' bodies), by bulk
   inserts. Bodies become one `<p>` per paragraph of `content_html`, which is what the index
   reads.
2. Times `inkwell reindex --quiet` (a subprocess: reads every post from the database, builds a
   fresh index generation, swaps it in).
3. Starts Inkwell under uvicorn (one worker, 127.0.0.1, a free port) and measures, one request
   at a time over a keep-alive connection, distinct queries drawn from the corpus (no cache
   hits): /api/v1/search (single words, 2-3 words, phrases, `word*` prefixes),
   /api/v1/search/suggest and /api/v1/posts/{slug}/related; then the worker's RSS.
4. Freshness: under a background search load (wrk, 8 connections), an editor publishes 50 posts
   one at a time through POST /api/v1/posts, and each is polled for with /api/v1/search on a
   unique word of its title; the time from the POST's response (the commit) to the first search
   that returns it.
5. Throughput: a `--small` post database, one worker, wrk with `--connections` connections
   cycling through the query mix for `--duration` seconds.

Results go to the "Search over HTTP" section of docs/benchmarks.md.
"""

import argparse
import asyncio
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

import api.tables  # noqa: E402, F401
from api.migrate import upgrade  # noqa: E402
from api.posts.models import Post, PostStatus  # noqa: E402
from api.tags.models import PostTag, Tag  # noqa: E402
from api.users.models import Role, User  # noqa: E402
from bench import servers  # noqa: E402
from bench.report import shared_dir, write_section  # noqa: E402
from bench.search_speed import generate, load_raw, pct, query_mix  # noqa: E402

SECRET = "inkwell-bench-secret-key-0123456789"
EDITOR, EDITOR_PASSWORD = "bench-editor", "bench-editor-password"
MAX_USERS = 1000
GOALS = {"p50": 10.0, "p95": 50.0, "suggest": 20.0, "related": 15.0, "reindex": 180.0}
WP_RPS = 5.25


# ---------------------------------------------------------------- the database


def _html(body: str) -> str:
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", body) if p.strip()]
    return "".join(f"<p>{escape(p)}</p>" for p in paragraphs)


async def seed(database_url: str, raw: list[dict[str, Any]], posts: int) -> None:
    """Bulk inserts into the migrated schema: users (the corpus authors), tags, posts, links."""
    docs = list(generate(raw, posts))
    now = datetime.now(UTC)
    authors = sorted({d.author for d in docs})[:MAX_USERS]
    engine = create_async_engine(database_url)
    async with engine.begin() as conn:
        await conn.execute(
            insert(User),
            [
                {
                    "username": name or "anon",
                    "display_name": name.title(),
                    "role": Role.author,
                    "email": f"u{i}@example.com",
                    "password_hash": "x",
                    "bio": "",
                    "is_active": True,
                    "created_at": now,
                }
                for i, name in enumerate(authors)
            ],
        )
        user_ids: dict[str, int] = dict(
            (await conn.execute(text('SELECT username, id FROM "user"'))).all()
        )
        slugs = sorted({t for d in docs for t in d.tags if t.strip("-")})
        await conn.execute(insert(Tag), [{"name": s, "slug": s} for s in slugs])
        tag_ids: dict[str, int] = dict((await conn.execute(text("SELECT slug, id FROM tag"))).all())
        # Published over the last years, oldest first, so every post is public now.
        first = now - timedelta(minutes=10 * posts + 60)
        for start in range(0, posts, 2000):
            rows = []
            for d in docs[start : start + 2000]:
                published = first + timedelta(minutes=10 * d.post_id)
                author = user_ids.get(d.author) or user_ids[authors[hash(d.author) % len(authors)]]
                rows.append(
                    {
                        "id": d.post_id,
                        "slug": d.slug,
                        "title": (d.title or "untitled")[:200],
                        "excerpt": d.excerpt[:1000],
                        "content": d.content,
                        "content_html": _html(d.content),
                        "status": PostStatus.published,
                        "published_at": published,
                        "created_at": published,
                        "updated_at": published,
                        "reading_time_minutes": 1,
                        "comments_open": True,
                        "author_id": author,
                    }
                )
            await conn.execute(insert(Post), rows)
        links = [
            {"post_id": d.post_id, "tag_id": tag_ids[t]}
            for d in docs
            for t in dict.fromkeys(d.tags)
            if t in tag_ids
        ]
        for start in range(0, len(links), 5000):
            await conn.execute(insert(PostTag), links[start : start + 5000])
    await engine.dispose()


def environment(workdir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "INKWELL_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'bench.db'}",
        "INKWELL_INDEX_DIR": str(workdir / "index"),
        "INKWELL_SECRET_KEY": SECRET,
        "INKWELL_LOGIN_RATE_PER_MINUTE": "1000",
    }


def inkwell(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def prepare(
    workdir: Path, raw: list[dict[str, Any]], posts: int
) -> tuple[dict[str, str], float, float]:
    """A seeded database and a fresh index; wall and CPU seconds `inkwell reindex` took."""
    env = environment(workdir)
    upgrade(env["INKWELL_DATABASE_URL"])
    t = time.perf_counter()
    asyncio.run(seed(env["INKWELL_DATABASE_URL"], raw, posts))
    print(f"seeded {posts:,} posts in {time.perf_counter() - t:.0f} s", flush=True)
    inkwell(env, "create-user", EDITOR, "--role", "editor", "--password", EDITOR_PASSWORD)
    t = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    inkwell(env, "reindex", "--quiet")
    reindex_s = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    print(f"reindexed {posts:,} posts in {reindex_s:.0f} s ({cpu_s:.0f} s CPU)", flush=True)
    return env, reindex_s, cpu_s


# ---------------------------------------------------------------- the server


@contextmanager
def server(env: dict[str, str], posts: int) -> Iterator[tuple[str, int]]:
    """Inkwell under uvicorn (one worker, loopback); yields (base URL, pid) once it has caught up."""

    def caught_up(base: str) -> bool:
        search = httpx.get(base + "/health", timeout=5).json().get("search", {})
        return bool(search.get("documents", 0) >= posts and search.get("backlog", 1) == 0)

    with servers.uvicorn("api.main:create_app", env, factory=True, ready=caught_up,
                         timeout=300) as (base, pid):
        yield base, pid


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024  # type: ignore[union-attr]


def load_average() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


# ---------------------------------------------------------------- measures


def latencies(client: httpx.Client, urls: list[str]) -> list[float]:
    times = []
    for url in urls:
        t = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - t) * 1000)
        response.raise_for_status()
    return times


def search_url(q: str) -> str:
    return "/api/v1/search?" + urllib.parse.urlencode({"q": q})


def measure_latency(
    base: str, raw: list[dict[str, Any]], posts: int, per_kind: int
) -> dict[str, Any]:
    mix = query_mix(raw, per_kind)
    rng = random.Random(3)
    out: dict[str, Any] = {"kinds": {}}
    with httpx.Client(base_url=base, timeout=30) as client:
        latencies(client, [search_url("warmup"), search_url("linux kernel")])
        every: list[float] = []
        for kind, queries in mix.items():
            times = latencies(client, [search_url(q) for q in queries])
            every += times
            out["kinds"][kind] = (statistics.median(times), pct(times, 95))
            print(
                f"  {kind}: p50 {out['kinds'][kind][0]:.1f} p95 {out['kinds'][kind][1]:.1f} ms",
                flush=True,
            )
        out["search"] = (statistics.median(every), pct(every, 95), len(every))
        prefixes = [
            q.rstrip("*")[: rng.choice((2, 3, 4, 5))] for q in mix["prefix"] + mix["single word"]
        ]
        suggest = latencies(
            client, ["/api/v1/search/suggest?" + urllib.parse.urlencode({"q": p}) for p in prefixes]
        )
        out["suggest"] = (statistics.median(suggest), pct(suggest, 95), len(suggest))
        slugs = [f"p-{rng.randrange(1, posts + 1)}" for _ in range(100)]
        related = latencies(client, [f"/api/v1/posts/{s}/related" for s in slugs])
        out["related"] = (statistics.median(related), pct(related, 95), len(related))
    print(
        f"  search {out['search']}, suggest {out['suggest']}, related {out['related']}", flush=True
    )
    return out


def wrk_script(queries: list[str], path: Path) -> Path:
    quoted = ", ".join(f'"{search_url(q)}"' for q in queries)
    path.write_text(
        f"local urls = {{{quoted}}}\nlocal i = 0\n"
        "request = function()\n  i = i + 1\n"
        "  return wrk.format('GET', urls[(i % #urls) + 1])\nend\n"
    )
    return path


def run_wrk(base: str, script: Path, connections: int, duration: int) -> tuple[float, float, int]:
    """(requests/s, p50 ms, non-2xx) of wrk cycling through the script's URLs."""
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{duration}s",
            "--latency",
            "--timeout",
            "10s",
            "-s",
            str(script),
            base,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = re.search(r"^\s+50%\s+([\d.]+)(us|ms|s)$", out, re.M)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return (
        rps,
        float(p50.group(1)) * scale[p50.group(2)] if p50 else 0.0,
        int(errors.group(1)) if errors else 0,
    )


def measure_freshness(
    base: str, raw: list[dict[str, Any]], workdir: Path, count: int = 50
) -> dict[str, float]:
    """Publish `count` posts under a read load; seconds from commit until search returns each."""
    mix = query_mix(raw, 100)
    script = wrk_script([q for qs in mix.values() for q in qs], workdir / "fresh.lua")
    load = subprocess.Popen(
        ["wrk", "-t1", "-c8", "-d600s", "--timeout", "10s", "-s", str(script), base],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    delays: list[float] = []
    publish: list[float] = []
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            token = client.post(
                "/api/v1/auth/token", data={"username": EDITOR, "password": EDITOR_PASSWORD}
            ).json()
            headers = {"Authorization": f"Bearer {token['access_token']}"}
            time.sleep(2)  # let the load settle
            for n in range(count):
                word = "freshq" + "".join(
                    chr(97 + int(c)) for c in f"{n:03d}{random.randrange(1000):03d}"
                )
                body = {
                    "title": f"Notes on {word} and search",
                    "status": "published",
                    "content": f"A post about {word}, published to measure freshness.",
                }
                t = time.perf_counter()
                response = client.post("/api/v1/posts", json=body, headers=headers)
                response.raise_for_status()
                committed = time.perf_counter()
                publish.append((committed - t) * 1000)
                slug = response.json()["slug"]
                while True:
                    found = client.get(search_url(word)).json()
                    if any(item["post"]["slug"] == slug for item in found["items"]):
                        break
                    if time.perf_counter() - committed > 30:
                        raise TimeoutError(f"post {slug} never became searchable")
                    time.sleep(0.01)
                delays.append((time.perf_counter() - committed) * 1000)
    finally:
        load.terminate()
        load.wait()
    delays.sort()
    result = {
        "p50": statistics.median(delays),
        "p99": statistics.quantiles(delays, n=100, method="inclusive")[98],
        "max": max(delays),
        "publish_p50": statistics.median(publish),
    }
    print(f"  freshness {result}", flush=True)
    return result


# ---------------------------------------------------------------- report


def report(big: dict[str, Any], small: dict[str, Any], args: argparse.Namespace) -> str:
    lat = big["latency"]
    fresh = big["freshness"]
    rps, rps_p50, rps_errors = small["rps"]
    goal_rps = 50 * WP_RPS

    def ok(value: float, goal: float, higher: bool = False) -> str:
        return "met" if (value >= goal if higher else value <= goal) else "**not met**"

    lines = [
        f"Measured by `bench/search_http.py` on {datetime.now(UTC):%Y-%m-%d} against Inkwell under "
        "uvicorn (one worker, 127.0.0.1, SQLite), on a shared 2-core machine. "
        f"{args.posts:,} posts from ../shared/corpora (the posts of `bench/search_speed.py`, "
        "bulk-inserted; each body paragraph becomes a `<p>` of `content_html`). Latencies are one "
        "request at a time over a keep-alive connection, distinct queries drawn from the corpus "
        "titles (no cache hits), the whole HTTP round trip (index, database, JSON).",
        "",
        f"Load average (1/5/15 min) at the start: {big['load']}; during the latency run: "
        f"{big['load_latency']}; during the throughput run: {small['load']}.",
        "",
        "| measure | result | target | |",
        "| --- | ---: | ---: | --- |",
        f"| `inkwell reindex`, {args.posts:,} posts (DB read + build + swap), wall clock "
        f"| {big['reindex']:.0f} s | ≤ 180 s | {ok(big['reindex'], GOALS['reindex'])} |",
        f"| the same, CPU time of the reindex process (what the load cannot inflate) "
        f"| {big['reindex_cpu']:.0f} s | | |",
        f"| search p50, {lat['search'][2]} queries | {lat['search'][0]:.1f} ms | ≤ 10 ms "
        f"| {ok(lat['search'][0], GOALS['p50'])} |",
        f"| search p95 | {lat['search'][1]:.1f} ms | ≤ 50 ms | {ok(lat['search'][1], GOALS['p95'])} |",
    ]
    lines += [
        f"| search p50 / p95, {k} | {p50:.1f} / {p95:.1f} ms | | |"
        for k, (p50, p95) in lat["kinds"].items()
    ]
    lines += [
        f"| suggest p95, {lat['suggest'][2]} prefixes of 2-5 letters | {lat['suggest'][1]:.1f} ms "
        f"| ≤ 20 ms | {ok(lat['suggest'][1], GOALS['suggest'])} |",
        f"| related p50, {lat['related'][2]} random posts (p95 {lat['related'][1]:.1f} ms) "
        f"| {lat['related'][0]:.1f} ms | ≤ 15 ms | {ok(lat['related'][0], GOALS['related'])} |",
        f"| worker RSS after the latency run, {args.posts:,} posts | {big['rss']:.0f} MB | | |",
        f"| freshness p50 / p99 / max, 50 posts published under an 8-connection search load "
        f"| {fresh['p50']:.0f} / {fresh['p99']:.0f} / {fresh['max']:.0f} ms | p99 < 1000 ms "
        f"| {ok(fresh['p99'], 1000)} |",
        f"| search throughput, {args.small:,} posts, {args.connections} connections, "
        f"{args.duration} s (p50 {rps_p50:.0f} ms, {rps_errors} errors) | {rps:.0f} req/s "
        f"| ≥ {goal_rps:.0f} req/s | {ok(rps, goal_rps, higher=True)} |",
        f"| worker RSS after the throughput run, {args.small:,} posts | {small['rss']:.0f} MB | | |",
        "",
        f"Freshness is timed from the POST's response (the post is committed; POST p50 "
        f"{fresh['publish_p50']:.0f} ms) to the first search, polled every 10 ms, that returns it.",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=50, help="queries per kind")
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    shared = shared_dir()
    if shared is None:
        print("search_http: ../shared (or $INKWELL_SHARED) is not present; no corpus. Skipping.")
        return 0
    raw = load_raw(shared)
    big: dict[str, Any] = {"load": load_average()}
    small: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="inkwell-search-http-") as tmp:
        workdir = Path(tmp) / "big"
        workdir.mkdir()
        env, big["reindex"], big["reindex_cpu"] = prepare(workdir, raw, args.posts)
        with server(env, args.posts) as (base, pid):
            big["load_latency"] = load_average()
            big["latency"] = measure_latency(base, raw, args.posts, args.queries)
            big["rss"] = rss_mb(pid)
            big["freshness"] = measure_freshness(base, raw, workdir)
        workdir = Path(tmp) / "small"
        workdir.mkdir()
        env, _, _ = prepare(workdir, raw, args.small)
        with server(env, args.small) as (base, pid):
            mix = query_mix(raw, 100)
            script = wrk_script([q for qs in mix.values() for q in qs], workdir / "load.lua")
            run_wrk(base, script, args.connections, 3)  # warm-up
            small["load"] = load_average()
            small["rps"] = run_wrk(base, script, args.connections, args.duration)
            small["rss"] = rss_mb(pid)
            print(f"  throughput {small['rps']}, rss {small['rss']:.0f} MB", flush=True)
    text = report(big, small, args)
    print(text)
    if not args.no_write:
        write_section("Search over HTTP", text + "\n\n" + NOTES)
    return 0


NOTES = """\
What the HTTP layer adds on top of the library (`bench/search_speed.py`): one hop to the
search reader threads (4 per worker, each keeping its own searcher), one `IN (...)` query for
the page's posts with their authors, tags and comment counts, and JSON validation and
encoding of the response. Related posts are cached per index version for 5 s, but the 100
posts asked for here are distinct, so every request computes them."""


if __name__ == "__main__":
    sys.exit(main())
