// The network at a glance: every station with its connectors' live status
// (connector.status and station.* events patch the list in place), counts by
// status, energy today and the active sessions. Operators add stations here.
// The stations and the active sessions are sorted by the API (?sort=); live
// changes patch the list in place, and the next reload sorts again.
import { html, useState, useEffect, useMemo } from './vendor.js';
import { api, get, withQuery, enc } from './api.js';
import { subscribe } from './live.js';
import { useLoad, Badge, ErrorNote, Loading, Section, Input, Result, useAction, fmtTime, fmtWh, startOfToday, canOperate } from './ui.js';
import { SortTable } from './sessions.js';

// How the station cards can be ordered: API sorts.
const STATION_SORTS = [{ value: 'id', label: 'Id' }, { value: 'site', label: 'Site' },
  { value: '-connected', label: 'Online first' }, { value: '-last_heartbeat_at', label: 'Last heard from' },
  { value: '-created_at', label: 'Newest' }];
const ACTIVE_COLS = [{ label: 'Session', key: 'id', desc: true }, { label: 'Station', key: 'station_id' },
  { label: 'Connector' }, { label: 'Id token' }, { label: 'Started', key: 'started_at', desc: true },
  { label: 'Energy', key: 'energy_wh', desc: true }];

// A station's connectors that stand for charging points (connector 0 is the
// whole station, shown only when it is all there is).
export const points = (st) => {
  const c = (st.connectors || []).filter((x) => x.connector_id !== 0 || x.evse_id !== 0);
  return c.length ? c : st.connectors || [];
};

function upsertConnector(st, d) {
  const list = [...(st.connectors || [])];
  const i = list.findIndex((c) => c.evse_id === d.evse_id && c.connector_id === d.connector_id);
  const c = { ...(i >= 0 ? list[i] : {}), evse_id: d.evse_id, connector_id: d.connector_id, status: d.status,
    error_code: d.error_code || null, info: d.info || null, vendor_error_code: d.vendor_error_code || null, timestamp: d.timestamp };
  if (i >= 0) list[i] = c; else list.push(c);
  list.sort((a, b) => a.evse_id - b.evse_id || a.connector_id - b.connector_id);
  return { ...st, connectors: list };
}

// Applies one event to a list of stations; returns [list, needs a reload of station id].
export function applyStationEvent(list, type, d) {
  const i = list.findIndex((s) => s.id === d.station_id);
  if (i < 0) return [list, type !== 'station.deleted' ? d.station_id : null];
  const next = [...list];
  if (type === 'station.deleted') { next.splice(i, 1); return [next, null]; }
  if (type === 'connector.status') {
    if (d.current === false) return [list, null];
    next[i] = upsertConnector(list[i], d);
    return [next, null];
  }
  if (type === 'station.connected') { next[i] = { ...list[i], connected: true, protocol: d.protocol, peer: d.peer }; return [next, d.station_id]; }
  if (type === 'station.disconnected') { next[i] = { ...list[i], connected: false }; return [next, null]; }
  if (type === 'station.boot') {
    next[i] = { ...list[i], boot: { ...(list[i].boot || {}), vendor: d.vendor, model: d.model, firmware_version: d.firmware_version || null } };
    return [next, d.station_id];
  }
  return [list, d.station_id];
}

function AddStation({ onDone }) {
  const [form, set] = useState({ id: '', password: '', security_profile: '1', description: '' });
  const act = useAction();
  const submit = async (e) => {
    e.preventDefault();
    const body = { id: form.id.trim(), security_profile: Number(form.security_profile) };
    if (form.password) body.password = form.password;
    if (form.description) body.description = form.description;
    if (await act.run(`Station ${body.id} created`, () => api('POST', '/api/v1/stations', body))) {
      set({ id: '', password: '', security_profile: '1', description: '' });
      onDone();
    }
  };
  return html`<details class="card"><summary>Add a station</summary>
    <form class="grid-form" onSubmit=${submit}>
      <${Input} form=${form} set=${set} name="id" label="Station id" required placeholder="CP-001" />
      <${Input} form=${form} set=${set} name="password" label="Password (16–40 characters)" type="password" />
      <${Input} form=${form} set=${set} name="security_profile" label="Security profile"
        options=${[{ value: '0', label: '0: no authentication (lab only)' }, { value: '1', label: '1: Basic auth' }, { value: '2', label: '2: Basic auth over TLS' }]} />
      <${Input} form=${form} set=${set} name="description" label="Description" />
      <div class="form-actions"><button class="primary" disabled=${act.busy}>Add station</button></div>
    </form><${Result} result=${act.result} /></details>`;
}

