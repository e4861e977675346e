// Firmware campaigns: the list with each campaign's progress, a form for a
// new draft (operators and admins), and a campaign's page with its stations'
// states updated live from the event stream (campaign.* events) and the
// buttons that move it on: start, pause, resume, promote, cancel, and retry
// for a failed station.
import { html, useState, useEffect, useRef } from './vendor.js';
import { api, get, withQuery, enc } from './api.js';
import { subscribe } from './live.js';
import { ErrorNote, Loading, Table, Input, Section, fmtTime, canOperate, useLoad } from './ui.js';

const STATE_CLASS = { draft: 'other', running: 'busy', paused: 'warn', completed: 'ok', cancelled: 'off' };
const ST_CLASS = {
  pending: 'other', scheduled: 'busy', sent: 'busy', downloading: 'busy', downloaded: 'busy',
  installing: 'busy', installed: 'busy', succeeded: 'ok', failed: 'bad', cancelled: 'off',
};
const IN_FLIGHT = ['scheduled', 'sent', 'downloading', 'downloaded', 'installing', 'installed'];

const StateBadge = ({ state, map = STATE_CLASS }) => html`<span class=${`badge ${map[state] || 'other'}`}>${state}</span>`;
const list = (s) => s.split(',').map((x) => x.trim()).filter(Boolean);

// Calls fn at most once per `ms`: bursts of events become one reload.
function useDebounced(fn, ms) {
  const t = useRef(null);
  const latest = useRef(fn);
  latest.current = fn;
  useEffect(() => () => clearTimeout(t.current), []);
  return () => { clearTimeout(t.current); t.current = setTimeout(() => latest.current(), ms); };
}

function Progress({ c }) {
  const p = c.progress || {};
  const total = c.stations_total || 0;
  const done = (p.succeeded || 0) + (p.failed || 0) + (p.cancelled || 0);
  const flying = IN_FLIGHT.reduce((n, s) => n + (p[s] || 0), 0);
  if (!total) return html`<span class="muted">—</span>`;
  return html`<span class="campaign-progress">
    <progress max=${total} value=${done} aria-label=${`${done} of ${total} stations finished`}></progress>
    <small> ${p.succeeded || 0} ok · ${p.failed || 0} failed · ${flying} updating · ${p.pending || 0} waiting / ${total}</small></span>`;
}

