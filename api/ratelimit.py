"""Sliding-window rate limits whose counters every worker shares (database, or Redis).

Counters live outside the request's transaction: a refused or failed request still counts,
and one process's memory is never the source of truth, so limits hold across workers.
"""

import hashlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import Field, SQLModel, col, select

from api.errors import TooManyRequests

WINDOW_SECONDS = 60


class RateLimitCounter(SQLModel, table=True):
    """Fixed-window request counters shared by every worker through the database."""

    __tablename__ = "rate_limit_counter"

    key: str = Field(max_length=200, primary_key=True)
    window_start: int = Field(primary_key=True)
    count: int = Field(default=0)


class RateLimiter:
    def __init__(self, engine: AsyncEngine, redis_url: str | None = None) -> None:
        self.engine = engine
        self.redis: Any = None
        if redis_url:
            from redis.asyncio import Redis

            self.redis = Redis.from_url(redis_url)

    async def hit(self, key: str, limit: int, window: int = WINDOW_SECONDS) -> int | None:
        """Count one request; the seconds to wait when over the limit, else None.

        A sliding window: this window's count plus the previous window's, weighted by how
        much of it still overlaps the last `window` seconds. A burst straddling a window
        boundary is counted whole, not reset at the boundary.
        """
        now = time.time()
        start = int(now // window) * window
        retry_after = max(1, int(start + window - now + 0.999))
        if self.redis is not None:
            current_key = f"inkwell:rl:{key}:{start}"
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.incr(current_key)
                pipe.expire(current_key, window * 2)
                pipe.get(f"inkwell:rl:{key}:{start - window}")
                count, _, previous = await pipe.execute()
            previous = int(previous or 0)
        else:
            count, previous = await self._hit_database(key, start, window)
        overlap = 1.0 - (now - start) / window
        return retry_after if count + previous * overlap > limit else None

    async def _hit_database(self, key: str, start: int, window: int) -> tuple[int, int]:
        """This window's count (after counting this hit) and the previous window's."""
        async with self.engine.connect() as conn:
            conn = await conn.execution_options(sqlite_immediate=True)
            async with conn.begin():
                insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
                statement = (
                    insert(RateLimitCounter)
                    .values(key=key, window_start=start, count=1)
                    .on_conflict_do_update(
                        index_elements=["key", "window_start"],
                        set_={"count": RateLimitCounter.count + 1},
                    )
                    .returning(col(RateLimitCounter.count))
                )
                count = (await conn.execute(statement)).scalar_one()
                previous = (await conn.execute(
                    select(RateLimitCounter.count).where(
                        col(RateLimitCounter.key) == key,
                        col(RateLimitCounter.window_start) == start - window,
                    )
                )).scalar_one_or_none()
                if count == 1:  # first hit of a window: drop the windows that have passed
                    await conn.execute(
                        delete(RateLimitCounter).where(
                            col(RateLimitCounter.window_start) < start - window
                        )
                    )
        return int(count), int(previous or 0)

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def hash_ip(ip: str, secret: str) -> str:
    return hashlib.sha256(f"{secret}:{ip}".encode()).hexdigest()[:32]


def rate_limit(name: str, limit_setting: str) -> Callable[[Request], Awaitable[None]]:
    """A dependency refusing the request with 429 when this client IP is over the limit.

    Use it in a route's `dependencies=[...]`, which run before the request's own session
    takes any lock.
    """

    async def check(request: Request) -> None:
        settings = request.app.state.settings
        limit: int = getattr(settings, limit_setting)
        limiter: RateLimiter = request.app.state.rate_limiter
        retry_after = await limiter.hit(f"{name}:{client_ip(request)}", limit)
        if retry_after is not None:
            raise TooManyRequests(
                f"Too many {name} requests from your address; try again in {retry_after} s.",
                headers={"Retry-After": str(retry_after)},
            )

    return check
