// Client-side navigation: change the URL, then let app.js render the page it names.

export function navigate(url, { replace = false } = {}) {
  const target = new URL(url, location.href);
  if (replace) history.replaceState(null, "", target);
  else history.pushState(null, "", target);
  window.dispatchEvent(new CustomEvent("inkwell:navigate", { detail: { scroll: !target.hash } }));
}

/** The current URL with some query parameters changed (null or "" removes one). */
export function withParams(changes, path = location.pathname) {
  const params = new URLSearchParams(location.search);
  for (const [key, value] of Object.entries(changes)) {
    params.delete(key);
    for (const v of [].concat(value ?? [])) if (v !== "" && v !== null) params.append(key, v);
  }
  const text = params.toString();
  return path + (text ? `?${text}` : "");
}