function NewCampaign({ onCreated }) {
  const images = useLoad(() => get('/api/v1/firmware?limit=100'), []);
  const [form, setForm] = useState({
    name: '', image_id: '', sites: '', models: '', versions: '', stations: '',
    canary: '1', batch_size: '10', max_concurrent: '5', window: '', window_utc_offset: '0',
    failure_threshold: '20', min_attempts: '5', force: 'no',
  });
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const items = (images.data && images.data.items) || [];
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const target = {};
    if (form.sites) target.sites = list(form.sites);
    if (form.models) target.models = list(form.models);
    if (form.versions) target.firmware_versions = list(form.versions);
    if (form.stations) target.station_ids = list(form.stations);
    const num = (k) => Number(form[k]);
    try {
      const c = await api('POST', '/api/v1/firmware-campaigns', {
        name: form.name.trim(), image_id: Number(form.image_id || (items[0] && items[0].id)), target,
        settings: {
          canary: num('canary'), batch_size: num('batch_size'), max_concurrent: num('max_concurrent'),
          window: form.window.trim() || null, window_utc_offset: num('window_utc_offset'),
          failure_threshold: num('failure_threshold'), min_attempts: num('min_attempts'), force: form.force === 'yes',
        },
      });
      onCreated(c);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const opts = items.map((i) => ({ value: String(i.id), label: `${i.version} (${i.filename})` }));
  return html`<form class="grid-form" onSubmit=${submit} aria-label="New firmware campaign">
    <${Input} form=${form} set=${setForm} name="name" label="Name" required />
    ${opts.length ? html`<${Input} form=${form} set=${setForm} name="image_id" label="Image" options=${opts} />`
      : html`<p class="note">Upload an image to the firmware repository first.</p>`}
    <${Input} form=${form} set=${setForm} name="models" label="Models" placeholder="comma-separated" />
    <${Input} form=${form} set=${setForm} name="versions" label="Current firmware versions" placeholder="comma-separated" />
    <${Input} form=${form} set=${setForm} name="sites" label="Sites" placeholder="comma-separated" />
    <${Input} form=${form} set=${setForm} name="stations" label="Station ids" placeholder="comma-separated" />
    <${Input} form=${form} set=${setForm} name="canary" label="Canary stations" type="number" min="0" />
    <${Input} form=${form} set=${setForm} name="batch_size" label="Batch size (0 = all)" type="number" min="0" />
    <${Input} form=${form} set=${setForm} name="max_concurrent" label="At most at once" type="number" min="1" />
    <${Input} form=${form} set=${setForm} name="window" label="Maintenance window" placeholder="01:00-05:00" hint="local time; empty = any time" />
    <${Input} form=${form} set=${setForm} name="window_utc_offset" label="Local time (minutes east of UTC)" type="number" />
    <${Input} form=${form} set=${setForm} name="failure_threshold" label="Pause above failure %" type="number" min="1" />
    <${Input} form=${form} set=${setForm} name="min_attempts" label="…after attempts" type="number" min="1" />
    <${Input} form=${form} set=${setForm} name="force" label="During charging sessions" options=${[{ value: 'no', label: 'Defer' }, { value: 'yes', label: 'Force' }]} />
    <${ErrorNote} error=${error} />
    <button type="submit" class="primary" disabled=${busy || !opts.length}>Create draft</button>
  </form>`;
}

function CampaignList({ user }) {
  const q = useLoad(() => get('/api/v1/firmware-campaigns?limit=100'), []);
  const [adding, setAdding] = useState(false);
  const reload = useDebounced(q.reload, 500);
  useEffect(() => subscribe(['campaign.updated'], reload), []);
  const items = (q.data && q.data.items) || [];
  return html`<${Section} title="Firmware campaigns" id="campaigns-title"
      actions=${canOperate(user) ? html`<button onClick=${() => setAdding(!adding)}>${adding ? 'Close' : 'New campaign'}</button>` : null}>
    ${adding ? html`<${NewCampaign} onCreated=${(c) => { location.hash = `#/campaigns/${c.id}`; }} />` : null}
    <${ErrorNote} error=${q.error} what="Firmware campaigns" />
    <${Loading} loading=${q.loading && !q.data} />
    <${Table} label="Firmware campaigns" head=${['Campaign', 'State', 'Progress', 'Created']} empty="No campaigns yet."
      rows=${items.map((c) => html`<tr>
        <td><a href=${`#/campaigns/${c.id}`}>${c.name}</a></td>
        <td><${StateBadge} state=${c.state} />${c.paused_reason ? html`<br /><small>${c.paused_reason}</small>` : null}</td>
        <td><${Progress} c=${c} /></td>
        <td>${fmtTime(c.created_at)}</td></tr>`)} />
  <//>`;
}

function rollout(x) {
  const s = x.settings;
  const off = s.window_utc_offset;
  return [`canary ${s.canary}${x.promoted ? ' (promoted)' : ''}`, `batches of ${s.batch_size || 'all'}`,
    `at most ${s.max_concurrent} at once`,
    s.window ? `window ${s.window} (UTC${off >= 0 ? '+' : '-'}${Math.abs(off) / 60} h)` : 'any time',
    s.force ? 'forced during sessions' : 'deferred during sessions',
    `pauses above ${s.failure_threshold} % failed after ${s.min_attempts} attempts`].join(', ');
}

function CampaignDetail({ id, user }) {
  const c = useLoad(() => get(`/api/v1/firmware-campaigns/${enc(id)}`), [id]);
  const st = useLoad(() => get(withQuery(`/api/v1/firmware-campaigns/${enc(id)}/stations`, { limit: 1000 })), [id]);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const reload = useDebounced(() => { c.reload(); }, 300);
  useEffect(() => subscribe(['campaign.'], (type, d) => {
    if (type === 'campaign.station' && String(d.campaign_id) === String(id)) {
      st.setData((old) => old && { ...old, items: old.items.map((x) => (x.station_id === d.station_id ? { ...x, ...d } : x)) });
      reload();
    } else if (String(d.id) === String(id)) {
      reload();
      st.reload();
    }
  }), [id]);
  const act = async (path) => {
    setBusy(true);
    setError(null);
    try {
      c.setData(await api('POST', `/api/v1/firmware-campaigns/${enc(id)}/${path}`));
      st.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const x = c.data;
  const op = canOperate(user);
  const buttons = x && op ? [
    x.state === 'draft' && html`<button class="primary" disabled=${busy} onClick=${() => act('start')}>Start</button>`,
    x.state === 'running' && html`<button disabled=${busy} onClick=${() => act('pause')}>Pause</button>`,
    x.state === 'paused' && html`<button class="primary" disabled=${busy} onClick=${() => act('resume')}>Resume</button>`,
    ['running', 'paused'].includes(x.state) && x.settings.canary > 0 && !x.promoted &&
      html`<button disabled=${busy} onClick=${() => act('promote')}>Promote past canary</button>`,
    ['draft', 'running', 'paused'].includes(x.state) &&
      html`<button class="danger" disabled=${busy} onClick=${() => confirm('Cancel this campaign?') && act('cancel')}>Cancel</button>`,
  ].filter(Boolean) : null;
  const rows = ((st.data && st.data.items) || []).map((s) => html`<tr>
    <td>${s.position}${x && s.position < x.settings.canary ? html` <small>canary</small>` : null}</td>
    <td><a href=${`#/stations/${enc(s.station_id)}`}>${s.station_id}</a></td>
    <td><${StateBadge} state=${s.state} map=${ST_CLASS} /></td>
    <td>${s.attempts}</td><td>${s.error || ''}</td><td>${fmtTime(s.state_at)}</td>
    <td>${op && s.state === 'failed' && x && ['running', 'paused'].includes(x.state)
      ? html`<button disabled=${busy} onClick=${() => act(`stations/${enc(s.station_id)}/retry`)}>Retry</button>` : null}</td></tr>`);
  return html`<p><a href="#/campaigns">← Firmware campaigns</a></p>
    <${ErrorNote} error=${c.error} what="This campaign" />
    <${Loading} loading=${c.loading && !x} />
    ${x ? html`<${Section} title=${x.name} id="campaign-title" actions=${buttons}>
      <dl class="facts">
        <dt>State</dt><dd><${StateBadge} state=${x.state} />${x.paused_reason ? html` ${x.paused_reason}` : null}</dd>
        <dt>Image</dt><dd>${x.image ? `${x.image.version} (${x.image.filename})` : `#${x.image_id}`}</dd>
        <dt>Progress</dt><dd><${Progress} c=${x} /></dd>
        <dt>Rollout</dt><dd>${rollout(x)}</dd>
        <dt>Target</dt><dd><code>${JSON.stringify(x.target)}</code></dd>
        <dt>Started</dt><dd>${fmtTime(x.started_at)}</dd>
      </dl>
      <${ErrorNote} error=${error} />
    <//>
    <${Section} title="Stations" id="campaign-stations">
      <${ErrorNote} error=${st.error} />
      <${Table} label="Campaign stations" head=${['#', 'Station', 'State', 'Attempts', 'Error', 'Since', '']}
        empty=${x.state === 'draft' ? 'The stations are chosen when the campaign starts.' : 'No stations.'} rows=${rows} />
    <//>` : null}`;
}

export function CampaignsPage({ user, id }) {
  return id ? html`<${CampaignDetail} id=${id} user=${user} key=${id} />` : html`<${CampaignList} user=${user} />`;
}
