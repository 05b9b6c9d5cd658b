"""The reference frontend in a real browser: reading, commenting with moderation, search."""

import re
from pathlib import Path

import httpx
import pytest

from tests.conftest import CI
from tests.e2e.conftest import editor_headers

if not CI:  # in CI a missing Playwright fails the run
    pytest.importorskip("playwright", reason="Playwright is not installed (pip install -e '.[test]')")
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.slow

MASSAGE = "does-a-massage-actually-help-sore-muscles-after-exercise"
MASSAGE_TITLE = "Does a massage actually help sore muscles after exercise?"


class TestReading:
    def test_home_to_a_post(self, page: Page, api: httpx.Client) -> None:
        newest = api.get("/posts", params={"per_page": 1}).json()["items"][0]
        page.goto("/")
        expect(page.locator(".card")).to_have_count(8)
        expect(page.get_by_text("Page 1 of 3")).to_be_visible()
        page.get_by_role("link", name=newest["title"]).click()
        expect(page).to_have_url(re.compile(f"/posts/{newest['slug']}$"))
        expect(page.locator("h1")).to_have_text(newest["title"])
        expect(page.locator(".post .byline")).to_contain_text(
            f"{newest['reading_time_minutes']} min read")
        expect(page.locator(".post__header .tag")).to_have_count(len(newest["tags"]))

    def test_a_post_with_its_threads(self, page: Page, api: httpx.Client) -> None:
        post = api.get(f"/posts/{MASSAGE}").json()
        page.goto(f"/posts/{MASSAGE}")
        expect(page.locator("h1")).to_have_text(MASSAGE_TITLE)
        expect(page).to_have_title(f"{MASSAGE_TITLE} · Inkwell")
        # content_html as rendered by the API: headings, lists, emphasis
        expect(page.locator(".prose h2").first).to_be_visible()
        expect(page.locator(".prose li").first).to_be_visible()
        expect(page.locator("#comments-title")).to_have_text(f"{post['comment_count']} comments")
        # a reply nested in its parent's thread
        threads = api.get(f"/posts/{MASSAGE}/comments").json()["items"]
        parent = next(c for c in threads if c["replies"])
        reply = parent["replies"][0]
        expect(page.locator(f"#comment-{parent['id']} > .thread > #comment-{reply['id']}")).to_be_visible()

    def test_pagination_and_filters(self, page: Page) -> None:
        page.goto("/")
        page.get_by_role("link", name="Older →").click()
        expect(page).to_have_url(re.compile(r"/\?page=2$"))
        expect(page.get_by_text("Page 2 of 3")).to_be_visible()
        page.locator(".chips").get_by_role("link", name=re.compile("^Running")).click()
        expect(page).to_have_url(re.compile("/tags/running$"))
        expect(page.locator("h1")).to_have_text("Running")
        for card in page.locator(".card").all():
            expect(card.locator(".tag", has_text="Running")).to_have_count(1)
        page.locator("#author-filter").select_option("maya")
        expect(page).to_have_url(re.compile("/authors/maya\\?tag=running$"))
        expect(page.locator("h1")).to_have_text("Maya Lindqvist")
        expect(page.locator(".card .byline__author").first).to_have_text("Maya Lindqvist")

    def test_follow_a_related_post(self, page: Page, api: httpx.Client) -> None:
        related = api.get(f"/posts/{MASSAGE}/related", params={"limit": 4}).json()
        first = related[0]
        page.goto(f"/posts/{MASSAGE}")
        item = page.locator(".related__item").first
        expect(item.locator(".related__title")).to_have_text(first["post"]["title"])
        # the reasons the API gives
        for term in first["reasons"]["terms"]:
            expect(item.locator(".related__why em", has_text=term)).to_have_count(1)
        expect(item.locator(".related__why a")).to_have_count(len(first["reasons"]["tags"]))
        item.locator(".related__title").click()
        expect(page).to_have_url(re.compile(f"/posts/{first['post']['slug']}$"))
        expect(page.locator("h1")).to_have_text(first["post"]["title"])
        page.go_back()
        expect(page.locator("h1")).to_have_text(MASSAGE_TITLE)

    def test_links_from_feeds_open_the_page(self, page: Page, api: httpx.Client) -> None:
        page.goto("/authors/oskar")
        expect(page.locator("h1")).to_have_text("Oskar Brandt")
        page.goto("/posts/no-such-post")
        expect(page.locator("h1")).to_have_text("Not found")


