import pytest

from api.comments.models import CommentStatus
from api.comments.spam import blocklisted, count_links, initial_status
from api.settings import Settings


@pytest.mark.parametrize(("text", "links"), [
    ("no links here", 0),
    ("see https://a.example", 1),
    ("[a](http://a.example) and www.b.example and HTTPS://C.EXAMPLE", 3),
    ("email me at a@b.example", 0),
])
def test_count_links(text: str, links: int) -> None:
    assert count_links(text) == links


def test_blocklist_matches_whole_words_ignoring_case() -> None:
    words = ["casino", "crypto giveaway", " "]
    assert blocklisted(["Best CASINO in town"], words)
    assert blocklisted(["a Crypto Giveaway!"], words)
    assert not blocklisted(["casinos", "cryptogiveaway"], words)
    assert not blocklisted(["anything"], [])


def _status(**overrides: object) -> CommentStatus:
    args: dict[str, object] = {
        "settings": Settings(), "content": "Nice post", "author_name": "Robin",
        "is_staff": False, "honeypot_filled": False, "known_guest": False,
    }
    args.update(overrides)
    return initial_status(**args)  # type: ignore[arg-type]


def test_policy_order() -> None:
    assert _status() == CommentStatus.pending
    assert _status(known_guest=True) == CommentStatus.approved
    assert _status(is_staff=True, content="casino") == CommentStatus.approved
    assert _status(is_staff=True, honeypot_filled=True) == CommentStatus.spam
    assert _status(known_guest=True, content="casino") == CommentStatus.spam
    assert _status(known_guest=True, author_name="Casino King") == CommentStatus.spam
    assert _status(known_guest=True, content="a http://a b http://b c http://c") == CommentStatus.pending
    held = Settings(comment_blocklist_status="pending")
    assert _status(settings=held, known_guest=True, content="casino") == CommentStatus.pending
