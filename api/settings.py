"""One settings object, read from `INKWELL_*` environment variables (and `.env`)."""

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import AnyHttpUrl, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEV_SECRET_KEY = "inkwell-development-secret-do-not-use-in-production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INKWELL_", env_file=".env", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./data/inkwell.db"
    index_dir: Path = Path("data/index")
    secret_key: SecretStr = SecretStr(DEV_SECRET_KEY)
    cors_origins: Annotated[list[str], NoDecode] = []
    site_url: AnyHttpUrl = AnyHttpUrl("http://127.0.0.1:8000")
    # The blog's name in feeds; links in feeds and the sitemap are built from `site_url`.
    site_title: str = Field(default="Inkwell", min_length=1, max_length=200)
    redis_url: str | None = None

    access_token_minutes: int = Field(default=60 * 24, ge=1)
    # Requests bodies larger than this are refused with 413 before they are read whole.
    max_body_bytes: int = Field(default=1_000_000, ge=1024)

    # Comments: moderation and spam policy.
    comment_max_depth: int = Field(default=5, ge=1)
    comment_max_links: int = Field(default=2, ge=0)
    comment_blocklist: Annotated[list[str], NoDecode] = ["viagra", "casino", "crypto giveaway"]
    comment_blocklist_status: str = Field(default="spam", pattern="^(pending|spam)$")
    comment_edit_minutes: int = Field(default=15, ge=0)
    comment_duplicate_minutes: int = Field(default=10, ge=0)
    comment_rate_per_minute: int = Field(default=5, ge=1)
    login_rate_per_minute: int = Field(default=10, ge=1)

    # Threads that run searches; 0 runs them on the event loop. Searches are pure Python and
    # hold the GIL, so threads add no parallelism, only hand-offs: on the loop one worker
    # served ~20% more searches a second at 10,000 posts (227 against 185). But every await of
    # the worker's other requests then waits behind the searches in the loop's queue: under a
    # search load a POST took 392 ms (p50) and a new post became searchable in 754 / 1664 ms
    # (p50 / p99), so one thread is the default (docs/benchmarks.md).
    search_threads: int = Field(default=1, ge=0, le=16)
    # First-generation threshold of Python's cyclic garbage collector in each worker (0 keeps
    # Python's 700). The index's per-document tables are a million list entries, which every
    # full collection walks: at 100,000 posts one took 110-180 ms and came every ~150 searches;
    # at 50,000 the collector's time over 200 searches fell from ~200 to ~65 ms and the full
    # collections left the measured runs (docs/benchmarks.md).
    gc_threshold: int = Field(default=50_000, ge=0, le=10_000_000)

    # Search index sync.
    # The indexer's writes (Whoosh commits, pure Python) run in a child process with its own
    # GIL instead of a thread sharing the worker's with its searches (docs/benchmarks.md,
    # freshness). False writes on a thread of the worker.
    index_writer_process: bool = True
    indexer_poll_seconds: float = Field(default=0.2, gt=0)
    # A sequence number not seen after this long belongs to a transaction that rolled back.
    outbox_gap_seconds: float = Field(default=30.0, gt=0)
    # Applied change-log rows are pruned after this long; an index further behind rebuilds.
    outbox_retention_hours: float = Field(default=72.0, gt=0)
    # Serve the reference frontend (examples/frontend) at `/`; `inkwell serve --demo` turns it on.
    serve_frontend: bool = False

    # Anonymous GET responses are cached per worker and validated against the content version,
    # which every worker polls this often (the bound on cross-worker staleness).
    response_cache: bool = True
    content_version_poll_seconds: float = Field(default=0.1, gt=0)
    # Search responses are cached per worker too, by index version, content version and
    # parameters (api/caching.py, ResultCache), in at most this many bytes; 0 turns it off.
    # Needs `response_cache` (the content version).
    search_cache_bytes: int = Field(default=16 * 1024 * 1024, ge=0)

    @field_validator("cors_origins", "comment_blocklist", mode="before")
    @classmethod
    def _split_commas(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @model_validator(mode="after")
    def _enforce_real_secret(self) -> "Settings":
        if not self.is_sqlite and self.secret_key.get_secret_value() == DEV_SECRET_KEY:
            raise ValueError(
                "INKWELL_SECRET_KEY must be set to a real secret when using a server database "
                "(the development default is only accepted on the embedded SQLite database)"
            )
        if len(self.secret_key.get_secret_value()) < 16:
            raise ValueError("INKWELL_SECRET_KEY must be at least 16 characters long")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
