"""Two real uvicorn workers under a concurrent write load: nothing lost, nothing half done.

Run on SQLite (WAL, busy_timeout, BEGIN IMMEDIATE for write requests: see api/db.py) and on
PostgreSQL. The figures for docs/reliability.md come from the log line of each run.
"""

import asyncio
import json
import logging
from pathlib import Path

import pytest

from api.settings import Settings
from bench.check_writes import check
from bench.load_writes import WriteLoad
from tests.reliability.conftest import SERVER_ENV
from tests.servers import Server

pytestmark = pytest.mark.slow
log = logging.getLogger("inkwell.reliability")
LOAD_SECONDS = 8.0


async def test_two_workers_keep_every_write(
    settings: Settings, load_headers: dict[str, dict[str, str]], tmp_path: Path, backend: str
) -> None:
    index_dir = tmp_path / "index"
    server = Server(settings.database_url, index_dir, tmp_path, workers=2, **SERVER_ENV)
    load = WriteLoad(load_headers, clients=8, seed=5)
    try:
        await asyncio.to_thread(server.start)
        await load.run(server.url, LOAD_SECONDS)
        report = await check(load, settings.database_url, server.url, index_dir=index_dir)
    finally:
        server.stop()
        load.dump(tmp_path / "writes.jsonl")
    server_log = server.log_path.read_text()
    figures = {"backend": backend, "writes_per_second": round(load.writes_per_second(), 1),
               "requests": load.by_type_and_status(), **report.summary()}
    log.warning("concurrent writers: %s", json.dumps(figures))

    assert "database is locked" not in server_log
    errors = [w for w in load.writes if w.status is None or w.status >= 500]
    assert not errors, [(w.op, w.outcome, w.body) for w in errors[:5]]
    assert not report.problems
    assert report.counts["writes_2xx"] > 100
