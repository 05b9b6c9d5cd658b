import httpx
from sqlmodel.ext.asyncio.session import AsyncSession

from api.users.models import Role
from tests.factories import PASSWORD, auth, make_post, make_user


async def sign_in(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post("/api/v1/auth/token", data={"username": username, "password": password})


class TestSignIn:
    async def test_token_then_me(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        await make_user(session, username="ann", display_name="Ann", email="ann@example.com")
        r = await sign_in(client, "ann", PASSWORD)
        assert r.status_code == 200
        body = r.json()
        assert body["token_type"] == "bearer"
        me = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {body['access_token']}"})
        assert me.status_code == 200
        assert me.json()["username"] == "ann"
        assert me.json()["email"] == "ann@example.com"
        assert me.json()["role"] == "author"

    async def test_wrong_password_and_unknown_user_look_the_same(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        await make_user(session, username="ann")
        wrong = await sign_in(client, "ann", "not the password")
        unknown = await sign_in(client, "nobody", "not the password")
        assert wrong.status_code == unknown.status_code == 401
        assert wrong.json()["detail"] == unknown.json()["detail"]
        assert wrong.headers["content-type"] == "application/problem+json"
        assert wrong.headers["WWW-Authenticate"] == "Bearer"

    async def test_me_needs_a_valid_token(self, client: httpx.AsyncClient) -> None:
        assert (await client.get("/api/v1/users/me")).status_code == 401
        r = await client.get("/api/v1/users/me", headers={"Authorization": "Bearer not.a.token"})
        assert r.status_code == 401
        assert r.headers["content-type"] == "application/problem+json"


class TestManageUsers:
    async def test_admin_creates_and_updates_accounts(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        admin = await make_user(session, role=Role.admin)
        new = {"username": "newbie", "display_name": "New Writer", "email": "new@example.com",
               "password": "a long password", "role": "editor"}
        r = await client.post("/api/v1/users", json=new, headers=auth(admin))
        assert r.status_code == 201
        assert r.json()["role"] == "editor"
        assert "password" not in r.text
        assert (await client.post("/api/v1/users", json=new, headers=auth(admin))).status_code == 409
        assert (await sign_in(client, "newbie", "a long password")).status_code == 200
        r = await client.patch("/api/v1/users/newbie", json={"display_name": "Renamed", "role": "author"},
                               headers=auth(admin))
        assert r.status_code == 200
        assert (r.json()["display_name"], r.json()["role"]) == ("Renamed", "author")
        assert (await client.patch("/api/v1/users/ghost", json={}, headers=auth(admin))).status_code == 404

    async def test_only_admins_manage_users(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        editor = await make_user(session, role=Role.editor)
        new = {"username": "x1", "display_name": "X", "email": "x@example.com", "password": "long enough pw"}
        assert (await client.post("/api/v1/users", json=new)).status_code == 401
        assert (await client.post("/api/v1/users", json=new, headers=auth(editor))).status_code == 403
        r = await client.patch(f"/api/v1/users/{editor.username}", json={"role": "admin"}, headers=auth(editor))
        assert r.status_code == 403

    async def test_bad_account_data_is_422(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        admin = await make_user(session, role=Role.admin)
        for bad in ({"username": "a b", "display_name": "X", "email": "x@example.com", "password": "long enough pw"},
                    {"username": "okname", "display_name": "X", "email": "not-an-email", "password": "long enough pw"},
                    {"username": "okname", "display_name": "X", "email": "x@example.com", "password": "short"},
                    {"username": "okname", "display_name": "X", "email": "x@example.com", "password": "long enough pw",
                     "role": "king"}):
            r = await client.post("/api/v1/users", json=bad, headers=auth(admin))
            assert r.status_code == 422, bad

    async def test_renaming_an_author_reaches_their_posts(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        admin = await make_user(session, role=Role.admin)
        ann = await make_user(session, username="ann", display_name="Ann")
        post = await make_post(session, author=ann)
        assert (await client.get(f"/api/v1/posts/{post.slug}")).json()["author"]["display_name"] == "Ann"
        await client.patch("/api/v1/users/ann", json={"display_name": "Ann B."}, headers=auth(admin))
        r = await client.get(f"/api/v1/posts/{post.slug}")
        assert r.json()["author"]["display_name"] == "Ann B."


class TestHealthAndIndex:
    async def test_health(self, client: httpx.AsyncClient) -> None:
        r = await client.get("/health")
        assert r.status_code == 200
        assert r.json()["database"] == "ok"
        assert r.json()["version"]

    async def test_cors_follows_settings(self, client: httpx.AsyncClient) -> None:
        allowed = await client.options("/api/v1/posts", headers={
            "Origin": "http://frontend.example", "Access-Control-Request-Method": "GET"})
        assert allowed.headers["access-control-allow-origin"] == "http://frontend.example"
        other = await client.get("/api/v1/posts", headers={"Origin": "http://evil.example"})
        assert "access-control-allow-origin" not in other.headers
