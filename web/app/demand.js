// Demand response and prices: the utility's import limits per site (from the
// API or the OpenADR VTN) and the price schedules, with forms for operators.
// DemandResponseSection is the part a site's page embeds (the limits in
// force or coming for one site, and its price now); DemandPage the whole page.
import { html, useState } from './vendor.js';
import { api, get, withQuery } from './api.js';
import { useLoad, useAction, ErrorNote, Loading, Result, Section, Table, Input, fmtTime, canOperate } from './ui.js';

const kw = (v) => `${Number(v).toLocaleString(undefined, { maximumFractionDigits: 1 })} kW`;
const price = (v, cur) => (v === null || v === undefined ? '—' : `${Number(v).toFixed(4)} ${cur || ''}/kWh`);
const phases = (p) => (p ? p.map((a) => (a < 0 ? '—' : `${a} A`)).join(' / ') : '—');

function EventRows({ items, may, onDelete, withSite = true }) {
  return items.map((e) => html`<tr key=${e.id} data-dr=${e.id}>
    ${withSite ? html`<td>${e.site}</td>` : null}<td>${fmtTime(e.start)}</td><td>${fmtTime(e.end)}</td><td>${kw(e.limit_kw)}</td>
    <td>${phases(e.phase_limits_a)}</td><td><span class=${`badge ${e.status === 'active' ? 'warn' : ''}`}>${e.status}</span></td>
    <td>${e.source}</td><td>${e.reason || '—'}</td>
    ${onDelete ? html`<td class="row-actions">${may ? html`<button class="small danger" onClick=${() => onDelete(e)}
      aria-label=${`Cancel the limit on ${e.site} from ${fmtTime(e.start)}`}>Cancel</button>` : null}</td>` : null}</tr>`);
}

// For a site's page: the limits in force or scheduled, and the price now.
export function DemandResponseSection({ site }) {
  const ev = useLoad(() => get(withQuery('/api/v1/demand-response/events', { site })), [site]);
  const pr = useLoad(() => get(withQuery('/api/v1/prices', { site })), [site]);
  const items = ev.data ? ev.data.items.filter((e) => e.status !== 'ended') : [];
  const cur = pr.data && pr.data.items.length ? pr.data.items[0].currency : '';
  return html`<${Section} title="Demand response" id=${`dr-${site}-h`}>
    <p class="muted">Price now: ${pr.data ? price(pr.data.current_price, cur) : '…'}</p>
    <${ErrorNote} error=${ev.error || pr.error} /><${Loading} loading=${ev.loading && !ev.data} />
    <${Table} label=${`Demand-response limits of ${site}`} empty="No limit in force or scheduled."
      head=${['Start', 'End', 'Limit', 'Per phase', 'Status', 'Source', 'Reason']}
      rows=${EventRows({ items, withSite: false })} />
  <//>`;
}

function NewEvent({ onDone }) {
  const blank = { site: '', start: '', end: '', limit_kw: '', reason: '' };
  const [f, set] = useState(blank);
  const act = useAction();
  const submit = async (e) => {
    e.preventDefault();
    const body = { site: f.site.trim(), start: new Date(f.start).toISOString(), end: new Date(f.end).toISOString(),
      limit_kw: Number(f.limit_kw) };
    if (f.reason.trim()) body.reason = f.reason.trim();
    if (await act.run('Limit scheduled', () => api('POST', '/api/v1/demand-response/events', body))) {
      set(blank);
      onDone();
    }
  };
  return html`<form class="grid-form" onSubmit=${submit} aria-label="Schedule a demand-response limit">
    <${Input} form=${f} set=${set} name="site" label="Site" required />
    <${Input} form=${f} set=${set} name="start" label="From" type="datetime-local" required />
    <${Input} form=${f} set=${set} name="end" label="To" type="datetime-local" required />
    <${Input} form=${f} set=${set} name="limit_kw" label="At most (kW)" type="number" min="0" required />
    <${Input} form=${f} set=${set} name="reason" label="Reason" />
    <div class="form-actions"><button class="primary" disabled=${act.busy}>Schedule limit</button></div>
    <${Result} result=${act.result} /></form>`;
}

