// Id tokens (RFID cards and other identifiers): create, block, unblock,
// expire and delete.
import { html, useState } from './vendor.js';
import { api, get, withQuery, enc } from './api.js';
import { useLoad, useAction, Badge, ErrorNote, Loading, Result, Section, Table, Input, fmtTime, canOperate } from './ui.js';

const TYPES = ['ISO14443', 'ISO15693', 'eMAID', 'KeyCode', 'Central', 'Local', 'MacAddress', 'NoAuthorization'];

export function TokensPage({ user }) {
  const [status, setStatus] = useState('');
  const list = useLoad(() => get(withQuery('/api/v1/id-tokens', { status })), [status]);
  const [f, set] = useState({ id_token: '', type: 'ISO14443', expiry: '', parent_id_token: '' });
  const act = useAction();
  const may = canOperate(user);
  const create = async (e) => {
    e.preventDefault();
    const body = { id_token: f.id_token.trim(), type: f.type };
    if (f.expiry) body.expiry = new Date(f.expiry).toISOString();
    if (f.parent_id_token) body.parent_id_token = f.parent_id_token;
    if (await act.run(`Id token ${body.id_token} created`, () => api('POST', '/api/v1/id-tokens', body))) {
      set({ id_token: '', type: 'ISO14443', expiry: '', parent_id_token: '' });
      list.reload();
    }
  };
  const patch = async (t, body, label) => {
    if (await act.run(`${t.id_token}: ${label}`, () => api('PATCH', `/api/v1/id-tokens/${enc(t.id_token)}`, body))) list.reload();
  };
  const del = async (t) => {
    if (!confirm(`Delete id token ${t.id_token}?`)) return;
    if ((await act.run(`${t.id_token} deleted`, () => api('DELETE', `/api/v1/id-tokens/${enc(t.id_token)}`))) !== undefined) list.reload();
  };
  const items = list.data ? list.data.items : [];
  return html`<h1>Id tokens</h1>
    ${may ? html`<${Section} title="Add an id token" id="tok-new-h">
      <form class="grid-form" onSubmit=${create}>
        <${Input} form=${f} set=${set} name="id_token" label="Id token" required placeholder="04A2B3C4D5" />
        <${Input} form=${f} set=${set} name="type" label="Type" options=${TYPES} />
        <${Input} form=${f} set=${set} name="expiry" label="Expires" type="datetime-local" />
        <${Input} form=${f} set=${set} name="parent_id_token" label="Group (parent id token)" />
        <div class="form-actions"><button class="primary" disabled=${act.busy}>Add id token</button></div>
      </form><//>` : null}
    <${Result} result=${act.result} />
    <${Section} title="Id tokens" id="tok-h" actions=${html`<label class="inline"><span>Status</span>
        <select value=${status} onChange=${(e) => setStatus(e.target.value)}>
        ${['', 'Accepted', 'Blocked', 'Expired', 'Invalid'].map((s) => html`<option value=${s}>${s || 'all'}</option>`)}</select></label>`}>
      <${ErrorNote} error=${list.error} />
      <${Loading} loading=${list.loading && !list.data} />
      <${Table} label="Id tokens" head=${['Id token', 'Type', 'Status', 'Expires', 'Group', '']}
        rows=${items.map((t) => html`<tr key=${t.id_token} data-token=${t.id_token}>
          <td>${t.id_token}</td><td>${t.type}</td><td><${Badge} status=${t.status} /></td>
          <td>${t.expiry ? fmtTime(t.expiry) : '—'}</td><td>${t.parent_id_token || '—'}</td>
          <td class="row-actions">${may ? html`
            ${t.status === 'Blocked' ? html`<button class="small" onClick=${() => patch(t, { status: 'Accepted' }, 'unblocked')}>Unblock</button>`
              : html`<button class="small" onClick=${() => patch(t, { status: 'Blocked' }, 'blocked')} aria-label=${`Block ${t.id_token}`}>Block</button>`}
            ${t.status !== 'Expired' ? html`<button class="small" onClick=${() => patch(t, { status: 'Expired' }, 'expired')} aria-label=${`Expire ${t.id_token}`}>Expire</button>` : null}
            <button class="small danger" onClick=${() => del(t)} aria-label=${`Delete ${t.id_token}`}>Delete</button>` : null}</td></tr>`)} />
    <//>`;
}
