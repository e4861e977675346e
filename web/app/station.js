// One station: boot information, connectors with their live sessions, a live
// power/energy chart, the commands an operator sends (each showing the
// station's answer), configuration, status history and the event log. Payloads
// are built in the station's own OCPP version (1.6 or 2.0.1).
import { html, useState, useEffect, useRef } from './vendor.js';
import { api, get, withQuery, enc } from './api.js';
import { subscribe } from './live.js';
import { StationAlerts } from './alerts.js';
import { Chart, meterSeries } from './chart.js';
import { applyStationEvent, points } from './overview.js';
import { useLoad, useAction, Badge, ErrorNote, Loading, Result, Section, Table, Input, fmtTime, fmtWh, fmtW, json, canOperate, canStations } from './ui.js';

const is201 = (st) => st && st.protocol === 'ocpp2.0.1';

// Calls a command and returns the station's answer.
const command = (id, action, payload) => api('POST', `/api/v1/stations/${enc(id)}/commands/${action}`, payload);

// Runs fn after `ms` of quiet, for bursts of events that call for one reload.
function useDebounced(fn, ms) {
  const t = useRef(0);
  useEffect(() => () => clearTimeout(t.current), []);
  return () => { clearTimeout(t.current); t.current = setTimeout(fn, ms); };
}

function BootInfo({ st }) {
  const b = st.boot || {};
  const rows = [['Vendor', b.vendor], ['Model', b.model], ['Serial number', b.serial_number],
    ['Charge box serial', b.charge_box_serial_number], ['Firmware', b.firmware_version], ['ICCID', b.iccid],
    ['IMSI', b.imsi], ['Meter type', b.meter_type], ['Meter serial', b.meter_serial_number],
    ['Protocol', st.protocol], ['Peer address', st.peer], ['Connected since', st.connected ? fmtTime(st.connected_at) : null],
    ['Last boot', fmtTime(st.last_boot_at)], ['Last heartbeat', fmtTime(st.last_heartbeat_at)],
    ['Registration', st.registration_status], ['Security profile', String(st.security_profile)],
    ['Firmware status', st.firmware_status], ['Diagnostics status', st.diagnostics_status]];
  return html`<dl class="facts" data-testid="boot-info">${rows.filter(([, v]) => v !== null && v !== undefined && v !== '' && v !== '—')
    .map(([k, v]) => html`<div><dt>${k}</dt><dd data-field=${k}>${v}</dd></div>`)}</dl>`;
}

