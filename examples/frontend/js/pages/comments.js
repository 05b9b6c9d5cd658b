// Threaded comments and the "leave a reply" form (as a guest, or signed in with a bearer token).
// A comment held for moderation is shown only to the person who wrote it, marked as such: the
// API returns it once, and it is remembered in sessionStorage until the API publishes it.

import { api, session } from "../api.js";
import { avatar, h, plural, replace, time, trustedHtml } from "../dom.js";

const pendingKey = (postId) => `inkwell:pending:${postId}`;

function loadPending(postId) {
  try {
    return JSON.parse(sessionStorage.getItem(pendingKey(postId)) || "[]");
  } catch {
    return [];
  }
}

function savePending(postId, comments) {
  if (comments.length) sessionStorage.setItem(pendingKey(postId), JSON.stringify(comments));
  else sessionStorage.removeItem(pendingKey(postId));
}

function flatten(threads, into = new Set()) {
  for (const comment of threads) {
    into.add(comment.id);
    flatten(comment.replies || [], into);
  }
  return into;
}

export async function renderComments(section, { post, signal, feed }) {
  const first = await api.comments(post.slug, 1, signal);
  // `first.total` counts threads; the post counts every published comment.
  const state = { post, total: post.comment_count, page: 1, pages: first.pages, replyTo: null };

  const count = h("h2", { id: "comments-title" });
  const setCount = () => replace(count, state.total ? plural(state.total, "comment") : "Comments");
  setCount();
  const list = h("ol", { class: "thread", "data-post-author": post.author.username });
  const more = h("button", { type: "button", class: "button button--quiet" }, "Show more comments");
  const formSlot = h("div", { class: "reply-slot" });
  const form = commentForm(state, {
    onPosted(comment) {
      if (comment.status === "approved") {
        state.total += 1;
        setCount();
      } else {
        savePending(post.id, [...loadPending(post.id), comment]);
      }
      place(list, comment, { fresh: true });
      closeReply();
    },
    onCancel: () => closeReply(),
  });

  function openReply(comment) {
    state.replyTo = comment;
    form.setReplyTo(comment);
    document.getElementById(`comment-${comment.id}`).querySelector(".comment__body").after(form.element);
    form.focus();
  }
  function closeReply() {
    state.replyTo = null;
    form.setReplyTo(null);
    formSlot.append(form.element);
  }
  list.addEventListener("click", (event) => {
    const button = event.target.closest("[data-reply-to]");
    if (!button) return;
    const id = Number(button.dataset.replyTo);
    openReply({ id, author: { name: button.dataset.name } });
  });

  for (const comment of first.items) place(list, comment);
  more.hidden = state.pages <= 1;
  more.addEventListener("click", async () => {
    more.disabled = true;
    const next = await api.comments(post.slug, state.page + 1);
    state.page = next.page;
    state.pages = next.pages;
    for (const comment of next.items) place(list, comment);
    more.disabled = false;
    more.hidden = state.page >= state.pages;
  });

  // The reader's own comments still awaiting moderation; published ones are forgotten.
  const published = flatten(first.items);
  const pending = loadPending(post.id).filter((c) => !published.has(c.id));
  savePending(post.id, pending);
  for (const comment of pending) place(list, comment);

  replace(section,
    h("div", { class: "comments__header" }, count,
      h("a", { class: "feed-link", href: feed }, "Comments feed")),
    first.total || pending.length ? null : h("p", { class: "muted", id: "no-comments" }, "No comments yet. Start the conversation."),
    list,
    more,
    post.comments_open ? formSlot : h("p", { class: "notice" }, "Comments are closed."));
  if (post.comments_open) formSlot.append(form.element);
  return state;
}

/** Put a comment (with its replies) under its parent when that is shown, else at the end. */
function place(list, comment, { fresh = false } = {}) {
  const parent = comment.parent_id && document.getElementById(`comment-${comment.parent_id}`);
  const target = parent ? parent.querySelector(":scope > .thread") : list;
  const item = renderComment(comment, { fresh, postAuthor: list.dataset.postAuthor });
  (target || list).append(item);
  document.getElementById("no-comments")?.remove();
  if (fresh) item.scrollIntoView({ block: "nearest" });
}

function renderComment(comment, { fresh = false, postAuthor = null } = {}) {
  const pending = comment.status && comment.status !== "approved";
  const { author } = comment;
  const safeUrl = author.url && /^https?:\/\//.test(author.url) ? author.url : null;
  const name = safeUrl
    ? h("a", { class: "comment__author", href: safeUrl, rel: "ugc nofollow noopener", target: "_blank" }, author.name)
    : h("span", { class: "comment__author" }, author.name);
  return h("li", {
    id: `comment-${comment.id}`,
    class: `comment${pending ? " comment--pending" : ""}${fresh ? " comment--fresh" : ""}`,
    "data-comment-id": comment.id,
  },
  h("article", { class: "comment__body" },
    h("header", { class: "comment__header" },
      avatar(author.name, author.avatar_url),
      h("div", {},
        name,
        author.username && author.username === postAuthor ? h("span", { class: "badge" }, "Author")
          : author.is_registered ? h("span", { class: "badge" }, "Member") : null,
        h("a", { class: "comment__time", href: `#comment-${comment.id}` }, time(comment.created_at, true)))),
    pending
      ? h("p", { class: "comment__status", role: "status" },
        "Your comment is awaiting moderation. Only you can see it until it is approved.")
      : null,
    trustedHtml("div", comment.content_html, { class: "comment__content prose prose--small" }),
    pending ? null : h("button", {
      type: "button", class: "link-button", "data-reply-to": comment.id, "data-name": author.name,
      "aria-label": `Reply to ${author.name}`,
    }, "Reply")),
  h("ol", { class: "thread" }, (comment.replies || []).map((reply) => renderComment(reply, { postAuthor }))));
}

