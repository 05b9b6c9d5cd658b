"""Rate-limit counters are shared by every worker: in the database, or in Redis."""

import os
import uuid

import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import create_async_engine

from api.ratelimit import RateLimiter
from tests.conftest import CI

REDIS_URL = os.environ.get("INKWELL_TEST_REDIS_URL") or ("redis://127.0.0.1:6379/15" if CI else "")


async def _exhaust(limiters: list[RateLimiter], key: str, limit: int) -> list[int | None]:
    """Alternate hits between the limiters, as requests spread over workers would."""
    return [await limiters[i % len(limiters)].hit(key, limit) for i in range(limit + 2)]


async def test_database_counters_hold_across_workers(app: FastAPI) -> None:
    # Two limiters with their own engines on one database: two workers.
    other_engine = create_async_engine(app.state.settings.database_url)
    try:
        limiters = [RateLimiter(app.state.engine), RateLimiter(other_engine)]
        results = await _exhaust(limiters, f"test:{uuid.uuid4().hex}", 4)
    finally:
        await other_engine.dispose()
    assert results[:4] == [None] * 4
    assert all(r is not None and 1 <= r <= 60 for r in results[4:])


@pytest.fixture
async def redis_limiters() -> list[RateLimiter]:
    if not REDIS_URL:
        pytest.skip("Redis not configured: set INKWELL_TEST_REDIS_URL to test Redis counters")
    limiters = [RateLimiter(None, REDIS_URL), RateLimiter(None, REDIS_URL)]  # type: ignore[arg-type]
    try:
        await limiters[0].redis.ping()
    except Exception as exc:
        for limiter in limiters:
            await limiter.close()
        if CI:
            pytest.fail(f"Redis at {REDIS_URL} is unreachable in CI: {exc}")
        pytest.skip(f"Redis at {REDIS_URL} is unreachable: {exc}")
    return limiters


async def test_redis_counters_hold_across_workers(redis_limiters: list[RateLimiter]) -> None:
    try:
        results = await _exhaust(redis_limiters, f"test:{uuid.uuid4().hex}", 3)
    finally:
        for limiter in redis_limiters:
            await limiter.close()
    assert results[:3] == [None] * 3
    assert all(r is not None and 1 <= r <= 60 for r in results[3:])


async def test_a_burst_across_a_window_boundary_is_still_limited(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found flaky in CI: fixed windows reset at each minute, letting a burst through."""
    limiter = RateLimiter(app.state.engine)
    key = f"test:{uuid.uuid4().hex}"
    boundary = 1_800_000_000.0  # a multiple of 60
    monkeypatch.setattr("api.ratelimit.time.time", lambda: boundary - 0.5)
    assert [await limiter.hit(key, 3) for _ in range(3)] == [None] * 3
    monkeypatch.setattr("api.ratelimit.time.time", lambda: boundary + 0.5)
    assert await limiter.hit(key, 3) is not None
    # Once most of the last window has slid by, requests are allowed again.
    monkeypatch.setattr("api.ratelimit.time.time", lambda: boundary + 50)
    assert await limiter.hit(key, 3) is None
