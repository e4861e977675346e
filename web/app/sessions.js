// Sessions: a filtered, sorted, paged list (filters and sort live in the URL
// fragment, so a view can be bookmarked) and one session with its meter
// values. SortTable, a table whose column headers sort through the API's
// ?sort=, is shared with the overview.
import { html, useState, useEffect } from './vendor.js';
import { get, withQuery, enc } from './api.js';
import { subscribe } from './live.js';
import { Chart, meterSeries } from './chart.js';
import { useLoad, Badge, ErrorNote, Loading, Section, Table, Input, fmtTime, fmtWh, fmtW, fmtDuration, json } from './ui.js';

const PAGE = 50;
const toIso = (local) => (local ? new Date(local).toISOString() : '');

// A table with sortable columns. cols: [{ label, key?, desc? }]: a column
// with a key sorts by that API field; the first click sorts it descending
// when desc is set (times, amounts), ascending otherwise, the next click
// turns it around. sort is the API's sort ("-started_at"); each sortable
// header is a button in its <th>, and the <th> carries aria-sort.
export function SortTable({ label, cols, sort, onSort, rows, empty = 'Nothing here yet.' }) {
  const field = sort.replace(/^-/, '');
  const desc = sort.startsWith('-');
  const head = cols.map((c) => {
    if (!c.key) return html`<th scope="col">${c.label}</th>`;
    const on = c.key === field;
    const next = on ? (desc ? c.key : `-${c.key}`) : (c.desc ? `-${c.key}` : c.key);
    return html`<th scope="col" aria-sort=${on ? (desc ? 'descending' : 'ascending') : 'none'}>
      <button type="button" class="sort" data-sort=${c.key} onClick=${() => onSort(next)}>${c.label}<span class="sort-mark" aria-hidden="true">${on ? (desc ? ' ▼' : ' ▲') : ' ↕'}</span></button></th>`;
  });
  return html`<div class="table-wrap" role="region" aria-label=${label} tabindex="0">
    <table><thead><tr>${head}</tr></thead>
    <tbody>${rows.length ? rows : html`<tr><td colspan=${cols.length} class="muted">${empty}</td></tr>`}</tbody></table></div>`;
}

export const SESSION_COLS = [{ label: 'Session', key: 'id', desc: true }, { label: 'Station', key: 'station_id' },
  { label: 'EVSE' }, { label: 'Id token' }, { label: 'Started', key: 'started_at', desc: true },
  { label: 'Stopped', key: 'stopped_at', desc: true }, { label: 'Energy', key: 'energy_wh', desc: true }, { label: 'State' }];

export function SessionsPage({ query }) {
  const [f, set] = useState({ station: query.station || '', id_token: query.id_token || '', active: query.active || '', from: query.from || '', to: query.to || '' });
  const offset = Number(query.offset || 0);
  const sort = query.sort || '-id';
  const list = useLoad(() => get(withQuery('/api/v1/sessions', {
    station: query.station, id_token: query.id_token, active: query.active,
    from: toIso(query.from), to: toIso(query.to), limit: PAGE, offset, sort: query.sort,
  })), [JSON.stringify(query)]);
  useEffect(() => subscribe(['transaction.started', 'transaction.ended'], () => list.reload()), [JSON.stringify(query)]);
  const go = (q) => { location.hash = withQuery('#/sessions', q); };
  const apply = (e) => { e.preventDefault(); go({ ...f, sort: query.sort }); };
  const items = list.data ? list.data.items : [];
  return html`<h1>Sessions</h1>
    <form class="card grid-form filters" onSubmit=${apply} aria-label="Filter sessions">
      <${Input} form=${f} set=${set} name="station" label="Station" />
      <${Input} form=${f} set=${set} name="id_token" label="Id token" />
      <${Input} form=${f} set=${set} name="active" label="State" options=${[{ value: '', label: 'all' }, { value: 'true', label: 'running' }, { value: 'false', label: 'ended' }]} />
      <${Input} form=${f} set=${set} name="from" label="Started from" type="datetime-local" />
      <${Input} form=${f} set=${set} name="to" label="Started before" type="datetime-local" />
      <div class="form-actions"><button class="primary">Apply</button>
        <button type="button" onClick=${() => { set({ station: '', id_token: '', active: '', from: '', to: '' }); go({ sort: query.sort }); }}>Clear</button></div>
    </form>
    <${ErrorNote} error=${list.error} />
    <${Loading} loading=${list.loading && !list.data} />
    <${SortTable} label="Sessions" cols=${SESSION_COLS} sort=${sort}
      onSort=${(next) => go({ ...query, sort: next === '-id' ? '' : next, offset: '' })}
      empty="No session matches." rows=${items.map((s) => html`<tr key=${s.id} data-session=${s.id}>
        <td><a href=${`#/sessions/${s.id}`}>#${s.id}</a></td>
        <td><a href=${`#/stations/${enc(s.station_id)}`}>${s.station_id}</a></td>
        <td>${s.evse_id}</td><td>${s.id_token}</td><td>${fmtTime(s.started_at)}</td>
        <td>${s.stopped_at ? fmtTime(s.stopped_at) : '—'}${s.stop_reason ? html`<div class="small muted">${s.stop_reason}</div>` : null}</td>
        <td>${fmtWh(s.energy_wh)}</td><td><${Badge} status=${s.active ? 'Active' : 'Ended'} /></td></tr>`)} />
    <div class="pager">
      <button disabled=${offset === 0} onClick=${() => go({ ...query, offset: Math.max(0, offset - PAGE) || '' })}>Previous</button>
      <span class="muted">${items.length ? `${offset + 1}–${offset + items.length}` : ''}</span>
      <button disabled=${items.length < PAGE} onClick=${() => go({ ...query, offset: offset + PAGE })}>Next</button>
    </div>`;
}

