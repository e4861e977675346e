// Uptime as NEVI computes it (23 CFR 680.116(b)): network, site, station and
// port uptime for a chosen period (in this browser's local time), each
// port's outages on demand, the excluded time (technicians, operators and
// admins may record it), and the quarterly NEVI report as CSV.
import { html, useState } from './vendor.js';
import { api, get, withQuery } from './api.js';
import { useLoad, useAction, ErrorNote, Loading, Result, Section, Table, Input, fmtTime, canStations } from './ui.js';

const REASONS = ['grid_outage', 'vehicle_fault', 'scheduled_maintenance', 'vandalism', 'natural_disaster', 'outside_operating_hours', 'other'];
const pad = (n) => String(n).padStart(2, '0');
const pct = (v) => (v === null || v === undefined ? '—' : `${Number(v).toFixed(3)} %`);
const mins = (m) => {
  if (m === null || m === undefined) return '—';
  const n = Number(m);
  return n >= 120 ? `${(n / 60).toFixed(1)} h` : `${n.toFixed(n < 10 ? 2 : 1)} min`;
};
const label = (s) => s.replace(/_/g, ' ');
// This browser's offset from UTC, "+02:00": periods are cut in local time.
const utcOffset = () => {
  const m = -new Date().getTimezoneOffset(), a = Math.abs(m);
  return `${m < 0 ? '-' : '+'}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
};

// The periods to choose from: recent months and quarters, years, trailing 12 months.
function periods(now = new Date()) {
  const y = now.getFullYear(), m = now.getMonth();
  const out = [];
  for (let i = 0; i < 6; i++) {
    const d = new Date(y, m - i, 1);
    out.push({ value: `${d.getFullYear()}-${pad(d.getMonth() + 1)}`,
      label: `${d.toLocaleDateString(undefined, { year: 'numeric', month: 'long' })}${i ? '' : ' (so far)'}` });
  }
  for (let i = 0; i < 4; i++) {
    const k = Math.floor(m / 3) - i + 8, yy = y - 2 + Math.floor(k / 4), qq = (k % 4) + 1;
    out.push({ value: `${yy}-Q${qq}`, label: `${yy} Q${qq}${i ? '' : ' (so far)'}` });
  }
  out.push({ value: 'trailing-12-months', label: 'Trailing 12 months' });
  out.push({ value: String(y), label: `${y} (so far)` }, { value: String(y - 1), label: String(y - 1) });
  return out;
}

function Totals({ t, what }) {
  return html`<div class="stats" role="list" aria-label=${`${what} totals`}>
    <div class="stat" role="listitem"><span class="stat-n">${pct(t.uptime_pct)}</span><span>uptime</span></div>
    <div class="stat" role="listitem"><span class="stat-n">${t.ports}</span><span>ports</span></div>
    <div class="stat" role="listitem"><span class="stat-n">${mins(t.counted_outage_minutes)}</span><span>counted outage</span></div>
    <div class="stat" role="listitem"><span class="stat-n">${mins(t.excluded_minutes)}</span><span>excluded</span></div></div>`;
}

function Outages({ q, port, version, onClose }) {
  const list = useLoad(() => get(withQuery('/api/v1/uptime/outages', { ...q, station: port.station_id, evse_id: port.evse_id })),
    [JSON.stringify(q), port.station_id, port.evse_id, version]);
  const items = list.data ? list.data.items : [];
  return html`<${Section} title=${`Outages of ${port.station_id} port ${port.evse_id}`} id="up-out-h"
      actions=${html`<button class="small" onClick=${onClose}>Close</button>`}>
    <${ErrorNote} error=${list.error} /><${Loading} loading=${list.loading && !list.data} />
    <${Table} label="Outages" empty="No outage in this period." head=${['Start', 'End', 'Duration', 'Excluded', 'Cause', 'Detail']}
      rows=${items.map((o) => html`<tr key=${o.start}>
        <td>${fmtTime(o.start)}</td><td>${o.ongoing ? 'ongoing' : fmtTime(o.end)}</td><td>${mins(o.minutes)}</td>
        <td>${mins(o.excluded_minutes)}</td><td>${o.causes.map(label).join(', ')}</td><td>${o.detail || '—'}</td></tr>`)} />
    ${list.data && list.data.truncated ? html`<p class="muted">Showing ${items.length} of ${list.data.total} outages.</p>` : null}
  <//>`;
}

