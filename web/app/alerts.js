// Alerts: what the fault-detection rules raised, newest first, with filters
// (kept in the URL fragment, so a view can be bookmarked), live updates from
// the event stream (alert.* events), and Acknowledge / Resolve for the roles
// that may (technician, operator, admin). Also the count of active alerts in
// the navigation and a station's open alerts on its page.
import { html, useState, useEffect, useRef } from './vendor.js';
import { api, get, withQuery, enc } from './api.js';
import { subscribe } from './live.js';
import { ErrorNote, Loading, Table, Input, Section, fmtTime, canStations } from './ui.js';

const PAGE = 50;
const SEVERITY_CLASS = { critical: 'bad', major: 'bad', minor: 'warn', warning: 'warn', info: 'other' };
const STATE_CLASS = { active: 'bad', acknowledged: 'warn', resolved: 'ok' };
const toIso = (local) => (local ? new Date(local).toISOString() : '');

export function SeverityBadge({ severity }) {
  return html`<span class=${`badge ${SEVERITY_CLASS[severity] || 'other'}`}>${severity}</span>`;
}

function StateBadge({ state }) {
  return html`<span class=${`badge ${STATE_CLASS[state] || 'other'}`}>${state}</span>`;
}

const where = (a) => (a.connector ? (a.connector.connector_id <= 1 ? `Connector ${a.connector.evse_id}`
  : `EVSE ${a.connector.evse_id} / ${a.connector.connector_id}`) : 'Station');

// Calls fn at most once per `ms` (the last call wins): bursts of events
// become one reload.
function useDebounced(fn, ms) {
  const t = useRef(null);
  const latest = useRef(fn);
  latest.current = fn;
  useEffect(() => () => clearTimeout(t.current), []);
  return () => { clearTimeout(t.current); t.current = setTimeout(() => latest.current(), ms); };
}

// Acknowledge / Resolve with an optional note, inline in the row.
function AlertActions({ alert, onDone }) {
  const [mode, setMode] = useState(null); /* 'acknowledge' | 'resolve' */
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  if (alert.state === 'resolved') return null;
  const send = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const updated = await api('POST', `/api/v1/alerts/${alert.id}/${mode}`, note.trim() ? { note: note.trim() } : {});
      setMode(null);
      setNote('');
      onDone(updated);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  if (!mode) {
    return html`<div class="actions">
      ${alert.state === 'active' ? html`<button onClick=${() => setMode('acknowledge')}>Acknowledge</button>` : null}
      <button onClick=${() => setMode('resolve')}>Resolve</button></div>`;
  }
  return html`<form class="inline-form" onSubmit=${send} aria-label=${`${mode} alert ${alert.id}`}>
    <input name="note" value=${note} onInput=${(e) => setNote(e.target.value)} maxlength="500"
      placeholder="Note (optional)" aria-label="Note" autocomplete="off" />
    <button class="primary" disabled=${busy}>${mode === 'acknowledge' ? 'Acknowledge' : 'Resolve'}</button>
    <button type="button" onClick=${() => { setMode(null); setError(null); }}>Cancel</button>
    <${ErrorNote} error=${error} /></form>`;
}

// What an alert is about: its station, or (campaign_paused) its campaign.
function subject(a) {
  if (a.station_id) return html`<a href=${`#/stations/${enc(a.station_id)}`}>${a.station_id}</a>`;
  const c = a.details && a.details.campaign_id;
  if (a.rule === 'campaign_paused' && c) return html`<a href=${`#/campaigns/${c}`}>campaign ${c}</a>`;
  return '—';
}

function AlertRows({ items, user, onChanged, station = true }) {
  return items.map((a) => html`<tr key=${a.id} data-alert=${a.id}>
    <td><${SeverityBadge} severity=${a.severity} /></td>
    <td class="wrap"><strong>${a.title}</strong>
      <div class="small muted">#${a.id} · ${a.rule}${a.count > 1 ? ` · ${a.count}×` : ''}</div>
      ${a.details && Object.keys(a.details).length ? html`<details><summary class="small">details</summary>
        <pre>${JSON.stringify(a.details, null, 2)}</pre></details>` : null}</td>
    ${station ? html`<td>${subject(a)}</td>` : null}
    <td>${where(a)}</td>
    <td>${fmtTime(a.first_seen)}${a.last_seen !== a.first_seen ? html`<div class="small muted">last ${fmtTime(a.last_seen)}</div>` : null}</td>
    <td><${StateBadge} state=${a.state} />
      ${a.acknowledged_by ? html`<div class="small muted">ack: ${a.acknowledged_by}${a.ack_note ? ` — ${a.ack_note}` : ''}</div>` : null}
      ${a.resolved_by ? html`<div class="small muted">${a.resolved_by === 'auto' ? 'cleared by itself' : `by ${a.resolved_by}`}${a.resolve_note ? ` — ${a.resolve_note}` : ''}</div>` : null}</td>
    ${canStations(user) ? html`<td><${AlertActions} alert=${a} onDone=${onChanged} /></td>` : null}
  </tr>`);
}

const head = (user, station = true) => ['Severity', 'Alert', ...(station ? ['Station'] : []), 'Where', 'Seen', 'State',
  ...(canStations(user) ? ['Action'] : [])];