export function SessionPage({ id }) {
  const s = useLoad(() => get(`/api/v1/sessions/${enc(id)}`), [id]);
  useEffect(() => subscribe(['meter.values', 'transaction.ended'], (type, d) => {
    if (String(d.session_id) !== String(id)) return;
    if (type === 'transaction.ended') { s.reload(); return; }
    s.setData((cur) => cur && { ...cur, meter_values: [...(cur.meter_values || []), ...(d.samples || [])] });
  }), [id]);
  if (s.error) return html`<h1>Session #${id}</h1><${ErrorNote} error=${s.error} />`;
  if (!s.data) return html`<h1>Session #${id}</h1><${Loading} loading=${true} />`;
  const x = s.data;
  const data = meterSeries(x.meter_values, x.meter_start_wh);
  const dur = ((x.stopped_at ? new Date(x.stopped_at) : new Date()) - new Date(x.started_at)) / 1000;
  const facts = [['Station', html`<a href=${`#/stations/${enc(x.station_id)}`}>${x.station_id}</a>`], ['EVSE / connector', `${x.evse_id} / ${x.connector_id}`],
    ['Transaction id', x.transaction_id], ['Id token', `${x.id_token}${x.id_token_type ? ` (${x.id_token_type})` : ''}`], ['Authorization', x.auth_status],
    ['Started', fmtTime(x.started_at)], ['Stopped', x.stopped_at ? fmtTime(x.stopped_at) : 'still running'], ['Duration', fmtDuration(dur)],
    ['Energy', fmtWh(x.energy_wh)], ['Meter start', fmtWh(x.meter_start_wh)], ['Meter stop', fmtWh(x.meter_stop_wh)],
    ['Stop reason', x.stop_reason], ['Stopped by', x.stop_id_token], ['State of charge', x.soc_percent !== null && x.soc_percent !== undefined ? `${x.soc_percent} %` : null]];
  const mv = x.meter_values || [];
  return html`<div class="page-head"><h1>Session #${x.id}</h1><${Badge} status=${x.active ? 'Active' : 'Ended'} /></div>
    <${Section} title="Details" id="sess-h"><dl class="facts">${facts.filter(([, v]) => v !== null && v !== undefined && v !== '—')
      .map(([k, v]) => html`<div><dt>${k}</dt><dd>${v}</dd></div>`)}</dl><//>
    <${Section} title="Meter values" id="mv-h">
      <div data-testid="session-chart" data-samples=${data[0].length}>
      <${Chart} title="Power and energy" summary=${`${data[0].length} samples`} data=${data}
        series=${[{ label: 'Power', color: '#d9480f', scale: 'W', fmt: fmtW }, { label: 'Energy', color: '#1864ab', scale: 'Wh', fmt: fmtWh }]} /></div>
      <details><summary>All ${mv.length} sampled values</summary>
        <${Table} label="Sampled values" head=${['Time', 'Measurand', 'Phase', 'Value', 'Context']}
          rows=${mv.slice(-500).map((v, i) => html`<tr key=${i}><td>${fmtTime(v.timestamp)}</td><td>${v.measurand || 'Energy.Active.Import.Register'}</td>
            <td>${v.phase || '—'}</td><td>${v.value} ${v.unit || ''}</td><td>${v.context || '—'}</td></tr>`)} />
      </details>
    <//>
    ${x.charging_needs || x.ev_charging_schedule ? html`<${Section} title="EV charging needs" id="needs-h">
      <pre>${JSON.stringify({ charging_needs: x.charging_needs, ev_charging_schedule: x.ev_charging_schedule }, null, 2)}</pre><//>` : null}`;
}