export function Overview({ user }) {
  const [stationSort, setStationSort] = useState('id');
  const [activeSort, setActiveSort] = useState('-id');
  const stations = useLoad(() => get(withQuery('/api/v1/stations', { sort: stationSort })), [stationSort]);
  const active = useLoad(() => get(withQuery('/api/v1/sessions', { active: 'true', limit: 1000, sort: activeSort })), [activeSort]);
  const today = useLoad(() => get(withQuery('/api/v1/sessions', { from: startOfToday(), limit: 1000 })), []);
  const [filter, setFilter] = useState('');

  useEffect(() => subscribe(['station.', 'connector.status'], (type, d) => {
    let reload = null;
    stations.setData((cur) => {
      if (!cur) return cur;
      const [items, id] = applyStationEvent(cur.items, type, d);
      reload = id;
      return { ...cur, items };
    });
    if (reload) {
      get(`/api/v1/stations/${enc(reload)}`).then((st) => stations.setData((cur) => {
        if (!cur) return cur;
        const items = [...cur.items];
        const i = items.findIndex((s) => s.id === st.id);
        if (i >= 0) items[i] = st; else items.push(st);
        return { ...cur, items };
      }), () => {});
    }
  }), []);
  useEffect(() => subscribe(['transaction.started', 'transaction.ended'], () => { active.reload(); today.reload(); }), [active.reload]);
  useEffect(() => subscribe(['stream.gap'], () => { stations.reload(); active.reload(); today.reload(); }), [stations.reload, active.reload]);
  useEffect(() => subscribe(['meter.values'], (type, d) => {
    if (!d.session_id) return;
    const reg = (d.samples || []).filter((s) => (s.measurand || 'Energy.Active.Import.Register') === 'Energy.Active.Import.Register' && !s.phase).pop();
    if (!reg) return;
    const wh = Number(reg.value) * (/^k/.test(reg.unit || '') ? 1000 : 1);
    const patch = (cur) => cur && { ...cur, items: cur.items.map((s) => (s.id === d.session_id ? { ...s, energy_wh: wh - s.meter_start_wh } : s)) };
    active.setData(patch);
    today.setData(patch);
  }), []);

  const items = stations.data ? stations.data.items : [];
  const counts = useMemo(() => {
    const c = { Online: 0, Offline: 0 };
    const byStatus = {};
    for (const st of items) {
      c[st.connected ? 'Online' : 'Offline']++;
      for (const p of points(st)) {
        const s = st.connected ? p.status : 'Offline';
        byStatus[s] = (byStatus[s] || 0) + 1;
      }
    }
    return { c, byStatus };
  }, [items]);
  const energyToday = today.data ? today.data.items.reduce((a, s) => a + (s.energy_wh || 0), 0) : null;
  const shown = items.filter((s) => !filter || s.id.toLowerCase().includes(filter.toLowerCase()) ||
    (s.description || '').toLowerCase().includes(filter.toLowerCase()));
  const activeItems = active.data ? active.data.items : [];

  return html`<h1>Overview</h1>
  <div class="stats" role="list" aria-label="Network summary">
    <div class="stat" role="listitem"><span class="stat-n" data-stat="online">${counts.c.Online}</span><span>stations online</span></div>
    <div class="stat" role="listitem"><span class="stat-n" data-stat="offline">${counts.c.Offline}</span><span>offline</span></div>
    <div class="stat" role="listitem"><span class="stat-n" data-stat="active">${active.data ? activeItems.length : '—'}</span><span>active sessions</span></div>
    <div class="stat" role="listitem"><span class="stat-n" data-stat="energy-today">${fmtWh(energyToday)}</span><span>energy today</span></div>
  </div>
  <div class="status-counts" aria-label="Connectors by status">
    ${Object.entries(counts.byStatus).sort().map(([s, n]) => html`<span class="count"><${Badge} status=${s} /> ${n}</span>`)}
  </div>
  ${canOperate(user) ? html`<${AddStation} onDone=${stations.reload} />` : null}
  <${Section} title="Stations" id="stations-h" actions=${html`<label class="inline"><span class="sr-only">Filter stations</span>
      <input type="search" placeholder="Filter stations" value=${filter} onInput=${(e) => setFilter(e.target.value)} /></label>
      <label class="inline"><span class="sr-only">Sort stations</span>
      <select name="station-sort" value=${stationSort} onChange=${(e) => setStationSort(e.target.value)}>
        ${STATION_SORTS.map((o) => html`<option value=${o.value}>Sort: ${o.label}</option>`)}</select></label>`}>
    <${Loading} loading=${stations.loading && !stations.data} />
    <${ErrorNote} error=${stations.error} />
    <ul class="station-list" aria-label="Stations">
      ${shown.map((st) => html`<li class="station" key=${st.id} data-station=${st.id}>
        <div class="station-head">
          <a class="station-id" href=${`#/stations/${enc(st.id)}`}>${st.id}</a>
          <${Badge} status=${st.connected ? 'Online' : 'Offline'} />
          ${st.registration_status !== 'Accepted' ? html`<${Badge} status=${st.registration_status} />` : null}
        </div>
        <div class="muted small">${[st.boot && st.boot.vendor, st.boot && st.boot.model].filter(Boolean).join(' · ') || 'not booted yet'}
          ${st.description ? html` — ${st.description}` : null}</div>
        <div class="connectors">${points(st).map((c) => html`<span class="conn" data-connector=${`${c.evse_id}/${c.connector_id}`}>
          <span class="conn-n">#${c.evse_id}${c.connector_id > 1 ? `-${c.connector_id}` : ''}</span>
          <${Badge} status=${st.connected ? c.status : 'Offline'} /></span>`)}</div>
      </li>`)}
      ${!stations.loading && !shown.length ? html`<li class="muted">No stations${filter ? ' match' : ' yet'}.</li>` : null}
    </ul>
  <//>
  <${Section} title="Active sessions" id="active-h">
    <${ErrorNote} error=${active.error} />
    <${SortTable} label="Active sessions" cols=${ACTIVE_COLS} sort=${activeSort} onSort=${setActiveSort}
      empty="No session is running." rows=${activeItems.map((s) => html`<tr key=${s.id}>
        <td><a href=${`#/sessions/${s.id}`}>#${s.id}</a></td>
        <td><a href=${`#/stations/${enc(s.station_id)}`}>${s.station_id}</a></td>
        <td>${s.evse_id}</td><td>${s.id_token}</td><td>${fmtTime(s.started_at)}</td><td>${fmtWh(s.energy_wh)}</td></tr>`)} />
  <//>`;
}
