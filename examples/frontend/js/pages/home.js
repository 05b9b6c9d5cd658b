// Posts: the newest first, with pagination and tag / author filters.
// Also the tag (/tags/{slug}) and author (/authors/{username}) pages.

import { api, feedUrl } from "../api.js";
import { avatar, h, plural, replace } from "../dom.js";
import { authorHref, emptyState, feedLinks, pagination, postCard, tagHref } from "../components.js";
import { navigate } from "../nav.js";

const PER_PAGE = 8;

function filters({ tags, authors, tag, author }) {
  const select = h("select", { id: "author-filter", name: "author" },
    h("option", { value: "" }, "All authors"),
    authors.map((a) => h("option", { value: a.username, selected: a.username === author },
      `${a.display_name} (${a.post_count})`)));
  select.addEventListener("change", () => {
    const params = new URLSearchParams();
    if (tag) params.set("tag", tag);
    navigate(select.value ? `${authorHref(select.value)}${tag ? `?${params}` : ""}` :
      (tag ? tagHref(tag) : "/"));
  });
  const chip = (label, slug, count) => {
    const href = slug ? tagHref(slug) : "/";
    const withAuthor = author ? `${href}?author=${encodeURIComponent(author)}` : href;
    return h("li", {}, h("a", {
      class: `chip${(slug || null) === (tag || null) ? " chip--active" : ""}`,
      href: withAuthor, "aria-current": (slug || null) === (tag || null) ? "true" : false,
    }, label, count !== undefined ? h("span", { class: "chip__count" }, String(count)) : null));
  };
  return h("section", { class: "filters", "aria-label": "Filter posts" },
    h("ul", { class: "chips", "aria-label": "Tags" },
      chip("All", null), tags.map((t) => chip(t.name, t.slug, t.post_count))),
    h("div", { class: "filters__author" },
      h("label", { for: "author-filter" }, "Author"), select));
}

function heading({ tag, author, tags, profile }) {
  if (profile) {
    return h("header", { class: "page-header page-header--author" },
      avatar(profile.display_name, profile.avatar_url, "avatar--large"),
      h("div", {},
        h("h1", {}, profile.display_name),
        profile.bio ? h("p", { class: "page-header__lead" }, profile.bio) : null,
        h("p", { class: "muted" }, plural(profile.post_count, "post")),
        feedLinks((file) => feedUrl(`/authors/${encodeURIComponent(profile.username)}/${file}`))));
  }
  if (tag) {
    const name = tags.find((t) => t.slug === tag)?.name || tag;
    return h("header", { class: "page-header" },
      h("p", { class: "eyebrow" }, "Tag"), h("h1", {}, name),
      feedLinks((file) => feedUrl(`/tags/${encodeURIComponent(tag)}/${file}`)));
  }
  return h("header", { class: "page-header" },
    h("h1", {}, "Latest posts"),
    h("p", { class: "page-header__lead" }, "Notes on running, cooking, gardening and getting things done."));
}

export async function renderHome(main, { params, tag = null, author = null, signal }) {
  tag = tag || params.get("tag") || null;
  author = author || params.get("author") || null;
  const page = Math.max(1, Number.parseInt(params.get("page") || "1", 10) || 1);
  const onAuthorPage = location.pathname.startsWith("/authors/");
  const [posts, tags, authors, profile] = await Promise.all([
    api.posts({ page, per_page: PER_PAGE, tag, author }, signal),
    api.tags(signal),
    api.authors(signal),
    onAuthorPage ? api.author(author, signal) : null,
  ]);
  document.title = profile ? `${profile.display_name} · Inkwell`
    : tag ? `${tags.find((t) => t.slug === tag)?.name || tag} · Inkwell` : "Inkwell";

  const hrefFor = (n) => {
    const query = new URLSearchParams(location.search);
    if (n > 1) query.set("page", String(n)); else query.delete("page");
    const text = query.toString();
    return location.pathname + (text ? `?${text}` : "");
  };
  replace(main,
    heading({ tag, author, tags, profile }),
    filters({ tags, authors, tag, author }),
    h("p", { class: "muted count" }, plural(posts.total, "post")),
    posts.items.length
      ? h("div", { class: "cards" }, posts.items.map((post) => postCard(post)))
      : emptyState("No posts here yet.", h("a", { href: "/" }, "See all posts")),
    pagination(posts.page, posts.pages, hrefFor));
}
