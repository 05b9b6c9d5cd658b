"""Tokens and passwords: forged and stale tokens refused, deactivation, argon2, equal-time
sign-in, and the sign-in rate limit."""

import base64
import json
import statistics
import time
import warnings
from datetime import timedelta

import httpx
import jwt
import pytest
from fastapi import FastAPI
from jwt.warnings import InsecureKeyLengthWarning
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from api.db import utcnow
from api.settings import Settings
from api.users.models import Role, User
from api.users.security import create_access_token, password_stamp
from tests.conftest import TEST_SECRET, running_app
from tests.factories import PASSWORD, auth, make_user


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _forged_tokens(user_id: int, other_id: int, password_hash: str) -> dict[str, str]:
    now = utcnow()
    stamp = password_stamp(password_hash, TEST_SECRET)
    claims = {"sub": str(user_id), "iat": now, "exp": now + timedelta(hours=1), "pwd": stamp}
    good = create_access_token(user_id, TEST_SECRET, 60, password_hash)
    header, payload, signature = good.split(".")
    with warnings.catch_warnings():  # PyJWT warns that the key is short for HS512
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        hs512 = jwt.encode(claims, TEST_SECRET, algorithm="HS512")
    unsigned = {"sub": str(user_id), "iat": int(now.timestamp()), "exp": int(now.timestamp()) + 3600,
                "pwd": stamp}
    return {
        "expired": create_access_token(user_id, TEST_SECRET, -1, password_hash),
        "expired long ago": jwt.encode({**claims, "exp": now - timedelta(days=30)}, TEST_SECRET,
                                       algorithm="HS256"),
        "tampered subject": f"{header}.{_b64({**unsigned, 'sub': str(other_id)})}.{signature}",
        "tampered expiry": f"{header}.{_b64({**unsigned, 'exp': unsigned['exp'] + 10**6})}.{signature}",
        "signature cut": f"{header}.{payload}.",
        "signature flipped": f"{header}.{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}",
        "wrong key": jwt.encode(claims, "another-secret-key-0123456789abcdef", algorithm="HS256"),
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(unsigned)}.",
        "alg None": f"{_b64({'alg': 'None', 'typ': 'JWT'})}.{_b64(unsigned)}.",
        "alg HS512 with the right key": hs512,
        "no expiry": jwt.encode({"sub": str(user_id)}, TEST_SECRET, algorithm="HS256"),
        "no subject": jwt.encode({"exp": now + timedelta(hours=1)}, TEST_SECRET, algorithm="HS256"),
        "subject not an id": jwt.encode({**claims, "sub": "admin"}, TEST_SECRET, algorithm="HS256"),
        "subject of nobody": create_access_token(999_999, TEST_SECRET, 60, password_hash),
        "no password stamp": jwt.encode({k: v for k, v in claims.items() if k != "pwd"},
                                        TEST_SECRET, algorithm="HS256"),
        "another password's stamp": create_access_token(user_id, TEST_SECRET, 60, "$argon2id$x"),
        "not before in the future": jwt.encode({**claims, "nbf": now + timedelta(hours=1)},
                                               TEST_SECRET, algorithm="HS256"),
        "garbage": "not.a.token",
        "empty segments": "..",
        "huge": "a" * 5000,
    }


