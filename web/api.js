// api.js - the review app's calls to its server (src/web/api.c). Every write carries the
// CSRF token GET /api/session hands out, a JSON body, and the session cookie (same origin).
let session = null;

export async function getSession() {
  if (!session) {
    const r = await fetch('/api/session', { credentials: 'same-origin' });
    session = await r.json();
  }
  return session;
}

export function forgetSession() {
  session = null;
}

async function answer(r) {
  const body = await r.json().catch(() => ({ error: `${r.status} ${r.statusText}` }));
  if (!r.ok) {
    const e = new Error(body.error || `${r.status}`);
    e.status = r.status;
    throw e;
  }
  return body;
}

export async function get(path, params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const url = q.toString() ? `${path}?${q}` : path;
  return answer(await fetch(url, { credentials: 'same-origin' }));
}

export async function post(path, body) {
  const s = await getSession();
  return answer(await fetch(path, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf || '' },
    body: JSON.stringify(body),
  }));
}

export function decide(itemId, decision) {
  return post(`/api/items/${itemId}/decisions`, decision);
}
