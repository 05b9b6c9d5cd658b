// Search-as-you-type on an <input>: completions from /search/suggest in an ARIA listbox.
// Titles lead to their post, words run a search. Arrow keys, Enter and Escape work.

import { api } from "./api.js";
import { h, replace } from "./dom.js";

let counter = 0;

export function attachSuggestions(input, { onTerm, onPost }) {
  const id = `suggestions-${++counter}`;
  const list = h("ul", { id, class: "suggestions", role: "listbox", hidden: true });
  input.parentElement.classList.add("has-suggestions");
  input.after(list);
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", id);
  input.setAttribute("aria-expanded", "false");

  let items = [];
  let active = -1;
  let timer = 0;
  let controller = null;

  function close() {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function highlight(index) {
    active = index;
    [...list.children].forEach((li, i) => li.setAttribute("aria-selected", String(i === index)));
    if (index >= 0) input.setAttribute("aria-activedescendant", `${id}-${index}`);
    else input.removeAttribute("aria-activedescendant");
  }

  function pick(item) {
    close();
    if (item.kind === "title" && item.slug) {
      input.value = "";
      onPost(item.slug);
    } else {
      input.value = item.text;
      onTerm(item.text);
    }
  }

  function show(found) {
    items = found;
    replace(list, found.map((item, i) =>
      h("li", {
        id: `${id}-${i}`, role: "option", class: `suggestion suggestion--${item.kind}`,
        "aria-selected": "false",
        // mousedown, not click: it comes before the input's blur closes the list
        onMousedown: (event) => { event.preventDefault(); pick(item); },
      },
      h("span", { class: "suggestion__kind" }, item.kind === "title" ? "Post" : "Search"),
      h("span", { class: "suggestion__text" }, item.text))));
    list.hidden = !found.length;
    input.setAttribute("aria-expanded", String(!list.hidden));
    active = -1;
  }

  async function load() {
    const q = input.value.trim();
    controller?.abort();
    if (!q) return close();
    controller = new AbortController();
    try {
      show(await api.suggest(q, controller.signal));
    } catch (error) {
      if (error.name !== "AbortError") close(); // suggestions are a nicety: fail quietly
    }
  }

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(load, 120);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" && items.length) {
      event.preventDefault();
      if (list.hidden) { list.hidden = false; input.setAttribute("aria-expanded", "true"); }
      highlight((active + 1) % items.length);
    } else if (event.key === "ArrowUp" && items.length && !list.hidden) {
      event.preventDefault();
      highlight(active <= 0 ? items.length - 1 : active - 1);
    } else if (event.key === "Enter" && active >= 0 && !list.hidden) {
      event.preventDefault();
      pick(items[active]);
    } else if (event.key === "Escape") {
      close();
    }
  });
  input.addEventListener("blur", close);
  input.form?.addEventListener("submit", () => { clearTimeout(timer); controller?.abort(); close(); });
}
