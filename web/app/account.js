// The signed-in user's own account: change the password (POST
// /api/v1/auth/password). The server ends the user's sessions when the
// password changes, so the dashboard asks for a new sign-in afterwards.
import { html, useState } from './vendor.js';
import { api } from './api.js';
import { Section, Input, ErrorNote } from './ui.js';

export function AccountPage({ user, onPasswordChanged }) {
  const [f, set] = useState({ current_password: '', new_password: '', repeat: '' });
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    if (f.new_password !== f.repeat) { setError(new Error('The new passwords differ.')); return; }
    setBusy(true);
    setError(null);
    try {
      await api('POST', '/api/v1/auth/password', { current_password: f.current_password, new_password: f.new_password });
      onPasswordChanged();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<h1>Your account</h1>
    <${Section} title=${`${user.username} (${user.role})`} id="acct-h">
      ${user.role === 'unknown' ? html`<p class="note">You signed in with an API token; it has no password.</p>` : html`
      <form class="grid-form" onSubmit=${submit} aria-label="Change your password">
        <${Input} form=${f} set=${set} name="current_password" label="Current password" type="password" required />
        <${Input} form=${f} set=${set} name="new_password" label="New password (10+ characters)" type="password" required />
        <${Input} form=${f} set=${set} name="repeat" label="New password again" type="password" required />
        <div class="form-actions"><button class="primary" disabled=${busy}>Change password</button></div>
      </form><${ErrorNote} error=${error} />`}
    <//>`;
}
