// Pieces shared by the pages: post cards, bylines, tags, pagination, feed links.

import { avatar, h, plural, time } from "./dom.js";

export const postHref = (slug) => `/posts/${encodeURIComponent(slug)}`;
export const tagHref = (slug) => `/tags/${encodeURIComponent(slug)}`;
export const authorHref = (username) => `/authors/${encodeURIComponent(username)}`;

export function tagList(tags, { label = "Tags" } = {}) {
  if (!tags.length) return null;
  return h("ul", { class: "tags", "aria-label": label },
    tags.map((tag) => h("li", {}, h("a", { class: "tag", href: tagHref(tag.slug) }, tag.name))));
}

export function byline(post, { comments = true } = {}) {
  return h("p", { class: "byline" },
    avatar(post.author.display_name, post.author.avatar_url, "avatar--small"),
    h("a", { class: "byline__author", href: authorHref(post.author.username) }, post.author.display_name),
    h("span", { class: "byline__sep", "aria-hidden": "true" }, "·"),
    post.published_at ? time(post.published_at) : "Draft",
    h("span", { class: "byline__sep", "aria-hidden": "true" }, "·"),
    h("span", {}, `${post.reading_time_minutes} min read`),
    comments && post.comment_count
      ? [h("span", { class: "byline__sep", "aria-hidden": "true" }, "·"),
        h("a", { href: `${postHref(post.slug)}#comments` }, plural(post.comment_count, "comment"))]
      : null);
}

/** A post in a list; `title` and `excerpt` may be nodes (search highlights). */
export function postCard(post, { title, excerpt, extra } = {}) {
  return h("article", { class: "card" },
    h("h2", { class: "card__title" }, h("a", { href: postHref(post.slug) }, title ?? post.title)),
    byline(post),
    h("div", { class: "card__excerpt" }, excerpt ?? h("p", {}, post.excerpt)),
    tagList(post.tags),
    extra);
}

/** "Newer / Page 2 of 5 / Older" links; `hrefFor(page)` builds each URL. */
export function pagination(page, pages, hrefFor, { newer = "← Newer", older = "Older →" } = {}) {
  if (pages <= 1) return null;
  return h("nav", { class: "pagination", "aria-label": "Pages" },
    page > 1 ? h("a", { class: "button", rel: "prev", href: hrefFor(page - 1) }, newer) : h("span"),
    h("span", { class: "pagination__where" }, `Page ${page} of ${pages}`),
    page < pages ? h("a", { class: "button", rel: "next", href: hrefFor(page + 1) }, older) : h("span"));
}

export function feedLinks(base, params, label = "Follow") {
  const link = (file, name) => h("a", { href: base(file, params) }, name);
  return h("p", { class: "feeds" }, `${label}: `, link("feed.xml", "RSS"), " · ",
    link("atom.xml", "Atom"), " · ", link("feed.json", "JSON Feed"));
}

export function emptyState(text, action) {
  return h("div", { class: "empty" }, h("p", {}, text), action);
}
