// Search: as-you-type suggestions, highlighted results, facets (tags, authors, years),
// "did you mean", pagination, and a feed that follows the search.

import { api, feedUrl } from "../api.js";
import { h, plural, replace, trustedHtml } from "../dom.js";
import { emptyState, feedLinks, pagination, postCard } from "../components.js";
import { navigate, withParams } from "../nav.js";
import { attachSuggestions } from "../suggest.js";

const PER_PAGE = 10;

function searchParams(params) {
  const year = params.get("year");
  return {
    q: params.get("q") || "",
    tag: params.getAll("tag"),
    author: params.get("author") || "",
    after: year ? `${year}-01-01` : "",
    before: year ? `${year}-12-31` : "",
  };
}

function facet(title, name, values, selected, label = (v) => v) {
  if (!values.length && !selected.length) return null;
  const shown = [...values];
  for (const value of selected) {
    if (!shown.some((f) => f.value === value)) shown.push({ value, count: 0 });
  }
  return h("section", { class: "facet" },
    h("h3", {}, title),
    h("ul", {}, shown.map(({ value, count }) => {
      const on = selected.includes(value);
      const next = name === "tag"
        ? (on ? selected.filter((v) => v !== value) : [...selected, value])
        : (on ? null : value);
      return h("li", {}, h("a", {
        class: `facet__value${on ? " facet__value--on" : ""}`,
        href: withParams({ [name]: next, page: null }),
        "aria-pressed": String(on),
      }, h("span", {}, label(value)), h("span", { class: "facet__count" }, String(count))));
    })));
}

function searchForm(q) {
  const input = h("input", {
    id: "search-input", name: "q", type: "search", value: q, placeholder: "Search posts…",
    autocomplete: "off", "aria-label": "Search posts",
  });
  const form = h("form", { class: "search-form", role: "search" },
    h("div", { class: "search-form__field" }, input),
    h("button", { type: "submit", class: "button" }, "Search"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    navigate(withParams({ q: input.value.trim(), page: null }, "/search"));
  });
  attachSuggestions(input, {
    onTerm: (text) => navigate(withParams({ q: text, page: null }, "/search")),
    onPost: (slug) => navigate(`/posts/${encodeURIComponent(slug)}`),
  });
  return { form, input };
}

export async function renderSearch(main, { params, signal }) {
  const filters = searchParams(params);
  const page = Math.max(1, Number.parseInt(params.get("page") || "1", 10) || 1);
  const { form, input } = searchForm(filters.q);
  document.title = filters.q ? `“${filters.q}” · Search · Inkwell` : "Search · Inkwell";
  const results = h("div", { class: "search-results", "aria-live": "polite" });
  replace(main, h("header", { class: "page-header" }, h("h1", {}, "Search")), form, results);
  if (!filters.q && !filters.tag.length && !filters.author && !filters.after) {
    input.focus();
    const tags = await api.tags(signal);
    replace(results, h("div", { class: "search-intro" },
      h("p", { class: "muted" }, "Try words, “exact phrases”, -excluded words, or title:, tag: and author: prefixes."),
      h("h2", {}, "Browse by tag"),
      h("ul", { class: "chips" }, tags.map((t) =>
        h("li", {}, h("a", { class: "chip", href: withParams({ tag: t.slug }, "/search") }, t.name,
          h("span", { class: "chip__count" }, String(t.post_count))))))));
    return;
  }

  const [found, tags, authors] = await Promise.all([
    api.search({ ...filters, page, per_page: PER_PAGE }, signal), api.tags(signal), api.authors(signal),
  ]);
  // Facets give slugs and usernames; show names.
  const names = new Map([
    ...tags.map((t) => [t.slug, t.name]), ...authors.map((a) => [`@${a.username}`, a.display_name]),
  ]);
  const year = params.get("year");
  const facets = h("aside", { class: "facets", "aria-label": "Refine" },
    facet("Tags", "tag", found.facets.tags, filters.tag, (slug) => names.get(slug) || slug),
    facet("Authors", "author", found.facets.authors, filters.author ? [filters.author] : [],
      (username) => names.get(`@${username}`) || username),
    facet("Years", "year", found.facets.years, year ? [year] : []));
  const didYouMean = found.suggestion
    ? h("p", { class: "did-you-mean" }, "Did you mean ",
      h("a", { href: withParams({ q: found.suggestion, page: null }) }, found.suggestion), "?")
    : null;
  const feedParams = Object.fromEntries(Object.entries({ ...filters }).filter(([, v]) => v && v.length));
  const items = found.items.map(({ post, highlights }) => postCard(post, {
    title: highlights.title ? trustedHtml("span", highlights.title) : post.title,
    excerpt: highlights.content ? trustedHtml("p", highlights.content, { class: "snippet" }) : undefined,
  }));
  replace(results,
    h("div", { class: "search-summary" },
      h("p", {}, found.total ? plural(found.total, "result") : "No results",
        filters.q ? [" for ", h("strong", {}, `“${filters.q}”`)] : null),
      feedLinks((file, p) => feedUrl(`/search/${file}`, p), feedParams, "Follow this search")),
    didYouMean,
    h("div", { class: "search-layout" },
      h("div", { class: "search-layout__main" },
        items.length ? h("div", { class: "cards" }, items)
          : emptyState("Nothing matches. Try fewer or different words.",
            filters.tag.length || filters.author || year
              ? h("a", { href: withParams({ tag: null, author: null, year: null, page: null }) }, "Clear the filters")
              : null),
        pagination(found.page, found.pages, (n) => withParams({ page: n > 1 ? n : null }),
          { newer: "← Previous", older: "Next →" })),
      facets));
}