class TestComments:
    def test_guest_comment_moderation_and_a_reply(
        self, page: Page, api: httpx.Client, screenshot_dir: Path
    ) -> None:
        slug = "sleep-is-the-recovery-tool-nobody-sells-you"
        page.goto(f"/posts/{slug}")
        form = page.locator("form.comment-form")
        form.get_by_label("Name").fill("Robin Guest")
        form.get_by_label("Email").fill("robin@example.org")
        form.get_by_label("Website").fill("https://robin.example")
        form.get_by_label("Comment").fill("Sleeping *more* helped my <b>legs</b> too.")
        form.get_by_role("button", name="Post comment").click()

        mine = page.locator(".comment--pending")
        expect(mine).to_have_count(1)
        expect(mine).to_contain_text("awaiting moderation")
        expect(mine.locator(".comment__content em")).to_have_text("more")  # Markdown, escaped tag
        expect(mine.locator(".comment__content")).to_contain_text("<b>legs</b>")
        comment_id = int(mine.get_attribute("data-comment-id") or 0)
        mine.screenshot(path=str(screenshot_dir / "comment-awaiting-moderation.png"))
        # Only its author sees it, still pending after a reload.
        page.reload()
        expect(page.locator(f"#comment-{comment_id}.comment--pending")).to_be_visible()
        public = api.get(f"/posts/{slug}/comments").json()["items"]
        assert comment_id not in [c["id"] for c in public]

        r = api.patch(f"/comments/{comment_id}", json={"status": "approved"},
                      headers=editor_headers(api))
        assert r.status_code == 200, r.text
        page.reload()
        approved = page.locator(f"#comment-{comment_id}")
        expect(approved).to_be_visible()
        expect(approved).not_to_have_class(re.compile("comment--pending"))
        expect(approved.locator("a.comment__author")).to_have_attribute("href", "https://robin.example/")

        # Reply, signed in: the form moves under the comment.
        approved.get_by_role("button", name="Reply to Robin Guest").click()
        reply_form = approved.locator("form.comment-form")
        expect(reply_form.locator("h3")).to_have_text("Reply to Robin Guest")
        reply_form.get_by_role("button", name="Sign in to comment with your account").click()
        reply_form.get_by_label("Username").fill("maya")
        reply_form.get_by_label("Password").fill("demo-password-maya")
        reply_form.get_by_role("button", name="Sign in", exact=True).click()
        expect(reply_form.locator(".signed-in")).to_contain_text("Maya Lindqvist")
        reply_form.get_by_label("Comment").fill("Glad to hear it, Robin!")
        reply_form.get_by_role("button", name="Post comment").click()
        reply = approved.locator(":scope > .thread > .comment").last
        expect(reply).to_contain_text("Glad to hear it, Robin!")
        expect(reply).not_to_have_class(re.compile("comment--pending"))  # staff are trusted
        # The form went back under the thread, and the reply is public.
        expect(page.locator(".reply-slot form.comment-form")).to_be_visible()
        page.reload()
        expect(page.locator(f"#comment-{comment_id} > .thread > .comment")).to_contain_text(
            "Glad to hear it, Robin!")

    def test_invalid_guest_fields_are_explained(self, page: Page) -> None:
        page.goto(f"/posts/{MASSAGE}")
        form = page.locator("form.comment-form")
        form.get_by_label("Name").fill("Robin")
        form.get_by_label("Email").fill("not-an-address")
        form.get_by_label("Comment").fill("Hello")
        form.get_by_role("button", name="Post comment").click()
        expect(form.locator(".form-status")).to_contain_text("email")
        expect(page.locator(".comment--pending")).to_have_count(0)


class TestSearch:
    def test_pick_a_suggestion(self, page: Page) -> None:
        page.goto("/search")
        box = page.locator("#search-input")
        box.press_sequentially("massa", delay=40)
        option = page.get_by_role("option", name=re.compile(re.escape(MASSAGE_TITLE)))
        option.click()
        expect(page).to_have_url(re.compile(f"/posts/{MASSAGE}$"))
        expect(page.locator("h1")).to_have_text(MASSAGE_TITLE)

    def test_suggestions_by_keyboard_from_the_header(self, page: Page) -> None:
        page.goto("/")
        box = page.locator("#site-search-input")
        with page.expect_response(lambda r: "/search/suggest?q=sourd&" in r.url):
            box.press_sequentially("sourd", delay=40)
        expect(page.get_by_role("option").first).to_contain_text("Sourdough")
        box.press("ArrowDown")
        box.press("Enter")
        expect(page).to_have_url(re.compile("/posts/sourdough"))

    def test_results_facets_and_did_you_mean(self, page: Page) -> None:
        page.goto("/search?q=masage")
        page.locator(".did-you-mean a").click()
        expect(page).to_have_url(re.compile(r"/search\?q=massage$"))
        expect(page.locator("#search-input")).to_have_value("massage")
        expect(page.locator(".card mark").first).to_have_text(re.compile("massage", re.IGNORECASE))
        total = page.locator(".card").count()
        assert total >= 3
        page.locator(".facet").filter(has_text="Tags").get_by_role("link", name=re.compile("^Running")).click()
        expect(page).to_have_url(re.compile("tag=running"))
        expect(page.locator(".facet__value--on")).to_have_count(1)
        for card in page.locator(".card").all():
            expect(card.locator(".tag", has_text="Running")).to_have_count(1)
        feed = page.locator(".search-summary").get_by_role("link", name="RSS")
        expect(feed).to_have_attribute("href", re.compile(r"/search/feed\.xml\?q=massage&tag=running$"))