function field(label, input, hint) {
  return h("div", { class: "field" }, h("label", { for: input.id }, label), input,
    hint ? h("p", { class: "field__hint" }, hint) : null);
}

function commentForm(state, { onPosted, onCancel }) {
  const element = h("form", { class: "comment-form", novalidate: true });
  const title = h("h3", { id: "reply-title" }, "Leave a reply");
  const cancel = h("button", { type: "button", class: "link-button", hidden: true, onClick: onCancel }, "Cancel reply");
  const content = h("textarea", { id: "comment-content", name: "content", rows: 5, required: true, maxlength: 10000 });
  const status = h("p", { class: "form-status", role: "status", "aria-live": "polite" });
  const identity = h("div", { class: "identity" });
  const submit = h("button", { type: "submit", class: "button" }, "Post comment");
  // A honeypot: humans never see or fill it; bots that do are quietly binned by the API.
  const honeypot = h("div", { class: "honeypot", "aria-hidden": "true" },
    h("label", { for: "comment-homepage" }, "Leave this empty"),
    h("input", { id: "comment-homepage", name: "homepage", tabindex: "-1", autocomplete: "off" }));

  function renderIdentity() {
    const user = session.user();
    if (user) {
      replace(identity, h("p", { class: "signed-in" }, "Commenting as ", h("strong", {}, user.display_name), " · ",
        h("button", { type: "button", class: "link-button", onClick: () => { session.signOut(); renderIdentity(); } }, "Sign out")));
      return;
    }
    const guest = h("div", { class: "guest-fields" },
      field("Name", h("input", { id: "comment-name", name: "author_name", required: true, maxlength: 100, autocomplete: "name" })),
      field("Email", h("input", { id: "comment-email", name: "author_email", type: "email", required: true, autocomplete: "email" }),
        "Never shown publicly."),
      field("Website", h("input", { id: "comment-url", name: "author_url", type: "url", placeholder: "https://", autocomplete: "url" }),
        "Optional."));
    const toggle = h("button", { type: "button", class: "link-button" }, "Sign in to comment with your account");
    toggle.addEventListener("click", () => replace(identity, signInForm({ onDone: renderIdentity })));
    replace(identity, guest, h("p", { class: "muted" }, "Have an account? ", toggle));
  }
  renderIdentity();

  element.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(element);
    const payload = { content: String(data.get("content") || "").trim() };
    if (!payload.content) {
      status.textContent = "Please write a comment first.";
      content.focus();
      return;
    }
    if (state.replyTo) payload.parent_id = state.replyTo.id;
    if (data.get("homepage")) payload.homepage = data.get("homepage");
    if (!session.user()) {
      payload.author_name = String(data.get("author_name") || "").trim();
      payload.author_email = String(data.get("author_email") || "").trim();
      const url = String(data.get("author_url") || "").trim();
      if (url) payload.author_url = url;
      if (!payload.author_name || !payload.author_email) {
        status.textContent = "Please give your name and email address.";
        return;
      }
    }
    submit.disabled = true;
    status.textContent = "Posting…";
    try {
      const comment = await api.addComment(state.post.slug, payload);
      content.value = "";
      status.textContent = comment.status === "approved"
        ? "Thanks, your comment is published."
        : "Thanks! Your comment is awaiting moderation.";
      onPosted(comment);
    } catch (error) {
      status.textContent = error.status === 429
        ? "You are commenting too fast. Please wait a minute and try again."
        : error.message;
      if (error.status === 401) renderIdentity();
    } finally {
      submit.disabled = false;
    }
  });

  element.append(
    h("div", { class: "comment-form__header" }, title, cancel),
    identity,
    field("Comment", content, "Markdown: *emphasis*, [links](https://example.org), lists, quotes and `code`."),
    honeypot,
    h("div", { class: "comment-form__actions" }, submit, status));

  return {
    element,
    focus: () => content.focus(),
    setReplyTo(comment) {
      replace(title, comment ? `Reply to ${comment.author.name}` : "Leave a reply");
      cancel.hidden = !comment;
    },
  };
}

function signInForm({ onDone }) {
  const username = h("input", { id: "signin-username", name: "username", required: true, autocomplete: "username" });
  const password = h("input", { id: "signin-password", name: "password", type: "password", required: true, autocomplete: "current-password" });
  const error = h("p", { class: "form-status", role: "alert" });
  const button = h("button", { type: "button", class: "button button--quiet" }, "Sign in");
  // Not a <form>: it sits inside the comment form, and forms cannot nest.
  async function go() {
    button.disabled = true;
    error.textContent = "";
    try {
      await session.signIn(username.value.trim(), password.value);
      onDone();
    } catch (err) {
      error.textContent = err.status === 401 ? "Wrong username or password." : err.message;
    } finally {
      button.disabled = false;
    }
  }
  button.addEventListener("click", go);
  password.addEventListener("keydown", (event) => {
    if (event.key === "Enter") { event.preventDefault(); go(); }
  });
  return h("div", { class: "signin" },
    h("div", { class: "guest-fields" }, field("Username", username), field("Password", password)),
    h("div", { class: "comment-form__actions" }, button,
      h("button", { type: "button", class: "link-button", onClick: onDone }, "Comment as a guest"), error));
}