function Rules() {
  const [rules, setRules] = useState(null);
  const [error, setError] = useState(null);
  const load = () => { if (!rules) get('/api/v1/alert-rules').then(setRules, setError); };
  return html`<details class="card" onToggle=${(e) => e.target.open && load()}><summary>Rules</summary>
    <${ErrorNote} error=${error} what="The rule list" />
    ${rules ? html`<${Table} label="Alert rules" head=${['Rule', 'Enabled', 'Severity', 'What', 'Thresholds']}
      rows=${rules.rules.map((r) => html`<tr key=${r.rule}><td><code>${r.rule}</code></td><td>${r.enabled ? 'yes' : 'no'}</td>
        <td><${SeverityBadge} severity=${r.severity} /></td><td class="wrap small">${r.description}</td>
        <td class="small">${Object.entries(r.thresholds).map(([k, v]) => html`<div>${k} = ${String(v)}</div>`)}</td></tr>`)} />` : null}
  </details>`;
}

export function AlertsPage({ user, query }) {
  const initial = { state: query.state || 'open', severity: query.severity || '', rule: query.rule || '',
    station: query.station || '', site: query.site || '', since: query.since || '' };
  const [f, set] = useState(initial);
  const [items, setItems] = useState([]);
  const [cursor, setCursor] = useState(null);
  const [error, setError] = useState(null);
  const [loading, setLoading] = useState(true);
  const q = JSON.stringify(initial);
  const load = async (more) => {
    setLoading(true);
    try {
      const r = await get(withQuery('/api/v1/alerts', { ...initial, state: initial.state === 'all' ? '' : initial.state,
        since: toIso(initial.since), limit: PAGE, cursor: more ? cursor : '' }));
      setItems((cur) => (more ? [...cur, ...(r.items || [])] : r.items || []));
      setCursor(r.next_cursor || null);
      setError(null);
    } catch (e) {
      setError(e);
    } finally {
      setLoading(false);
    }
  };
  const reload = useDebounced(() => load(false), 300);
  useEffect(() => { load(false); }, [q]);
  useEffect(() => subscribe(['alert.', 'stream.gap'], () => reload()), [q]);
  const go = (x) => { location.hash = withQuery('#/alerts', x); };
  const onChanged = (a) => setItems((cur) => cur.map((x) => (x.id === a.id ? a : x)));
  return html`<h1>Alerts</h1>
    <form class="card grid-form filters" onSubmit=${(e) => { e.preventDefault(); go({ ...f }); }} aria-label="Filter alerts">
      <${Input} form=${f} set=${set} name="state" label="State" options=${['open', 'active', 'acknowledged', 'resolved', 'all']} />
      <${Input} form=${f} set=${set} name="severity" label="Severity" options=${[{ value: '', label: 'all' }, 'critical', 'major', 'minor', 'warning', 'info']} />
      <${Input} form=${f} set=${set} name="rule" label="Rule" options=${[{ value: '', label: 'all' }, 'connector_faulted', 'station_offline', 'reboot_loop',
        'session_stuck', 'meter_backwards', 'meter_jump', 'connector_unavailable', 'failed_starts', 'security_event', 'firmware_failed', 'parts_low_stock',
        'campaign_paused', 'profiles_refused']} />
      <${Input} form=${f} set=${set} name="station" label="Station" />
      <${Input} form=${f} set=${set} name="site" label="Site" />
      <${Input} form=${f} set=${set} name="since" label="Changed since" type="datetime-local" />
      <div class="form-actions"><button class="primary">Apply</button>
        <button type="button" onClick=${() => { const c = { state: 'open', severity: '', rule: '', station: '', site: '', since: '' }; set(c); go({}); }}>Clear</button></div>
    </form>
    <${ErrorNote} error=${error} what="Alerts" />
    ${!error ? html`<${Table} label="Alerts" head=${head(user)} empty="No alert matches."
      rows=${AlertRows({ items, user, onChanged })} />` : null}
    <${Loading} loading=${loading} />
    ${cursor && !loading ? html`<div class="pager"><button onClick=${() => load(true)}>Load more</button></div>` : null}
    <${Rules} />`;
}

// The number of active (not yet acknowledged) alerts, for the navigation.
export function AlertCount() {
  const [n, setN] = useState(null);
  const load = async () => {
    try {
      const r = await get(withQuery('/api/v1/alerts', { state: 'active', limit: 500 }));
      setN(r.items.length + (r.next_cursor ? 1 : 0));
    } catch (_) {
      setN(null);
    }
  };
  const reload = useDebounced(load, 1000);
  useEffect(() => { load(); return subscribe(['alert.', 'stream.gap'], () => reload()); }, []);
  if (!n) return null;
  const label = n > 500 ? '500+' : String(n);
  return html` <span class="badge bad nav-count" aria-label=${`${label} active alerts`}>${label}</span>`;
}

// A station's open alerts (its page).
export function StationAlerts({ id, user }) {
  const [items, setItems] = useState(null);
  const [error, setError] = useState(null);
  const load = () => get(withQuery('/api/v1/alerts', { station: id, state: 'open', limit: 100 }))
    .then((r) => { setItems(r.items || []); setError(null); }, setError);
  const reload = useDebounced(load, 300);
  useEffect(() => { load(); }, [id]);
  useEffect(() => subscribe(['alert.', 'stream.gap'], (type, d) => { if (type === 'stream.gap' || d.station_id === id) reload(); }), [id]);
  const onChanged = (a) => setItems((cur) => (cur || []).map((x) => (x.id === a.id ? a : x)).filter((x) => x.state !== 'resolved'));
  return html`<${Section} title="Open alerts" id="alerts-h"
      actions=${html`<a href=${withQuery('#/alerts', { station: id, state: 'all' })}>All of this station's alerts</a>`}>
    <${ErrorNote} error=${error} what="Alerts" />
    ${items ? html`<${Table} label="Open alerts" head=${head(user, false)} empty="No open alerts."
      rows=${AlertRows({ items, user, onChanged, station: false })} />` : html`<${Loading} loading=${!error} />`}
  <//>`;
}
