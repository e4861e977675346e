// The dashboard's entry point: sign-in, the page shell (navigation, live
// indicator) and hash routing (#/stations/CP-1), so the server only ever
// serves a fixed set of files.
import { html, render, useState, useEffect } from './vendor.js';
import { login, loginWithToken, logout, currentUser, setUnauthorizedHandler } from './api.js';
import { liveStart, liveStop, onLiveState } from './live.js';
import { ErrorNote, Field, isAdmin } from './ui.js';
import { Overview } from './overview.js';
import { StationPage } from './station.js';
import { SessionsPage, SessionPage } from './sessions.js';
import { TokensPage } from './tokens.js';
import { UsersPage } from './users.js';
import { AuditPage } from './audit.js';
import { AnalyticsPage } from './analytics.js';
import { AccountPage } from './account.js';
import { AlertsPage, AlertCount } from './alerts.js';
import { UptimePage } from './uptime.js';
import { WorkOrdersPage, WorkOrderPage, MaintenancePage } from './workorders.js';
import { PartsPage } from './parts.js';
import { TechnicianPage } from './technician.js';
import { CampaignsPage } from './campaigns.js';
import { FirmwarePage } from './firmware.js';
import { DiagnosticsPage } from './diagnostics.js';
import { DemandPage } from './demand.js';
import { SitesPage, SitePage } from './sites.js';

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [p, q] = raw.split('?');
  const parts = p.split('/').filter(Boolean).map((s) => { try { return decodeURIComponent(s); } catch (_) { return s; } });
  return { parts, query: Object.fromEntries(new URLSearchParams(q || '')) };
}

