from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from api.errors import Conflict, NotFound
from api.posts.indexing import record_changes
from api.posts.models import Post
from api.users.models import User
from api.users.schemas import UserCreate, UserUpdate
from api.users.security import hash_password, verify_password


async def authenticate(session: AsyncSession, username: str, password: str) -> User | None:
    user = None
    if "\x00" not in username:  # no username holds one, and PostgreSQL cannot compare with it
        user = (await session.exec(select(User).where(User.username == username))).first()
    # Verify even when the user is missing, so the answer takes the same time either way.
    ok = verify_password(password, user.password_hash if user else None)
    if user is None or not ok or not user.is_active:
        return None
    return user


async def get_by_username(session: AsyncSession, username: str) -> User:
    user = (await session.exec(select(User).where(User.username == username))).first()
    if user is None:
        raise NotFound(f"No user named '{username}'.")
    return user


async def create_user(session: AsyncSession, *, user_in: UserCreate) -> User:
    user = User(
        username=user_in.username,
        display_name=user_in.display_name,
        bio=user_in.bio,
        avatar_url=str(user_in.avatar_url) if user_in.avatar_url else None,
        email=str(user_in.email),
        role=user_in.role,
        password_hash=hash_password(user_in.password),
    )
    try:
        async with session.begin_nested():
            session.add(user)
            await session.flush()
    except IntegrityError:
        raise Conflict(f"The username '{user_in.username}' is taken.") from None
    return user


async def update_user(session: AsyncSession, *, user: User, user_in: UserUpdate) -> User:
    changes = user_in.model_dump(exclude_unset=True)
    shown_in_posts = {"display_name", "avatar_url"} & changes.keys()
    password = changes.pop("password", None)
    if password:
        user.password_hash = hash_password(password)
    for field, value in changes.items():
        if value is None and field in ("display_name", "email", "role", "is_active"):
            continue
        setattr(user, field, str(value) if field in ("avatar_url", "email") and value else value)
    session.add(user)
    await session.flush()
    if shown_in_posts:  # posts show the author's name and avatar: re-index them
        post_ids = (await session.exec(select(Post.id).where(Post.author_id == user.id))).all()
        await record_changes(session, [i for i in post_ids if i is not None])
    return user
