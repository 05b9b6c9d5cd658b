"""`inkwell`: serve, migrate, create-user, demo, reindex. Calls services; no logic of its own."""

import argparse
import asyncio
import getpass
import logging
import logging.config
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import ValidationError

from api.logs import log_config

log = logging.getLogger("inkwell")
#: `inkwell reindex` indexes in several processes from this many posts (below, forking costs
#: more than it saves).
REINDEX_PARALLEL_MIN = 5000


def _settings() -> Any:
    from api.settings import Settings

    try:
        return Settings()
    except ValidationError as exc:
        errors = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
        raise SystemExit(f"inkwell: invalid settings: {errors}") from None


def _run_db(work: Callable[[Any], Awaitable[Any]]) -> Any:
    """Run `work(session)` in one committed transaction."""
    from api.db import create_engine, make_sessionmaker

    async def main() -> Any:
        engine = create_engine(_settings())
        try:
            async with make_sessionmaker(engine, write=True)() as session:
                result = await work(session)
                await session.commit()
                return result
        finally:
            await engine.dispose()

    return asyncio.run(main())


def cmd_migrate(args: argparse.Namespace) -> int:
    from api.migrate import upgrade

    settings = _settings()
    if settings.is_sqlite and "///" in settings.database_url:
        from pathlib import Path

        path = settings.database_url.split("///", 1)[1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)
    print(f"Database is up to date ({_redact(settings.database_url)}).")
    return 0


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def cmd_create_user(args: argparse.Namespace) -> int:
    from api.users import service as user_service
    from api.users.models import Role
    from api.users.schemas import UserCreate

    password = args.password
    if password is None:
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Repeat password: "):
            print("inkwell: the passwords differ", file=sys.stderr)
            return 2
    try:
        user_in = UserCreate(
            username=args.username, display_name=args.display_name or args.username,
            email=args.email or f"{args.username}@localhost.localdomain", role=Role(args.role),
            password=password,
        )
    except ValidationError as exc:
        for err in exc.errors():
            print(f"inkwell: {'.'.join(map(str, err['loc']))}: {err['msg']}", file=sys.stderr)
        return 2
    from api.errors import Problem

    try:
        user = _run_db(lambda s: user_service.create_user(s, user_in=user_in))
    except Problem as exc:
        print(f"inkwell: {exc.detail}", file=sys.stderr)
        return 1
    print(f"Created {user.role} '{user.username}'.")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from api.demo.loader import has_content, load_demo

    cmd_migrate(args)

    async def work(session: Any) -> dict[str, int] | None:
        if await has_content(session) and not args.force:
            return None
        return await load_demo(session)

    counts = _run_db(work)
    if counts is None:
        print("The database already has posts; demo content not loaded (use --force to add it).")
    else:
        print("Loaded demo content: {authors} authors, {posts} posts, {comments} comments. "
              "Sign in as maya / demo-password-maya.".format(**counts))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    if args.demo:
        args.force = False
        cmd_demo(args)
        os.environ["INKWELL_SERVE_FRONTEND"] = "true"
    else:
        cmd_migrate(args)
    print(f"Serving Inkwell at http://{args.host}:{args.port} (API docs at /docs)")
    uvicorn.run(
        "api.main:create_app", factory=True, host=args.host, port=args.port,
        workers=args.workers, log_level=args.log_level, proxy_headers=True,
        log_config=log_config(args.log_level),
    )
    return 0


def cmd_reindex(args: argparse.Namespace) -> int:
    """Rebuild the index from the database into a fresh folder, swapped in when complete."""
    from pathlib import Path

    from tqdm import tqdm

    from api.db import create_engine, make_sessionmaker
    from api.searching import sync
    from api.searching.service import rebuild_index

    settings = _settings()

    async def snapshot() -> tuple[sync.RebuildDocuments, sync.SyncState]:
        engine = create_engine(settings)
        try:
            async with make_sessionmaker(engine)() as session:
                state = await sync.rebuild_state(session, settings.outbox_gap_seconds)
                return await sync.all_documents(session), state
        finally:
            await engine.dispose()

    docs, state = asyncio.run(snapshot())
    # Indexing is CPU-bound pure Python: one forked writer per core (up to 4) for large sets.
    procs = min(4, os.cpu_count() or 1) if len(docs) >= REINDEX_PARALLEL_MIN else 1
    with tqdm(total=len(docs), unit="post", desc="Indexing", disable=args.quiet) as bar:
        index = rebuild_index(
            Path(settings.index_dir), docs, state,
            progress=lambda done: bar.update(done - bar.n), procs=procs,
        )
    count = index.doc_count()
    index.close()
    print(f"Rebuilt the search index at {settings.index_dir}: {count} posts.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="inkwell", description="Inkwell blog backend")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="apply migrations and serve the HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--demo", action="store_true", help="load demo content first (if empty)")
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(func=cmd_serve)

    sub.add_parser("migrate", help="create or upgrade the database schema").set_defaults(
        func=cmd_migrate
    )

    create = sub.add_parser("create-user", help="create an account")
    create.add_argument("username")
    create.add_argument("--role", choices=["admin", "editor", "author"], default="author")
    create.add_argument("--password", help="prompted for when left out")
    create.add_argument("--email")
    create.add_argument("--display-name")
    create.set_defaults(func=cmd_create_user)

    demo = sub.add_parser("demo", help="load demo authors, posts and comments")
    demo.add_argument("--force", action="store_true", help="add them even if posts exist")
    demo.set_defaults(func=cmd_demo)

    reindex = sub.add_parser("reindex", help="rebuild the search index from the database")
    reindex.add_argument("--quiet", action="store_true", help="no progress bar")
    reindex.set_defaults(func=cmd_reindex)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.config.dictConfig(log_config())
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except SystemExit:
        raise
    except Exception as exc:  # a clear one-line message and a non-zero exit instead of a trace
        log.debug("command failed", exc_info=True)
        print(f"inkwell: {args.command} failed: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
