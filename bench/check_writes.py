"""What must hold after a write load (`bench/load_writes.py`), checked in the database, over
HTTP and in the index folder.

* Every write that got a 2xx is there: created posts and comments exist unless deleted since;
  a post's (title, tags) and status, and a comment's status, are the value of a 2xx (or
  unanswered) write that no later 2xx write superseded.
* No write that got an error is half there: no title, tag or comment carries its token.
  A write that got no answer may or may not be there, but whole if it is (its tags, its
  change-log row).
* Comment counts: each public post's `comment_count` in the API equals its approved rows.
* The search index holds exactly the public posts with their current titles (read from the
  index folder, and through `GET /api/v1/search`), once `/health` reports no backlog.
"""

import asyncio
import html
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from whoosh.filedb.filestore import FileStorage

from api.searching.service import SyncLock
from bench.load_writes import MARK, Write, WriteLoad
from search import layout
from search.fields import META_ID

TOKEN = re.compile(r"t(\d+)x")
TAG = re.compile(r"</?mark>")


@dataclass
class Snapshot:
    posts: dict[int, dict[str, Any]]  # id -> title, status, slug, public, tags
    comments: dict[int, dict[str, Any]]  # id -> post_id, status, content
    tags: list[str]
    changed_posts: set[int]  # post ids with a change-log row
    orphans: list[str]


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    index_wait_seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        return {"counts": self.counts, "index_wait_seconds": round(self.index_wait_seconds, 2),
                "problems": self.problems[:50]}


async def read_database(database_url: str) -> Snapshot:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            async def rows(sql: str) -> list[Any]:
                return list((await conn.execute(text(sql))).all())

            # The load never schedules a post: published with a date is public.
            posts = {
                r.id: {"title": r.title, "status": r.status, "slug": r.slug, "tags": [],
                       "public": bool(r.public)}
                for r in await rows(
                    "SELECT id, title, status, slug, CASE WHEN status <> 'draft' AND "
                    "published_at IS NOT NULL THEN 1 ELSE 0 END AS public FROM post")
            }
            for r in await rows("SELECT pt.post_id, t.name FROM post_tag pt "
                                "JOIN tag t ON t.id = pt.tag_id ORDER BY t.name"):
                if r.post_id in posts:
                    posts[r.post_id]["tags"].append(r.name)
            comments = {r.id: {"post_id": r.post_id, "status": r.status, "content": r.content}
                        for r in await rows("SELECT id, post_id, status, content FROM comment")}
            tags = [r.name for r in await rows("SELECT name FROM tag")]
            changed = {r.post_id for r in await rows("SELECT DISTINCT post_id FROM search_change")}
            orphans = [f"post_tag of missing post {r.post_id}" for r in await rows(
                "SELECT post_id FROM post_tag WHERE post_id NOT IN (SELECT id FROM post)")]
            orphans += [f"comment {r.id} of missing post {r.post_id}" for r in await rows(
                "SELECT id, post_id FROM comment WHERE post_id NOT IN (SELECT id FROM post)")]
    finally:
        await engine.dispose()
    return Snapshot(posts, comments, tags, changed, orphans)


def read_index(index_dir: Path) -> dict[int, str]:
    """post id -> stored title, straight from the index folder (read only). Read under the
    workers' sync lock: their idle compaction merges segments and deletes the old files, and
    a reader opened from the table of contents just before would find them gone."""
    lock = SyncLock(index_dir)
    lock.acquire()
    try:
        name = layout.read_current(index_dir)
        assert name is not None, f"no index in {index_dir}"
        ix = FileStorage(str(index_dir / name)).open_index()
        try:
            with ix.searcher() as searcher:
                return {int(f["post_id"]): f.get("title", "")
                        for f in searcher.all_stored_fields() if f.get("post_id") != META_ID}
        finally:
            ix.close()
    finally:
        lock.release()


# -- the rules ----------------------------------------------------------------------------


def candidates(writes: list[Write]) -> list[Write]:
    """Writes whose value may be the final one: answered 2xx or not answered, and not followed
    by a 2xx write sent after they were answered (that one committed later for sure)."""
    possible = [w for w in writes if not w.failed]
    return [w for w in possible
            if not any(o.ok and o.sent > w.done for o in possible if o is not w)]


def _by_token(load: WriteLoad) -> dict[int, Write]:
    return {w.n: w for w in load.writes}


CREATES = ("create_post", "create_anchor", "create_post_bad_slug")


