// Analytics: energy per day, utilization (share of time charging / occupied)
// and sessions by hour of day, over a chosen range, from the server's
// /api/v1/analytics endpoints (aggregated in the store, in local time).
import { html, useState } from './vendor.js';
import { get, withQuery } from './api.js';
import { Chart } from './chart.js';
import { useLoad, ErrorNote, Loading, Section, Table, Input, fmtWh, fmtDuration } from './ui.js';

export const ANALYTICS = {
  energy: '/api/v1/analytics/energy',
  utilization: '/api/v1/analytics/utilization',
  byHour: '/api/v1/analytics/sessions-by-hour',
};

const day = (d) => d.toISOString().slice(0, 10);
const pct = (v) => (v === null || v === undefined ? '—' : `${(v * 100).toFixed(1)} %`);
// This browser's offset from UTC, "+02:00": buckets and hours in local time.
const utcOffset = () => {
  const m = -new Date().getTimezoneOffset(), a = Math.abs(m);
  return `${m < 0 ? '-' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
};
const pctAxis = (v) => { const n = Math.abs(Number(v)); return `${n === 0 ? 0 : n < 1 ? +n.toPrecision(1) : +n.toFixed(n < 10 ? 1 : 0)} %`; };
const secs = (iso) => Math.round(new Date(iso).getTime() / 1000);

export function AnalyticsPage() {
  const today = new Date();
  const [f, set] = useState({ from: day(new Date(today.getTime() - 29 * 86400e3)), to: day(today), station: '' });
  const [q, setQ] = useState(f);
  const range = () => {
    const from = new Date(`${q.from}T00:00:00`), to = new Date(`${q.to}T00:00:00`);
    to.setDate(to.getDate() + 1);
    return { from: from.toISOString(), to: to.toISOString(), station: q.station, utc_offset: utcOffset() };
  };
  const key = JSON.stringify(q);
  const energy = useLoad(() => get(withQuery(ANALYTICS.energy, { ...range(), bucket: 'day' })), [key]);
  const util = useLoad(() => get(withQuery(ANALYTICS.utilization, { ...range(), bucket: 'day', group_by: 'network' })), [key]);
  const byStation = useLoad(() => get(withQuery(ANALYTICS.utilization, { ...range(), group_by: 'station' })), [key]);
  const hours = useLoad(() => get(withQuery(ANALYTICS.byHour, range())), [key]);

  const es = energy.data && energy.data.series ? energy.data.series : [];
  const us = util.data && util.data.groups && util.data.groups[0] && util.data.groups[0].series ? util.data.groups[0].series : [];
  const hs = hours.data && hours.data.hours ? hours.data.hours : [];
  const totals = energy.data && energy.data.totals;
  return html`<h1>Analytics</h1>
    <form class="card grid-form filters" onSubmit=${(e) => { e.preventDefault(); setQ({ ...f }); }} aria-label="Analytics range">
      <${Input} form=${f} set=${set} name="from" label="From" type="date" required />
      <${Input} form=${f} set=${set} name="to" label="To" type="date" required />
      <${Input} form=${f} set=${set} name="station" label="Station (optional)" />
      <div class="form-actions"><button class="primary">Show</button></div>
    </form>
    ${totals ? html`<div class="stats" role="list" aria-label="Totals">
      <div class="stat" role="listitem"><span class="stat-n">${fmtWh(totals.energy_wh)}</span><span>energy</span></div>
      <div class="stat" role="listitem"><span class="stat-n">${totals.sessions}</span><span>sessions</span></div>
      <div class="stat" role="listitem"><span class="stat-n">${fmtDuration(totals.avg_session_s)}</span><span>average session</span></div></div>` : null}
    <${Section} title="Energy per day" id="an-energy-h">
      <${ErrorNote} error=${energy.error} what="Energy analytics" /><${Loading} loading=${energy.loading && !energy.data} />
      ${energy.data ? html`<${Chart} title="Energy delivered per day" bars=${true} summary=${`${es.length} days`}
        data=${[es.map((x) => secs(x.start)), es.map((x) => x.energy_wh)]}
        series=${[{ label: 'Energy', color: '#1864ab', scale: 'Wh', fmt: fmtWh }]} />` : null}
    <//>
    <${Section} title="Utilization" id="an-util-h">
      <${ErrorNote} error=${util.error} what="Utilization analytics" />
      ${util.data ? html`<${Chart} title="Share of connector time charging and occupied" summary=${util.data.groups && util.data.groups[0] ? `charging ${pct(util.data.groups[0].totals.charging_share)}, occupied ${pct(util.data.groups[0].totals.occupied_share)}` : ''}
        data=${[us.map((x) => secs(x.start)), us.map((x) => (x.charging_share === null ? null : x.charging_share * 100)), us.map((x) => (x.occupied_share === null ? null : x.occupied_share * 100))]}
        series=${[{ label: 'Charging', color: '#d9480f', scale: '%', fmt: pctAxis }, { label: 'Occupied', color: '#2b8a3e', scale: '%', fmt: pctAxis }]} />` : null}
      ${byStation.data && byStation.data.groups ? html`<${Table} label="Utilization by station" head=${['Station', 'Connectors', 'Charging', 'Occupied', 'Faulted']}
        rows=${byStation.data.groups.map((g) => html`<tr key=${g.group.station_id}><td>${g.group.station_id}</td><td>${g.connectors}</td>
          <td>${pct(g.totals.charging_share)}</td><td>${pct(g.totals.occupied_share)}</td><td>${fmtDuration(g.totals.faulted_s)}</td></tr>`)} />` : null}
    <//>
    <${Section} title="Sessions per hour of day" id="an-hour-h">
      <${ErrorNote} error=${hours.error} what="Sessions-per-hour analytics" />
      ${hours.data ? html`<${Chart} title="Sessions started, by hour of day" bars=${true} time=${false} xFmt=${(v) => `${v}:00`}
        summary=${`${hs.reduce((a, h) => a + h.sessions, 0)} sessions`}
        data=${[hs.map((h) => h.hour), hs.map((h) => h.sessions)]}
        series=${[{ label: 'Sessions', color: '#5f3dc4', scale: 'n', fmt: (v) => (Number.isInteger(v) ? String(v) : '') }]} />` : null}
    <//>`;
}