function Connectors({ st, sessions, user, onStop }) {
  const byConn = (c) => sessions.find((s) => s.evse_id === c.evse_id && (s.connector_id === c.connector_id || !s.connector_id || c.connector_id <= 1));
  return html`<${Table} label="Connectors" head=${['EVSE', 'Connector', 'Status', 'Error', 'Info', 'Session']}
    empty="The station has not reported any connector yet."
    rows=${points(st).map((c) => {
      const s = byConn(c);
      return html`<tr key=${`${c.evse_id}-${c.connector_id}`} data-connector=${`${c.evse_id}/${c.connector_id}`}>
        <td>${c.evse_id}</td><td>${c.connector_id}</td>
        <td><${Badge} status=${st.connected ? c.status : 'Offline'} /><div class="muted small">${fmtTime(c.timestamp)}</div></td>
        <td>${c.error_code && c.error_code !== 'NoError' ? c.error_code : '—'}${c.vendor_error_code ? html`<div class="small">${c.vendor_error_code}</div>` : null}</td>
        <td>${c.info || '—'}${c.vendor_id ? html`<div class="small">${c.vendor_id}</div>` : null}</td>
        <td>${s ? html`<a href=${`#/sessions/${s.id}`}>#${s.id}</a> ${s.id_token} · ${fmtWh(s.energy_wh)}
          ${canStations(user) ? html` <button class="danger small" onClick=${() => onStop(s)} aria-label=${`Stop session ${s.id}`}>Stop</button>` : null}` : '—'}</td>
      </tr>`;
    })} />`;
}

function LiveChart({ session }) {
  const [values, setValues] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    let gone = false, loaded = false;
    const early = []; /* samples that arrive before the history; duplicates merge by time */
    const off = subscribe(['meter.values'], (t, d) => {
      if (d.session_id !== session.id) return;
      if (loaded) setValues((v) => [...v, ...(d.samples || [])]); else early.push(...(d.samples || []));
    });
    get(`/api/v1/sessions/${session.id}`).then((s) => { if (!gone) { loaded = true; setValues([...(s.meter_values || []), ...early]); } },
      (e) => { if (!gone) setError(e); });
    return () => { gone = true; off(); };
  }, [session.id]);
  if (error) return html`<${ErrorNote} error=${error} />`;
  if (!values) return html`<${Loading} loading=${true} />`;
  const data = meterSeries(values, session.meter_start_wh);
  const n = data[0].length;
  const lastP = n ? data[1].filter((x) => x !== null).pop() : null;
  const lastE = n ? data[2].filter((x) => x !== null).pop() : null;
  const summary = n ? `power ${fmtW(lastP)}, energy ${fmtWh(lastE)} (${n} samples)` : 'no meter values yet';
  return html`<div data-testid="live-chart" data-samples=${n} data-power=${lastP === null || lastP === undefined ? '' : lastP}>
    <${Chart} title=${`Session #${session.id}: power and energy`} summary=${summary} data=${data}
      series=${[{ label: 'Power', color: '#d9480f', scale: 'W', fmt: fmtW }, { label: 'Energy', color: '#1864ab', scale: 'Wh', fmt: fmtWh }]} /></div>`;
}

function Commands({ st, sessions }) {
  const v2 = is201(st);
  const conns = points(st).filter((c) => c.evse_id > 0);
  const firstEvse = conns.length ? String(conns[0].evse_id) : '1';
  const [f, set] = useState({ evse: firstEvse, idTag: '', reset: v2 ? 'OnIdle' : 'Soft', avail: 'Inoperative', availEvse: '0', trigger: 'StatusNotification', triggerEvse: '' });
  const act = useAction();
  const id = st.id;
  const evseOpts = [...new Set(conns.map((c) => String(c.evse_id)))];
  if (!evseOpts.length) evseOpts.push('1');
  const connOf = (evse) => { const c = conns.find((x) => String(x.evse_id) === evse); return c ? c.connector_id || 1 : 1; };
  const send = (label, action, payload) => act.run(`${action}: ${label}`, () => command(id, action, payload));
  const remoteStart = (e) => {
    e.preventDefault();
    if (v2) send('remote start', 'RequestStartTransaction', { evseId: Number(f.evse), idToken: { idToken: f.idTag, type: 'ISO14443' }, remoteStartId: Math.floor(Math.random() * 1e9) });
    else send('remote start', 'RemoteStartTransaction', { connectorId: Number(f.evse), idTag: f.idTag });
  };
  const reset = () => send('reset', 'Reset', { type: f.reset });
  const unlock = () => send('unlock', 'UnlockConnector', v2 ? { evseId: Number(f.evse), connectorId: connOf(f.evse) } : { connectorId: Number(f.evse) });
  const availability = () => {
    const n = Number(f.availEvse);
    if (v2) send('availability', 'ChangeAvailability', n ? { operationalStatus: f.avail, evse: { id: n } } : { operationalStatus: f.avail });
    else send('availability', 'ChangeAvailability', { connectorId: n, type: f.avail });
  };
  const trigger = () => {
    const n = f.triggerEvse === '' ? null : Number(f.triggerEvse);
    if (v2) send('trigger', 'TriggerMessage', n ? { requestedMessage: f.trigger, evse: { id: n } } : { requestedMessage: f.trigger });
    else send('trigger', 'TriggerMessage', n !== null ? { requestedMessage: f.trigger, connectorId: n } : { requestedMessage: f.trigger });
  };
  const triggers = v2 ? ['BootNotification', 'Heartbeat', 'StatusNotification', 'MeterValues', 'TransactionEvent', 'FirmwareStatusNotification', 'LogStatusNotification', 'SignChargingStationCertificate']
    : ['BootNotification', 'Heartbeat', 'StatusNotification', 'MeterValues', 'FirmwareStatusNotification', 'DiagnosticsStatusNotification'];
  return html`<div class="commands" aria-busy=${act.busy}>
    <form class="cmd" onSubmit=${remoteStart} aria-label="Remote start">
      <h3>Remote start</h3>
      <${Input} form=${f} set=${set} name="evse" label=${v2 ? 'EVSE' : 'Connector'} options=${evseOpts} />
      <${Input} form=${f} set=${set} name="idTag" label="Id token" required placeholder="04A2B3C4D5" />
      <button class="primary" disabled=${act.busy || !st.connected}>Start charging</button>
    </form>
    <div class="cmd" role="group" aria-label="Remote stop">
      <h3>Remote stop</h3>
      ${sessions.length ? sessions.map((s) => html`<button class="danger" disabled=${act.busy || !st.connected}
          onClick=${() => send(`stop session #${s.id}`, v2 ? 'RequestStopTransaction' : 'RemoteStopTransaction', { transactionId: v2 ? s.transaction_id : Number(s.transaction_id) })}>
          Stop session #${s.id} (${s.id_token})</button>`) : html`<p class="muted">No session is running.</p>`}
    </div>
    <div class="cmd" role="group" aria-label="Reset">
      <h3>Reset</h3>
      <${Input} form=${f} set=${set} name="reset" label="Type" options=${v2 ? ['OnIdle', 'Immediate'] : ['Soft', 'Hard']} />
      <button disabled=${act.busy || !st.connected} onClick=${reset}>Reset station</button>
    </div>
    <div class="cmd" role="group" aria-label="Unlock connector">
      <h3>Unlock connector</h3>
      <${Input} form=${f} set=${set} name="evse" label=${v2 ? 'EVSE' : 'Connector'} options=${evseOpts} />
      <button disabled=${act.busy || !st.connected} onClick=${unlock}>Unlock</button>
    </div>
    <div class="cmd" role="group" aria-label="Change availability">
      <h3>Change availability</h3>
      <${Input} form=${f} set=${set} name="availEvse" label=${v2 ? 'EVSE (0 = whole station)' : 'Connector (0 = whole station)'} options=${['0', ...evseOpts]} />
      <${Input} form=${f} set=${set} name="avail" label="Availability" options=${['Inoperative', 'Operative']} />
      <button disabled=${act.busy || !st.connected} onClick=${availability}>Change availability</button>
    </div>
    <div class="cmd" role="group" aria-label="Trigger message">
      <h3>Trigger message</h3>
      <${Input} form=${f} set=${set} name="trigger" label="Message" options=${triggers} />
      <${Input} form=${f} set=${set} name="triggerEvse" label=${v2 ? 'EVSE' : 'Connector'} options=${[{ value: '', label: 'any' }, ...evseOpts]} />
      <button disabled=${act.busy || !st.connected} onClick=${trigger}>Trigger</button>
    </div>
    <div class="cmd-result" aria-live="polite">
      ${act.busy ? html`<p class="muted">Waiting for the station's answer…</p>` : null}
      <${Result} result=${act.result} />
    </div>
    ${!st.connected ? html`<p class="note">The station is offline: commands need a connected station.</p>` : null}
  </div>`;
}

function ConfigEdit({ onSave, busy }) {
  const [f, set] = useState({ value: '' });
  return html`<form class="inline-form" onSubmit=${(e) => { e.preventDefault(); onSave(f.value); }}>
    <label><span class="sr-only">New value</span><input value=${f.value} onInput=${(e) => set({ value: e.target.value })} placeholder="new value" /></label>
    <button disabled=${busy}>Save</button></form>`;
}

function Configuration({ st, user }) {
  const v2 = is201(st);
  const act = useAction();
  const [keys, setKeys] = useState(null); /* 1.6 GetConfiguration answer */
  const vars = useLoad(() => (v2 ? get(`/api/v1/stations/${enc(st.id)}/variables`) : Promise.resolve(null)), [st.id, v2]);
  const [editing, setEditing] = useState(null);
  const [f, set] = useState({ key: '', value: '', component: '' });
  const may = canStations(user);
  const load16 = async () => {
    const r = await act.run('GetConfiguration', () => command(st.id, 'GetConfiguration', {}));
    if (r) setKeys(r.configurationKey || []);
  };
  const change = async (body, label) => {
    const r = await act.run(`Change ${label}`, () => api('POST', `/api/v1/stations/${enc(st.id)}/variables`, body));
    if (r) { setEditing(null); if (v2) vars.reload(); else if (keys) load16(); }
  };
  const report = () => act.run('GetBaseReport', () => command(st.id, 'GetBaseReport', { requestId: Math.floor(Math.random() * 1e9), reportBase: 'FullInventory' }))
    .then(() => setTimeout(vars.reload, 1500));
  const editCell = (k, body, writable) => (!may || !writable ? null : editing === k
    ? html`<${ConfigEdit} busy=${act.busy} onSave=${(value) => change({ ...body, value }, k)} />`
    : html`<button class="small" onClick=${() => setEditing(k)} aria-label=${`Change ${k}`}>Change</button>`);
  return html`<div>
    <div class="toolbar">
      ${v2 ? html`<button disabled=${act.busy || !st.connected || !may} onClick=${report}>Ask the station for a full report</button>`
        : html`<button disabled=${act.busy || !st.connected || !may} onClick=${load16}>Get configuration from the station</button>`}
    </div>
    ${may ? html`<form class="grid-form" onSubmit=${(e) => { e.preventDefault(); change(v2 ? { component: f.component, variable: f.key, value: f.value } : { variable: f.key, value: f.value }, f.key); }} aria-label="Change a setting">
      ${v2 ? html`<${Input} form=${f} set=${set} name="component" label="Component" required placeholder="OCPPCommCtrlr" />` : null}
      <${Input} form=${f} set=${set} name="key" label=${v2 ? 'Variable' : 'Key'} required placeholder=${v2 ? 'HeartbeatInterval' : 'HeartbeatInterval'} />
      <${Input} form=${f} set=${set} name="value" label="Value" required />
      <div class="form-actions"><button class="primary" disabled=${act.busy || !st.connected}>Change setting</button></div>
    </form>` : null}
    <${Result} result=${act.result} />
    ${!v2 && keys ? html`<${Table} label="Configuration keys" head=${['Key', 'Value', 'Read-only', '']} rows=${keys.map((k) => html`<tr key=${k.key}>
      <td>${k.key}</td><td class="wrap">${k.value === undefined ? '—' : k.value}</td><td>${k.readonly ? 'yes' : 'no'}</td>
      <td>${editCell(k.key, { variable: k.key }, !k.readonly)}</td></tr>`)} />` : null}
    ${v2 ? html`<${ErrorNote} error=${vars.error} what="The device model" />
      ${vars.data ? html`<${Table} label="Device model variables" head=${['Component', 'Variable', 'Value', 'Mutability', '']} empty="No report yet: ask the station for one."
        rows=${vars.data.items.map((x) => {
          const k = `${x.component}/${x.component_instance || ''}/${x.evse_id || ''}/${x.variable}/${x.variable_instance || ''}/${x.attribute_type || ''}`;
          const body = { component: x.component, variable: x.variable };
          if (x.component_instance) body.component_instance = x.component_instance;
          if (x.variable_instance) body.variable_instance = x.variable_instance;
          if (x.evse_id !== null && x.evse_id !== undefined) body.evse_id = x.evse_id;
          if (x.connector_id !== null && x.connector_id !== undefined) body.connector_id = x.connector_id;
          if (x.attribute_type) body.attribute_type = x.attribute_type;
          return html`<tr key=${k}><td>${x.component}${x.evse_id ? ` (EVSE ${x.evse_id})` : ''}</td><td>${x.variable}</td>
            <td class="wrap">${x.value === null ? '—' : x.value}${x.unit ? ` ${x.unit}` : ''}</td><td>${x.mutability || '—'}</td>
            <td>${editCell(k, body, x.mutability !== 'ReadOnly')}</td></tr>`;
        })} />` : null}` : null}
  </div>`;
}

function Settings({ st, onChanged }) {
  const [f, set] = useState({ description: st.description || '', registration_status: st.registration_status });
  const act = useAction();
  const save = async (e) => {
    e.preventDefault();
    if (await act.run('Station updated', () => api('PATCH', `/api/v1/stations/${enc(st.id)}`, { description: f.description || null, registration_status: f.registration_status }))) onChanged();
  };
  const del = async () => {
    if (!confirm(`Delete station ${st.id}? It is disconnected; its sessions stay in history.`)) return;
    if ((await act.run('Station deleted', () => api('DELETE', `/api/v1/stations/${enc(st.id)}`))) !== undefined) location.hash = '#/';
  };
  const rotate = () => act.run('Password rotation', () => api('POST', `/api/v1/stations/${enc(st.id)}/rotate-password`));
  return html`<form class="grid-form" onSubmit=${save} aria-label="Station settings">
      <${Input} form=${f} set=${set} name="description" label="Description" />
      <${Input} form=${f} set=${set} name="registration_status" label="Registration" options=${['Accepted', 'Pending', 'Rejected']}
        hint="The answer to the station's next BootNotification." />
      <div class="form-actions wide"><button class="primary" disabled=${act.busy}>Save</button>
        <button type="button" disabled=${act.busy || !st.connected || !st.has_password} onClick=${rotate}>Rotate password</button>
        <button type="button" class="danger" disabled=${act.busy} onClick=${del}>Delete station</button></div>
    </form><${Result} result=${act.result} />`;
}

export function StationPage({ id, user }) {
  const station = useLoad(() => get(`/api/v1/stations/${enc(id)}`), [id]);
  const sessions = useLoad(() => get(withQuery('/api/v1/sessions', { station: id, active: 'true' })), [id]);
  const history = useLoad(() => get(withQuery(`/api/v1/stations/${enc(id)}/status-history`, { limit: 50 })), [id]);
  const events = useLoad(() => get(withQuery(`/api/v1/stations/${enc(id)}/events`, { limit: 50 })), [id]);
  const stop = useAction();
  const reloadHistory = useDebounced(history.reload, 300);
  const reloadEvents = useDebounced(events.reload, 300);
  const reloadStation = useDebounced(station.reload, 200);

  useEffect(() => subscribe(['station.', 'connector.status', 'transaction.', 'command.result'], (type, d) => {
    if (d.station_id !== id) return;
    if (type === 'station.deleted') { station.reload(); return; }
    if (type === 'connector.status' || type === 'station.connected' || type === 'station.disconnected' || type === 'station.boot') {
      station.setData((cur) => cur && applyStationEvent([cur], type, d)[0][0]);
    }
    if (type !== 'connector.status') reloadStation();
    if (type === 'connector.status') reloadHistory();
    if (type.startsWith('transaction.')) sessions.reload();
    if (type === 'command.result' || type === 'station.notification') reloadEvents();
  }), [id]);
  useEffect(() => subscribe(['stream.gap'], () => { station.reload(); sessions.reload(); history.reload(); events.reload(); }), [id]);
  useEffect(() => subscribe(['meter.values'], (t, d) => {
    if (d.station_id !== id || !d.session_id) return;
    const reg = (d.samples || []).filter((s) => (s.measurand || 'Energy.Active.Import.Register') === 'Energy.Active.Import.Register' && !s.phase).pop();
    if (!reg) return;
    const wh = Number(reg.value) * (/^k/.test(reg.unit || '') ? 1000 : 1);
    sessions.setData((cur) => cur && { ...cur, items: cur.items.map((s) => (s.id === d.session_id ? { ...s, energy_wh: wh - s.meter_start_wh } : s)) });
  }), [id]);

  if (station.error) return html`<h1>${id}</h1><${ErrorNote} error=${station.error} /><p><a href="#/">Back to the overview</a></p>`;
  const st = station.data;
  if (!st) return html`<h1>${id}</h1><${Loading} loading=${true} />`;
  const active = sessions.data ? sessions.data.items : [];
  const onStop = (s) => stop.run(`Stop session #${s.id}`, () => command(st.id, is201(st) ? 'RequestStopTransaction' : 'RemoteStopTransaction',
    { transactionId: is201(st) ? s.transaction_id : Number(s.transaction_id) }));

  return html`<div class="page-head"><h1>${st.id}</h1>
      <${Badge} status=${st.connected ? 'Online' : 'Offline'} />
      ${st.registration_status !== 'Accepted' ? html`<${Badge} status=${st.registration_status} />` : null}
      ${st.description ? html`<span class="muted">${st.description}</span>` : null}
      ${canStations(user) ? html`<button type="button" title="Ask the station for its diagnostics or log on the Diagnostics page"
        onClick=${() => { location.hash = withQuery('#/diagnostics', { station: st.id }); }}>Request diagnostics</button>` : null}</div>
    <${Section} title="Connectors" id="conn-h">
      <${Connectors} st=${st} sessions=${active} user=${user} onStop=${onStop} />
      <${Result} result=${stop.result} />
    <//>
    <${StationAlerts} id=${st.id} user=${user} />
    <${Section} title="Live session" id="live-h">
      ${active.length ? active.map((s) => html`<${LiveChart} session=${s} key=${s.id} />`) : html`<p class="muted">No session is running.</p>`}
    <//>
    ${canStations(user) ? html`<${Section} title="Commands" id="cmd-h"><${Commands} st=${st} sessions=${active} /><//>` : null}
    <${Section} title="Boot information" id="boot-h"><${BootInfo} st=${st} /><//>
    <${Section} title="Configuration" id="config-h"><${Configuration} st=${st} user=${user} /><//>
    <${Section} title="Status history" id="hist-h">
      <${ErrorNote} error=${history.error} />
      <${Table} label="Status history" head=${['Time', 'EVSE', 'Connector', 'Status', 'Error', 'Info']}
        rows=${(history.data ? history.data.items : []).map((h, i) => html`<tr key=${i}>
          <td>${fmtTime(h.timestamp)}</td><td>${h.evse_id}</td><td>${h.connector_id}</td><td><${Badge} status=${h.status} /></td>
          <td>${h.error_code || '—'}${h.vendor_error_code ? ` (${h.vendor_error_code})` : ''}</td><td class="wrap">${h.info || '—'}</td></tr>`)} />
    <//>
    <${Section} title="Event log" id="events-h">
      <${ErrorNote} error=${events.error} />
      <${Table} label="Event log" head=${['Time', 'Kind', 'Detail']}
        rows=${(events.data ? events.data.items : []).map((e) => html`<tr key=${e.id}>
          <td>${fmtTime(e.created_at)}</td><td>${e.kind}</td><td class="wrap"><code>${json(e.detail)}</code></td></tr>`)} />
    <//>
    ${canOperate(user) ? html`<${Section} title="Settings" id="settings-h"><${Settings} st=${st} onChanged=${station.reload} key=${st.updated_at} /><//>` : null}`;
}