function useRoute() {
  const [route, setRoute] = useState(parseHash());
  useEffect(() => {
    const on = () => { setRoute(parseHash()); window.scrollTo(0, 0); };
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

const NAV = [
  { href: '#/', label: 'Overview', key: '' },
  { href: '#/alerts', label: 'Alerts', key: 'alerts', count: AlertCount },
  { href: '#/work-orders', label: 'Work orders', key: 'work-orders' },
  { href: '#/sessions', label: 'Sessions', key: 'sessions' },
  { href: '#/id-tokens', label: 'Id tokens', key: 'id-tokens' },
  { href: '#/analytics', label: 'Analytics', key: 'analytics' },
  { href: '#/uptime', label: 'Uptime', key: 'uptime' },
  { href: '#/sites', label: 'Sites', key: 'sites' },
  { href: '#/demand-response', label: 'Demand response', key: 'demand-response' },
  { href: '#/firmware', label: 'Firmware', key: 'firmware' },
  { href: '#/campaigns', label: 'Firmware campaigns', key: 'campaigns' },
  { href: '#/diagnostics', label: 'Diagnostics', key: 'diagnostics' },
  { href: '#/users', label: 'Users & API tokens', key: 'users', admin: true },
  { href: '#/audit', label: 'Audit log', key: 'audit', admin: true },
];

function LiveDot() {
  const [st, setSt] = useState('closed');
  useEffect(() => onLiveState(setSt), []);
  const label = st === 'open' ? 'Live' : st === 'connecting' ? 'Reconnecting…' : 'Offline';
  return html`<span class=${`live ${st}`} role="status" aria-label=${`Live updates: ${label}`}>${label}</span>`;
}

function Shell({ user, onLogout, route, children }) {
  const [menu, setMenu] = useState(false);
  const top = route.parts[0] === 'stations' ? '' : route.parts[0] || '';
  return html`<a class="skip" href="#main" onClick=${(e) => { e.preventDefault(); document.getElementById('main').focus(); }}>Skip to content</a>
  <header class="top">
    <a class="brand" href="#/">ampgrid</a>
    <button class="menu-btn" aria-expanded=${menu} aria-controls="nav" onClick=${() => setMenu(!menu)}>Menu</button>
    <nav id="nav" class=${menu ? 'open' : ''} aria-label="Main">
      ${NAV.filter((n) => !n.admin || isAdmin(user)).map((n) => html`<a href=${n.href}
        aria-current=${n.key === top ? 'page' : undefined} onClick=${() => setMenu(false)}>${n.label}${n.count ? html`<${n.count} />` : null}</a>`)}
    </nav>
    <div class="who"><${LiveDot} />
      <a class="user" href="#/account" title="Your account">${user.username} (${user.role})</a>
      <button class="link" onClick=${onLogout}>Sign out</button></div>
  </header>
  <main id="main" tabindex="-1">${children}</main>`;
}

function Login({ onLogin, reason }) {
  const [form, setForm] = useState({ username: '', password: '', token: '' });
  const [useToken, setUseToken] = useState(false);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onLogin(useToken ? await loginWithToken(form.token.trim()) : await login(form.username, form.password));
    } catch (err) {
      setError(err.status === 401 ? new Error(useToken ? 'That API token is unknown, revoked or expired.' : 'Wrong username or password.') : err);
    } finally {
      setBusy(false);
    }
  };
  const upd = (k) => (e) => setForm({ ...form, [k]: e.target.value });
  return html`<main class="login" id="main">
    <form class="card" onSubmit=${submit} aria-labelledby="login-title">
      <h1 id="login-title">ampgrid</h1>
      <p class="muted">Sign in to operate your charging network.</p>
      ${reason ? html`<p class="note" role="status">${reason}</p>` : null}
      ${useToken
        ? html`<${Field} label="API token"><input name="token" type="password" value=${form.token} onInput=${upd('token')} required autocomplete="off" /><//>`
        : html`<${Field} label="Username"><input name="username" value=${form.username} onInput=${upd('username')} required autocomplete="username" /><//>
               <${Field} label="Password"><input name="password" type="password" value=${form.password} onInput=${upd('password')} required autocomplete="current-password" /><//>`}
      <${ErrorNote} error=${error} />
      <button type="submit" class="primary" disabled=${busy}>${busy ? 'Signing in…' : 'Sign in'}</button>
      <button type="button" class="link" onClick=${() => { setUseToken(!useToken); setError(null); }}>
        ${useToken ? 'Sign in with a username and password' : 'Sign in with an API token instead'}</button>
    </form></main>`;
}

function Page({ route, user, onPasswordChanged }) {
  const [a, b] = route.parts;
  if (!a) return html`<${Overview} user=${user} />`;
  if (a === 'stations' && b) return html`<${StationPage} id=${b} user=${user} key=${b} />`;
  if (a === 'sessions' && b) return html`<${SessionPage} id=${b} key=${b} />`;
  if (a === 'sessions') return html`<${SessionsPage} query=${route.query} />`;
  if (a === 'alerts') return html`<${AlertsPage} user=${user} query=${route.query} key=${JSON.stringify(route.query)} />`;
  if (a === 'id-tokens') return html`<${TokensPage} user=${user} />`;
  if (a === 'users') return html`<${UsersPage} user=${user} />`;
  if (a === 'audit') return html`<${AuditPage} />`;
  if (a === 'analytics') return html`<${AnalyticsPage} />`;
  if (a === 'uptime') return html`<${UptimePage} user=${user} />`;
  if (a === 'sites' && b) return html`<${SitePage} site=${b} user=${user} key=${b} />`;
  if (a === 'sites') return html`<${SitesPage} user=${user} />`;
  if (a === 'demand-response') return html`<${DemandPage} user=${user} />`;
  if (a === 'work-orders' && b) return html`<${WorkOrderPage} id=${b} user=${user} key=${b} />`;
  if (a === 'work-orders') return html`<${WorkOrdersPage} user=${user} query=${route.query} key=${JSON.stringify(route.query)} />`;
  if (a === 'parts') return html`<${PartsPage} user=${user} />`;
  if (a === 'maintenance') return html`<${MaintenancePage} user=${user} />`;
  if (a === 'technician' && b) return html`<${TechnicianPage} id=${b} user=${user} key=${b} />`;
  if (a === 'firmware') return html`<${FirmwarePage} user=${user} />`;
  if (a === 'diagnostics') return html`<${DiagnosticsPage} user=${user} query=${route.query} key=${JSON.stringify(route.query)} />`;
  if (a === 'campaigns') return html`<${CampaignsPage} user=${user} id=${b} />`;
  if (a === 'account') return html`<${AccountPage} user=${user} onPasswordChanged=${onPasswordChanged} />`;
  return html`<section class="card"><h1>Not found</h1><p>There is no page here. <a href="#/">Back to the overview</a></p></section>`;
}

function App() {
  const [user, setUser] = useState(undefined); /* undefined: still asking */
  const [reason, setReason] = useState(null);
  const route = useRoute();
  useEffect(() => {
    setUnauthorizedHandler(() => { liveStop(); setReason('Your session has ended; sign in again.'); setUser(null); });
    currentUser().then((u) => setUser(u || null));
  }, []);
  useEffect(() => {
    if (user) liveStart();
    return () => {};
  }, [user]);
  useEffect(() => {
    const t = route.parts[0] || 'overview';
    document.title = `${route.parts[1] ? route.parts[1] + ' · ' : ''}${t.charAt(0).toUpperCase() + t.slice(1)} · ampgrid`;
  }, [route]);
  if (user === undefined) return html`<p class="boot">Loading…</p>`;
  if (!user) return html`<${Login} reason=${reason} onLogin=${(u) => { setReason(null); setUser(u); }} />`;
  const onLogout = async () => { liveStop(); await logout(); setUser(null); };
  const onPasswordChanged = async () => {
    liveStop();
    await logout({ local: true });
    setReason('Your password has changed: sign in with the new one.');
    location.hash = '#/';
    setUser(null);
  };
  return html`<${Shell} user=${user} onLogout=${onLogout} route=${route}>
    <${Page} route=${route} user=${user} onPasswordChanged=${onPasswordChanged} /><//>`;
}

render(html`<${App} />`, document.getElementById('app'));
