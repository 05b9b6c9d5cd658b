import asyncio
import os
from pathlib import Path

import pytest

from api import cli
from api.cli import main
from api.db import create_engine, make_sessionmaker
from api.posts import service as post_service
from api.posts.models import PostStatus
from api.posts.schemas import PostCreate
from api.settings import Settings
from api.users.models import User
from search import SearchIndex, SearchQuery
from search import index as search_index


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("INKWELL_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("INKWELL_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_migrate_then_create_user(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate"]) == 0
    assert main(["create-user", "alice", "--role", "editor", "--password", "long-enough-pw"]) == 0
    assert "Created editor 'alice'" in capsys.readouterr().out
    assert main(["create-user", "alice", "--password", "long-enough-pw"]) == 1
    assert "taken" in capsys.readouterr().err


def test_create_user_rejects_bad_input(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate"]) == 0
    assert main(["create-user", "bob", "--password", "short"]) == 2
    assert "password" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["create-user", "bob", "--role", "king", "--password", "long-enough-pw"])


def test_prompts_for_password(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter(["prompted-password", "prompted-password"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert main(["migrate"]) == 0
    assert main(["create-user", "carol"]) == 0


def test_refuses_postgres_with_development_secret(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INKWELL_DATABASE_URL", "postgresql+asyncpg://u@127.0.0.1/x")
    monkeypatch.delenv("INKWELL_SECRET_KEY", raising=False)
    with pytest.raises(SystemExit, match="INKWELL_SECRET_KEY"):
        main(["migrate"])


@pytest.mark.parametrize("parallel", [False, True], ids=["one-process", "forked-writers"])
def test_reindex_rebuilds_from_the_database(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, parallel: bool
) -> None:
    if parallel:  # what a large blog gets: one writer process per core, a segment each
        monkeypatch.setattr(cli, "REINDEX_PARALLEL_MIN", 1)
        monkeypatch.setattr(os, "cpu_count", lambda: 2)
    used_procs: list[int] = []
    fill = search_index.fill_index
    monkeypatch.setattr(
        search_index, "fill_index", lambda *a, **kw: used_procs.append(a[4]) or fill(*a, **kw)
    )
    assert main(["migrate"]) == 0
    assert main(["create-user", "dora", "--password", "long-enough-pw"]) == 0

    async def seed() -> None:
        engine = create_engine(Settings())
        async with make_sessionmaker(engine, write=True)() as session:
            user = await session.get(User, 1)
            assert user is not None
            for i in range(3):
                await post_service.create_post(session, author=user, post_in=PostCreate(
                    title=f"Kayaking trip {i}", content="Paddles and rivers.",
                    status=PostStatus.published if i else PostStatus.draft))
            await session.commit()
        await engine.dispose()

    asyncio.run(seed())
    assert main(["reindex", "--quiet"]) == 0
    assert "2 posts" in capsys.readouterr().out
    index = SearchIndex.open(env / "index")
    assert index.rebuild_reason is None
    assert index.search(SearchQuery(q="kayaking")).total == 2
    assert index.sync_state()["watermark"] == 0  # the newest rows are replayed by the indexer
    assert used_procs == [2 if parallel else 1]
    index.close()
