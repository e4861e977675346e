// Shared pieces: formatting, data loading, status badges, form fields and the
// boxes that show a station's answer. Everything renders through htm/preact,
// which puts strings into text nodes: nothing a station sends is ever parsed
// as markup.
import { html, useState, useEffect, useCallback, useRef } from './vendor.js';
import { ApiError } from './api.js';

export const fmtTime = (iso) => {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString();
};

export const fmtWh = (wh) => {
  if (wh === null || wh === undefined || Number.isNaN(Number(wh))) return '—';
  const n = Number(wh);
  return Math.abs(n) >= 1000 ? `${(n / 1000).toFixed(2)} kWh` : `${Math.round(n)} Wh`;
};

export const fmtW = (w) => {
  if (w === null || w === undefined || Number.isNaN(Number(w))) return '—';
  const n = Number(w);
  return Math.abs(n) >= 1000 ? `${(n / 1000).toFixed(2)} kW` : `${Math.round(n)} W`;
};

export const fmtDuration = (s) => {
  if (s === null || s === undefined) return '—';
  s = Math.max(0, Math.round(s));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
  return h ? `${h} h ${m} min` : m ? `${m} min` : `${s} s`;
};

export const json = (v) => (v === null || v === undefined ? '—' : typeof v === 'string' ? v : JSON.stringify(v));

// Today's midnight (local time) as RFC 3339.
export const startOfToday = () => { const d = new Date(); d.setHours(0, 0, 0, 0); return d.toISOString(); };

// Loads data with fn() and reloads when deps change.
export function useLoad(fn, deps) {
  const [st, setSt] = useState({ data: null, error: null, loading: true });
  const seq = useRef(0);
  const reload = useCallback(() => {
    const my = ++seq.current;
    setSt((s) => ({ ...s, loading: true }));
    return Promise.resolve().then(fn).then(
      (data) => { if (my === seq.current) setSt({ data, error: null, loading: false }); },
      (error) => { if (my === seq.current) setSt({ data: null, error, loading: false }); });
  }, deps);
  useEffect(() => { reload(); }, [reload]);
  const setData = (f) => setSt((s) => ({ ...s, data: typeof f === 'function' ? f(s.data) : f }));
  return { ...st, reload, setData };
}

const STATUS_CLASS = {
  Available: 'ok', Charging: 'busy', Occupied: 'busy', Preparing: 'busy', SuspendedEV: 'busy',
  SuspendedEVSE: 'busy', Finishing: 'busy', Reserved: 'warn', Unavailable: 'off', Faulted: 'bad',
  Online: 'ok', Offline: 'off', Accepted: 'ok', Pending: 'warn', Rejected: 'bad', Blocked: 'bad',
  Expired: 'off', Invalid: 'bad', Active: 'busy', Ended: 'off', Enabled: 'ok', Disabled: 'off',
};

export function Badge({ status }) {
  const s = status || 'Unknown';
  return html`<span class=${`badge ${STATUS_CLASS[s] || 'other'}`}>${s}</span>`;
}

// A visible message for an error; a missing endpoint (404/405) is a feature
// this server does not have yet.
export function ErrorNote({ error, what }) {
  if (!error) return null;
  if (error instanceof ApiError && (error.status === 404 || error.status === 405) && what) {
    return html`<p class="note" role="status">${what} is not available on this server yet.</p>`;
  }
  if (error instanceof ApiError && error.status === 403) {
    return html`<p class="note" role="status">Your role may not see this: ${error.message}</p>`;
  }
  return html`<p class="error" role="alert">${error.message || String(error)}</p>`;
}

export function Loading({ loading }) {
  return loading ? html`<p class="muted" aria-live="polite">Loading…</p>` : null;
}

// The answer of a command or change: the station's payload, or the error.
export function Result({ result }) {
  if (!result) return null;
  if (result.error) {
    return html`<div class="result bad" role="alert"><strong>${result.label}: failed</strong>
      <span> ${result.error.message}</span></div>`;
  }
  const status = result.value && typeof result.value === 'object' ? result.value.status : null;
  return html`<div class="result ok" role="status"><strong>${result.label}</strong>
    ${status ? html` <${Badge} status=${status} />` : null}
    <pre>${JSON.stringify(result.value, null, 2)}</pre></div>`;
}

// Runs an async action, remembering its outcome for <Result>.
export function useAction() {
  const [result, setResult] = useState(null);
  const [busy, setBusy] = useState(false);
  const run = async (label, fn) => {
    setBusy(true);
    setResult(null);
    try {
      const value = await fn();
      setResult({ label, value });
      return value;
    } catch (error) {
      setResult({ label, error });
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  return { result, busy, run, clear: () => setResult(null) };
}

export function Field({ label, children, hint }) {
  return html`<label class="field"><span>${label}</span>${children}${hint ? html`<small>${hint}</small>` : null}</label>`;
}

// A text/number/select input bound to form state f[name].
export function Input({ form, set, name, label, type = 'text', required, placeholder, options, hint, min }) {
  const onInput = (e) => set({ ...form, [name]: e.target.value });
  const input = options
    ? html`<select name=${name} value=${form[name]} onChange=${onInput}>${options.map((o) =>
      html`<option value=${typeof o === 'string' ? o : o.value}>${typeof o === 'string' ? o : o.label}</option>`)}</select>`
    : html`<input name=${name} type=${type} value=${form[name]} onInput=${onInput} required=${required}
        placeholder=${placeholder} min=${min} autocomplete="off" />`;
  return html`<${Field} label=${label} hint=${hint}>${input}<//>`;
}

export function Table({ head, rows, empty = 'Nothing here yet.', label }) {
  return html`<div class="table-wrap" role="region" aria-label=${label} tabindex="0">
    <table><thead><tr>${head.map((h) => html`<th scope="col">${h}</th>`)}</tr></thead>
    <tbody>${rows.length ? rows : html`<tr><td colspan=${head.length} class="muted">${empty}</td></tr>`}</tbody></table></div>`;
}

export function Section({ title, children, actions, id }) {
  return html`<section class="card" aria-labelledby=${id}>
    <header class="card-head"><h2 id=${id}>${title}</h2>${actions ? html`<div class="actions">${actions}</div>` : null}</header>
    ${children}</section>`;
}

export const canOperate = (user) => user && ['operator', 'admin', 'unknown'].includes(user.role);
export const canStations = (user) => user && ['technician', 'operator', 'admin', 'unknown'].includes(user.role);
export const isAdmin = (user) => user && ['admin', 'unknown'].includes(user.role);
