from pathlib import Path

import pytest

from api.cli import main


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
