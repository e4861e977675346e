// Load management: the sites with a capacity tree, and per site its tree with
// each node's limit and live load per phase (bars), each session's grant and
// its history as a chart, the stations held or flagged, the demand-response
// limits in force, and (for operators) the tree itself as JSON to edit.
import { html, useState, useEffect } from './vendor.js';
import { api, get, enc } from './api.js';
import { useLoad, useAction, ErrorNote, Loading, Result, Section, Table, fmtTime, canOperate } from './ui.js';
import { Chart } from './chart.js';
import { DemandResponseSection } from './demand.js';

const amps = (v) => (v === null || v === undefined ? '—' : `${Number(v).toLocaleString(undefined, { maximumFractionDigits: 1 })} A`);
const COLORS = ['#1f6feb', '#d29922', '#8250df', '#2da44e', '#cf222e', '#0a7ea4', '#bf3989', '#6e7781'];
const REFRESH_MS = 5000;

// Reloads every few seconds while the page is open.
function useRefresh(reload) {
  useEffect(() => {
    const t = setInterval(() => reload(), REFRESH_MS);
    return () => clearInterval(t);
  }, [reload]);
}

// One phase's load against its limit, as a bar.
function PhaseBar({ phase, load, limit }) {
  if (limit === 0 && !load) return null;
  const pct = limit ? Math.min(100, (100 * load) / limit) : 0;
  const cls = pct >= 99.5 ? 'bad' : pct >= 85 ? 'warn' : 'ok';
  return html`<div class="phase-bar" title=${`L${phase + 1}: ${amps(load)} of ${limit === null ? 'no limit' : amps(limit)}`}>
    <span class="phase-label">L${phase + 1}</span>
    <span class="bar-track" role="meter" aria-valuemin="0" aria-valuemax=${limit ?? 0} aria-valuenow=${load}
      aria-label=${`L${phase + 1} load`}><span class=${`bar-fill ${cls}`} style=${`width:${limit ? pct : 0}%`}></span></span>
    <span class="phase-value">${amps(load)} / ${limit === null ? '∞' : amps(limit)}</span></div>`;
}

function depthOf(nodes, n) {
  let d = 0;
  for (let p = n.parent; p; p = (nodes.find((x) => x.id === p) || {}).parent) d++;
  return d;
}

function TreeTable({ alloc }) {
  const rows = alloc.nodes.map((n) => html`<tr key=${n.id} data-node=${n.id}>
    <th scope="row" style=${`padding-left:${0.5 + depthOf(alloc.nodes, n) * 1.2}rem`}>${n.id}</th><td>${n.kind.replace('_', ' ')}</td>
    <td>${[0, 1, 2].map((p) => html`<${PhaseBar} phase=${p} load=${n.load_a[p]} limit=${n.limit_a[p]} />`)}</td>
    <td>${n.reserved_a.some((x) => x) ? `${n.reserved_a.map(amps).join(' / ')} (${n.reserved_source})` : '—'}</td></tr>`);
  return html`<${Table} label="Capacity tree" head=${['Node', 'Kind', 'Load per phase', 'Non-EV load']} rows=${rows} />`;
}