function Prices({ user }) {
  const list = useLoad(() => get('/api/v1/prices'), []);
  const act = useAction();
  const may = canOperate(user);
  const del = async (p) => {
    if (!confirm(`Delete price schedule ${p.id}${p.site ? ` of ${p.site}` : ''}?`)) return;
    if ((await act.run('Schedule deleted', () => api('DELETE', `/api/v1/prices/${p.id}`))) !== undefined) list.reload();
  };
  const items = list.data ? list.data.items : [];
  const shape = (p) => (p.time_of_use
    ? `time of use (UTC${p.time_of_use.utc_offset === 'Z' ? '' : p.time_of_use.utc_offset}): ${p.time_of_use.weekday.map((x) => `${x.from} ${x.price}`).join(', ')}`
      + (p.time_of_use.weekend ? `; weekend ${p.time_of_use.weekend.map((x) => `${x.from} ${x.price}`).join(', ')}` : '')
    : `${p.intervals.length} interval${p.intervals.length === 1 ? '' : 's'}, ${fmtTime(p.intervals[0].start)} to ${fmtTime(p.intervals[p.intervals.length - 1].end)}`);
  return html`<${Section} title="Price schedules" id="prices-h">
    <p class="muted">Default price now: ${list.data ? price(list.data.current_price, items.length ? items[0].currency : '') : '…'}.
      Schedules are set through the API (<code>POST /api/v1/prices</code>) or come from OpenADR PRICE events.</p>
    <${Result} result=${act.result} />
    <${ErrorNote} error=${list.error} /><${Loading} loading=${list.loading && !list.data} />
    <${Table} label="Price schedules" empty="No price schedule." head=${['Id', 'Site', 'Currency', 'Prices', 'Source', '']}
      rows=${items.map((p) => html`<tr key=${p.id}><td>${p.id}</td><td>${p.site || 'default'}</td><td>${p.currency}</td>
        <td>${shape(p)}</td><td>${p.source}</td>
        <td class="row-actions">${may ? html`<button class="small danger" onClick=${() => del(p)}
          aria-label=${`Delete price schedule ${p.id}`}>Delete</button>` : null}</td></tr>`)} />
  <//>`;
}

export function DemandPage({ user }) {
  const [q, setQ] = useState({ status: '' });
  const list = useLoad(() => get(withQuery('/api/v1/demand-response/events', { status: q.status || undefined })), [q.status]);
  const act = useAction();
  const may = canOperate(user);
  const del = async (e) => {
    if (!confirm(`Cancel the ${kw(e.limit_kw)} limit on ${e.site} from ${fmtTime(e.start)}?`)) return;
    if ((await act.run('Limit cancelled', () => api('DELETE', `/api/v1/demand-response/events/${e.id}`))) !== undefined) list.reload();
  };
  const items = list.data ? list.data.items : [];
  return html`<h1>Demand response</h1>
    <${Section} title="Import limits" id="dr-h" actions=${html`<${Input} form=${q} set=${setQ} name="status" label="Show"
        options=${[{ value: '', label: 'all' }, 'active', 'scheduled', 'ended']} />`}>
      <p class="muted">What the utility asked for: each site imports at most the tightest limit in force.</p>
      ${may ? html`<${NewEvent} onDone=${list.reload} />` : null}
      <${Result} result=${act.result} />
      <${ErrorNote} error=${list.error} /><${Loading} loading=${list.loading && !list.data} />
      <${Table} label="Demand-response limits" empty="No demand-response limit."
        head=${['Site', 'Start', 'End', 'Limit', 'Per phase', 'Status', 'Source', 'Reason', '']}
        rows=${EventRows({ items, may, onDelete: del })} />
    <//>
    <${Prices} user=${user} />`;
}
