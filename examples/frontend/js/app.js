// The router: URLs are real paths (the same the API's feeds and sitemap link to), rendered here.
//   /                      posts, with ?page=, ?tag= and ?author=
//   /tags/{slug}           posts with a tag
//   /authors/{username}    an author's posts
//   /posts/{slug}          a post with related posts and comments
//   /search?q=             search with facets

import { h, replace } from "./dom.js";
import { renderHome } from "./pages/home.js";
import { renderPost } from "./pages/post.js";
import { renderSearch } from "./pages/search.js";
import { navigate } from "./nav.js";
import { attachSuggestions } from "./suggest.js";

const main = document.getElementById("main");
let controller = null;

const routes = [
  [/^\/$/, (m, params, signal) => renderHome(main, { params, signal })],
  [/^\/tags\/([^/]+)\/?$/, (m, params, signal) =>
    renderHome(main, { params, signal, tag: decodeURIComponent(m[1]) })],
  [/^\/authors\/([^/]+)\/?$/, (m, params, signal) =>
    renderHome(main, { params, signal, author: decodeURIComponent(m[1]) })],
  [/^\/posts\/([^/]+)\/?$/, (m, params, signal) => renderPost(main, { slug: decodeURIComponent(m[1]), signal })],
  [/^\/search\/?$/, (m, params, signal) => renderSearch(main, { params, signal })],
];

async function render({ scroll = true } = {}) {
  controller?.abort();
  controller = new AbortController();
  const params = new URLSearchParams(location.search);
  const route = routes.find(([pattern]) => pattern.test(location.pathname));
  if (scroll) window.scrollTo(0, 0);
  if (!route) {
    document.title = "Not found · Inkwell";
    replace(main, h("h1", {}, "Page not found"), h("p", {}, h("a", { href: "/" }, "Back to the posts")));
    return;
  }
  const [pattern, show] = route;
  main.setAttribute("aria-busy", "true");
  try {
    await show(location.pathname.match(pattern), params, controller.signal);
  } catch (error) {
    if (error.name === "AbortError") return;
    console.error(error);
    replace(main, h("div", { class: "notice notice--error" },
      h("h1", {}, error.status === 404 ? "Not found" : "Something went wrong"),
      h("p", {}, error.message)));
  } finally {
    main.removeAttribute("aria-busy");
  }
  if (location.hash) document.getElementById(location.hash.slice(1))?.scrollIntoView();
}

// Internal links navigate without a reload; feeds, the API docs and other origins load normally.
document.addEventListener("click", (event) => {
  const link = event.target.closest("a[href]");
  if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey ||
      event.shiftKey || event.altKey || link.target || link.hasAttribute("download")) return;
  const url = new URL(link.href);
  if (url.origin !== location.origin || !routes.some(([pattern]) => pattern.test(url.pathname))) return;
  event.preventDefault();
  if (url.pathname === location.pathname && url.search === location.search && url.hash) {
    location.hash = url.hash; // same page: just jump
    return;
  }
  navigate(url);
});

window.addEventListener("popstate", () => render({ scroll: false }));
window.addEventListener("inkwell:navigate", (event) => render({ scroll: event.detail.scroll }));

const headerSearch = document.getElementById("site-search-input");
headerSearch.form.addEventListener("submit", (event) => {
  event.preventDefault();
  const q = headerSearch.value.trim();
  navigate(`/search${q ? `?q=${encodeURIComponent(q)}` : ""}`);
});
attachSuggestions(headerSearch, {
  onTerm: (text) => navigate(`/search?q=${encodeURIComponent(text)}`),
  onPost: (slug) => navigate(`/posts/${encodeURIComponent(slug)}`),
});

render();
