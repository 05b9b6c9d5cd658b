"""The request ID and ETag helpers of api/middleware.py: what they promise besides speed."""

import hashlib
import os
import re
from typing import Any

import pytest

from api import middleware
from api.middleware import body_etag, new_request_id


@pytest.mark.parametrize("size", [0, 1, 2046, 2047, 2048, 4094, 4095, 50_000])
def test_body_etag_is_the_digest_of_the_whole_body(size: int) -> None:
    body = bytes(range(256)) * (size // 256) + bytes(size % 256)
    assert body_etag(body) == '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def test_body_etag_feeds_the_hash_pieces_that_keep_the_gil(monkeypatch: pytest.MonkeyPatch) -> None:
    sizes: list[int] = []
    real = hashlib.blake2b

    class Recording:
        def __init__(self, **kwargs: Any) -> None:
            self.inner = real(**kwargs)

        def update(self, data: Any) -> None:
            sizes.append(len(data))
            self.inner.update(data)

        def hexdigest(self) -> str:
            return self.inner.hexdigest()

    monkeypatch.setattr(middleware.hashlib, "blake2b", Recording)
    body_etag(b"x" * 30_000)
    assert sum(sizes) == 30_000
    assert max(sizes) < 2048  # hashlib releases the GIL from 2,048 bytes


def test_request_ids_are_hex_distinct_and_differ_after_a_fork() -> None:
    import random

    random.seed(7)
    first = new_request_id()
    random.seed(7)  # another module seeding the shared generator does not repeat IDs
    assert new_request_id() != first
    ids = {new_request_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its first ID, then leave at once
        os.write(write, new_request_id().encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    child = os.read(read, 64).decode()
    os.close(read)
    assert re.fullmatch(r"[0-9a-f]{32}", child)
    assert child != new_request_id()  # the child's generator was reseeded
