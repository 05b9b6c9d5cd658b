// A post: content, tags, author, reading time; related posts with the API's reasons; comments.

import { api, feedUrl } from "../api.js";
import { avatar, h, replace, time, trustedHtml } from "../dom.js";
import { authorHref, byline, postHref, tagHref, tagList } from "../components.js";
import { renderComments } from "./comments.js";

function reasons({ tags, terms }, tagNames) {
  const parts = [];
  if (tags.length) parts.push(h("span", {}, "Shared tags: ",
    tags.map((slug, i) => [i ? ", " : "", h("a", { href: tagHref(slug) }, tagNames.get(slug) || slug)])));
  if (terms.length) parts.push(h("span", {}, "Shared words: ",
    terms.map((term) => [" ", h("em", {}, term)])));
  return h("p", { class: "related__why" }, parts);
}

function related(items) {
  if (!items.length) return null;
  return h("section", { class: "related", "aria-labelledby": "related-title" },
    h("h2", { id: "related-title" }, "Related posts"),
    h("ul", { class: "related__list" }, items.map(({ post, reasons: why }) => {
      const names = new Map(post.tags.map((t) => [t.slug, t.name]));
      return h("li", { class: "related__item" },
        h("a", { class: "related__title", href: postHref(post.slug) }, post.title),
        h("p", { class: "muted related__meta" }, post.author.display_name, " · ",
          post.published_at ? time(post.published_at) : null, ` · ${post.reading_time_minutes} min read`),
        reasons(why, names));
    })));
}

export async function renderPost(main, { slug, signal }) {
  const post = await api.post(slug, signal);
  if (post.slug !== slug) history.replaceState(null, "", postHref(post.slug) + location.hash); // renamed
  document.title = `${post.title} · Inkwell`;
  // Related posts are a nicety: the post shows even when the search index is being built.
  const relatedItems = api.related(post.slug, signal).catch((error) => {
    if (error.name === "AbortError") throw error;
    return [];
  });

  const article = h("article", { class: "post" },
    h("header", { class: "post__header" },
      tagList(post.tags),
      h("h1", { class: "post__title" }, post.title),
      byline(post)),
    trustedHtml("div", post.content_html, { class: "prose" }),
    h("footer", { class: "post__footer" },
      h("a", { class: "author-box", href: authorHref(post.author.username) },
        avatar(post.author.display_name, post.author.avatar_url, "avatar--large"),
        h("span", {}, h("span", { class: "muted" }, "Written by"), h("strong", {}, post.author.display_name))),
      h("a", { class: "feed-link", href: feedUrl(`/authors/${encodeURIComponent(post.author.username)}/feed.xml`) },
        `Follow ${post.author.display_name}: RSS`)));
  const relatedSlot = h("div", { class: "related-slot" });
  const comments = h("section", { id: "comments", class: "comments", "aria-labelledby": "comments-title" });
  replace(main, article, relatedSlot, comments);

  const [items] = await Promise.all([
    relatedItems,
    renderComments(comments, { post, signal, feed: feedUrl(`/posts/${encodeURIComponent(post.slug)}/comments/feed.xml`) }),
  ]);
  replace(relatedSlot, related(items));
}
