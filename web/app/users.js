// Users (people who sign in to the dashboard) and API tokens (programs), for
// admins. A new API token is shown once, right after it is made.
import { html, useState } from './vendor.js';
import { api, get, enc } from './api.js';
import { useLoad, useAction, Badge, ErrorNote, Loading, Result, Section, Table, Input, fmtTime, isAdmin } from './ui.js';

const ROLES = ['viewer', 'integration', 'technician', 'operator', 'admin'];
const itemsOf = (d) => (Array.isArray(d) ? d : d && d.items ? d.items : []);

function Users() {
  const list = useLoad(() => get('/api/v1/users'), []);
  const [f, set] = useState({ username: '', password: '', role: 'operator' });
  const act = useAction();
  const create = async (e) => {
    e.preventDefault();
    if (await act.run(`User ${f.username} created`, () => api('POST', '/api/v1/users', f))) {
      set({ username: '', password: '', role: 'operator' });
      list.reload();
    }
  };
  const patch = async (u, body, label) => {
    if (await act.run(`${u.username}: ${label}`, () => api('PATCH', `/api/v1/users/${enc(u.username)}`, body))) list.reload();
  };
  const del = async (u) => {
    if (!confirm(`Delete user ${u.username}?`)) return;
    if ((await act.run(`${u.username} deleted`, () => api('DELETE', `/api/v1/users/${enc(u.username)}`))) !== undefined) list.reload();
  };
  const setPassword = (u) => {
    const pw = prompt(`New password for ${u.username}`);
    if (pw) patch(u, { password: pw }, 'password changed');
  };
  if (list.error) return html`<${ErrorNote} error=${list.error} what="User management" />`;
  return html`<form class="grid-form" onSubmit=${create} aria-label="Add a user">
      <${Input} form=${f} set=${set} name="username" label="Username" required />
      <${Input} form=${f} set=${set} name="password" label="Password" type="password" required />
      <${Input} form=${f} set=${set} name="role" label="Role" options=${ROLES} />
      <div class="form-actions"><button class="primary" disabled=${act.busy}>Add user</button></div>
    </form>
    <${Result} result=${act.result} />
    <${Loading} loading=${list.loading && !list.data} />
    <${Table} label="Users" head=${['Username', 'Role', 'State', 'Created', 'Last sign-in', '']}
      rows=${itemsOf(list.data).map((u) => html`<tr key=${u.username}>
        <td>${u.username}</td>
        <td><label><span class="sr-only">Role of ${u.username}</span><select value=${u.role} onChange=${(e) => patch(u, { role: e.target.value }, `role ${e.target.value}`)}>
          ${ROLES.map((r) => html`<option value=${r}>${r}</option>`)}</select></label></td>
        <td><${Badge} status=${u.disabled ? 'Disabled' : 'Enabled'} /></td>
        <td>${fmtTime(u.created_at)}</td><td>${fmtTime(u.last_login_at)}</td>
        <td class="row-actions"><button class="small" onClick=${() => setPassword(u)}>Set password</button>
          <button class="small" onClick=${() => patch(u, { disabled: !u.disabled }, u.disabled ? 'enabled' : 'disabled')}
            aria-label=${`${u.disabled ? 'Enable' : 'Disable'} user ${u.username}`}>${u.disabled ? 'Enable' : 'Disable'}</button>
          <button class="small danger" onClick=${() => del(u)} aria-label=${`Delete user ${u.username}`}>Delete</button></td></tr>`)} />`;
}

function ApiTokens() {
  const list = useLoad(() => get('/api/v1/api-tokens'), []);
  const [f, set] = useState({ name: '', role: 'integration', expires_at: '' });
  const [made, setMade] = useState(null);
  const act = useAction();
  const create = async (e) => {
    e.preventDefault();
    const body = { name: f.name, role: f.role };
    if (f.expires_at) body.expires_at = new Date(f.expires_at).toISOString();
    const r = await act.run(`API token ${f.name} created`, () => api('POST', '/api/v1/api-tokens', body));
    if (r) { setMade(r); set({ name: '', role: 'integration', expires_at: '' }); list.reload(); }
  };
  const revoke = async (t) => {
    if (!confirm(`Revoke API token ${t.name}? Programs using it stop working.`)) return;
    if ((await act.run(`${t.name} revoked`, () => api('DELETE', `/api/v1/api-tokens/${enc(t.id)}`))) !== undefined) list.reload();
  };
  if (list.error) return html`<${ErrorNote} error=${list.error} what="API token management" />`;
  return html`<form class="grid-form" onSubmit=${create} aria-label="Create an API token">
      <${Input} form=${f} set=${set} name="name" label="Name" required placeholder="billing-sync" />
      <${Input} form=${f} set=${set} name="role" label="Role" options=${ROLES} />
      <${Input} form=${f} set=${set} name="expires_at" label="Expires" type="datetime-local" />
      <div class="form-actions"><button class="primary" disabled=${act.busy}>Create API token</button></div>
    </form>
    ${made && made.token ? html`<div class="result ok" role="status"><strong>Copy this token now; it is not shown again:</strong>
      <pre class="secret">${made.token}</pre></div>` : html`<${Result} result=${act.result} />`}
    <${Table} label="API tokens" head=${['Name', 'Role', 'Created', 'Expires', 'Last used', '']}
      rows=${itemsOf(list.data).map((t) => html`<tr key=${t.id}>
        <td>${t.name}</td><td>${t.role}</td><td>${fmtTime(t.created_at)}</td><td>${t.expires_at ? fmtTime(t.expires_at) : 'never'}</td>
        <td>${fmtTime(t.last_used_at)}</td>
        <td>${t.revoked_at || t.active === false ? html`<span class="muted">${t.revoked_at ? 'revoked' : 'expired'}</span>` : html`<button class="small danger" onClick=${() => revoke(t)} aria-label=${`Revoke ${t.name}`}>Revoke</button>`}</td></tr>`)} />`;
}

export function UsersPage({ user }) {
  if (!isAdmin(user)) return html`<h1>Users & API tokens</h1><p class="note">Only admins manage users and API tokens.</p>`;
  return html`<h1>Users & API tokens</h1>
    <${Section} title="Users" id="users-h"><${Users} /><//>
    <${Section} title="API tokens" id="apitok-h"><${ApiTokens} /><//>`;
}
