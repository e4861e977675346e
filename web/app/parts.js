// Spare parts: the catalogue, the depots and the stock of each part in each
// depot (low stock marked; it also raises the parts_low_stock alert), with
// receiving and counting stock for operators.
import { html, useState } from './vendor.js';
import { api, get, withQuery } from './api.js';
import { ErrorNote, Table, Input, Section, fmtTime, useLoad, canOperate } from './ui.js';

const all = (path) => get(withQuery(path, { limit: 500 })).then((r) => r.items);

export function PartsPage({ user }) {
  const parts = useLoad(() => all('/api/v1/parts'), []);
  const depots = useLoad(() => all('/api/v1/depots'), []);
  const stock = useLoad(() => get('/api/v1/stock').then((r) => r.items), []);
  const [p, setP] = useState({ sku: '', name: '', models: '', unit: 'piece' });
  const [d, setD] = useState({ name: '', location: '' });
  const [a, setA] = useState({ part_id: '', depot_id: '', kind: 'receive', quantity: '', low_threshold: '' });
  const [error, setError] = useState(null);
  const run = (fn, reload) => async (e) => {
    e.preventDefault();
    setError(null);
    try { await fn(); reload.forEach((r) => r()); } catch (err) { setError(err); }
  };
  const addPart = run(() => api('POST', '/api/v1/parts', { sku: p.sku, name: p.name, unit: p.unit || 'piece',
    models: p.models.split(',').map((s) => s.trim()).filter(Boolean) }), [parts.reload]);
  const addDepot = run(() => api('POST', '/api/v1/depots', { name: d.name, ...(d.location ? { location: d.location } : {}) }), [depots.reload]);
  const adjust = run(() => api('POST', '/api/v1/stock/adjustments', { part_id: Number(a.part_id), depot_id: Number(a.depot_id),
    kind: a.kind, quantity: Number(a.quantity), ...(a.low_threshold !== '' ? { low_threshold: Number(a.low_threshold) } : {}) }), [stock.reload]);
  const op = canOperate(user);
  return html`<h1>Parts & stock</h1>
    <${ErrorNote} error=${error} />
    <${Section} title="Stock" id="stock-h">
      <${ErrorNote} error=${stock.error} what="Stock" />
      <${Table} label="Stock" head=${['Part', 'Depot', 'On hand', 'Low below', 'Updated']} empty="No stock recorded."
        rows=${(stock.data || []).map((s) => html`<tr key=${`${s.part_id}-${s.depot_id}`} class=${s.low ? 'low' : ''}>
          <td>${s.sku} ${s.part_name}</td><td>${s.depot_name}</td>
          <td>${s.quantity} ${s.unit}${s.low ? html` <span class="badge bad">low</span>` : null}</td>
          <td>${s.low_threshold || '—'}</td><td>${fmtTime(s.updated_at)}</td></tr>`)} />
      ${op ? html`<form class="grid-form" onSubmit=${adjust} aria-label="Adjust stock">
        <${Input} form=${a} set=${setA} name="part_id" label="Part" options=${[{ value: '', label: '—' }, ...(parts.data || []).map((x) => ({ value: String(x.id), label: `${x.sku} ${x.name}` }))]} />
        <${Input} form=${a} set=${setA} name="depot_id" label="Depot" options=${[{ value: '', label: '—' }, ...(depots.data || []).map((x) => ({ value: String(x.id), label: x.name }))]} />
        <${Input} form=${a} set=${setA} name="kind" label="Kind" options=${[{ value: 'receive', label: 'receive (arrived)' }, { value: 'correct', label: 'correct (counted)' }]} />
        <${Input} form=${a} set=${setA} name="quantity" label="Quantity" type="number" min="0" required />
        <${Input} form=${a} set=${setA} name="low_threshold" label="Low below (optional)" type="number" min="0" />
        <div class="form-actions"><button class="primary">Record</button></div></form>` : null}<//>
    <${Section} title="Parts" id="parts-h">
      <${ErrorNote} error=${parts.error} what="Parts" />
      <${Table} label="Parts" head=${['Id', 'SKU', 'Name', 'Fits', 'Unit']} empty="No parts yet."
        rows=${(parts.data || []).map((x) => html`<tr key=${x.id}><td>${x.id}</td><td>${x.sku}</td><td>${x.name}</td>
          <td>${x.models.join(', ') || 'any'}</td><td>${x.unit}</td></tr>`)} />
      ${op ? html`<form class="grid-form" onSubmit=${addPart} aria-label="New part">
        <${Input} form=${p} set=${setP} name="sku" label="SKU" required />
        <${Input} form=${p} set=${setP} name="name" label="Name" required />
        <${Input} form=${p} set=${setP} name="models" label="Fits models (comma-separated)" />
        <${Input} form=${p} set=${setP} name="unit" label="Unit" />
        <div class="form-actions"><button class="primary">Add part</button></div></form>` : null}<//>
    <${Section} title="Depots" id="depots-h">
      <${ErrorNote} error=${depots.error} what="Depots" />
      <${Table} label="Depots" head=${['Id', 'Name', 'Location']} empty="No depots yet."
        rows=${(depots.data || []).map((x) => html`<tr key=${x.id}><td>${x.id}</td><td>${x.name}</td><td>${x.location || ''}</td></tr>`)} />
      ${op ? html`<form class="grid-form" onSubmit=${addDepot} aria-label="New depot">
        <${Input} form=${d} set=${setD} name="name" label="Name" required />
        <${Input} form=${d} set=${setD} name="location" label="Location" />
        <div class="form-actions"><button class="primary">Add depot</button></div></form>` : null}<//>`;
}
