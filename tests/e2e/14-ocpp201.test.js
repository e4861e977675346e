// OCPP 2.0.1 on the same endpoint as 1.6: real ocpp-rpc stations in strict
// mode (every frame both ways is validated against the official 2.0.1
// schemas) boot, report status, authorize every id token type, run
// TransactionEvent sessions (out of order, duplicated, offline, with gaps),
// report their device model in several parts, take GetVariables /
// SetVariables / remote start and stop / password rotation through the API,
// send every notification, and hostile frames get the 2.0.1 error codes.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { Server, sleep, waitFor, upgradeStatus, BIN } = require('./lib/harness');

const V201 = ['ocpp2.0.1'];
const PASSWORD = 'correct-horse-battery';
const HOUR = 3600 * 1000;

const iso = (ms) => new Date(ms).toISOString();
const now = () => iso(Date.now());
const sameTime = (a, b) => Date.parse(a) === Date.parse(b);

async function stopAndCheck(s) {
  const st = await s.stop();
  s.cleanup();
  assert.deepStrictEqual(st, { code: 0, signal: null },
    `server did not exit cleanly on SIGTERM: ${JSON.stringify(st)}\n--- stderr (tail) ---\n${s.stderr.slice(-6000)}`);
}

// Ports for the server, picked outside the kernel's ephemeral range: a
// free port inside it can be taken as the local port of any outgoing
// connection (a load test running beside these tests opens thousands) before
// the server binds it. Falls back to the harness's own choice.
function ephemeralRange() {
  try {
    const [lo, hi] = fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (lo > 0 && hi >= lo) return [lo, hi];
  } catch (_) { /* not Linux */ }
  return [32768, 60999];
}

function listenable(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

async function quietPort() {
  const [lo] = ephemeralRange();
  if (lo <= 12000) return undefined;
  for (let i = 0; i < 50; i++) {
    const port = 10000 + Math.floor(Math.random() * (lo - 10000));
    if (await listenable(port)) return port;
  }
  return undefined;
}

// Starts a server on a fresh data directory that already holds an admin
// API token made with `ampgrid token create` (the banner prints a token only
// on a data directory's first start, so a retried start would have none).
// A start that lost its port to another process is retried on new ports.
async function startServer(opts = {}) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ampgrid-e2e-'));
  const token = execFileSync(BIN, ['token', 'create', '--data-dir', dataDir, '--role', 'admin', '--name', 'e2e'], { encoding: 'utf8' }).trim();
  assert.match(token, /^agt_[0-9a-f]{64}$/);
  for (let attempt = 1; ; attempt++) {
    const ocppPort = await quietPort();
    const httpPort = ocppPort && await quietPort();
    const s = new Server({ ...opts, dataDir, token, ...(ocppPort && httpPort && ocppPort !== httpPort ? { ocppPort, httpPort } : {}) });
    try {
      await s.start();
      return s;
    } catch (e) {
      await s.stop().catch(() => {});
      if (attempt >= 4 || !/cannot listen|binding fd/.test(s.stderr)) {
        s.cleanup();
        throw e;
      }
    }
  }
}

function rejectsWith(code, field) {
  return (err) => {
    assert.strictEqual(err.rpcErrorCode, code, `expected CALLERROR ${code}, got ${err.rpcErrorCode}: ${err.message}`);
    assert.ok(err.message && err.message.length > 0, 'the CALLERROR has a description');
    if (field) assert.match(err.message, new RegExp(field), 'the description names the field');
    return true;
  };
}

function assertProblem(r, status, detailPattern) {
  assert.strictEqual(r.status, status, JSON.stringify(r.body));
  assert.match(String(r.headers.get('content-type')), /^application\/problem\+json/);
  assert.strictEqual(r.body.status, status);
  if (detailPattern) assert.match(r.body.detail, detailPattern);
}

const BOOT = { reason: 'PowerUp', chargingStation: { vendorName: 'ampgrid-test', model: 'e2e-201' } };

// A strict-mode 2.0.1 station, not connected yet.
const station201 = (s, id, opts = {}) => s.station(id, { protocols: V201, ...opts });

// A connected 2.0.1 station whose boot was Accepted.
async function booted201(s, id, opts = {}) {
  const cp = station201(s, id, opts);
  await cp.connect();
  const r = await cp.call('BootNotification', BOOT);
  assert.strictEqual(r.status, 'Accepted', JSON.stringify(r));
  return cp;
}

const command = (s, station, action, body) => s.api('POST', `/api/v1/stations/${station}/commands/${action}`, body);

// Live events (SSE), parsed into { type, data }.
async function openEvents(s, query) {
  const ac = new AbortController();
  const r = await fetch(`${s.httpUrl}/api/v1/events?${query}`, { headers: { authorization: `Bearer ${s.token}` }, signal: ac.signal });
  assert.strictEqual(r.status, 200);
  const events = [];
  const done = (async () => {
    const dec = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of r.body) {
        buf += dec.decode(chunk, { stream: true });
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const ev = {};
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) ev.type = line.slice(7);
            else if (line.startsWith('data: ')) ev.data = JSON.parse(line.slice(6));
          }
          if (ev.type) events.push(ev);
        }
      }
    } catch (_) { /* aborted */ }
  })();
  return { events, close: async () => { ac.abort(); await done; } };
}

// --- transaction events -------------------------------------------------------

const TRIGGER = { Started: 'Authorized', Updated: 'MeterValuePeriodic', Ended: 'StopAuthorized' };

// A TransactionEventRequest; `info` goes into transactionInfo, the rest at the top level.
function txEvent(eventType, transactionId, seqNo, { info = {}, ...rest } = {}) {
  return {
    eventType, timestamp: now(), triggerReason: TRIGGER[eventType], seqNo,
    transactionInfo: { transactionId, ...info }, ...rest,
  };
}

// One meterValue entry with one energy register reading.
const energy = (value, context, timestamp = now(), unitOfMeasure = { unit: 'Wh' }) =>
  ({ timestamp, sampledValue: [{ value, context, measurand: 'Energy.Active.Import.Register', location: 'Outlet', unitOfMeasure }] });

// A stored sample's value in Wh, whichever unit the server kept it in.
const wh = (m) => Number(m.value) * (m.unit === 'kWh' ? 1000 : 1);

async function sessionsOf(s, stationId) {
  const r = await s.api('GET', `/api/v1/sessions?station=${encodeURIComponent(stationId)}&limit=1000`);
  assert.strictEqual(r.status, 200, JSON.stringify(r.body));
  return r.body.items;
}

