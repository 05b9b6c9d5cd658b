"""Shared helpers for the bench scripts: where the shared data is, and docs/benchmarks.md sections."""

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS_MD = ROOT / "docs" / "benchmarks.md"


def shared_dir() -> Path | None:
    """The read-only ../shared folder (or $INKWELL_SHARED), None when it is absent."""
    path = Path(os.environ.get("INKWELL_SHARED", ROOT.parent / "shared"))
    return path if (path / "eval").is_dir() or (path / "corpora").is_dir() else None


def write_section(heading: str, body: str, path: Path = BENCHMARKS_MD) -> None:
    """Replace (or append) the `## heading` section of docs/benchmarks.md, leaving others alone."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    section = f"## {heading}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^## {re.escape(heading)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _m: section + "\n", text, count=1).rstrip() + "\n"
    else:
        text = text.rstrip() + "\n\n" + section
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
