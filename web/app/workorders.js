// Maintenance work orders: the list (my tickets or all, filters kept in the
// URL fragment, live via workorder.* events), a ticket's page (state buttons
// for the legal next steps only, notes, time, parts used, attachments with
// upload and download, the alert it came from, a link to the technician's
// one-click actions), and the maintenance plans and windows.
import { html, useState, useEffect } from './vendor.js';
import { api, get, withQuery, enc, upload, download } from './api.js';
import { subscribe } from './live.js';
import { ErrorNote, Loading, Table, Input, Section, Field, fmtTime, useLoad, canOperate, canStations } from './ui.js';

const PAGE = 50;
// The legal next steps (service/workorders.c's table) with their buttons.
const NEXT = {
  open: [['assigned', 'Assign'], ['closed', 'Close']],
  assigned: [['in_progress', 'Start work'], ['open', 'Unassign']],
  in_progress: [['waiting_for_parts', 'Waiting for parts'], ['resolved', 'Resolve'], ['assigned', 'Pause']],
  waiting_for_parts: [['in_progress', 'Resume work'], ['resolved', 'Resolve']],
  resolved: [['closed', 'Close'], ['open', 'Reopen']],
  closed: [],
};
const STATE_CLASS = { open: 'bad', assigned: 'warn', in_progress: 'busy', waiting_for_parts: 'warn', resolved: 'ok', closed: 'off' };
const PRIO_CLASS = { urgent: 'bad', high: 'warn', normal: 'other', low: 'off' };
const label = (s) => s.replace(/_/g, ' ');
const toIso = (local) => (local ? new Date(local).toISOString() : '');

export const StateBadge = ({ state }) => html`<span class=${`badge ${STATE_CLASS[state] || 'other'}`}>${label(state)}</span>`;
const PrioBadge = ({ priority }) => html`<span class=${`badge ${PRIO_CLASS[priority] || 'other'}`}>${priority}</span>`;
const mine = (w, user) => user && w.assignee === user.username;
const mayChange = (w, user) => canOperate(user) || (canStations(user) && mine(w, user));