// The one session of a station's transaction (by the station's transactionId), with meter values.
async function sessionByTx(s, stationId, txId) {
  const all = (await sessionsOf(s, stationId)).filter((x) => x.transaction_id === txId);
  assert.strictEqual(all.length, 1, `exactly one session for ${txId}, got ${JSON.stringify(all)}`);
  const r = await s.api('GET', `/api/v1/sessions/${all[0].id}`);
  assert.strictEqual(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

// ============================================================================

test('OCPP 2.0.1 connection, boot, registration and status', async (t) => {
  const s = await startServer();
  const open = [];
  try {
    await s.createStation('V2-BOOT');
    await s.createStation('V2-PEND', { registration_status: 'Pending' });

    await t.test('a station offering the ocpp2.0.1 subprotocol is accepted with it', async () => {
      const cp = station201(s, 'V2-BOOT');
      open.push(cp);
      await cp.connect();
      assert.strictEqual(cp.protocol, 'ocpp2.0.1');
      const st = await s.api('GET', '/api/v1/stations/V2-BOOT');
      assert.strictEqual(st.body.connected, true);
      assert.strictEqual(st.body.protocol, 'ocpp2.0.1');
    });

    await t.test('BootNotification with a reason is Accepted with the current time and heartbeat interval', async () => {
      const cp = open[0];
      const events = await openEvents(s, 'types=station.boot&station=V2-BOOT');
      try {
        const before = Date.now();
        const r = await cp.call('BootNotification', {
          reason: 'FirmwareUpdate',
          chargingStation: {
            vendorName: 'ACME', model: 'X2-201', serialNumber: 'SN-0042', firmwareVersion: '2.0.1-rc3',
            modem: { iccid: '8931440400000000001', imsi: '262011234567890' },
          },
        });
        assert.strictEqual(r.status, 'Accepted');
        assert.ok(Number.isInteger(r.interval) && r.interval > 0, `interval ${r.interval}`);
        assert.ok(Math.abs(Date.parse(r.currentTime) - before) < 60000, `currentTime ${r.currentTime}`);
        const ev = await waitFor(() => events.events.find((e) => e.type === 'station.boot'), { what: 'station.boot event' });
        assert.strictEqual(ev.data.reason, 'FirmwareUpdate', 'the boot reason is on the station.boot event');
      } finally {
        await events.close();
      }
    });

    await t.test('the boot is stored on the station resource with protocol ocpp2.0.1', async () => {
      const st = (await s.api('GET', '/api/v1/stations/V2-BOOT')).body;
      assert.strictEqual(st.protocol, 'ocpp2.0.1');
      assert.strictEqual(st.boot.vendor, 'ACME');
      assert.strictEqual(st.boot.model, 'X2-201');
      assert.strictEqual(st.boot.serial_number, 'SN-0042');
      assert.strictEqual(st.boot.firmware_version, '2.0.1-rc3');
      assert.strictEqual(st.boot.iccid, '8931440400000000001');
      assert.strictEqual(st.boot.imsi, '262011234567890');
      assert.ok(st.last_boot_at, 'last_boot_at is set');
    });

    await t.test('Heartbeat is answered with the current time', async () => {
      const r = await open[0].call('Heartbeat', {});
      assert.ok(Math.abs(Date.parse(r.currentTime) - Date.now()) < 60000);
    });

    await t.test('a Pending station\'s boot is answered Pending', async () => {
      const cp = station201(s, 'V2-PEND');
      open.push(cp);
      await cp.connect();
      const r = await cp.call('BootNotification', BOOT);
      assert.strictEqual(r.status, 'Pending');
      assert.ok(Number.isInteger(r.interval) && r.interval > 0);
    });

    await t.test('while Pending, requests other than BootNotification get CALLERROR SecurityError', async () => {
      const cp = open[1];
      await assert.rejects(cp.call('Heartbeat', {}), rejectsWith('SecurityError'));
      await assert.rejects(cp.call('StatusNotification', { timestamp: now(), connectorStatus: 'Available', evseId: 1, connectorId: 1 }),
        rejectsWith('SecurityError'));
      await assert.rejects(cp.call('Authorize', { idToken: { idToken: '', type: 'NoAuthorization' } }), rejectsWith('SecurityError'));
      await assert.rejects(cp.call('TransactionEvent', txEvent('Started', 'PEND-TX', 0, { evse: { id: 1, connectorId: 1 } })),
        rejectsWith('SecurityError'));
      assert.deepStrictEqual(await sessionsOf(s, 'V2-PEND'), [], 'nothing was recorded');
      const st = (await s.api('GET', '/api/v1/stations/V2-PEND')).body;
      assert.deepStrictEqual(st.connectors, [], 'no status was recorded');
    });

    await t.test('once the operator accepts it, the next boot is Accepted and requests are served', async () => {
      const cp = open[1];
      const p = await s.api('PATCH', '/api/v1/stations/V2-PEND', { registration_status: 'Accepted' });
      assert.strictEqual(p.status, 200, JSON.stringify(p.body));
      assert.strictEqual((await cp.call('BootNotification', BOOT)).status, 'Accepted');
      assert.ok((await cp.call('Heartbeat', {})).currentTime);
    });

    await t.test('StatusNotification with evseId and connectorId appears in the station\'s connectors', async () => {
      const cp = open[0];
      const ts1 = iso(Date.now() - 2000);
      const ts2 = iso(Date.now() - 1000);
      assert.deepStrictEqual(await cp.call('StatusNotification', { timestamp: ts1, connectorStatus: 'Available', evseId: 1, connectorId: 1 }), {});
      assert.deepStrictEqual(await cp.call('StatusNotification', { timestamp: ts1, connectorStatus: 'Available', evseId: 2, connectorId: 1 }), {});
      assert.deepStrictEqual(await cp.call('StatusNotification', { timestamp: ts2, connectorStatus: 'Occupied', evseId: 1, connectorId: 1 }), {});
      assert.deepStrictEqual(await cp.call('StatusNotification', { timestamp: ts2, connectorStatus: 'Unavailable', evseId: 2, connectorId: 2 }), {});
      const st = (await s.api('GET', '/api/v1/stations/V2-BOOT')).body;
      const find = (e, c) => st.connectors.find((k) => k.evse_id === e && k.connector_id === c);
      assert.strictEqual(find(1, 1)?.status, 'Occupied');
      assert.ok(sameTime(find(1, 1).timestamp, ts2));
      assert.strictEqual(find(2, 1)?.status, 'Available');
      assert.strictEqual(find(2, 2)?.status, 'Unavailable');
      assert.strictEqual(st.connectors.length, 3, JSON.stringify(st.connectors));
    });

    await t.test('every StatusNotification is in the status history with its EVSE and connector', async () => {
      const r = await s.api('GET', '/api/v1/stations/V2-BOOT/status-history');
      assert.strictEqual(r.status, 200);
      const h = r.body.items.map((x) => `${x.evse_id}/${x.connector_id}=${x.status}`).sort();
      assert.deepStrictEqual(h, ['1/1=Available', '1/1=Occupied', '2/1=Available', '2/2=Unavailable']);
    });
  } finally {
    await Promise.allSettled(open.map((c) => c.close()));
    await stopAndCheck(s);
  }
});

// ============================================================================

test('OCPP 2.0.1 Authorize', async (t) => {
  const s = await startServer();
  let cp;
  try {
    const future = new Date(Math.floor((Date.now() + 24 * HOUR) / 1000) * 1000).toISOString();
    const typed = {
      ISO14443: '04A2B3C4D5E6F7',
      ISO15693: 'E004010012345678',
      eMAID: 'DE-8AA-CA2B3C4D5-E',
      KeyCode: '918273',
      Central: '6f1ed0a8-2b0c-4a57-9a1e-1c8a3e2f4b5d',
      MacAddress: '00:1A:2B:3C:4D:5E',
    };
    for (const [type, id] of Object.entries(typed)) await s.createIdToken(id, { type });
    await s.createIdToken('TOK-BLOCKED', { type: 'ISO14443', status: 'Blocked' });
    await s.createIdToken('TOK-EXPSTATUS', { type: 'ISO14443', status: 'Expired' });
    await s.createIdToken('TOK-PAST', { type: 'ISO14443', expiry: iso(Date.now() - HOUR) });
    await s.createIdToken('TOK-FUTURE', { type: 'ISO14443', expiry: future });
    await s.createIdToken('FLEET-1', { type: 'Central' });
    await s.createIdToken('TOK-MEMBER', { type: 'ISO14443', parent_id_token: 'FLEET-1' });
    await s.createStation('V2-AUTH');
    cp = await booted201(s, 'V2-AUTH');

    const authorize = (idToken, type) => cp.call('Authorize', { idToken: { idToken, type } });

    for (const [type, id] of Object.entries(typed)) {
      await t.test(`a registered ${type} token is Accepted`, async () => {
        assert.deepStrictEqual(await authorize(id, type), { idTokenInfo: { status: 'Accepted' } });
      });
    }

    await t.test('a NoAuthorization token is Accepted without being registered', async () => {
      assert.strictEqual((await authorize('', 'NoAuthorization')).idTokenInfo.status, 'Accepted');
    });

    await t.test('an unknown token is Unknown (not the 1.6 Invalid)', async () => {
      assert.deepStrictEqual(await authorize('NOT-REGISTERED', 'ISO14443'), { idTokenInfo: { status: 'Unknown' } });
    });

    await t.test('a token presented with a type other than its registered one is not Accepted', async () => {
      // An RFID UID typed in as a key code is another credential (IdTokenType
      // is identified by idToken and type together).
      assert.notStrictEqual((await authorize(typed.ISO14443, 'KeyCode')).idTokenInfo.status, 'Accepted');
    });

    await t.test('a Blocked token is Blocked', async () => {
      assert.strictEqual((await authorize('TOK-BLOCKED', 'ISO14443')).idTokenInfo.status, 'Blocked');
    });

    await t.test('a token whose status is Expired is Expired', async () => {
      assert.strictEqual((await authorize('TOK-EXPSTATUS', 'ISO14443')).idTokenInfo.status, 'Expired');
    });

    await t.test('an Accepted token whose expiry has passed is Expired', async () => {
      assert.strictEqual((await authorize('TOK-PAST', 'ISO14443')).idTokenInfo.status, 'Expired');
    });

    await t.test('a token with a future expiry is Accepted with cacheExpiryDateTime = the expiry', async () => {
      const r = await authorize('TOK-FUTURE', 'ISO14443');
      assert.strictEqual(r.idTokenInfo.status, 'Accepted');
      assert.ok(sameTime(r.idTokenInfo.cacheExpiryDateTime, future), `cacheExpiryDateTime ${r.idTokenInfo.cacheExpiryDateTime} = ${future}`);
    });

    await t.test('a group member gets groupIdToken with the parent\'s id and type', async () => {
      const r = await authorize('TOK-MEMBER', 'ISO14443');
      assert.deepStrictEqual(r.idTokenInfo, { status: 'Accepted', groupIdToken: { idToken: 'FLEET-1', type: 'Central' } });
    });
  } finally {
    if (cp) await cp.close();
    await stopAndCheck(s);
  }
});

// ============================================================================

test('OCPP 2.0.1 TransactionEvent sessions', async (t) => {
  const s = await startServer();
  const open = [];
  try {
    for (const tok of ['TOK-A', 'TOK-B', 'TOK-C', 'TOK-OFF', 'TOK-GAP']) await s.createIdToken(tok);
    await s.createStation('V2-TX');
    await s.createStation('V2-GAP');
    const cp = await booted201(s, 'V2-TX');
    open.push(cp);
    // Gaps make the server ask for the transaction status; answer like a station.
    const statusAsked = [];
    cp.handle('GetTransactionStatus', ({ params }) => { statusAsked.push(params); return { messagesInQueue: false, ongoingIndicator: true }; });

    // --- a full session ----------------------------------------------------------

    const startTs = iso(Date.now() - 10 * 60000);
    const endTs = iso(Date.now() - 1000);
    let sessionId;

    await t.test('Started with an idToken is answered with its idTokenInfo and creates an active session', async () => {
      const r = await cp.call('TransactionEvent', {
        ...txEvent('Started', 'TX-A', 0, { info: { chargingState: 'EVConnected' } }),
        timestamp: startTs,
        evse: { id: 1, connectorId: 1 },
        idToken: { idToken: 'TOK-A', type: 'ISO14443' },
        meterValue: [energy(1000, 'Transaction.Begin', startTs)],
        numberOfPhasesUsed: 3,
        cableMaxCurrent: 32,
      });
      assert.deepStrictEqual(r, { idTokenInfo: { status: 'Accepted' } });
      const ses = await sessionByTx(s, 'V2-TX', 'TX-A');
      sessionId = ses.id;
      assert.strictEqual(ses.active, true);
      assert.strictEqual(ses.station_id, 'V2-TX');
      assert.strictEqual(ses.evse_id, 1);
      assert.strictEqual(ses.connector_id, 1);
      assert.strictEqual(ses.id_token, 'TOK-A');
      assert.strictEqual(ses.id_token_type, 'ISO14443');
      assert.strictEqual(ses.meter_start_wh, 1000, 'the Transaction.Begin register');
      assert.ok(sameTime(ses.started_at, startTs), `started_at ${ses.started_at}`);
      assert.strictEqual(ses.stopped_at, null);
    });

    await t.test('a token in a running transaction authorizes as ConcurrentTx', async () => {
      const r = await cp.call('Authorize', { idToken: { idToken: 'TOK-A', type: 'ISO14443' } });
      assert.strictEqual(r.idTokenInfo.status, 'ConcurrentTx');
    });

    await t.test('Updated events store numeric meter values and the session shows energy so far', async () => {
      const ts1 = iso(Date.now() - 8 * 60000);
      assert.deepStrictEqual(await cp.call('TransactionEvent', {
        ...txEvent('Updated', 'TX-A', 1, { info: { chargingState: 'Charging' } }),
        timestamp: ts1, triggerReason: 'ChargingStateChanged',
        meterValue: [{ timestamp: ts1, sampledValue: [
          { value: 2.5, context: 'Sample.Periodic', measurand: 'Energy.Active.Import.Register', location: 'Outlet', unitOfMeasure: { unit: 'kWh', multiplier: 0 } },
          { value: 230.5, context: 'Sample.Periodic', measurand: 'Voltage', phase: 'L1-N', location: 'Outlet', unitOfMeasure: { unit: 'V' } },
          { value: 40, context: 'Sample.Periodic', measurand: 'SoC', location: 'EV', unitOfMeasure: { unit: 'Percent' } },
        ] }],
      }), {});
      const ses = await sessionByTx(s, 'V2-TX', 'TX-A');
      assert.strictEqual(ses.active, true);
      assert.strictEqual(ses.energy_wh, 2500 - 1000, '2.5 kWh is 2500 Wh, minus the 1000 Wh start');
      assert.strictEqual(ses.soc_percent, 40);
    });

    await t.test('a unitOfMeasure multiplier scales the value (4.2 x 10^3 Wh = 4200 Wh)', async () => {
      const ts2 = iso(Date.now() - 6 * 60000);
      await cp.call('TransactionEvent', {
        ...txEvent('Updated', 'TX-A', 2), timestamp: ts2,
        meterValue: [{ timestamp: ts2, sampledValue: [
          { value: 4.2, context: 'Sample.Periodic', measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'Wh', multiplier: 3 } },
          { value: 55, context: 'Sample.Periodic', measurand: 'SoC', location: 'EV', unitOfMeasure: { unit: 'Percent' } },
        ] }],
      });
      const ses = await sessionByTx(s, 'V2-TX', 'TX-A');
      assert.strictEqual(ses.energy_wh, 4200 - 1000);
      assert.strictEqual(ses.soc_percent, 55);
      const m = ses.meter_values.find((x) => x.measurand === 'Energy.Active.Import.Register' && sameTime(x.timestamp, ts2));
      assert.ok(m, 'the scaled reading is stored');
      assert.strictEqual(wh(m), 4200);
    });

    await t.test('a chargingState-only Updated (no meter values) is answered and stores no sample', async () => {
      const before = (await sessionByTx(s, 'V2-TX', 'TX-A')).meter_values.length;
      assert.deepStrictEqual(await cp.call('TransactionEvent', {
        ...txEvent('Updated', 'TX-A', 3, { info: { chargingState: 'SuspendedEV' } }), triggerReason: 'ChargingStateChanged',
      }), {});
      assert.strictEqual((await sessionByTx(s, 'V2-TX', 'TX-A')).meter_values.length, before);
    });

    await t.test('a duplicate event (same seqNo again) is answered and changes nothing', async () => {
      const before = await sessionByTx(s, 'V2-TX', 'TX-A');
      const ts = now();
      assert.deepStrictEqual(await cp.call('TransactionEvent', {
        ...txEvent('Updated', 'TX-A', 2), timestamp: ts,
        meterValue: [{ timestamp: ts, sampledValue: [
          { value: 99999, measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'Wh' } },
          { value: 99, measurand: 'SoC', location: 'EV', unitOfMeasure: { unit: 'Percent' } },
        ] }],
      }), {});
      const after = await sessionByTx(s, 'V2-TX', 'TX-A');
      assert.strictEqual(after.meter_values.length, before.meter_values.length, 'no sample was added');
      assert.deepStrictEqual(after, before);
    });

    await t.test('Ended closes the session with stoppedReason and the Transaction.End register', async () => {
      const r = await cp.call('TransactionEvent', {
        ...txEvent('Ended', 'TX-A', 4, { info: { stoppedReason: 'EVDisconnected', chargingState: 'Idle' } }),
        timestamp: endTs, triggerReason: 'EVCommunicationLost',
        meterValue: [{ timestamp: endTs, sampledValue: [
          { value: 7.5, context: 'Transaction.End', measurand: 'Energy.Active.Import.Register', location: 'Outlet', unitOfMeasure: { unit: 'kWh' } },
          { value: 80, context: 'Transaction.End', measurand: 'SoC', location: 'EV', unitOfMeasure: { unit: 'Percent' } },
        ] }],
      });
      assert.deepStrictEqual(r, {});
      const ses = await sessionByTx(s, 'V2-TX', 'TX-A');
      assert.strictEqual(ses.active, false);
      assert.strictEqual(ses.stop_reason, 'EVDisconnected');
      assert.strictEqual(ses.meter_stop_wh, 7500);
      assert.strictEqual(ses.energy_wh, 6500);
      assert.strictEqual(ses.soc_percent, 80);
      assert.ok(sameTime(ses.stopped_at, endTs), `stopped_at ${ses.stopped_at}`);
      assert.strictEqual((await cp.call('Authorize', { idToken: { idToken: 'TOK-A', type: 'ISO14443' } })).idTokenInfo.status, 'Accepted',
        'the token is free again');
    });

    await t.test('the ended session reads like a 1.6 session, with the station\'s string transaction id', async () => {
      const list = (await sessionsOf(s, 'V2-TX')).find((x) => x.transaction_id === 'TX-A');
      assert.ok(list, 'listed in GET /api/v1/sessions');
      assert.strictEqual(list.id, sessionId);
      assert.strictEqual(typeof list.transaction_id, 'string');
      for (const k of ['id', 'transaction_id', 'station_id', 'evse_id', 'connector_id', 'id_token', 'id_token_type', 'auth_status',
        'meter_start_wh', 'meter_stop_wh', 'started_at', 'stopped_at', 'stop_reason', 'stop_id_token', 'reservation_id',
        'soc_percent', 'active', 'energy_wh']) {
        assert.ok(k in list, `session has ${k}`);
      }
      assert.deepStrictEqual({ start: list.meter_start_wh, stop: list.meter_stop_wh, energy: list.energy_wh, reason: list.stop_reason, active: list.active },
        { start: 1000, stop: 7500, energy: 6500, reason: 'EVDisconnected', active: false });
      assert.strictEqual(list.auth_status, 'Accepted');
    });

    await t.test('every sample of the session is stored with measurand, unit, context and phase', async () => {
      const ses = await sessionByTx(s, 'V2-TX', 'TX-A');
      const mv = ses.meter_values;
      const begin = mv.filter((m) => m.context === 'Transaction.Begin');
      assert.strictEqual(begin.length, 1);
      assert.strictEqual(wh(begin[0]), 1000);
      assert.strictEqual(begin[0].measurand, 'Energy.Active.Import.Register');
      const volt = mv.find((m) => m.measurand === 'Voltage');
      assert.ok(volt, 'the voltage sample is stored');
      assert.deepStrictEqual({ v: Number(volt.value), unit: volt.unit, phase: volt.phase, context: volt.context },
        { v: 230.5, unit: 'V', phase: 'L1-N', context: 'Sample.Periodic' });
      const end = mv.filter((m) => m.context === 'Transaction.End');
      assert.strictEqual(end.length, 2, 'the Ended event\'s meter values are stored');
      assert.strictEqual(wh(end.find((m) => m.measurand === 'Energy.Active.Import.Register')), 7500);
      const kwh = mv.find((m) => m.measurand === 'Energy.Active.Import.Register' && m.context === 'Sample.Periodic' && Math.abs(wh(m) - 2500) < 1e-6);
      assert.ok(kwh, 'the 2.5 kWh reading is stored as 2500 Wh worth');
      assert.strictEqual(mv.length, 1 + 3 + 2 + 2, 'Begin + 3 + 2 periodic + 2 End samples, nothing from the duplicate');
      for (const m of mv) assert.strictEqual(typeof m.value, 'string', 'values read like 1.6 values');
    });

    await t.test('an event for a transaction that already ended is answered and changes nothing', async () => {
      const before = await sessionByTx(s, 'V2-TX', 'TX-A');
      const ts = now();
      const r = await cp.call('TransactionEvent', {
        ...txEvent('Updated', 'TX-A', 9), timestamp: ts,
        meterValue: [energy(123456, 'Sample.Periodic', ts)],
      });
      assert.deepStrictEqual(r, {});
      const r2 = await cp.call('TransactionEvent', {
        ...txEvent('Ended', 'TX-A', 10, { info: { stoppedReason: 'PowerLoss' } }),
        meterValue: [energy(999999, 'Transaction.End')],
      });
      assert.deepStrictEqual(r2, {});
      assert.deepStrictEqual(await sessionByTx(s, 'V2-TX', 'TX-A'), before);
    });

    // --- out of order --------------------------------------------------------------

    await t.test('Updated (seq 1) before Started (seq 0): one session, with the start fields from the late Started', async () => {
      const startB = iso(Date.now() - 20 * 60000);
      const updB = iso(Date.now() - 15 * 60000);
      assert.deepStrictEqual(await cp.call('TransactionEvent', {
        ...txEvent('Updated', 'TX-B', 1, { info: { chargingState: 'Charging' } }), timestamp: updB,
        evse: { id: 2, connectorId: 1 },
        meterValue: [energy(3500, 'Sample.Periodic', updB)],
      }), {});
      const early = await sessionByTx(s, 'V2-TX', 'TX-B');
      assert.strictEqual(early.active, true, 'the Updated alone already makes an active session');
      const r = await cp.call('TransactionEvent', {
        ...txEvent('Started', 'TX-B', 0), timestamp: startB,
        evse: { id: 2, connectorId: 1 },
        idToken: { idToken: 'TOK-B', type: 'ISO14443' },
        meterValue: [energy(500, 'Transaction.Begin', startB)],
      });
      assert.strictEqual(r.idTokenInfo?.status, 'Accepted');
      const ses = await sessionByTx(s, 'V2-TX', 'TX-B');
      assert.strictEqual(ses.id, early.id, 'the same session');
      assert.deepStrictEqual(
        { active: ses.active, meter_start_wh: ses.meter_start_wh, started_at: Date.parse(ses.started_at), id_token: ses.id_token,
          id_token_type: ses.id_token_type, auth_status: ses.auth_status, evse_id: ses.evse_id, energy_wh: ses.energy_wh },
        { active: true, meter_start_wh: 500, started_at: Date.parse(startB), id_token: 'TOK-B',
          id_token_type: 'ISO14443', auth_status: 'Accepted', evse_id: 2, energy_wh: 3000 });
    });

    await t.test('the token of the late Started is in use (ConcurrentTx) while the session runs', async () => {
      const r = await cp.call('Authorize', { idToken: { idToken: 'TOK-B', type: 'ISO14443' } });
      assert.strictEqual(r.idTokenInfo.status, 'ConcurrentTx');
    });

    await t.test('after the late Started, the rest of the session runs normally', async () => {
      await cp.call('TransactionEvent', {
        ...txEvent('Ended', 'TX-B', 2, { info: { stoppedReason: 'Local' } }),
        meterValue: [energy(4500, 'Transaction.End')],
      });
      const ses = await sessionByTx(s, 'V2-TX', 'TX-B');
      assert.strictEqual(ses.active, false);
      assert.strictEqual(ses.meter_stop_wh, 4500);
      assert.strictEqual(ses.energy_wh, 4000);
      assert.strictEqual((await cp.call('Authorize', { idToken: { idToken: 'TOK-B', type: 'ISO14443' } })).idTokenInfo.status, 'Accepted',
        'the token is free again');
    });

    await t.test('Ended before Started: the session ends, and the late Started fills in its start without reopening it', async () => {
      const startC = iso(Date.now() - 30 * 60000);
      const endC = iso(Date.now() - 5 * 60000);
      assert.deepStrictEqual(await cp.call('TransactionEvent', {
        ...txEvent('Ended', 'TX-C', 3, { info: { stoppedReason: 'EVDisconnected' } }), timestamp: endC,
        evse: { id: 3, connectorId: 1 },
        meterValue: [energy(12000, 'Transaction.End', endC)],
      }), {});
      const ended = await sessionByTx(s, 'V2-TX', 'TX-C');
      assert.strictEqual(ended.active, false);
      assert.strictEqual(ended.meter_stop_wh, 12000);
      const r = await cp.call('TransactionEvent', {
        ...txEvent('Started', 'TX-C', 0), timestamp: startC,
        evse: { id: 3, connectorId: 1 },
        idToken: { idToken: 'TOK-C', type: 'ISO14443' },
        meterValue: [energy(10000, 'Transaction.Begin', startC)],
      });
      assert.strictEqual(r.idTokenInfo?.status, 'Accepted', 'the late Started is answered with its idTokenInfo');
      const ses = await sessionByTx(s, 'V2-TX', 'TX-C');
      assert.strictEqual(ses.id, ended.id, 'still one session');
      assert.strictEqual(ses.active, false, 'the late Started does not reopen it');
      assert.strictEqual(ses.meter_stop_wh, 12000);
      assert.ok(sameTime(ses.stopped_at, endC));
      assert.deepStrictEqual(
        { meter_start_wh: ses.meter_start_wh, started_at: Date.parse(ses.started_at), id_token: ses.id_token,
          id_token_type: ses.id_token_type, auth_status: ses.auth_status, energy_wh: ses.energy_wh },
        { meter_start_wh: 10000, started_at: Date.parse(startC), id_token: 'TOK-C',
          id_token_type: 'ISO14443', auth_status: 'Accepted', energy_wh: 2000 },
        'the start fields come from the late Started (Transaction.Begin register, its time and token)');
    });

    // --- offline -------------------------------------------------------------------

    await t.test('an offline-started transaction is stored with its own (old) timestamps', async () => {
      const t0 = iso(Date.now() - 3 * HOUR);
      const t1 = iso(Date.now() - 2.5 * HOUR);
      const t2 = iso(Date.now() - 2 * HOUR);
      const r = await cp.call('TransactionEvent', {
        ...txEvent('Started', 'TX-OFF', 0), timestamp: t0, offline: true, triggerReason: 'CablePluggedIn',
        evse: { id: 4, connectorId: 1 }, idToken: { idToken: 'TOK-OFF', type: 'ISO14443' },
        meterValue: [energy(200, 'Transaction.Begin', t0)],
      });
      assert.strictEqual(r.idTokenInfo?.status, 'Accepted');
      await cp.call('TransactionEvent', { ...txEvent('Updated', 'TX-OFF', 1), timestamp: t1, offline: true, meterValue: [energy(1200, 'Sample.Periodic', t1)] });
      await cp.call('TransactionEvent', {
        ...txEvent('Ended', 'TX-OFF', 2, { info: { stoppedReason: 'Local' } }), timestamp: t2, offline: true,
        meterValue: [energy(2200, 'Transaction.End', t2)],
      });
      const ses = await sessionByTx(s, 'V2-TX', 'TX-OFF');
      assert.ok(sameTime(ses.started_at, t0), `started_at ${ses.started_at} = ${t0}`);
      assert.ok(sameTime(ses.stopped_at, t2), `stopped_at ${ses.stopped_at} = ${t2}`);
      assert.deepStrictEqual(ses.meter_values.map((m) => Date.parse(m.timestamp)).sort(), [t0, t1, t2].map(Date.parse));
      assert.strictEqual(ses.energy_wh, 2000);
      assert.strictEqual(ses.active, false);
    });

    // --- gaps ---------------------------------------------------------------------

    await t.test('consecutive seqNos do not make the server ask for the transaction status', async () => {
      const asked = statusAsked.filter((p) => p.transactionId === 'TX-A');
      assert.deepStrictEqual(asked, [], 'TX-A had no gap');
    });

    await t.test('a gap in seqNo (0 then 3) makes the server send GetTransactionStatus for the transaction', async () => {
      const gp = await booted201(s, 'V2-GAP');
      open.push(gp);
      const asked = [];
      gp.handle('GetTransactionStatus', ({ params }) => { asked.push(params); return { messagesInQueue: true, ongoingIndicator: true }; });
      await gp.call('TransactionEvent', {
        ...txEvent('Started', 'TX-GAP', 0), evse: { id: 1, connectorId: 1 },
        idToken: { idToken: 'TOK-GAP', type: 'ISO14443' }, meterValue: [energy(0, 'Transaction.Begin')],
      });
      await gp.call('TransactionEvent', { ...txEvent('Updated', 'TX-GAP', 1), meterValue: [energy(100, 'Sample.Periodic')] });
      await sleep(300);
      assert.deepStrictEqual(asked, [], 'no question while the numbers are consecutive');
      assert.deepStrictEqual(await gp.call('TransactionEvent', { ...txEvent('Updated', 'TX-GAP', 4), meterValue: [energy(400, 'Sample.Periodic')] }), {});
      await waitFor(() => asked.length > 0, { timeout: 5000, what: 'GetTransactionStatus' });
      assert.deepStrictEqual(asked[0], { transactionId: 'TX-GAP' });
      const ses = await sessionByTx(s, 'V2-GAP', 'TX-GAP');
      assert.strictEqual(ses.energy_wh, 400, 'the event after the gap is applied');
    });

    await t.test('events that fill the gap later are applied, not taken for duplicates', async () => {
      const gp = open[open.length - 1];
      await gp.call('TransactionEvent', { ...txEvent('Updated', 'TX-GAP', 2), meterValue: [energy(200, 'Sample.Periodic', iso(Date.now() - 60000))] });
      await gp.call('TransactionEvent', { ...txEvent('Updated', 'TX-GAP', 3), meterValue: [energy(300, 'Sample.Periodic', iso(Date.now() - 30000))] });
      const ses = await sessionByTx(s, 'V2-GAP', 'TX-GAP');
      assert.strictEqual(ses.meter_values.length, 5);
      assert.strictEqual(ses.energy_wh, 400, 'older late readings do not move the energy backwards');
    });

    // --- MeterValues outside a transaction ------------------------------------------------

    await t.test('MeterValues outside a transaction are answered, stored and attached to no session', async () => {
      const events = await openEvents(s, 'types=meter.values&station=V2-TX');
      try {
        const before = await sessionsOf(s, 'V2-TX');
        const ts = now();
        assert.deepStrictEqual(await cp.call('MeterValues', {
          evseId: 5,
          meterValue: [{ timestamp: ts, sampledValue: [
            { value: 31337, measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'Wh' } },
            { value: 11.5, measurand: 'Power.Active.Import', unitOfMeasure: { unit: 'kW' } },
          ] }],
        }), {});
        const ev = await waitFor(() => events.events.find((e) => e.data.evse_id === 5), { what: 'meter.values event' });
        assert.strictEqual(ev.data.session_id, undefined, 'not attached to a session');
        assert.strictEqual(ev.data.samples.length, 2);
        assert.strictEqual(Number(ev.data.samples[0].value), 31337);
        assert.deepStrictEqual(await sessionsOf(s, 'V2-TX'), before, 'no session changed');
      } finally {
        await events.close();
      }
    });
  } finally {
    await Promise.allSettled(open.map((c) => c.close()));
    await stopAndCheck(s);
  }
});

