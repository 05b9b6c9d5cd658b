"""What a worker sets up for its own process when it starts, and gives back when it stops."""

import gc

from api.settings import Settings
from tests.conftest import reset_schema, running_app


async def test_a_worker_sets_the_collectors_threshold_and_restores_it(settings: Settings) -> None:
    """Settings.gc_threshold: the first-generation threshold of Python's cyclic garbage
    collector while the app runs (the index's large tables make each full collection slow);
    0 leaves Python's own."""
    await reset_schema(settings.database_url)
    before = gc.get_threshold()
    async with running_app(settings, gc_threshold=12_345):
        assert gc.get_threshold() == (12_345, *before[1:])
    assert gc.get_threshold() == before
    async with running_app(settings, gc_threshold=0):
        assert gc.get_threshold() == before
    assert Settings(secret_key=settings.secret_key).gc_threshold == 50_000
