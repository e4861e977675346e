// Remote diagnostics: ask a connected station for its diagnostics (1.6
// GetDiagnostics) or log (2.0.1 GetLog), follow each request live
// (diagnostics.updated events) from pending to uploaded, and download what
// the station uploaded. Technicians, operators and admins ask; everyone who
// may read sees the list.
import { html, useState, useEffect } from './vendor.js';
import { api, get, withQuery, enc, download } from './api.js';
import { subscribe } from './live.js';
import { ErrorNote, Loading, Table, Input, Section, fmtTime, canStations, useLoad } from './ui.js';

const STATUS_CLASS = { pending: 'other', accepted: 'busy', uploading: 'busy', uploaded: 'ok', rejected: 'off', failed: 'bad', timed_out: 'bad' };
const STATUSES = ['', 'pending', 'accepted', 'uploading', 'uploaded', 'rejected', 'failed', 'timed_out'];
const fmtBytes = (n) => (n == null ? '—' : n >= 1048576 ? `${(n / 1048576).toFixed(1)} MB` : n >= 1024 ? `${(n / 1024).toFixed(1)} kB` : `${n} B`);

function Ask({ station, onDone }) {
  const [form, setForm] = useState({ station: station || '', start_time: '', stop_time: '' });
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const body = {};
    if (form.start_time) body.start_time = new Date(form.start_time).toISOString();
    if (form.stop_time) body.stop_time = new Date(form.stop_time).toISOString();
    try {
      onDone(await api('POST', `/api/v1/stations/${enc(form.station.trim())}/diagnostics`, body));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="grid-form" onSubmit=${submit} aria-label="Request diagnostics">
    <${Input} form=${form} set=${setForm} name="station" label="Station" required placeholder="CP-001" />
    <${Input} form=${form} set=${setForm} name="start_time" label="From (optional)" type="datetime-local" />
    <${Input} form=${form} set=${setForm} name="stop_time" label="To (optional)" type="datetime-local" />
    <${ErrorNote} error=${error} />
    <button type="submit" class="primary" disabled=${busy}>${busy ? 'Asking the station…' : 'Request diagnostics'}</button>
  </form>`;
}

export function DiagnosticsPage({ user, query = {} }) {
  const [filter, setFilter] = useState({ station: query.station || '', status: '' });
  const [error, setError] = useState(null);
  const [note, setNote] = useState(null);
  const list = useLoad(() => get(withQuery('/api/v1/diagnostics', { ...filter, limit: 100 })), [filter.station, filter.status]);
  useEffect(() => subscribe(['diagnostics.updated'], () => list.reload()), [list.reload]);
  const items = (list.data && list.data.items) || [];
  const rows = items.map((d) => html`<tr>
    <td>${d.id}</td><td><a href=${`#/stations/${enc(d.station_id)}`}>${d.station_id}</a></td>
    <td>${d.protocol}</td><td><span class=${`badge ${STATUS_CLASS[d.status] || 'other'}`}>${d.status}</span></td>
    <td>${d.detail || '—'}</td><td>${fmtTime(d.requested_at)}</td><td>${d.requested_by || '—'}</td>
    <td>${d.file_name || '—'}</td><td>${fmtBytes(d.size)}</td>
    <td>${d.file_received ? html`<button class="link" onClick=${() => download(d.download, d.file_name || `diagnostics-${d.id}`).catch(setError)}>Download</button>` : '—'}</td>
  </tr>`);
  return html`<h1>Diagnostics</h1>
    ${canStations(user) ? html`<${Section} title="Ask a station" id="diag-ask">
      <${Ask} station=${query.station} onDone=${(d) => { setNote(`Request ${d.id}: the station answered ${d.status}.`); list.reload(); }} /><//>` : null}
    <${Section} title="Requests" id="diag-list" actions=${html`
        <label class="inline">Station <input value=${filter.station} onChange=${(e) => setFilter({ ...filter, station: e.target.value.trim() })} placeholder="all" /></label>
        <label class="inline">Status <select value=${filter.status} onChange=${(e) => setFilter({ ...filter, status: e.target.value })}>
          ${STATUSES.map((s) => html`<option value=${s}>${s || 'all'}</option>`)}</select></label>`}>
      ${note ? html`<p class="note" role="status">${note}</p>` : null}
      <${ErrorNote} error=${error || list.error} what="Remote diagnostics" />
      <${Loading} loading=${list.loading && !list.data} />
      <${Table} label="Diagnostics requests" head=${['Id', 'Station', 'Protocol', 'Status', 'Station said', 'Requested', 'By', 'File', 'Size', '']}
        rows=${rows} empty="No diagnostics requested yet." />
    <//>`;
}
