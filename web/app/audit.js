// The audit log (admins): who changed what, from where, with the state before
// and after. Paged by cursor ("Load more").
import { html, useState, useEffect } from './vendor.js';
import { get, withQuery } from './api.js';
import { ErrorNote, Loading, Table, Input, fmtTime } from './ui.js';

const toIso = (local) => (local ? new Date(local).toISOString() : '');

export function AuditPage() {
  const [f, set] = useState({ actor: '', action: '', target_type: '', target_id: '', from: '', to: '' });
  const [q, setQ] = useState({});
  const [items, setItems] = useState([]);
  const [cursor, setCursor] = useState(null);
  const [error, setError] = useState(null);
  const [loading, setLoading] = useState(true);
  const load = async (more) => {
    setLoading(true);
    try {
      const r = await get(withQuery('/api/v1/audit-log', { ...q, from: toIso(q.from), to: toIso(q.to), limit: 50, cursor: more ? cursor : '' }));
      setItems(more ? [...items, ...(r.items || [])] : r.items || []);
      setCursor(r.next_cursor || null);
      setError(null);
    } catch (e) {
      setError(e);
    } finally {
      setLoading(false);
    }
  };
  useEffect(() => { load(false); }, [JSON.stringify(q)]);
  return html`<h1>Audit log</h1>
    <form class="card grid-form filters" onSubmit=${(e) => { e.preventDefault(); setQ({ ...f }); }} aria-label="Filter the audit log">
      <${Input} form=${f} set=${set} name="actor" label="Actor" />
      <${Input} form=${f} set=${set} name="action" label="Action" placeholder="station.create" />
      <${Input} form=${f} set=${set} name="target_type" label="Target type" />
      <${Input} form=${f} set=${set} name="target_id" label="Target id" />
      <${Input} form=${f} set=${set} name="from" label="From" type="datetime-local" />
      <${Input} form=${f} set=${set} name="to" label="To" type="datetime-local" />
      <div class="form-actions"><button class="primary">Apply</button></div>
    </form>
    <${ErrorNote} error=${error} what="The audit log" />
    ${!error ? html`<${Table} label="Audit log" head=${['Time', 'Actor', 'Action', 'Target', 'Status', 'From', 'Change']}
      empty="No entries." rows=${items.map((e) => html`<tr key=${e.id}>
        <td>${fmtTime(e.at)}</td><td>${e.actor}<div class="small muted">${e.actor_kind}${e.role ? ` · ${e.role}` : ''}</div></td>
        <td>${e.action}<div class="small muted">${e.method} ${e.path}</div></td>
        <td>${e.target_type}${e.target_id ? html` <code>${e.target_id}</code>` : null}</td><td>${e.status}</td><td>${e.ip || '—'}</td>
        <td>${e.before || e.after ? html`<details><summary>before / after</summary>
          <pre>${JSON.stringify({ before: e.before, after: e.after }, null, 2)}</pre></details>` : '—'}</td></tr>`)} />` : null}
    <${Loading} loading=${loading} />
    ${cursor && !loading ? html`<div class="pager"><button onClick=${() => load(true)}>Load more</button></div>` : null}`;
}
