"""Servers under write load: a schema with an editor and an author, and their tokens."""

import pytest

from api.db import create_engine, make_sessionmaker
from api.settings import Settings
from api.users.models import Role, User
from api.users.security import hash_password
from tests.conftest import reset_schema
from tests.factories import auth

#: Every guest of the load shares one address; a short gap timeout lets the backlog of a
#: killed PostgreSQL transaction (a sequence that never commits) clear within the test.
SERVER_ENV = {"INKWELL_COMMENT_RATE_PER_MINUTE": "1000000", "INKWELL_OUTBOX_GAP_SECONDS": "3"}


async def prepare_database(settings: Settings) -> dict[str, dict[str, str]]:
    """Empty tables plus an editor and an author; their Authorization headers by role."""
    await reset_schema(settings.database_url)
    engine = create_engine(settings)
    users = {role: User(username=role, display_name=role.title(), email=f"{role}@example.com",
                        role=Role(role), password_hash=hash_password("irrelevant-password"))
             for role in ("editor", "author")}
    async with make_sessionmaker(engine, write=True)() as session:
        session.add_all(users.values())
        await session.commit()
    await engine.dispose()
    return {role: auth(user) for role, user in users.items()}


@pytest.fixture
async def load_headers(settings: Settings) -> dict[str, dict[str, str]]:
    return await prepare_database(settings)