function Exclusions({ user, period, onChange }) {
  const list = useLoad(() => get(withQuery('/api/v1/uptime/exclusions', { from: period.from, to: period.to, limit: 200 })),
    [period.from, period.to]);
  const blank = { station_id: '', evse_id: '', reason: 'scheduled_maintenance', from: '', to: '', note: '' };
  const [f, set] = useState(blank);
  const act = useAction();
  const may = canStations(user);
  const reload = () => { list.reload(); onChange(); };
  const create = async (e) => {
    e.preventDefault();
    const body = { station_id: f.station_id.trim(), reason: f.reason,
      from: new Date(f.from).toISOString(), to: new Date(f.to).toISOString() };
    if (f.evse_id) body.evse_id = Number(f.evse_id);
    if (f.note.trim()) body.note = f.note.trim();
    if (await act.run('Exclusion recorded', () => api('POST', '/api/v1/uptime/exclusions', body))) {
      set(blank);
      reload();
    }
  };
  const del = async (x) => {
    if (!confirm(`Delete the exclusion of ${x.station_id} from ${fmtTime(x.from)}?`)) return;
    if ((await act.run('Exclusion deleted', () => api('DELETE', `/api/v1/uptime/exclusions/${x.id}`))) !== undefined) reload();
  };
  const items = list.data ? list.data.items : [];
  return html`<${Section} title="Excluded time" id="up-ex-h">
    <p class="muted">Outage time the rule excludes: utility outages, vehicle faults, scheduled maintenance, vandalism,
      natural disasters and hours outside operation. Only the part inside an outage counts.</p>
    ${may ? html`<form class="grid-form" onSubmit=${create} aria-label="Record excluded time">
      <${Input} form=${f} set=${set} name="station_id" label="Station" required />
      <${Input} form=${f} set=${set} name="evse_id" label="Port (empty: all)" type="number" min="1" />
      <${Input} form=${f} set=${set} name="reason" label="Reason" options=${REASONS.map((r) => ({ value: r, label: label(r) }))} />
      <${Input} form=${f} set=${set} name="from" label="From" type="datetime-local" required />
      <${Input} form=${f} set=${set} name="to" label="To" type="datetime-local" required />
      <${Input} form=${f} set=${set} name="note" label="Note" hint="Required for the reason other" />
      <div class="form-actions"><button class="primary" disabled=${act.busy}>Record exclusion</button></div>
    </form>` : null}
    <${Result} result=${act.result} />
    <${ErrorNote} error=${list.error} /><${Loading} loading=${list.loading && !list.data} />
    <${Table} label="Exclusions" empty="No excluded time in this period." head=${['Station', 'Port', 'Reason', 'From', 'To', 'Note', 'Recorded by', '']}
      rows=${items.map((x) => html`<tr key=${x.id}>
        <td>${x.station_id}</td><td>${x.evse_id || 'all'}</td><td>${label(x.reason)}</td><td>${fmtTime(x.from)}</td>
        <td>${fmtTime(x.to)}</td><td>${x.note || '—'}</td><td>${x.created_by}</td>
        <td class="row-actions">${may ? html`<button class="small danger" onClick=${() => del(x)}
          aria-label=${`Delete the exclusion of ${x.station_id} from ${fmtTime(x.from)}`}>Delete</button>` : null}</td></tr>`)} />
  <//>`;
}