def _check_posts(load: WriteLoad, db: Snapshot, report: Report) -> None:
    problems = report.problems
    by_token = _by_token(load)
    by_slug = {p["slug"]: (i, p) for i, p in db.posts.items()}
    per_slug: dict[str, list[Write]] = defaultdict(list)
    for w in load.writes:
        if w.op in (*CREATES, "edit_post", "publish", "unpublish", "delete_post"):
            per_slug[w.slug].append(w)

    for slug, writes in per_slug.items():
        if not any(w.op in CREATES and w.ok for w in writes):
            continue
        deletes = [w for w in writes if w.op == "delete_post" and not w.failed]
        if slug not in by_slug:
            if not deletes:
                problems.append(f"post {slug} (created with a 2xx) is missing")
            continue
        if any(w.ok for w in deletes):
            problems.append(f"post {slug} still exists after a 2xx delete")
        post_id, post = by_slug[slug]
        content = candidates([w for w in writes if w.op in (*CREATES, "edit_post")])
        wanted = {(w.payload["title"], tuple(sorted(w.payload.get("tags", ()))))
                  for w in content if w.payload is not None}
        got = (post["title"], tuple(sorted(post["tags"])))
        if got not in wanted:
            problems.append(f"post {slug} has (title, tags) {got}, expected one of {wanted}")
        status = {w.payload["status"] for w in candidates(
            [w for w in writes if w.op in (*CREATES, "publish", "unpublish")])
            if w.payload is not None}
        if post["status"] not in status:
            problems.append(f"post {slug} has status {post['status']}, expected one of {status}")

    for post_id, post in db.posts.items():
        found = TOKEN.search(post["title"])
        write = by_token.get(int(found.group(1))) if found else None
        if write is None:
            problems.append(f"post {post_id} has a title no write sent: {post['title']!r}")
            continue
        if write.failed or write.slug != post["slug"]:
            problems.append(f"post {post['slug']} carries {write.token} of a failed or other "
                            f"{write.op} ({write.outcome}, {write.slug})")
        if write.op in CREATES and write.status is None:
            assert write.payload is not None  # unanswered create: whole if present
            if sorted(post["tags"]) != sorted(write.payload.get("tags", ())):
                problems.append(f"post {post['slug']} from unanswered {write.token} lacks its tags")
        if post_id not in db.changed_posts:
            problems.append(f"post {post['slug']} has no change-log row")

    for name in db.tags:
        found = TOKEN.search(name)
        if found and (w := by_token.get(int(found.group(1)))) is not None and w.failed:
            problems.append(f"tag {name!r} left behind by a failed {w.op} ({w.outcome})")


def _applies_to(w: Write, created: Write) -> bool:
    """Whether comment write `w` (by id) may have hit the comment `created` made: SQLite can
    give a deleted comment's id to the next one, so only the answer says for sure."""
    if w.ok and isinstance(w.body, dict) and "content" in w.body:
        return created.token in w.body["content"]
    return w.done > created.sent and (created.status is None or w.sent >= created.sent)


def _check_comments(load: WriteLoad, db: Snapshot, report: Report) -> None:
    problems = report.problems
    by_token = _by_token(load)
    post_slugs = {i: p["slug"] for i, p in db.posts.items()}
    post_deletes = {w.slug for w in load.writes if w.op == "delete_post" and not w.failed}
    per_id: dict[int, list[Write]] = defaultdict(list)
    for w in load.writes:
        if w.op in ("moderate_comment", "delete_comment") and w.comment_id is not None:
            per_id[w.comment_id].append(w)
    in_db = {TOKEN.search(c["content"]).group(1): (i, c)  # type: ignore[union-attr]
             for i, c in db.comments.items() if TOKEN.search(c["content"])}

    for created in load.writes:
        if created.op != "create_comment" or created.failed:
            continue
        later = [w for w in per_id.get(created.comment_id or -1, []) if _applies_to(w, created)]
        found = in_db.get(str(created.n))
        if found is None:
            deleted = any(w.op == "delete_comment" and not w.failed for w in later)
            if created.ok and not deleted and created.slug not in post_deletes:
                problems.append(f"comment {created.comment_id} ({created.token}) is missing")
            continue
        comment_id, comment = found
        if post_slugs.get(comment["post_id"]) != created.slug:
            problems.append(f"comment {created.token} is on the wrong post")
        if any(w.op == "delete_comment" and w.ok and w.sent > created.done for w in later):
            problems.append(f"comment {comment_id} still exists after a 2xx delete")
        status = set()
        for w in candidates([created, *(w for w in later if w.op == "moderate_comment")]):
            if w.op == "create_comment":
                status.add(w.body["status"] if w.ok else comment["status"])
            elif w.payload is not None:
                status.add(w.payload["status"])
        if comment["status"] not in status:
            problems.append(f"comment {comment_id} has status {comment['status']}, "
                            f"expected one of {status}")
    for comment_id, comment in db.comments.items():
        found = TOKEN.search(comment["content"])
        write = by_token.get(int(found.group(1))) if found else None
        if write is None or write.failed:
            problems.append(f"comment {comment_id} comes from no successful write: "
                            f"{comment['content']!r}")


