"""What a rebuild reads from the database: the same documents as the indexer's own mapping."""

import pytest
from sqlalchemy.orm import selectinload
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from api.posts import indexing
from api.posts.indexing import to_search_document
from api.posts.models import Post, PostStatus
from api.searching import sync
from tests.factories import make_post, make_user


async def test_rebuild_documents_are_the_indexers_documents(session: AsyncSession) -> None:
    alice = await make_user(session, display_name="Alice A.")
    bob = await make_user(session, display_name="Bob B.")
    await make_post(session, author=alice, title="Tagged", tags=["Zebra", "apple", "Mango"],
                    content="# Heading\n\nSome *emphasis* and a [link](https://example.com).")
    await make_post(session, author=bob, title="Untagged")
    await make_post(session, author=alice, title="Draft", status=PostStatus.draft)
    await make_post(session, author=bob, title="Scheduled", status=PostStatus.scheduled)
    for i in range(4):  # past several batches of 2
        await make_post(session, author=bob if i % 2 else alice, title=f"More {i}", tags=[f"t{i}"])

    posts = (await session.exec(
        select(Post).where(col(Post.status) != PostStatus.draft).order_by(col(Post.id))
        .options(selectinload(Post.author), selectinload(Post.tags))  # type: ignore[arg-type]
    )).all()  # fmt: skip
    expected = [to_search_document(p) for p in posts]
    assert len(expected) == 7

    docs = await sync.all_documents(session, batch=2)
    assert len(docs) == 7
    assert list(docs) == expected
    assert docs[0].tags == ("apple", "mango", "zebra")
    assert docs[0].content.startswith("Heading") and "<" not in docs[0].content


async def test_rebuild_documents_become_documents_only_when_read(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    author = await make_user(session)
    for i in range(5):
        await make_post(session, author=author, title=f"Post {i}")
    # Counted where the rebuild converts (sync's own reference), not in plain_text: the
    # app's indexer, running meanwhile, converts the same new posts through its own path.
    converted: list[int] = []
    search_document = indexing.search_document

    def counting(row: indexing.PostRow, tags: object) -> object:
        converted.append(row.id)
        return search_document(row, tags)  # type: ignore[arg-type]

    monkeypatch.setattr(sync, "search_document", counting)
    docs = await sync.all_documents(session)
    share = docs[1:3]  # what a forked indexing process gets
    assert isinstance(share, sync.RebuildDocuments) and len(share) == 2
    assert converted == []
    assert [d.title for d in share] == ["Post 1", "Post 2"]
    assert len(converted) == 2
