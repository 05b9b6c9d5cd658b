// The public HTTP API, and nothing else: every request the frontend makes goes through here.

const meta = document.querySelector('meta[name="inkwell-api"]');
export const API = new URL(meta?.content || "/api/v1", location.href).href.replace(/\/$/, "");
/** Feeds live at the API server's root, not under /api/v1. */
export const SITE = new URL("/", API).href.replace(/\/$/, "");

const TOKEN_KEY = "inkwell:token";
const USER_KEY = "inkwell:user";

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `Request failed (${status})`);
    this.status = status;
    this.problem = problem || {};
  }
}

function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params || {})) {
    for (const v of [].concat(value)) {
      if (v !== undefined && v !== null && v !== "") search.append(key, String(v));
    }
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

export async function request(path, { method = "GET", params, json, form, signal } = {}) {
  const headers = { Accept: "application/json" };
  const token = session.token();
  if (token) headers.Authorization = `Bearer ${token}`;
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form) {
    body = new URLSearchParams(form);
  }
  const response = await fetch(API + path + query(params), { method, headers, body, signal });
  if (response.status === 401 && token) session.signOut(); // expired or revoked token
  if (!response.ok) {
    let problem = null;
    try { problem = await response.json(); } catch { /* not JSON */ }
    throw new ApiError(response.status, problem);
  }
  return response.status === 204 ? null : response.json();
}

export const api = {
  posts: (params, signal) => request("/posts", { params, signal }),
  post: (slug, signal) => request(`/posts/${encodeURIComponent(slug)}`, { signal }),
  related: (slug, signal) => request(`/posts/${encodeURIComponent(slug)}/related`, { params: { limit: 4 }, signal }),
  comments: (slug, page, signal) =>
    request(`/posts/${encodeURIComponent(slug)}/comments`, { params: { page, per_page: 50 }, signal }),
  addComment: (slug, comment) => request(`/posts/${encodeURIComponent(slug)}/comments`, { method: "POST", json: comment }),
  tags: (signal) => request("/tags", { signal }),
  authors: (signal) => request("/authors", { signal }),
  author: (username, signal) => request(`/authors/${encodeURIComponent(username)}`, { signal }),
  search: (params, signal) => request("/search", { params, signal }),
  suggest: (q, signal) => request("/search/suggest", { params: { q, limit: 6 }, signal }),
  signIn: (username, password) => request("/auth/token", { method: "POST", form: { username, password } }),
  me: () => request("/users/me"),
};

/** Feed URLs for a path such as "/tags/running/feed.xml", with optional query parameters. */
export function feedUrl(path, params) {
  return SITE + path + query(params);
}

/** The signed-in user: a bearer token in sessionStorage (gone when the tab closes). */
export const session = {
  token: () => sessionStorage.getItem(TOKEN_KEY),
  user: () => JSON.parse(sessionStorage.getItem(USER_KEY) || "null"),
  async signIn(username, password) {
    const { access_token: token } = await api.signIn(username, password);
    sessionStorage.setItem(TOKEN_KEY, token);
    const me = await api.me();
    sessionStorage.setItem(USER_KEY, JSON.stringify({ username: me.username, display_name: me.display_name }));
    return me;
  },
  signOut() {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(USER_KEY);
  },
};
