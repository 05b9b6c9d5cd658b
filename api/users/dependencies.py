import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from api.db import SessionDep
from api.errors import Forbidden, Unauthorized
from api.users.models import Role, User
from api.users.security import password_stamp, read_access_token

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def get_optional_user(
    request: Request, session: SessionDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> User | None:
    """The signed-in user, or None for anonymous requests. A bad token is always a 401."""
    if token is None:
        return None
    secret = request.app.state.settings.secret_key.get_secret_value()
    found = read_access_token(token, secret)
    if found is None:
        raise Unauthorized("The access token is invalid or has expired; sign in again.")
    user_id, stamp = found
    user = await session.get(User, user_id)
    if user is None or not user.is_active:
        raise Unauthorized("The access token belongs to an account that is no longer active.")
    if not hmac.compare_digest(stamp, password_stamp(user.password_hash, secret)):
        raise Unauthorized("The account's password has changed since this token was issued; "
                           "sign in again.")
    return user


async def get_current_user(user: Annotated[User | None, Depends(get_optional_user)]) -> User:
    if user is None:
        raise Unauthorized("Sign in to do this: send an `Authorization: Bearer <token>` header.")
    return user


async def get_admin(user: Annotated[User, Depends(get_current_user)]) -> User:
    if user.role != Role.admin:
        raise Forbidden("Only an admin may manage users.")
    return user


OptionalUser = Annotated[User | None, Depends(get_optional_user)]
CurrentUser = Annotated[User, Depends(get_current_user)]
AdminUser = Annotated[User, Depends(get_admin)]
