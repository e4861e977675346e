// One-click actions for a technician at a station: soft and hard reset,
// unlock a connector, change availability, trigger a status report, fetch
// the configuration. Each asks for confirmation, goes through POST
// /api/v1/stations/{id}/commands/{action} (audited there) in the station's
// own OCPP version, and shows the station's answer.
import { html, useState } from './vendor.js';
import { api, get, enc } from './api.js';
import { ErrorNote, Loading, Result, Badge, useLoad, useAction, canStations } from './ui.js';

const is201 = (st) => st && st.protocol === 'ocpp2.0.1';

// The actions, each as [label, what it does, action, payload] for a station
// and a connector (evse, connector).
function actions(st, evse, conn) {
  const v2 = is201(st);
  return [
    ['Soft reset', 'Restarts when idle; running sessions finish first.', 'Reset', v2 ? { type: 'OnIdle' } : { type: 'Soft' }],
    ['Hard reset', 'Restarts now; running sessions are stopped.', 'Reset', v2 ? { type: 'Immediate' } : { type: 'Hard' }],
    ['Unlock connector', `Releases the cable of connector ${evse}.`, 'UnlockConnector', v2 ? { evseId: evse, connectorId: conn } : { connectorId: evse }],
    ['Make unavailable', `Takes connector ${evse} out of service.`, 'ChangeAvailability',
      v2 ? { operationalStatus: 'Inoperative', evse: { id: evse } } : { connectorId: evse, type: 'Inoperative' }],
    ['Make available', `Puts connector ${evse} back in service.`, 'ChangeAvailability',
      v2 ? { operationalStatus: 'Operative', evse: { id: evse } } : { connectorId: evse, type: 'Operative' }],
    ['Trigger status', `Asks for a StatusNotification of connector ${evse}.`, 'TriggerMessage',
      v2 ? { requestedMessage: 'StatusNotification', evse: { id: evse, connectorId: conn } } : { requestedMessage: 'StatusNotification', connectorId: evse }],
    ['Fetch configuration', v2 ? 'Asks for a configuration report (GetBaseReport).' : 'Reads every key (GetConfiguration).',
      v2 ? 'GetBaseReport' : 'GetConfiguration', v2 ? { requestId: Math.floor(Date.now() / 1000) % 100000, reportBase: 'ConfigurationInventory' } : {}],
  ];
}

export function TechnicianPage({ id, user }) {
  const { data: st, error, loading } = useLoad(() => get(`/api/v1/stations/${enc(id)}`), [id]);
  const [evse, setEvse] = useState(1);
  const act = useAction();
  if (!st) return html`<h1>Technician actions</h1><${ErrorNote} error=${error} what="This station" /><${Loading} loading=${loading} />`;
  const conns = (st.connectors || []).filter((c) => c.evse_id > 0);
  const conn = (conns.find((c) => c.evse_id === evse) || { connector_id: 1 }).connector_id || 1;
  const run = (labelText, what, action, payload) => {
    if (!confirm(`${labelText} on ${id}?\n${what}`)) return;
    act.run(`${labelText} (${action})`, () => api('POST', `/api/v1/stations/${enc(id)}/commands/${action}`, payload));
  };
  return html`<h1>Technician actions: <a href=${`#/stations/${enc(id)}`}>${id}</a></h1>
    <section class="card" aria-label="Station">
      <p>${st.connected ? html`<${Badge} status="Online" />` : html`<${Badge} status="Offline" />`} ${st.protocol || ''}
        ${conns.map((c) => html` <span class="small">#${c.evse_id}: <${Badge} status=${c.status} /></span>`)}</p>
      ${!st.connected ? html`<p class="note" role="status">The station is not connected: commands will be refused.</p>` : null}
      <label class="field"><span>Connector</span><select value=${evse} onChange=${(e) => setEvse(Number(e.target.value))}>
        ${(conns.length ? conns : [{ evse_id: 1 }]).map((c) => html`<option value=${c.evse_id}>${c.evse_id}</option>`)}</select></label>
    </section>
    <section class="card" aria-label="Actions"><div class="tech-actions">
      ${actions(st, evse, conn).map(([l, what, action, payload]) => html`<button class="big" disabled=${act.busy || !canStations(user)}
        data-action=${action} title=${what} onClick=${() => run(l, what, action, payload)}>${l}</button>`)}
    </div><${Result} result=${act.result} /></section>`;
}