function Rows({ items }) {
  return items.map((w) => html`<tr key=${w.id} data-workorder=${w.id}>
    <td><a href=${`#/work-orders/${w.id}`}>#${w.id}</a></td>
    <td class="wrap"><a href=${`#/work-orders/${w.id}`}><strong>${w.title}</strong></a>
      <div class="small muted">${w.source}</div></td>
    <td>${w.station_id ? html`<a href=${`#/stations/${enc(w.station_id)}`}>${w.station_id}</a>` : '—'}</td>
    <td><${PrioBadge} priority=${w.priority} /></td>
    <td><${StateBadge} state=${w.state} /></td>
    <td>${w.assignee || '—'}</td>
    <td>${fmtTime(w.updated_at)}</td></tr>`);
}

function CreateForm({ onCreated }) {
  const [f, set] = useState({ title: '', station_id: '', priority: 'normal', assignee: '', description: '' });
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    try {
      const body = { title: f.title, priority: f.priority };
      for (const k of ['station_id', 'assignee', 'description']) if (f[k].trim()) body[k] = f[k].trim();
      onCreated(await api('POST', '/api/v1/work-orders', body));
    } catch (err) { setError(err); }
  };
  return html`<details class="card"><summary>New work order</summary>
    <form class="grid-form" onSubmit=${submit} aria-label="New work order">
      <${Input} form=${f} set=${set} name="title" label="Title" required />
      <${Input} form=${f} set=${set} name="station_id" label="Station" />
      <${Input} form=${f} set=${set} name="priority" label="Priority" options=${['urgent', 'high', 'normal', 'low']} />
      <${Input} form=${f} set=${set} name="assignee" label="Technician (user name)" />
      <${Input} form=${f} set=${set} name="description" label="Description" />
      <div class="form-actions"><button class="primary">Create</button></div>
      <${ErrorNote} error=${error} /></form></details>`;
}

export function WorkOrdersPage({ user, query }) {
  const initial = { assignee: query.assignee || (user.role === 'technician' ? 'me' : ''), state: query.state || '',
    priority: query.priority || '', station: query.station || '', site: query.site || '', since: query.since || '' };
  const [f, set] = useState(initial);
  const [items, setItems] = useState([]);
  const [cursor, setCursor] = useState(null);
  const [error, setError] = useState(null);
  const [loading, setLoading] = useState(true);
  const q = JSON.stringify(initial);
  const load = async (more) => {
    setLoading(true);
    try {
      const r = await get(withQuery('/api/v1/work-orders', { ...initial, since: toIso(initial.since), limit: PAGE, cursor: more ? cursor : '' }));
      setItems((cur) => (more ? [...cur, ...r.items] : r.items));
      setCursor(r.next_cursor || null);
      setError(null);
    } catch (e) { setError(e); } finally { setLoading(false); }
  };
  useEffect(() => { load(false); }, [q]);
  useEffect(() => subscribe(['workorder.', 'stream.gap'], () => load(false)), [q]);
  const go = (x) => { location.hash = withQuery('#/work-orders', x); };
  return html`<h1>Work orders</h1>
    <div class="tabs" role="group" aria-label="Whose tickets">
      <button class=${initial.assignee === 'me' ? 'primary' : ''} onClick=${() => go({ ...initial, assignee: 'me' })}>My tickets</button>
      <button class=${initial.assignee === '' ? 'primary' : ''} onClick=${() => go({ ...initial, assignee: '' })}>All</button>
      <a href="#/parts">Parts & stock</a> · <a href="#/maintenance">Plans & windows</a></div>
    <form class="card grid-form filters" onSubmit=${(e) => { e.preventDefault(); go({ ...f }); }} aria-label="Filter work orders">
      <${Input} form=${f} set=${set} name="state" label="State" options=${[{ value: '', label: 'all' }, ...Object.keys(NEXT)]} />
      <${Input} form=${f} set=${set} name="priority" label="Priority" options=${[{ value: '', label: 'all' }, 'urgent', 'high', 'normal', 'low']} />
      <${Input} form=${f} set=${set} name="station" label="Station" />
      <${Input} form=${f} set=${set} name="site" label="Site" />
      <${Input} form=${f} set=${set} name="since" label="Changed since" type="datetime-local" />
      <div class="form-actions"><button class="primary">Apply</button></div></form>
    ${canOperate(user) ? html`<${CreateForm} onCreated=${(w) => { location.hash = `#/work-orders/${w.id}`; }} />` : null}
    <${ErrorNote} error=${error} what="Work orders" />
    ${!error ? html`<${Table} label="Work orders" head=${['#', 'Title', 'Station', 'Priority', 'State', 'Technician', 'Updated']}
      empty="No work order matches." rows=${Rows({ items })} />` : null}
    <${Loading} loading=${loading} />
    ${cursor && !loading ? html`<div class="pager"><button onClick=${() => load(true)}>Load more</button></div>` : null}`;
}

// ------------------------------------------------------------ one ticket

function StateButtons({ w, user, onChanged }) {
  const [error, setError] = useState(null);
  const [assignee, setAssignee] = useState(w.assignee || '');
  if (!mayChange(w, user)) return null;
  const move = async (state) => {
    setError(null);
    if (!confirm(`Move work order #${w.id} to "${label(state)}"?`)) return;
    try {
      const body = { state };
      if (state === 'assigned' && !w.assignee) body.assignee = assignee.trim();
      onChanged(await api('PATCH', `/api/v1/work-orders/${w.id}`, body));
    } catch (err) { setError(err); }
  };
  return html`<div class="actions" role="group" aria-label="Change state">
    ${w.state === 'open' && canOperate(user) ? html`<input aria-label="Technician" placeholder="technician user name"
      value=${assignee} onInput=${(e) => setAssignee(e.target.value)} />` : null}
    ${NEXT[w.state].filter(([s]) => canOperate(user) || s !== 'open').map(([s, text]) =>
      html`<button data-state=${s} onClick=${() => move(s)}>${text}</button>`)}
    <${ErrorNote} error=${error} /></div>`;
}

function AddForm({ w, kind, onChanged }) {
  const [f, set] = useState({ text: '', minutes: '', note: '', part_id: '', depot_id: '', quantity: '1' });
  const [error, setError] = useState(null);
  const bodies = {
    notes: () => ({ text: f.text }),
    time: () => ({ minutes: Number(f.minutes), ...(f.note.trim() ? { note: f.note.trim() } : {}) }),
    parts: () => ({ part_id: Number(f.part_id), depot_id: Number(f.depot_id), quantity: Number(f.quantity) }),
  };
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    try {
      await api('POST', `/api/v1/work-orders/${w.id}/${kind}`, bodies[kind]());
      onChanged();
      set({ ...f, text: '', minutes: '', note: '' });
    } catch (err) { setError(err); }
  };
  const fields = {
    notes: html`<${Input} form=${f} set=${set} name="text" label="Note" required />`,
    time: html`<${Input} form=${f} set=${set} name="minutes" label="Minutes" type="number" min="1" required />
      <${Input} form=${f} set=${set} name="note" label="What" />`,
    parts: html`<${Input} form=${f} set=${set} name="part_id" label="Part id" type="number" min="1" required />
      <${Input} form=${f} set=${set} name="depot_id" label="Depot id" type="number" min="1" required />
      <${Input} form=${f} set=${set} name="quantity" label="Quantity" type="number" min="1" required />`,
  };
  return html`<form class="grid-form" onSubmit=${submit} aria-label=${`Add ${kind}`}>${fields[kind]}
    <div class="form-actions"><button class="primary">Add</button></div><${ErrorNote} error=${error} /></form>`;
}

function Attachments({ w, user, onChanged }) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const send = async (e) => {
    const file = e.target.files[0];
    if (!file) return;
    setBusy(true);
    setError(null);
    try {
      await upload(`/api/v1/work-orders/${w.id}/attachments?name=${enc(file.name)}`, file);
      onChanged();
    } catch (err) { setError(err); } finally { setBusy(false); e.target.value = ''; }
  };
  const fetchOne = (a) => download(`/api/v1/work-orders/${w.id}/attachments/${a.id}`, a.name).catch(setError);
  return html`<${Table} label="Attachments" head=${['File', 'Type', 'Size', 'By', 'At']} empty="No files yet."
      rows=${w.attachments.map((a) => html`<tr key=${a.id}><td><button class="link" onClick=${() => fetchOne(a)}>${a.name}</button></td>
        <td>${a.content_type}</td><td>${a.size} B</td><td>${a.uploaded_by}</td><td>${fmtTime(a.at)}</td></tr>`)} />
    ${mayChange(w, user) && w.state !== 'closed' ? html`<${Field} label="Upload a photo or file">
      <input type="file" onChange=${send} disabled=${busy} accept="image/*,application/pdf,text/plain" /><//>` : null}
    <${ErrorNote} error=${error} />`;
}

export function WorkOrderPage({ id, user }) {
  const { data: w, error, loading, reload, setData } = useLoad(() => get(`/api/v1/work-orders/${enc(id)}`), [id]);
  useEffect(() => subscribe(['workorder.'], (type, d) => { if (String(d.id) === String(id)) reload(); }), [id]);
  if (!w) return html`<${ErrorNote} error=${error} what="This work order" /><${Loading} loading=${loading} />`;
  const edit = mayChange(w, user) && w.state !== 'closed';
  return html`<h1>#${w.id} ${w.title}</h1>
    <section class="card" aria-label="Summary"><dl class="facts">
      <dt>State</dt><dd><${StateBadge} state=${w.state} /></dd>
      <dt>Priority</dt><dd><${PrioBadge} priority=${w.priority} /></dd>
      <dt>Station</dt><dd>${w.station_id ? html`<a href=${`#/stations/${enc(w.station_id)}`}>${w.station_id}</a>
        ${w.connector ? ` · EVSE ${w.connector.evse_id}` : ''} · <a href=${`#/technician/${enc(w.station_id)}`}>Technician actions</a>` : '—'}</dd>
      <dt>Technician</dt><dd>${w.assignee || '—'}</dd>
      <dt>Source</dt><dd>${w.alert_id ? html`<a href=${withQuery('#/alerts', { state: 'all', station: w.station_id || '' })}>alert #${w.alert_id}</a>` : w.source}</dd>
      <dt>Created</dt><dd>${fmtTime(w.created_at)} by ${w.created_by}</dd>
      ${w.resolved_at ? html`<dt>Resolved</dt><dd>${fmtTime(w.resolved_at)}</dd>` : null}
      ${w.closed_at ? html`<dt>Closed</dt><dd>${fmtTime(w.closed_at)}</dd>` : null}
      ${w.description ? html`<dt>Description</dt><dd class="wrap">${w.description}</dd>` : null}</dl>
      <${StateButtons} w=${w} user=${user} onChanged=${(x) => setData({ ...w, ...x })} /></section>
    <${Section} title="Notes" id="wo-notes">
      <ul class="notes">${w.notes.map((n) => html`<li key=${n.id}><strong>${n.author}</strong> <span class="muted small">${fmtTime(n.at)}</span><div class="wrap">${n.text}</div></li>`)}</ul>
      ${edit ? html`<${AddForm} w=${w} kind="notes" onChanged=${reload} />` : null}<//>
    <${Section} title=${`Time (${w.minutes_total} min)`} id="wo-time">
      <${Table} label="Time entries" head=${['Technician', 'Minutes', 'What', 'At']} empty="No time recorded."
        rows=${w.time_entries.map((t) => html`<tr key=${t.id}><td>${t.technician}</td><td>${t.minutes}</td><td>${t.note || ''}</td><td>${fmtTime(t.at)}</td></tr>`)} />
      ${edit ? html`<${AddForm} w=${w} kind="time" onChanged=${reload} />` : null}<//>
    <${Section} title="Parts used" id="wo-parts">
      <${Table} label="Parts used" head=${['Part', 'Depot', 'Quantity', 'By', 'At']} empty="No parts used."
        rows=${w.parts.map((p) => html`<tr key=${p.id}><td>${p.sku} ${p.part_name}</td><td>${p.depot_name}</td><td>${p.quantity}</td><td>${p.used_by}</td><td>${fmtTime(p.at)}</td></tr>`)} />
      ${edit ? html`<${AddForm} w=${w} kind="parts" onChanged=${reload} />` : null}<//>
    <${Section} title="Attachments" id="wo-files"><${Attachments} w=${w} user=${user} onChanged=${reload} /><//>`;
}

// ------------------------------------------------------ plans and windows

function listOf(path) {
  return get(withQuery(path, { limit: 500 })).then((r) => r.items);
}

export function MaintenancePage({ user }) {
  const plans = useLoad(() => listOf('/api/v1/maintenance-plans'), []);
  const windows = useLoad(() => listOf('/api/v1/maintenance-windows'), []);
  const [p, setP] = useState({ name: '', interval_days: '365', task: '', kind: 'station', value: '', priority: 'normal' });
  const [wf, setW] = useState({ target: 'station', value: '', from: '', to: '', reason: '' });
  const [error, setError] = useState(null);
  const addPlan = async (e) => {
    e.preventDefault();
    setError(null);
    try {
      await api('POST', '/api/v1/maintenance-plans', { name: p.name, interval_days: Number(p.interval_days), task: p.task,
        scope: { kind: p.kind, value: p.value }, priority: p.priority });
      plans.reload();
    } catch (err) { setError(err); }
  };
  const addWindow = async (e) => {
    e.preventDefault();
    setError(null);
    try {
      await api('POST', '/api/v1/maintenance-windows', { [wf.target === 'station' ? 'station_id' : 'site']: wf.value,
        from: toIso(wf.from), to: toIso(wf.to), reason: wf.reason });
      windows.reload();
    } catch (err) { setError(err); }
  };
  const del = async (path, what, reload) => {
    if (!confirm(`Delete ${what}?`)) return;
    try { await api('DELETE', path); reload(); } catch (err) { setError(err); }
  };
  return html`<h1>Maintenance plans & windows</h1>
    <${ErrorNote} error=${error} />
    <${Section} title="Preventive maintenance plans" id="plans-h">
      <${ErrorNote} error=${plans.error} what="Maintenance plans" />
      <${Table} label="Plans" head=${['Plan', 'Every', 'Scope', 'Next due', 'Priority', '']} empty="No plans."
        rows=${(plans.data || []).map((x) => html`<tr key=${x.id}><td class="wrap"><strong>${x.name}</strong><div class="small muted">${x.task}</div></td>
          <td>${x.interval_days} days</td><td>${x.scope.kind}: ${x.scope.value}</td><td>${fmtTime(x.next_due)}${x.enabled ? '' : ' (off)'}</td>
          <td><${PrioBadge} priority=${x.priority} /></td>
          <td>${canOperate(user) ? html`<button onClick=${() => del(`/api/v1/maintenance-plans/${x.id}`, `plan ${x.name}`, plans.reload)}>Delete</button>` : null}</td></tr>`)} />
      ${canOperate(user) ? html`<form class="grid-form" onSubmit=${addPlan} aria-label="New plan">
        <${Input} form=${p} set=${setP} name="name" label="Name" required />
        <${Input} form=${p} set=${setP} name="interval_days" label="Every (days)" type="number" min="1" required />
        <${Input} form=${p} set=${setP} name="task" label="Task" required />
        <${Input} form=${p} set=${setP} name="kind" label="Scope" options=${['station', 'site', 'model']} />
        <${Input} form=${p} set=${setP} name="value" label="Station, site or model" required />
        <${Input} form=${p} set=${setP} name="priority" label="Priority" options=${['urgent', 'high', 'normal', 'low']} />
        <div class="form-actions"><button class="primary">Add plan</button></div></form>` : null}<//>
    <${Section} title="Maintenance windows" id="windows-h">
      <p class="small muted">Downtime inside a window is excluded from NEVI uptime (an exclusion per station, reason scheduled_maintenance).</p>
      <${ErrorNote} error=${windows.error} what="Maintenance windows" />
      <${Table} label="Windows" head=${['Where', 'From', 'To', 'Reason', 'Exclusions', '']} empty="No windows."
        rows=${(windows.data || []).map((x) => html`<tr key=${x.id}><td>${x.station_id || `site ${x.site}`}</td>
          <td>${fmtTime(x.from)}</td><td>${fmtTime(x.to)}</td><td class="wrap">${x.reason}</td><td>${x.exclusion_ids.length}</td>
          <td>${canStations(user) ? html`<button onClick=${() => del(`/api/v1/maintenance-windows/${x.id}`, 'this window', windows.reload)}>Delete</button>` : null}</td></tr>`)} />
      ${canStations(user) ? html`<form class="grid-form" onSubmit=${addWindow} aria-label="New window">
        <${Input} form=${wf} set=${setW} name="target" label="For a" options=${['station', 'site']} />
        <${Input} form=${wf} set=${setW} name="value" label="Station or site" required />
        <${Input} form=${wf} set=${setW} name="from" label="From" type="datetime-local" required />
        <${Input} form=${wf} set=${setW} name="to" label="To" type="datetime-local" required />
        <${Input} form=${wf} set=${setW} name="reason" label="Reason" required />
        <div class="form-actions"><button class="primary">Schedule</button></div></form>` : null}<//>`;
}
