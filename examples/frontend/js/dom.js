// Building the DOM safely: every string becomes a text node (textContent). The only HTML
// inserted as markup is what the API has already sanitized, through `trustedHtml`.

/**
 * h("a", {href: "/x", class: "link"}, "text", child) -> HTMLAnchorElement
 * Attributes: `class`, `on<Event>` listeners, booleans (true sets, false/null/undefined skip).
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (value === true) {
      el.setAttribute(name, "");
    } else {
      el.setAttribute(name, String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** HTML from the API that it sanitized (post and comment `content_html`, search highlights). */
export function trustedHtml(tag, html, attrs = {}) {
  const el = h(tag, attrs);
  el.innerHTML = html;
  return el;
}

export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

const dateFormat = new Intl.DateTimeFormat("en", { dateStyle: "medium" });
const dateTimeFormat = new Intl.DateTimeFormat("en", { dateStyle: "medium", timeStyle: "short" });

export function time(iso, withTime = false) {
  const date = new Date(iso);
  return h("time", { datetime: iso }, (withTime ? dateTimeFormat : dateFormat).format(date));
}

export function initials(name) {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  return ((parts[0]?.[0] || "?") + (parts.length > 1 ? parts[parts.length - 1][0] : "")).toUpperCase();
}

/** Initials on a coloured disc, covered by the avatar image when it loads. */
export function avatar(name, url, size = "") {
  const disc = h("span", { class: `avatar ${size}`.trim(), "aria-hidden": "true" }, initials(name));
  disc.dataset.hue = String([...name].reduce((sum, c) => sum + c.charCodeAt(0), 0) % 6);
  if (url && /^https?:\/\//.test(url)) {
    const img = h("img", { src: url, alt: "", loading: "lazy", referrerpolicy: "no-referrer" });
    img.addEventListener("error", () => img.remove());
    disc.append(img);
  }
  return disc;
}

export function plural(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}