function EvseTable({ alloc }) {
  const rows = alloc.evses.map((e) => html`<tr key=${`${e.station_id}/${e.evse_id}`}>
    <td><a href=${`#/stations/${enc(e.station_id)}`}>${e.station_id}</a> / ${e.evse_id}</td>
    <td>${e.session_id ? html`<a href=${`#/sessions/${e.session_id}`}>${e.session_id}</a>` : '—'}</td>
    <td>${e.active ? amps(e.grant_a) : '—'}${e.deferred ? html` <span class="badge warn" title="time of use: cheaper hours ahead still meet its need">waiting for price until ${fmtTime(e.plan)}</span>` : e.paused ? html` <span class="badge warn">paused</span>` : null}
      ${e.held ? html` <span class="badge off" title="station disconnected or flagged: counted at what it may draw">held</span>` : null}</td>
    <td>${amps(e.sent_a)}</td><td>${amps(e.draw_a)}</td><td>${e.priority}</td>
    <td>${e.need_wh ? `${(e.need_wh / 1000).toFixed(1)} kWh by ${fmtTime(e.departure)}` : '—'}
      ${e.unsatisfied ? html` <span class="badge bad">cannot be met</span>` : null}</td>
    <td>${e.verify ? html`${amps(e.verify.limit_a)} ${e.verify.matches ? '✓' : html`<span class="badge bad">mismatch</span>`}` : '—'}</td></tr>`);
  return html`<${Table} label="EVSE allocations" head=${['EVSE', 'Session', 'Granted', 'Sent', 'Drawing', 'Priority', 'Need', 'Station applies']} rows=${rows} />`;
}

function StationTable({ alloc }) {
  const rows = alloc.stations.map((s) => html`<tr key=${s.station_id}>
    <td><a href=${`#/stations/${enc(s.station_id)}`}>${s.station_id}</a></td><td>${s.node}</td>
    <td><span class=${`badge ${s.connected ? 'ok' : 'off'}`}>${s.connected ? 'connected' : 'offline'}</span></td>
    <td>${amps(s.failsafe_a)}</td><td>${amps(s.default_profile_a)}</td>
    <td>${s.flagged ? html`<span class="badge bad">flagged</span> ${s.flag_reason} (${fmtTime(s.flagged_at)})` : '—'}</td></tr>`);
  return html`<${Table} label="Stations" head=${['Station', 'Node', 'Link', 'Failsafe', 'Default profile held', 'Profiles']} rows=${rows} />`;
}

// Site load per phase and its limit, then one line per session's grant.
function HistoryCharts({ history }) {
  const s = history.samples;
  if (!s.length) return html`<p class="muted">No samples yet.</p>`;
  const xs = s.map((x) => Date.parse(x.at) / 1000);
  const load = [0, 1, 2].map((p) => s.map((x) => x.load_a[p]));
  const limit = s.map((x) => Math.min(...x.limit_a.filter((v) => v !== null)));
  const keys = [...new Set(s.flatMap((x) => Object.keys(x.grants)))].slice(0, 24);
  return html`
    <${Chart} title="Site load per phase" summary="Load on each phase of the grid connection and its limit"
      series=${[...[0, 1, 2].map((p) => ({ label: `L${p + 1}`, color: COLORS[p], fmt: amps })), { label: 'limit', color: '#cf222e', fmt: amps }]}
      data=${[xs, ...load, limit]} />
    ${keys.length ? html`<${Chart} title="Grant per session" summary="Current granted to each EVSE over time"
      series=${keys.map((k, i) => ({ label: k, color: COLORS[i % COLORS.length], fmt: amps }))}
      data=${[xs, ...keys.map((k) => s.map((x) => (k in x.grants ? x.grants[k] : null)))]} />` : null}`;
}

function TreeEditor({ site, onSaved }) {
  const tree = useLoad(() => get(`/api/v1/sites/${enc(site)}/capacity`).catch((e) => (e.status === 404 ? null : Promise.reject(e))), [site]);
  const [text, setText] = useState(null);
  const act = useAction();
  const shown = text ?? (tree.data ? JSON.stringify(tree.data, null, 2) : '');
  const save = async (e) => {
    e.preventDefault();
    let body;
    try { body = JSON.parse(shown); } catch (err) { act.run('Capacity tree', () => Promise.reject(new Error(`not JSON: ${err.message}`))); return; }
    if (await act.run('Capacity tree saved', () => api('PUT', `/api/v1/sites/${enc(site)}/capacity`, body))) { setText(null); tree.reload(); onSaved(); }
  };
  return html`<form onSubmit=${save} aria-label="Edit the capacity tree">
    <${ErrorNote} error=${tree.error} />
    <textarea class="code" rows="16" aria-label="Capacity tree (JSON)" value=${shown} onInput=${(e) => setText(e.target.value)}></textarea>
    <div class="form-actions"><button class="primary" disabled=${act.busy}>Save tree</button></div>
    <${Result} result=${act.result} /></form>`;
}

export function SitePage({ site, user }) {
  const alloc = useLoad(() => get(`/api/v1/sites/${enc(site)}/allocation`), [site]);
  const hist = useLoad(() => get(`/api/v1/sites/${enc(site)}/allocation/history`), [site]);
  useRefresh(alloc.reload);
  useRefresh(hist.reload);
  const a = alloc.data;
  return html`<h1>Site ${site}</h1>
    <${ErrorNote} error=${alloc.error} what="Load management" /><${Loading} loading=${alloc.loading && !a} />
    ${a ? html`
      <${Section} title="Capacity and load" id="site-tree-h">
        <p class="muted">Policy ${a.policy}${a.time_of_use && a.time_of_use.enabled ? `, time of use ${a.time_of_use.active ? 'following the prices' : 'on (no price plan now)'}` : ', time of use off'}; computed ${fmtTime(a.computed_at)}${a.demand_response ? html`; <strong>demand response: at most ${(a.demand_response.limit_w / 1000).toFixed(1)} kW</strong>` : ''}.
          ${a.unsatisfied_sessions.length ? html` <span class="badge bad">${a.unsatisfied_sessions.length} session(s) cannot get their energy in time</span>` : null}</p>
        <${TreeTable} alloc=${a} /><//>
      <${Section} title="Sessions" id="site-evses-h"><${EvseTable} alloc=${a} /><//>
      <${Section} title="History" id="site-hist-h">${hist.data ? html`<${HistoryCharts} history=${hist.data} />` : null}<//>
      <${Section} title="Stations" id="site-stations-h"><${StationTable} alloc=${a} /><//>` : null}
    <${DemandResponseSection} site=${site} />
    ${canOperate(user) ? html`<${Section} title="Capacity tree" id="site-edit-h"><${TreeEditor} site=${site} onSaved=${alloc.reload} /><//>` : null}`;
}

export function SitesPage({ user }) {
  const list = useLoad(() => get('/api/v1/sites'), []);
  useRefresh(list.reload);
  const [name, setName] = useState('');
  const items = list.data ? list.data.items : [];
  const rows = items.map((s) => html`<tr key=${s.site}><td><a href=${`#/sites/${enc(s.site)}`}>${s.site}</a></td>
    <td>${s.policy}</td><td>${s.stations}</td><td>${s.active_sessions} / ${s.evses}</td>
    <td>${(s.effective_limit_a || s.limit_a).map(amps).join(' / ')}${s.demand_response ? html` <span class="badge warn">demand response</span>` : null}</td>
    <td>${s.flagged_stations ? html`<span class="badge bad">${s.flagged_stations}</span>` : '0'}</td></tr>`);
  return html`<h1>Sites</h1>
    <${Section} title="Load-managed sites" id="sites-h">
      <${ErrorNote} error=${list.error} what="Load management" /><${Loading} loading=${list.loading && !list.data} />
      <${Table} label="Sites" empty="No site has a capacity tree yet." head=${['Site', 'Policy', 'Stations', 'Charging / EVSEs', 'Limit per phase', 'Flagged stations']} rows=${rows} />
      ${canOperate(user) ? html`<form class="grid-form" onSubmit=${(e) => { e.preventDefault(); if (name.trim()) location.hash = `#/sites/${enc(name.trim())}`; }}
        aria-label="Open or create a site"><label class="field"><span>Site (the stations' site)</span>
        <input value=${name} onInput=${(e) => setName(e.target.value)} autocomplete="off" /></label>
        <div class="form-actions"><button>Open</button></div></form>` : null}<//>`;
}