export function UptimePage({ user }) {
  const options = periods();
  const [f, set] = useState({ period: options[0].value, site: '' });
  const [q, setQ] = useState({ period: options[0].value, site: '', utc_offset: utcOffset() });
  const [port, setPort] = useState(null);
  const [version, setVersion] = useState(0); /* bumped when excluded time changes */
  const rep = useLoad(() => get(withQuery('/api/v1/uptime', q)), [JSON.stringify(q)]);
  const r = rep.data;
  const quarter = /^\d{4}-Q[1-4]$/.test(q.period) ? q.period : null;
  const csv = quarter ? withQuery('/api/v1/reports/nevi-quarterly.csv', { quarter, utc_offset: q.utc_offset, site: q.site }) : null;
  return html`<h1>Uptime</h1>
    <form class="card grid-form filters" aria-label="Uptime period"
      onSubmit=${(e) => { e.preventDefault(); setPort(null); setQ({ ...f, utc_offset: utcOffset() }); }}>
      <${Input} form=${f} set=${set} name="period" label="Period" options=${options} />
      <${Input} form=${f} set=${set} name="site" label="Site (optional)" />
      <div class="form-actions"><button class="primary">Show</button>
        ${csv ? html`<a href=${csv} download>NEVI quarterly report (CSV)</a>` : null}</div>
    </form>
    <${ErrorNote} error=${rep.error} what="Uptime" /><${Loading} loading=${rep.loading && !r} />
    ${r ? html`<p class="muted">${r.period.name || ''}: ${fmtTime(r.period.from)} to ${fmtTime(r.period.to)}${r.period.complete ? '' : `, counted until ${fmtTime(r.period.observed_until)}`}.
        Uptime = (period − (outage − excluded)) / period, per port (23 CFR 680.116(b)).</p>
      <${Totals} t=${r.network} what="Network" />
      ${r.sites.length > 1 || (r.sites[0] && r.sites[0].site) ? html`<${Section} title="Sites" id="up-sites-h">
        <${Table} label="Uptime by site" head=${['Site', 'Stations', 'Ports', 'Uptime', 'Counted outage', 'Excluded']}
          rows=${r.sites.map((s) => html`<tr key=${s.site || ''}><td>${s.site || '(no site)'}</td><td>${s.stations}</td><td>${s.ports}</td>
            <td>${pct(s.uptime_pct)}</td><td>${mins(s.counted_outage_minutes)}</td><td>${mins(s.excluded_minutes)}</td></tr>`)} /><//>` : null}
      <${Section} title="Stations" id="up-st-h">
        <${Table} label="Uptime by station" head=${['Station', 'Site', 'Ports', 'Uptime', 'Counted outage', 'Excluded']}
          rows=${r.stations.map((s) => html`<tr key=${s.station_id}><td><a href=${`#/stations/${encodeURIComponent(s.station_id)}`}>${s.station_id}</a></td>
            <td>${s.site || '—'}</td><td>${s.ports}</td><td>${pct(s.uptime_pct)}</td><td>${mins(s.counted_outage_minutes)}</td>
            <td>${mins(s.excluded_minutes)}</td></tr>`)} />
      <//>
      <${Section} title="Ports" id="up-ports-h">
        <${Table} label="Uptime by port" head=${['Station', 'Port', 'Uptime', 'Outages', 'Outage', 'Excluded', '']}
          rows=${r.ports.map((p) => html`<tr key=${`${p.station_id}/${p.evse_id}`} data-port=${`${p.station_id}/${p.evse_id}`}>
            <td>${p.station_id}</td><td>${p.evse_id}</td><td>${pct(p.uptime_pct)}</td><td>${p.outage_count}</td>
            <td>${mins(p.outage_minutes)}</td><td>${mins(p.excluded_minutes)}</td>
            <td class="row-actions"><button class="small" onClick=${() => setPort(p)}
              aria-label=${`Outages of ${p.station_id} port ${p.evse_id}`}>Outages</button></td></tr>`)} />
      <//>
      ${port ? html`<${Outages} q=${q} port=${port} version=${version} onClose=${() => setPort(null)} />` : null}
      <${Exclusions} user=${user} period=${r.period} onChange=${() => { rep.reload(); setVersion(version + 1); }} />` : null}`;
}