class TestForgedTokens:
    async def test_each_is_refused_with_401_problem(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        user = await make_user(session, role=Role.author)
        admin = await make_user(session, role=Role.admin)
        assert user.id is not None and admin.id is not None
        tokens = _forged_tokens(user.id, admin.id, user.password_hash)
        # A signed-in-only route, a route where signing in is optional, and a write.
        for name, token in tokens.items():
            headers = {"Authorization": f"Bearer {token}"}
            for method, url, body in (("GET", "/api/v1/users/me", None), ("GET", "/api/v1/posts", None),
                                      ("POST", "/api/v1/posts", {"title": "Forged"}),
                                      ("POST", "/api/v1/users", {"username": "x"})):
                r = await client.request(method, url, headers=headers, json=body)
                assert r.status_code == 401, (name, method, url, r.status_code)
                assert r.headers["content-type"] == "application/problem+json"
                assert r.headers["WWW-Authenticate"] == "Bearer"
                assert r.json()["status"] == 401
        # The genuine token works, so the refusals above are about the forgery.
        assert (await client.get("/api/v1/users/me", headers=auth(user))).status_code == 200
        posts = (await client.get("/api/v1/posts", headers=auth(admin))).json()["items"]
        assert posts == []

    async def test_other_schemes_are_anonymous(self, client: httpx.AsyncClient) -> None:
        for value in ("Basic dXNlcjpwYXNz", "Token abc", ""):
            r = await client.get("/api/v1/users/me", headers={"Authorization": value})
            assert r.status_code == 401
            assert (await client.get("/api/v1/posts", headers={"Authorization": value})).status_code == 200


class TestDeactivation:
    async def test_tokens_stop_working_and_sign_in_is_refused(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        admin = await make_user(session, role=Role.admin)
        ann = await make_user(session, username="ann")
        token = auth(ann)
        assert (await client.get("/api/v1/users/me", headers=token)).status_code == 200
        r = await client.patch("/api/v1/users/ann", json={"is_active": False}, headers=auth(admin))
        assert r.status_code == 200 and r.json()["is_active"] is False
        for method, url in (("GET", "/api/v1/users/me"), ("GET", "/api/v1/posts"),
                            ("POST", "/api/v1/posts")):
            r = await client.request(method, url, headers=token, json={"title": "After"})
            assert r.status_code == 401, (method, url)
            assert r.headers["content-type"] == "application/problem+json"
        r = await client.post("/api/v1/auth/token", data={"username": "ann", "password": PASSWORD})
        assert r.status_code == 401
        # Reactivated, the same token works again (it has not expired).
        r = await client.patch("/api/v1/users/ann", json={"is_active": True}, headers=auth(admin))
        assert (await client.get("/api/v1/users/me", headers=token)).status_code == 200


class TestPasswords:
    async def test_a_new_password_signs_out_earlier_tokens(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        admin = await make_user(session, role=Role.admin)
        await make_user(session, username="ann")

        async def sign_in(password: str) -> dict[str, str]:
            r = await client.post("/api/v1/auth/token", data={"username": "ann", "password": password})
            assert r.status_code == 200, r.text
            return {"Authorization": f"Bearer {r.json()['access_token']}"}

        old = await sign_in(PASSWORD)
        assert (await client.get("/api/v1/users/me", headers=old)).status_code == 200
        # A profile change keeps the token working; a new password does not.
        r = await client.patch("/api/v1/users/ann", json={"bio": "Runner."}, headers=auth(admin))
        assert r.status_code == 200
        assert (await client.get("/api/v1/users/me", headers=old)).status_code == 200
        r = await client.patch("/api/v1/users/ann", json={"password": "a-new-long-password"},
                               headers=auth(admin))
        assert r.status_code == 200
        r = await client.get("/api/v1/users/me", headers=old)
        assert r.status_code == 401 and "password has changed" in r.json()["detail"]
        new = await sign_in("a-new-long-password")
        assert (await client.get("/api/v1/users/me", headers=new)).status_code == 200

    async def test_stored_as_argon2id(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        admin = auth(await make_user(session, role=Role.admin))
        r = await client.post("/api/v1/users", headers=admin, json={
            "username": "newbie", "display_name": "Newbie", "email": "newbie@example.com",
            "password": "a long enough password"})
        assert r.status_code == 201
        assert "password" not in r.text and "argon2" not in r.text

        async def stored() -> str:
            user = (await session.exec(select(User).where(User.username == "newbie"))).one()
            await session.refresh(user)
            password_hash = user.password_hash
            await session.rollback()  # end the transaction: it holds SQLite's write lock
            return password_hash

        first = await stored()
        assert first.startswith("$argon2id$")
        r = await client.patch("/api/v1/users/newbie", json={"password": "another long password"},
                               headers=admin)
        assert r.status_code == 200
        second = await stored()
        assert second.startswith("$argon2id$") and second != first
        r = await client.post("/api/v1/auth/token",
                              data={"username": "newbie", "password": "another long password"})
        assert r.status_code == 200


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Timing needs more sign-ins than the default limit allows; the limit test sets its own."""
    return settings.model_copy(update={"login_rate_per_minute": 10_000})


async def _sign_in_seconds(client: httpx.AsyncClient, username: str, password: str) -> float:
    start = time.perf_counter()
    r = await client.post("/api/v1/auth/token", data={"username": username, "password": password})
    elapsed = time.perf_counter() - start
    assert r.status_code == 401
    return elapsed


async def test_sign_in_takes_as_long_for_unknown_users(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """Not a precise timing test: a missing user must not answer in a fraction of the time
    (no argon2 verification), which would let anyone list the accounts."""
    await make_user(session, username="known")
    await make_user(session, username="gone", is_active=False)
    await _sign_in_seconds(client, "known", "warm-up")
    known, unknown, inactive = [], [], []
    for i in range(5):
        known.append(await _sign_in_seconds(client, "known", f"wrong {i}"))
        unknown.append(await _sign_in_seconds(client, f"nobody{i}", f"wrong {i}"))
        inactive.append(await _sign_in_seconds(client, "gone", PASSWORD))
    reference = statistics.median(known)
    assert statistics.median(unknown) >= 0.5 * reference, (known, unknown)
    assert statistics.median(inactive) >= 0.5 * reference, (known, inactive)


async def test_sign_in_rate_limit(app: FastAPI, settings: Settings, session: AsyncSession) -> None:
    await make_user(session, username="ann")
    async with running_app(settings, login_rate_per_minute=3) as limited:

        def client_from(ip: str) -> httpx.AsyncClient:
            transport = httpx.ASGITransport(app=limited, client=(ip, 50000))
            return httpx.AsyncClient(transport=transport, base_url="http://testserver")

        async with client_from("203.0.113.7") as attacker, client_from("198.51.100.2") as other:
            statuses = []
            for i in range(5):
                r = await attacker.post("/api/v1/auth/token", data={"username": "ann", "password": f"guess {i}"},
                                        headers={"X-Forwarded-For": f"10.0.0.{i}"})
                statuses.append(r.status_code)
            assert statuses == [401, 401, 401, 429, 429]
            assert r.headers["content-type"] == "application/problem+json"
            assert 1 <= int(r.headers["Retry-After"]) <= 60
            # Over the limit even the right password is refused: guessing learns nothing.
            r = await attacker.post("/api/v1/auth/token", data={"username": "ann", "password": PASSWORD})
            assert r.status_code == 429
            # Another address is not affected.
            r = await other.post("/api/v1/auth/token", data={"username": "ann", "password": PASSWORD})
            assert r.status_code == 200
