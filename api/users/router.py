from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.security import OAuth2PasswordRequestForm

from api.db import SessionDep
from api.errors import Unauthorized
from api.ratelimit import rate_limit
from api.users import service as user_service
from api.users.dependencies import AdminUser, CurrentUser
from api.users.models import User
from api.users.schemas import Token, UserCreate, UserPrivate, UserUpdate
from api.users.security import create_access_token

router = APIRouter(tags=["users"])


@router.post(
    "/auth/token",
    response_model=Token,
    dependencies=[Depends(rate_limit("sign-in", "login_rate_per_minute"))],
    responses={401: {"description": "Wrong username or password"},
               429: {"description": "Too many sign-in attempts"}},
)
async def sign_in(
    request: Request,
    session: SessionDep,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
) -> Token:
    """Exchange a username and password (OAuth2 password form) for a bearer token."""
    user = await user_service.authenticate(session, form.username, form.password)
    if user is None:
        raise Unauthorized("Wrong username or password.")
    settings = request.app.state.settings
    assert user.id is not None
    token = create_access_token(
        user.id, settings.secret_key.get_secret_value(), settings.access_token_minutes,
        user.password_hash,
    )
    return Token(access_token=token)


@router.get("/users/me", response_model=UserPrivate, responses={401: {"description": "Not signed in"}})
async def read_me(user: CurrentUser) -> User:
    """The signed-in user's own account."""
    return user


@router.post("/users", response_model=UserPrivate, status_code=201,
             responses={403: {"description": "Admins only"}, 409: {"description": "Username taken"}})
async def create_user(session: SessionDep, _admin: AdminUser, user_in: UserCreate) -> User:
    """Create an account (admins only)."""
    return await user_service.create_user(session, user_in=user_in)


@router.patch("/users/{username}", response_model=UserPrivate,
              responses={403: {"description": "Admins only"}, 404: {"description": "No such user"}})
async def update_user(
    session: SessionDep,
    _admin: AdminUser,
    user_in: UserUpdate,
    username: Annotated[str, Path(max_length=40)],
) -> User:
    """Change an account: profile, role, password, or deactivate it (admins only)."""
    user = await user_service.get_by_username(session, username)
    return await user_service.update_user(session, user=user, user_in=user_in)