async def _check_counts(http: httpx.AsyncClient, db: Snapshot, report: Report) -> None:
    approved: dict[int, int] = defaultdict(int)
    for c in db.comments.values():
        approved[c["post_id"]] += c["status"] == "approved"
    seen, page = 0, 1
    while True:
        r = await http.get("/api/v1/posts", params={"per_page": 100, "page": page})
        r.raise_for_status()
        body = r.json()
        for item in body["items"]:
            seen += 1
            if item["comment_count"] != approved[item["id"]]:
                report.problems.append(f"post {item['id']}: comment_count {item['comment_count']} "
                                       f"but {approved[item['id']]} approved comments")
        if page >= body["pages"]:
            break
        page += 1
    public = sum(p["public"] for p in db.posts.values())
    if seen != public:
        report.problems.append(f"the posts list shows {seen} posts, the database has {public} public")


async def wait_for_backlog(http: httpx.AsyncClient, seconds: float) -> float:
    """Seconds until /health reports the index open and nothing left to apply."""
    started = time.monotonic()
    while True:
        try:
            search = (await http.get("/health")).json().get("search", {})
            if search.get("status") == "ok" and search.get("backlog") == 0:
                return time.monotonic() - started
        except (httpx.HTTPError, ValueError):
            pass
        if time.monotonic() - started > seconds:
            raise TimeoutError(f"search backlog not empty after {seconds} s: {search}")
        await asyncio.sleep(0.1)


async def _index_problems(http: httpx.AsyncClient, db: Snapshot, index_dir: Path | None) -> list[str]:
    public = {i: p["title"] for i, p in db.posts.items() if p["public"]}
    problems: list[str] = []
    views: list[tuple[str, dict[int, str]]] = []
    if index_dir is not None:
        views.append(("index folder", read_index(index_dir)))
    found: dict[int, str] = {}
    page, total = 1, 0
    while True:
        r = await http.get("/api/v1/search", params={"q": MARK, "per_page": 50, "page": page,
                                                     "sort": "oldest"})
        r.raise_for_status()
        body = r.json()
        total = body["total"]
        for item in body["items"]:
            found[item["post"]["id"]] = html.unescape(TAG.sub("", item["highlights"]["title"]))
        if page >= body["pages"]:
            break
        page += 1
    if total != len(public):
        problems.append(f"search total {total} != {len(public)} public posts")
    views.append(("/search", found))
    for where, docs in views:
        missing = sorted(set(public) - set(docs))
        ghosts = sorted(set(docs) - set(public))
        stale = sorted(i for i in set(docs) & set(public) if docs[i] != public[i])
        if missing:
            problems.append(f"{where}: public posts missing: {missing[:20]}")
        if ghosts:
            problems.append(f"{where}: ghosts (not public): {ghosts[:20]}")
        if stale:
            problems.append(f"{where}: stale titles: {[(i, docs[i], public[i]) for i in stale[:5]]}")
    return problems


async def check(load: WriteLoad, database_url: str, base_url: str, *,
                index_dir: Path | None = None, wait_seconds: float = 30.0) -> Report:
    """Check every invariant; `report.problems` is empty when all hold."""
    report = Report()
    async with httpx.AsyncClient(base_url=base_url, timeout=15) as http:
        report.index_wait_seconds = await wait_for_backlog(http, wait_seconds)
        db = await read_database(database_url)
        _check_posts(load, db, report)
        _check_comments(load, db, report)
        report.problems.extend(db.orphans)
        await _check_counts(http, db, report)
        # The backlog is applied; allow the commit a moment to reach every worker's reader.
        deadline = time.monotonic() + 5
        while problems := await _index_problems(http, db, index_dir):
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        report.problems.extend(problems)
    report.counts = {
        "posts": len(db.posts), "public_posts": sum(p["public"] for p in db.posts.values()),
        "comments": len(db.comments),
        "approved_comments": sum(c["status"] == "approved" for c in db.comments.values()),
        "writes": len(load.writes), "writes_2xx": sum(w.ok for w in load.writes),
        "unanswered": sum(w.status is None for w in load.writes),
    }
    return report