// ============================================================================

test('OCPP 2.0.1 device model and variables', async (t) => {
  const s = await startServer();
  let cp;
  try {
    await s.createStation('V2-DM');
    cp = await booted201(s, 'V2-DM');
    const gotBaseReport = [];
    cp.handle('GetBaseReport', ({ params }) => { gotBaseReport.push(params); return { status: 'Accepted' }; });

    const generatedAt = now();
    const parts = [
      [
        { component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' },
          variableAttribute: [{ type: 'Actual', value: '300', mutability: 'ReadWrite', persistent: true, constant: false }],
          variableCharacteristics: { unit: 's', dataType: 'integer', minLimit: 1, maxLimit: 86400, supportsMonitoring: false } },
        { component: { name: 'SecurityCtrlr' }, variable: { name: 'SecurityProfile' },
          variableAttribute: [{ type: 'Actual', value: '1', mutability: 'ReadOnly' }],
          variableCharacteristics: { dataType: 'integer', supportsMonitoring: false } },
        { component: { name: 'DeviceDataCtrlr' }, variable: { name: 'ItemsPerMessage', instance: 'GetReport' },
          variableAttribute: [{ type: 'Actual', value: '50', mutability: 'ReadOnly' }],
          variableCharacteristics: { dataType: 'integer', supportsMonitoring: false } },
        { component: { name: 'DeviceDataCtrlr' }, variable: { name: 'ItemsPerMessage', instance: 'GetVariables' },
          variableAttribute: [{ type: 'Actual', value: '20', mutability: 'ReadOnly' }],
          variableCharacteristics: { dataType: 'integer', supportsMonitoring: false } },
      ],
      [
        { component: { name: 'EVSE', evse: { id: 1 } }, variable: { name: 'Power' },
          variableAttribute: [{ type: 'Actual', value: '0', mutability: 'ReadOnly' }, { type: 'MaxSet', value: '22000', mutability: 'ReadOnly' }],
          variableCharacteristics: { unit: 'W', dataType: 'decimal', maxLimit: 22000, supportsMonitoring: true } },
        { component: { name: 'EVSE', evse: { id: 2 } }, variable: { name: 'AvailabilityState' },
          variableAttribute: [{ type: 'Actual', value: 'Available', mutability: 'ReadOnly' }],
          variableCharacteristics: { dataType: 'OptionList', valuesList: 'Available,Occupied,Reserved,Unavailable,Faulted', supportsMonitoring: true } },
        { component: { name: 'Connector', evse: { id: 1, connectorId: 1 } }, variable: { name: 'ConnectorType' },
          variableAttribute: [{ type: 'Actual', value: 'cType2', mutability: 'ReadOnly' }],
          variableCharacteristics: { dataType: 'OptionList', valuesList: 'cType2,sType2', supportsMonitoring: false } },
      ],
      [
        { component: { name: 'AuthCtrlr' }, variable: { name: 'Enabled' },
          variableAttribute: [{ type: 'Actual', value: 'true', mutability: 'ReadWrite' }],
          variableCharacteristics: { dataType: 'boolean', supportsMonitoring: false } },
        { component: { name: 'TxCtrlr' }, variable: { name: 'EVConnectionTimeOut' },
          variableAttribute: [{ type: 'Actual', value: '120', mutability: 'ReadWrite' }],
          variableCharacteristics: { unit: 's', dataType: 'integer', supportsMonitoring: false } },
        { component: { name: 'SampledDataCtrlr' }, variable: { name: 'TxUpdatedMeasurands' },
          variableAttribute: [{ type: 'Actual', value: 'Energy.Active.Import.Register,SoC', mutability: 'ReadWrite' }],
          variableCharacteristics: { dataType: 'MemberList', valuesList: 'Energy.Active.Import.Register,SoC,Voltage', supportsMonitoring: false } },
      ],
    ];
    const totalAttrs = parts.flat().reduce((n, rd) => n + rd.variableAttribute.length, 0);

    let reportEvents = [];
    await t.test('GetBaseReport through the command API reaches the station, which then sends NotifyReport in three parts', async () => {
      const events = await openEvents(s, 'types=station.report_part,station.report_complete&station=V2-DM');
      try {
        const r = await command(s, 'V2-DM', 'GetBaseReport', { requestId: 7, reportBase: 'FullInventory' });
        assert.strictEqual(r.status, 200, JSON.stringify(r.body));
        assert.deepStrictEqual(r.body, { status: 'Accepted' });
        assert.deepStrictEqual(gotBaseReport, [{ requestId: 7, reportBase: 'FullInventory' }]);

        // ... then the station sends the report in three parts.
        for (const [i, reportData] of parts.entries()) {
          assert.deepStrictEqual(await cp.call('NotifyReport', { requestId: 7, generatedAt, tbc: i < parts.length - 1, seqNo: i, reportData }), {});
        }
        await waitFor(() => events.events.length >= 3, { what: 'three report events' });
        await sleep(100);
        reportEvents = events.events;
      } finally {
        await events.close();
      }
    });

    await t.test('the event stream shows each part and the completion, with the request id', () => {
      assert.deepStrictEqual(reportEvents.map((e) => e.type), ['station.report_part', 'station.report_part', 'station.report_complete']);
      for (const e of reportEvents) {
        assert.strictEqual(e.data.request_id, 7);
        assert.strictEqual(e.data.station_id, 'V2-DM');
      }
    });

    await t.test('GET variables lists every attribute of every part', async () => {
      const r = await s.api('GET', '/api/v1/stations/V2-DM/variables');
      assert.strictEqual(r.status, 200, JSON.stringify(r.body));
      assert.strictEqual(r.body.items.length, totalAttrs, JSON.stringify(r.body.items.map((x) => `${x.component}.${x.variable}`)));
      const hb = r.body.items.find((x) => x.component === 'OCPPCommCtrlr' && x.variable === 'HeartbeatInterval');
      assert.deepStrictEqual(
        { ci: hb.component_instance, e: hb.evse_id, c: hb.connector_id, vi: hb.variable_instance, type: hb.attribute_type, value: hb.value, mut: hb.mutability,
          pers: hb.persistent, cons: hb.constant, dt: hb.data_type, unit: hb.unit, min: hb.min_limit, max: hb.max_limit, mon: hb.supports_monitoring },
        { ci: null, e: null, c: null, vi: null, type: 'Actual', value: '300', mut: 'ReadWrite', pers: true, cons: false, dt: 'integer', unit: 's', min: 1, max: 86400, mon: false });
      const ipm = r.body.items.filter((x) => x.variable === 'ItemsPerMessage').map((x) => `${x.variable_instance}=${x.value}`).sort();
      assert.deepStrictEqual(ipm, ['GetReport=50', 'GetVariables=20'], 'variable instances are kept apart');
      const list = r.body.items.find((x) => x.variable === 'TxUpdatedMeasurands');
      assert.strictEqual(list.values_list, 'Energy.Active.Import.Register,SoC,Voltage');
      assert.strictEqual(list.data_type, 'MemberList');
    });

    await t.test('EVSE- and connector-scoped components keep their evse_id and connector_id', async () => {
      const r = await s.api('GET', '/api/v1/stations/V2-DM/variables?component=EVSE');
      assert.strictEqual(r.status, 200);
      const got = r.body.items.map((x) => `${x.evse_id}/${x.connector_id}:${x.variable}:${x.attribute_type}=${x.value}`).sort();
      assert.deepStrictEqual(got, ['1/null:Power:Actual=0', '1/null:Power:MaxSet=22000', '2/null:AvailabilityState:Actual=Available']);
      const conn = (await s.api('GET', '/api/v1/stations/V2-DM/variables?component=Connector')).body.items;
      assert.strictEqual(conn.length, 1);
      assert.deepStrictEqual({ e: conn[0].evse_id, c: conn[0].connector_id, v: conn[0].value }, { e: 1, c: 1, v: 'cType2' });
    });

    await t.test('?variable= filters by variable name', async () => {
      const r = await s.api('GET', '/api/v1/stations/V2-DM/variables?variable=HeartbeatInterval');
      assert.strictEqual(r.status, 200);
      assert.strictEqual(r.body.items.length, 1);
      assert.strictEqual(r.body.items[0].component, 'OCPPCommCtrlr');
      const both = await s.api('GET', '/api/v1/stations/V2-DM/variables?component=DeviceDataCtrlr&variable=ItemsPerMessage');
      assert.strictEqual(both.body.items.length, 2);
      const none = await s.api('GET', '/api/v1/stations/V2-DM/variables?component=EVSE&variable=HeartbeatInterval');
      assert.deepStrictEqual(none.body.items, []);
    });

    await t.test('GET variables of an unknown station is 404', async () => {
      assertProblem(await s.api('GET', '/api/v1/stations/NO-SUCH/variables'), 404);
    });

    await t.test('GetVariables through the command API returns the station\'s answer', async () => {
      const got = [];
      cp.handle('GetVariables', ({ params }) => {
        got.push(params);
        return { getVariableResult: params.getVariableData.map((d) => ({ attributeStatus: 'Accepted', attributeValue: '300', component: d.component, variable: d.variable })) };
      });
      const body = { getVariableData: [{ component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' } }] };
      const r = await command(s, 'V2-DM', 'GetVariables', body);
      assert.strictEqual(r.status, 200, JSON.stringify(r.body));
      assert.deepStrictEqual(got, [body]);
      assert.deepStrictEqual(r.body.getVariableResult, [{ attributeStatus: 'Accepted', attributeValue: '300', component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' } }]);
    });

    await t.test('SetVariables through the command API returns the station\'s answer', async () => {
      const got = [];
      cp.handle('SetVariables', ({ params }) => {
        got.push(params);
        return { setVariableResult: params.setVariableData.map((d) => ({ attributeStatus: 'Accepted', component: d.component, variable: d.variable })) };
      });
      const body = { setVariableData: [{ attributeValue: 'false', component: { name: 'AuthCtrlr' }, variable: { name: 'Enabled' } }] };
      const r = await command(s, 'V2-DM', 'SetVariables', body);
      assert.strictEqual(r.status, 200, JSON.stringify(r.body));
      assert.deepStrictEqual(got, [body]);
      assert.strictEqual(r.body.setVariableResult[0].attributeStatus, 'Accepted');
    });

    await t.test('an invalid 2.0.1 command payload is refused with 400 and nothing is sent', async () => {
      let called = 0;
      cp.handle('GetVariables', () => { called++; return { getVariableResult: [] }; });
      assertProblem(await command(s, 'V2-DM', 'GetVariables', { getVariableData: [{ component: { name: 'X' } }] }), 400);
      assertProblem(await command(s, 'V2-DM', 'GetBaseReport', { requestId: 1, reportBase: 'Everything' }), 400);
      await sleep(100);
      assert.strictEqual(called, 0);
    });

    await t.test('POST variables sends SetVariables with the component, variable and value', async () => {
      const got = [];
      cp.handle('SetVariables', ({ params }) => {
        got.push(params);
        return { setVariableResult: params.setVariableData.map((d) => ({ attributeType: d.attributeType, attributeStatus: 'Accepted', component: d.component, variable: d.variable })) };
      });
      const r = await s.api('POST', '/api/v1/stations/V2-DM/variables', { component: 'OCPPCommCtrlr', variable: 'HeartbeatInterval', value: '600' });
      assert.strictEqual(r.status, 200, JSON.stringify(r.body));
      assert.strictEqual(r.body.status, 'Accepted');
      assert.strictEqual(r.body.station_id, 'V2-DM');
      assert.strictEqual(got.length, 1);
      assert.strictEqual(got[0].setVariableData.length, 1);
      const d = got[0].setVariableData[0];
      assert.deepStrictEqual({ value: d.attributeValue, component: d.component, variable: d.variable, type: d.attributeType ?? 'Actual' },
        { value: '600', component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' }, type: 'Actual' });
    });

    await t.test('an Accepted value is recorded in the device model', async () => {
      const r = await s.api('GET', '/api/v1/stations/V2-DM/variables?component=OCPPCommCtrlr&variable=HeartbeatInterval');
      assert.strictEqual(r.body.items.length, 1);
      assert.strictEqual(r.body.items[0].value, '600');
      assert.strictEqual(r.body.items[0].data_type, 'integer', 'the reported characteristics are kept');
    });

    await t.test('POST variables with an EVSE scope sends the component\'s evse', async () => {
      const got = [];
      cp.handle('SetVariables', ({ params }) => {
        got.push(params);
        return { setVariableResult: params.setVariableData.map((d) => ({ attributeStatus: 'Accepted', component: d.component, variable: d.variable, attributeType: d.attributeType })) };
      });
      const r = await s.api('POST', '/api/v1/stations/V2-DM/variables', { component: 'EVSE', evse_id: 1, variable: 'Power', attribute_type: 'MaxSet', value: '11000' });
      assert.strictEqual(r.status, 200, JSON.stringify(r.body));
      assert.deepStrictEqual(got[0].setVariableData[0].component, { name: 'EVSE', evse: { id: 1 } });
      assert.strictEqual(got[0].setVariableData[0].attributeType, 'MaxSet');
      const rows = (await s.api('GET', '/api/v1/stations/V2-DM/variables?component=EVSE&variable=Power')).body.items;
      assert.deepStrictEqual(rows.map((x) => `${x.evse_id}:${x.attribute_type}=${x.value}`).sort(), ['1:Actual=0', '1:MaxSet=11000']);
    });

    await t.test('a Rejected value is reported and not recorded', async () => {
      cp.handle('SetVariables', ({ params }) => ({
        setVariableResult: params.setVariableData.map((d) => ({ attributeStatus: 'Rejected', component: d.component, variable: d.variable })),
      }));
      const r = await s.api('POST', '/api/v1/stations/V2-DM/variables', { component: 'OCPPCommCtrlr', variable: 'HeartbeatInterval', value: '5' });
      assert.strictEqual(r.status, 200, JSON.stringify(r.body));
      assert.strictEqual(r.body.status, 'Rejected');
      const rows = (await s.api('GET', '/api/v1/stations/V2-DM/variables?variable=HeartbeatInterval')).body.items;
      assert.strictEqual(rows[0].value, '600');
    });

    await t.test('POST variables for a 2.0.1 station without a component is 400', async () => {
      assertProblem(await s.api('POST', '/api/v1/stations/V2-DM/variables', { variable: 'HeartbeatInterval', value: '60' }), 400);
    });
  } finally {
    if (cp) await cp.close();
    await stopAndCheck(s);
  }
});

// ============================================================================

test('OCPP 2.0.1 remote start and stop', async (t) => {
  const s = await startServer();
  let cp;
  try {
    await s.createIdToken('TOK-REMOTE', { type: 'Central' });
    await s.createStation('V2-RS');
    cp = await booted201(s, 'V2-RS');
    const started = [];
    const stopped = [];
    cp.handle('RequestStartTransaction', ({ params }) => { started.push(params); return { status: 'Accepted' }; });
    cp.handle('RequestStopTransaction', ({ params }) => { stopped.push(params); return { status: 'Accepted' }; });

    await t.test('RequestStartTransaction through the command API reaches the station; its TransactionEvents make the session', async () => {
      const body = { idToken: { idToken: 'TOK-REMOTE', type: 'Central' }, remoteStartId: 42, evseId: 1 };
      const r = await command(s, 'V2-RS', 'RequestStartTransaction', body);
      assert.strictEqual(r.status, 200, JSON.stringify(r.body));
      assert.deepStrictEqual(r.body, { status: 'Accepted' });
      assert.deepStrictEqual(started, [body]);
      const ev = await cp.call('TransactionEvent', {
        ...txEvent('Started', 'RS-1', 0, { info: { remoteStartId: 42, chargingState: 'Charging' } }), triggerReason: 'RemoteStart',
        evse: { id: 1, connectorId: 1 }, idToken: { idToken: 'TOK-REMOTE', type: 'Central' },
        meterValue: [energy(5000, 'Transaction.Begin')],
      });
      assert.strictEqual(ev.idTokenInfo.status, 'Accepted');
      const ses = await sessionByTx(s, 'V2-RS', 'RS-1');
      assert.strictEqual(ses.active, true);
      assert.strictEqual(ses.id_token, 'TOK-REMOTE');
    });

    await t.test('RequestStopTransaction through the command API reaches the station; its Ended event stops the session', async () => {
      const r = await command(s, 'V2-RS', 'RequestStopTransaction', { transactionId: 'RS-1' });
      assert.strictEqual(r.status, 200, JSON.stringify(r.body));
      assert.deepStrictEqual(r.body, { status: 'Accepted' });
      assert.deepStrictEqual(stopped, [{ transactionId: 'RS-1' }]);
      await cp.call('TransactionEvent', {
        ...txEvent('Ended', 'RS-1', 1, { info: { stoppedReason: 'Remote' } }), triggerReason: 'RemoteStop',
        meterValue: [energy(6500, 'Transaction.End')],
      });
      const ses = await sessionByTx(s, 'V2-RS', 'RS-1');
      assert.strictEqual(ses.active, false);
      assert.strictEqual(ses.stop_reason, 'Remote');
      assert.strictEqual(ses.energy_wh, 1500);
    });

    await t.test('a station that rejects a remote start is reported as such and no session appears', async () => {
      cp.handle('RequestStartTransaction', () => ({ status: 'Rejected' }));
      const r = await command(s, 'V2-RS', 'RequestStartTransaction', { idToken: { idToken: 'TOK-REMOTE', type: 'Central' }, remoteStartId: 43 });
      assert.strictEqual(r.status, 200);
      assert.deepStrictEqual(r.body, { status: 'Rejected' });
      assert.strictEqual((await sessionsOf(s, 'V2-RS')).length, 1);
    });
  } finally {
    if (cp) await cp.close();
    await stopAndCheck(s);
  }
});

// ============================================================================

test('OCPP 2.0.1 password rotation', async (t) => {
  const s = await startServer({ config: '[security]\nauth_fail_limit = 1000\n' });
  const open = [];
  const status = async (id, password) => (await upgradeStatus(s, id, { password, protocols: V201 })).status;
  try {
    await s.createStation('V2-ROT-1');
    await s.createStation('V2-ROT-2');
    let newPassword;

    await t.test('rotate-password sends SetVariables SecurityCtrlr.BasicAuthPassword; Accepted answers 200', async () => {
      const cp = await booted201(s, 'V2-ROT-1');
      open.push(cp);
      const seen = [];
      cp.handle('SetVariables', ({ params }) => {
        seen.push(params);
        return { setVariableResult: params.setVariableData.map((d) => ({ attributeStatus: 'Accepted', component: d.component, variable: d.variable })) };
      });
      const r = await s.api('POST', '/api/v1/stations/V2-ROT-1/rotate-password');
      assert.strictEqual(r.status, 200, JSON.stringify(r.body));
      assert.strictEqual(r.body.outcome, 'Accepted');
      assert.strictEqual(seen.length, 1);
      assert.strictEqual(seen[0].setVariableData.length, 1);
      const d = seen[0].setVariableData[0];
      assert.deepStrictEqual(d.component, { name: 'SecurityCtrlr' });
      assert.deepStrictEqual(d.variable, { name: 'BasicAuthPassword' });
      assert.match(d.attributeValue, /^[0-9a-fA-F]{40}$/);
      newPassword = d.attributeValue;
      assert.ok(!s.stdout.includes(newPassword) && !s.stderr.includes(newPassword), 'the new password is not logged');
    });

    await t.test('until the station reconnects with the new password, the old one still works', async () => {
      assert.ok(newPassword, 'needs the previous test');
      assert.strictEqual(await status('V2-ROT-1', PASSWORD), 101);
    });

    await t.test('the station can reconnect with the new password', async () => {
      const cp = station201(s, 'V2-ROT-1', { password: newPassword });
      await cp.connect();
      open.push(cp);
      assert.ok((await cp.call('Heartbeat', {})).currentTime);
    });

    await t.test('after that, the old password is refused and the new one works', async () => {
      assert.strictEqual(await status('V2-ROT-1', PASSWORD), 401);
      assert.strictEqual(await status('V2-ROT-1', newPassword), 101);
    });

    await t.test('a station that rejects the new password makes the API answer 502 and keeps its old password', async () => {
      const cp = await booted201(s, 'V2-ROT-2');
      open.push(cp);
      const seen = [];
      cp.handle('SetVariables', ({ params }) => {
        seen.push(params);
        return { setVariableResult: params.setVariableData.map((d) => ({ attributeStatus: 'Rejected', component: d.component, variable: d.variable })) };
      });
      const r = await s.api('POST', '/api/v1/stations/V2-ROT-2/rotate-password');
      assertProblem(r, 502);
      assert.strictEqual(seen.length, 1);
      await cp.close();
      assert.strictEqual(await status('V2-ROT-2', seen[0].setVariableData[0].attributeValue), 401, 'the rejected password does not work');
      assert.strictEqual(await status('V2-ROT-2', PASSWORD), 101, 'the old password still works');
    });
  } finally {
    await Promise.allSettled(open.map((c) => c.close()));
    await stopAndCheck(s);
  }
});

// ============================================================================

test('OCPP 2.0.1 notifications are answered as the specification requires and stored', async (t) => {
  const s = await startServer();
  let cp;
  try {
    await s.createStation('V2-NOTE');
    cp = await booted201(s, 'V2-NOTE');
    const ts = now();
    const cases = [
      ['NotifyEvent', { generatedAt: ts, seqNo: 0, eventData: [{
        eventId: 1, timestamp: ts, trigger: 'Alerting', actualValue: 'Faulted', eventNotificationType: 'HardWiredNotification',
        component: { name: 'Connector', evse: { id: 1, connectorId: 1 } }, variable: { name: 'AvailabilityState' } }] }, {}, 'notify_event'],
      ['SecurityEventNotification', { type: 'TamperDetectionActivated', timestamp: ts, techInfo: 'cover opened' }, {}, 'security_event'],
      ['NotifyEVChargingNeeds', { evseId: 1, chargingNeeds: { requestedEnergyTransfer: 'AC_three_phase', departureTime: iso(Date.now() + 4 * HOUR),
        acChargingParameters: { energyAmount: 30000, evMinCurrent: 6, evMaxCurrent: 32, evMaxVoltage: 400 } } }, { status: 'Accepted' }, 'ev_charging_needs'],
      ['NotifyEVChargingSchedule', { timeBase: ts, evseId: 1, chargingSchedule: { id: 1, chargingRateUnit: 'A',
        chargingSchedulePeriod: [{ startPeriod: 0, limit: 16 }] } }, { status: 'Accepted' }, 'ev_charging_schedule'],
      ['NotifyChargingLimit', { evseId: 1, chargingLimit: { chargingLimitSource: 'EMS', isGridCritical: false } }, {}, 'charging_limit'],
      ['ClearedChargingLimit', { chargingLimitSource: 'EMS', evseId: 1 }, {}, 'cleared_charging_limit'],
      ['ReservationStatusUpdate', { reservationId: 17, reservationUpdateStatus: 'Expired' }, {}, 'reservation_status'],
      ['LogStatusNotification', { status: 'Uploaded', requestId: 3 }, {}, 'log_status'],
      ['NotifyMonitoringReport', { requestId: 4, seqNo: 0, generatedAt: ts }, {}, 'monitoring_report'],
      ['NotifyCustomerInformation', { data: 'no data held', seqNo: 0, generatedAt: ts, requestId: 5 }, {}, 'customer_information'],
      ['NotifyDisplayMessages', { requestId: 6 }, {}, 'display_messages'],
      ['DataTransfer', { vendorId: 'com.example', messageId: 'hello', data: { a: 1 } }, { status: 'UnknownVendorId' }, 'data_transfer'],
      ['SignCertificate', { csr: '-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----' }, { status: 'Rejected' }, 'sign_certificate'],
      ['GetCertificateStatus', { ocspRequestData: { hashAlgorithm: 'SHA256', issuerNameHash: 'aa', issuerKeyHash: 'bb', serialNumber: '01', responderURL: 'http://ocsp.example' } },
        { status: 'Failed' }, 'certificate_status'],
      ['Get15118EVCertificate', { iso15118SchemaVersion: 'urn:iso:15118:2:2013:MsgDef', action: 'Install', exiRequest: 'AAAA' }, { status: 'Failed' }, 'ev_certificate'],
    ];

    const events = async () => (await s.api('GET', '/api/v1/stations/V2-NOTE/events?limit=1000')).body.items;

    for (const [action, payload, answer, kind] of cases) {
      await t.test(`${action} is answered ${JSON.stringify(answer)} and stored as a ${kind} event`, async () => {
        const r = await cp.call(action, payload);
        for (const [k, v] of Object.entries(answer)) assert.strictEqual(r[k], v, `${action}.${k}: ${JSON.stringify(r)}`);
        if (Object.keys(answer).length === 0) assert.deepStrictEqual(r, {});
        const ev = (await events()).filter((e) => e.kind === kind);
        assert.strictEqual(ev.length, 1, `one ${kind} event, got ${JSON.stringify(ev)}`);
        assert.deepStrictEqual(ev[0].detail, payload, 'the notification is stored as sent');
      });
    }

    await t.test('FirmwareStatusNotification sets the station\'s firmware_status and is stored', async () => {
      assert.deepStrictEqual(await cp.call('FirmwareStatusNotification', { status: 'Downloading', requestId: 9 }), {});
      assert.deepStrictEqual(await cp.call('FirmwareStatusNotification', { status: 'Installed', requestId: 9 }), {});
      const st = (await s.api('GET', '/api/v1/stations/V2-NOTE')).body;
      assert.strictEqual(st.firmware_status, 'Installed');
      const ev = (await events()).filter((e) => e.kind === 'firmware_status').map((e) => e.detail.status);
      assert.deepStrictEqual(ev.sort(), ['Downloading', 'Installed']);
    });

    await t.test('a SecurityEventNotification is raised on the event stream', async () => {
      const stream = await openEvents(s, 'types=station.notification&station=V2-NOTE');
      try {
        await cp.call('SecurityEventNotification', { type: 'InvalidFirmwareSignature', timestamp: now() });
        const ev = await waitFor(() => stream.events.find((e) => e.data.kind === 'security_event'), { what: 'security event' });
        assert.strictEqual(ev.data.detail.type, 'InvalidFirmwareSignature');
      } finally {
        await stream.close();
      }
    });
  } finally {
    if (cp) await cp.close();
    await stopAndCheck(s);
  }
});

// ============================================================================

// 2.0.1 RPC error codes (OCPP-J 2.0.1 section 4.3). The 1.6 spellings
// FormationViolation and OccurenceConstraintViolation do not exist in 2.0.1.
const CODES_201 = new Set(['FormatViolation', 'GenericError', 'InternalError', 'MessageTypeNotSupported', 'NotImplemented', 'NotSupported',
  'OccurrenceConstraintViolation', 'PropertyConstraintViolation', 'ProtocolError', 'RpcFrameworkError', 'SecurityError', 'TypeConstraintViolation']);

const frame = (x) => (typeof x === 'string' ? x : JSON.stringify(x));
let hb = 0;

async function heartbeatAfter(ws) {
  const id = `hb-${++hb}`;
  ws.send(frame([2, id, 'Heartbeat', {}]));
  const before = [];
  for (;;) {
    const m = await ws.next(5000);
    if (m[0] === 3 && m[1] === id) return before;
    before.push(m);
  }
}

// Exactly one CALLERROR answers the frame; its code is one of `codes`
// (always a 2.0.1 code); the connection keeps working.
async function assertCallError(ws, f, id, codes, field) {
  ws.send(frame(f));
  const got = await heartbeatAfter(ws);
  assert.strictEqual(got.length, 1, `exactly one answer to ${frame(f).slice(0, 80)}, got ${JSON.stringify(got).slice(0, 300)}`);
  const m = got[0];
  assert.ok(Array.isArray(m) && m.length === 5, `a 5-element CALLERROR, got ${JSON.stringify(m).slice(0, 300)}`);
  assert.strictEqual(m[0], 4);
  if (id !== undefined) assert.strictEqual(m[1], id);
  assert.ok(CODES_201.has(m[2]), `${m[2]} is an OCPP 2.0.1 error code`);
  const want = Array.isArray(codes) ? codes : [codes];
  assert.ok(want.includes(m[2]), `error code ${m[2]} is one of ${want.join(', ')} (description: ${m[3]})`);
  assert.ok(typeof m[3] === 'string' && m[3].trim().length > 0, 'the description is not empty');
  if (field) assert.ok(m[3].includes(field), `the description "${m[3]}" names ${field}`);
  assert.ok(m[4] !== null && typeof m[4] === 'object' && !Array.isArray(m[4]), 'errorDetails is an object');
  return m;
}

test('OCPP 2.0.1 hostile frames get 2.0.1 error codes', async (t) => {
  const s = await startServer();
  const sockets = [];
  try {
    await s.createStation('V2-EVIL');
    await s.createStation('V2-NOBOOT');

    const attacker = async () => {
      const ws = s.raw('V2-EVIL', { protocols: V201 });
      sockets.push(ws);
      await ws.opened;
      assert.strictEqual(ws.protocol, 'ocpp2.0.1');
      ws.send(frame([2, 'boot', 'BootNotification', BOOT]));
      const m = await ws.next();
      assert.strictEqual(m[0], 3, JSON.stringify(m));
      assert.strictEqual(m[2].status, 'Accepted');
      return ws;
    };
    const ws = await attacker();

    await t.test('before any boot, requests other than BootNotification are SecurityError', async () => {
      const nb = s.raw('V2-NOBOOT', { protocols: V201 });
      sockets.push(nb);
      await nb.opened;
      nb.send(frame([2, 'pre-boot-1', 'StatusNotification', { timestamp: now(), connectorStatus: 'Available', evseId: 1, connectorId: 1 }]));
      nb.send(frame([2, 'pre-boot-2', 'Heartbeat', {}]));
      const got = [await nb.next(), await nb.next()];
      for (const [i, m] of got.entries()) {
        assert.deepStrictEqual(m.slice(0, 3), [4, `pre-boot-${i + 1}`, 'SecurityError'], JSON.stringify(m));
      }
      const st = (await s.api('GET', '/api/v1/stations/V2-NOBOOT')).body;
      assert.deepStrictEqual(st.connectors, [], 'the status was not recorded');
    });

    await t.test('invalid JSON with a recoverable message id is RpcFrameworkError or FormatViolation', async () => {
      await assertCallError(ws, '[2,"abc",', 'abc', ['RpcFrameworkError', 'FormatViolation']);
      await assertCallError(ws, '[2, "def", "Heartbeat", {]', 'def', ['RpcFrameworkError', 'FormatViolation']);
    });

    await t.test('a CALL with the wrong number of elements is RpcFrameworkError', async () => {
      await assertCallError(ws, [2, 'three-elems', 'Heartbeat'], 'three-elems', ['RpcFrameworkError', 'ProtocolError']);
      await assertCallError(ws, [2, 'five-elems', 'Heartbeat', {}, {}], 'five-elems', ['RpcFrameworkError', 'ProtocolError']);
    });

    await t.test('a message id longer than 36 characters is RpcFrameworkError', async () => {
      const id = 'L'.repeat(37);
      await assertCallError(ws, [2, id, 'Heartbeat', {}], id, ['RpcFrameworkError', 'ProtocolError']);
    });

    await t.test('messageTypeId 5 (or any type 2.0.1 does not have) is MessageTypeNotSupported', async () => {
      await assertCallError(ws, [5, 'type-5', 'Heartbeat', {}], 'type-5', 'MessageTypeNotSupported');
      await assertCallError(ws, [6, 'type-6', 'Heartbeat', {}], 'type-6', 'MessageTypeNotSupported');
      await assertCallError(ws, [1, 'type-1', 'Heartbeat', {}], 'type-1', 'MessageTypeNotSupported');
    });

    await t.test('an unknown action is NotImplemented naming the action', async () => {
      await assertCallError(ws, [2, 'unk', 'MakeCoffee', {}], 'unk', 'NotImplemented', 'MakeCoffee');
    });

    await t.test('a 1.6-only action is NotImplemented in 2.0.1', async () => {
      await assertCallError(ws, [2, 'v16', 'StartTransaction', { connectorId: 1, idTag: 'A', meterStart: 0, timestamp: now() }], 'v16', 'NotImplemented');
    });

    await t.test('an action only a CSMS may send is NotSupported', async () => {
      await assertCallError(ws, [2, 'csms-1', 'RequestStartTransaction', { idToken: { idToken: 'A', type: 'Central' }, remoteStartId: 1 }], 'csms-1', 'NotSupported', 'RequestStartTransaction');
      await assertCallError(ws, [2, 'csms-2', 'GetVariables', { getVariableData: [{ component: { name: 'A' }, variable: { name: 'B' } }] }], 'csms-2', 'NotSupported');
      await assertCallError(ws, [2, 'csms-3', 'Reset', { type: 'Immediate' }], 'csms-3', 'NotSupported');
    });

    await t.test('a payload that is not an object is FormatViolation', async () => {
      await assertCallError(ws, [2, 'pl-arr', 'Heartbeat', []], 'pl-arr', 'FormatViolation');
      await assertCallError(ws, [2, 'pl-null', 'Heartbeat', null], 'pl-null', 'FormatViolation');
    });

    await t.test('an unknown field is FormatViolation naming the field', async () => {
      await assertCallError(ws, [2, 'extra-1', 'Heartbeat', { sneaky: true }], 'extra-1', 'FormatViolation', 'sneaky');
      await assertCallError(ws, [2, 'extra-2', 'Authorize', { idToken: { idToken: 'A', type: 'ISO14443', colour: 'red' } }], 'extra-2', 'FormatViolation', 'colour');
    });

    await t.test('a missing required field is OccurrenceConstraintViolation naming the field', async () => {
      const m1 = await assertCallError(ws, [2, 'miss-1', 'StatusNotification', { timestamp: now(), evseId: 1, connectorId: 1 }], 'miss-1',
        'OccurrenceConstraintViolation', 'connectorStatus');
      assert.notStrictEqual(m1[2], 'OccurenceConstraintViolation');
      await assertCallError(ws, [2, 'miss-2', 'Authorize', { idToken: { idToken: 'A' } }], 'miss-2', 'OccurrenceConstraintViolation', 'type');
      await assertCallError(ws, [2, 'miss-3', 'TransactionEvent', { eventType: 'Started', timestamp: now(), triggerReason: 'Authorized', seqNo: 0 }], 'miss-3',
        'OccurrenceConstraintViolation', 'transactionInfo');
    });

    await t.test('a field of the wrong type is TypeConstraintViolation naming the field', async () => {
      await assertCallError(ws, [2, 'type-1', 'StatusNotification', { timestamp: now(), connectorStatus: 'Available', evseId: '1', connectorId: 1 }], 'type-1',
        'TypeConstraintViolation', 'evseId');
      await assertCallError(ws, [2, 'type-2', 'MeterValues', { evseId: 1, meterValue: [{ timestamp: now(), sampledValue: [{ value: '12.5' }] }] }], 'type-2',
        'TypeConstraintViolation', 'value');
      await assertCallError(ws, [2, 'type-3', 'StatusNotification', { timestamp: 'yesterday', connectorStatus: 'Available', evseId: 1, connectorId: 1 }], 'type-3',
        ['TypeConstraintViolation', 'FormatViolation', 'PropertyConstraintViolation'], 'timestamp');
    });

    await t.test('a value outside an enumeration is PropertyConstraintViolation naming the field', async () => {
      await assertCallError(ws, [2, 'enum-1', 'StatusNotification', { timestamp: now(), connectorStatus: 'Sleeping', evseId: 1, connectorId: 1 }], 'enum-1',
        'PropertyConstraintViolation', 'connectorStatus');
      await assertCallError(ws, [2, 'enum-2', 'Authorize', { idToken: { idToken: 'A', type: 'Barcode' } }], 'enum-2', 'PropertyConstraintViolation', 'type');
    });

    await t.test('a string longer than allowed is PropertyConstraintViolation naming the field', async () => {
      await assertCallError(ws, [2, 'long-1', 'Authorize', { idToken: { idToken: 'X'.repeat(37), type: 'ISO14443' } }], 'long-1',
        'PropertyConstraintViolation', 'idToken');
      await assertCallError(ws, [2, 'long-2', 'BootNotification', { reason: 'PowerUp', chargingStation: { vendorName: 'V'.repeat(51), model: 'm' } }], 'long-2',
        'PropertyConstraintViolation', 'vendorName');
    });

    await t.test('negative seqNo, evse id or connector id are PropertyConstraintViolation', async () => {
      await assertCallError(ws, [2, 'neg-1', 'TransactionEvent', { eventType: 'Started', timestamp: now(), triggerReason: 'Authorized', seqNo: -1,
        transactionInfo: { transactionId: 'NEG' } }], 'neg-1', 'PropertyConstraintViolation');
      await assertCallError(ws, [2, 'neg-2', 'StatusNotification', { timestamp: now(), connectorStatus: 'Available', evseId: -1, connectorId: 1 }], 'neg-2',
        'PropertyConstraintViolation');
      assert.deepStrictEqual(await sessionsOf(s, 'V2-EVIL'), [], 'nothing was recorded');
    });

    await t.test('unrecoverable garbage gets no answer and the connection stays open', async () => {
      for (const g of ['}{garbage', '', '[', '{"a":1}', '[]', '[2]']) {
        ws.send(g);
        assert.deepStrictEqual(await heartbeatAfter(ws), [], `no answer to ${JSON.stringify(g)}`);
      }
    });

    await t.test('no CALLERROR sent on this connection used a 1.6 spelling', async () => {
      // Every answer above was checked one by one; this repeats the rule for
      // the two classic misspellings on a fresh connection.
      const w2 = await attacker();
      const a = await assertCallError(w2, '[2,"fmt",{', 'fmt', ['RpcFrameworkError', 'FormatViolation']);
      const b = await assertCallError(w2, [2, 'occ', 'Authorize', {}], 'occ', 'OccurrenceConstraintViolation');
      for (const m of [a, b]) assert.ok(!['FormationViolation', 'OccurenceConstraintViolation'].includes(m[2]));
    });
  } finally {
    for (const w of sockets) { try { w.close(); } catch (_) { /* ignore */ } }
    await stopAndCheck(s);
  }
});

test('OCPP 2.0.1 EV charging needs and schedule are kept with the running session', async () => {
  const s = await startServer();
  try {
    await s.createStation('V2-NEEDS');
    await s.createIdToken('NEEDS-TAG');
    const cp = await booted201(s, 'V2-NEEDS');
    await cp.call('TransactionEvent', txEvent('Started', 'needs-1', 0, {
      idToken: { idToken: 'NEEDS-TAG', type: 'ISO14443' }, evse: { id: 2, connectorId: 1 },
      meterValue: [energy(100, 'Transaction.Begin')],
    }));
    const departure = new Date(Date.now() + 3 * 3600e3).toISOString();
    const needs = { requestedEnergyTransfer: 'AC_three_phase', departureTime: departure,
      acChargingParameters: { energyAmount: 22000, evMinCurrent: 6, evMaxCurrent: 32, evMaxVoltage: 400 } };
    const r = await cp.call('NotifyEVChargingNeeds', { evseId: 2, chargingNeeds: needs });
    assert.strictEqual(r.status, 'Accepted');
    const schedule = { id: 1, chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 16 }] };
    const r2 = await cp.call('NotifyEVChargingSchedule', { timeBase: new Date().toISOString(), evseId: 2, chargingSchedule: schedule });
    assert.strictEqual(r2.status, 'Accepted');
    const ses = await sessionByTx(s, 'V2-NEEDS', 'needs-1');
    assert.deepStrictEqual(ses.charging_needs, needs);
    assert.deepStrictEqual(ses.ev_charging_schedule, schedule);
    // with no transaction on that EVSE the needs are still in the station's event log
    await cp.call('NotifyEVChargingNeeds', { evseId: 5, chargingNeeds: needs });
    const evs = await s.api('GET', '/api/v1/stations/V2-NEEDS/events');
    assert.ok(evs.body.items.filter((e) => e.kind === 'ev_charging_needs').length >= 2);
    await cp.close();
  } finally {
    await stopAndCheck(s);
  }
});
