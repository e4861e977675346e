// The HTTP API as the dashboard uses it: same-origin fetch with the session
// cookie (POST /api/v1/auth/login) and the CSRF token on every change, or a
// bearer API token kept in this tab's sessionStorage when an operator signs
// in with one. Errors become ApiError with the server's problem+json detail.

const TOKEN_KEY = 'ampgrid.apiToken';
// Set while this browser holds a session cookie (which scripts cannot see,
// being HttpOnly), so a first visit does not ask /auth/me for a certain 401.
const SIGNED_IN_KEY = 'ampgrid.signedIn';
const auth = { csrf: null, token: sessionStorage.getItem(TOKEN_KEY), user: null };
let onUnauthorized = () => {};

export class ApiError extends Error {
  constructor(status, title, detail) {
    super(detail || title || `HTTP ${status}`);
    this.status = status;
    this.title = title;
  }
}

export function setUnauthorizedHandler(fn) { onUnauthorized = fn; }

export async function api(method, path, body) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (auth.token) headers.authorization = `Bearer ${auth.token}`;
  else if (auth.csrf && method !== 'GET' && method !== 'HEAD') headers['x-csrf-token'] = auth.csrf;
  let r;
  try {
    r = await fetch(path, {
      method, headers, credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, 'Network error', 'the server cannot be reached');
  }
  if (r.status === 204) return null;
  const text = await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (_) { data = null; }
  if (!r.ok) {
    const err = new ApiError(r.status, data && data.title, data && data.detail);
    if (r.status === 401 && !path.startsWith('/api/v1/auth/')) {
      localStorage.removeItem(SIGNED_IN_KEY);
      onUnauthorized(err);
    }
    throw err;
  }
  return data;
}

export const get = (path) => api('GET', path);

// Builds "path?a=1&b=2" from an object, leaving out empty values.
export function withQuery(path, q) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q || {})) if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `${path}?${s}` : path;
}

export const enc = encodeURIComponent;

function remember(res) {
  auth.csrf = res && res.csrf_token ? res.csrf_token : null;
  auth.user = res && res.user ? res.user : null;
  return auth.user;
}

export async function login(username, password) {
  auth.token = null;
  sessionStorage.removeItem(TOKEN_KEY);
  const user = remember(await api('POST', '/api/v1/auth/login', { username, password }));
  localStorage.setItem(SIGNED_IN_KEY, '1');
  return user;
}

// Signs in with an API token: checks it against a route every role may read.
export async function loginWithToken(token) {
  auth.token = token;
  try {
    let user;
    try {
      user = remember(await api('GET', '/api/v1/auth/me'));
    } catch (e) {
      if (e.status !== 404) throw e;
      await api('GET', '/api/v1/stations?connected=true');
      user = { username: 'API token', role: 'unknown' };
    }
    sessionStorage.setItem(TOKEN_KEY, token);
    auth.user = user;
    return user;
  } catch (e) {
    auth.token = null;
    throw e;
  }
}

// Who is signed in (the cookie or the stored token), or null.
export async function currentUser() {
  if (auth.token) {
    try { return await loginWithToken(auth.token); } catch (_) { return null; }
  }
  if (!localStorage.getItem(SIGNED_IN_KEY)) return null;
  try {
    return remember(await api('GET', '/api/v1/auth/me'));
  } catch (_) {
    localStorage.removeItem(SIGNED_IN_KEY);
    return null;
  }
}

// local: the server has ended the session already (a password change).
export async function logout({ local = false } = {}) {
  if (!auth.token && !local) {
    try { await api('POST', '/api/v1/auth/logout'); } catch (_) { /* signed out anyway */ }
  }
  auth.token = null;
  auth.csrf = null;
  auth.user = null;
  sessionStorage.removeItem(TOKEN_KEY);
  localStorage.removeItem(SIGNED_IN_KEY);
}

// The event stream's URL: the cookie goes along by itself; a bearer token
// travels as ?access_token= (EventSource cannot send headers).
export function eventsUrl() {
  return auth.token ? `/api/v1/events?access_token=${enc(auth.token)}` : '/api/v1/events';
}

// A file as a request body with its own Content-Type (work order attachments).
export async function upload(path, file) {
  const headers = { accept: 'application/json', 'content-type': file.type || 'application/octet-stream' };
  if (auth.token) headers.authorization = `Bearer ${auth.token}`;
  else if (auth.csrf) headers['x-csrf-token'] = auth.csrf;
  const r = await fetch(path, { method: 'POST', headers, credentials: 'same-origin', body: file });
  const data = await r.json().catch(() => null);
  if (!r.ok) throw new ApiError(r.status, data && data.title, data && data.detail);
  return data;
}

// A file from the API, saved by the browser under name (works with a bearer
// token too, which a plain link would not send).
export async function download(path, name) {
  const headers = {};
  if (auth.token) headers.authorization = `Bearer ${auth.token}`;
  const r = await fetch(path, { headers, credentials: 'same-origin' });
  if (!r.ok) {
    const data = await r.json().catch(() => null);
    throw new ApiError(r.status, data && data.title, data && data.detail);
  }
  const url = URL.createObjectURL(await r.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
