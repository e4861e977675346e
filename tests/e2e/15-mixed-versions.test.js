// OCPP 1.6 and 2.0.1 stations on one server at once: the subprotocol each
// station offers decides its version, each runs a charging session, and the
// API shows both the same way (sessions with the same fields, the protocol on
// each station). Commands are checked against the station's own version.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { Server, BIN } = require('./lib/harness');

const iso = (ms) => new Date(ms).toISOString();

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

async function stopAndCheck(s) {
  const st = await s.stop();
  s.cleanup();
  assert.deepStrictEqual(st, { code: 0, signal: null },
    `server did not exit cleanly on SIGTERM: ${JSON.stringify(st)}\n--- stderr (tail) ---\n${s.stderr.slice(-6000)}`);
}

function assertProblem(r, status, detailPattern) {
  assert.strictEqual(r.status, status, JSON.stringify(r.body));
  assert.match(String(r.headers.get('content-type')), /^application\/problem\+json/);
  if (detailPattern) assert.match(r.body.detail, detailPattern);
}

const BOOT16 = { chargePointVendor: 'ampgrid-test', chargePointModel: 'mixed-16' };
const BOOT201 = { reason: 'PowerUp', chargingStation: { vendorName: 'ampgrid-test', model: 'mixed-201' } };
const command = (s, station, action, body) => s.api('POST', `/api/v1/stations/${station}/commands/${action}`, body);

async function stationResource(s, id) {
  const r = await s.api('GET', `/api/v1/stations/${id}`);
  assert.strictEqual(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

// Connects with the given offered subprotocols and boots in whichever version
// was negotiated. Returns the client (its .protocol is the negotiated one).
async function connectAndBoot(s, id, protocols) {
  const cp = s.station(id, { protocols });
  await cp.connect();
  const r = await cp.call('BootNotification', cp.protocol === 'ocpp2.0.1' ? BOOT201 : BOOT16);
  assert.strictEqual(r.status, 'Accepted', JSON.stringify(r));
  return cp;
}

test('1.6 and 2.0.1 stations on one server', async (t) => {
  const s = await startServer();
  const open = [];
  try {
    await s.createIdToken('TAG-16');
    await s.createIdToken('TOK-201');
    for (const id of ['MIX-16', 'MIX-201', 'MIX-BOTH', 'MIX-ONLY16', 'MIX-16FIRST']) await s.createStation(id);

    let cp16;
    let cp201;
    let tx16;

    await t.test('a 1.6 station and a 2.0.1 station connect and boot at the same time', async () => {
      [cp16, cp201] = await Promise.all([connectAndBoot(s, 'MIX-16', ['ocpp1.6']), connectAndBoot(s, 'MIX-201', ['ocpp2.0.1'])]);
      open.push(cp16, cp201);
      assert.strictEqual(cp16.protocol, 'ocpp1.6');
      assert.strictEqual(cp201.protocol, 'ocpp2.0.1');
      const [h16, h201] = await Promise.all([cp16.call('Heartbeat', {}), cp201.call('Heartbeat', {})]);
      assert.ok(h16.currentTime && h201.currentTime);
    });

    await t.test('GET /api/v1/stations shows each station\'s protocol', async () => {
      const r = await s.api('GET', '/api/v1/stations?connected=true');
      assert.strictEqual(r.status, 200);
      const proto = Object.fromEntries(r.body.items.map((x) => [x.id, x.protocol]));
      assert.strictEqual(proto['MIX-16'], 'ocpp1.6');
      assert.strictEqual(proto['MIX-201'], 'ocpp2.0.1');
    });

    await t.test('both stations run a session, interleaved', async () => {
      const t0 = iso(Date.now() - 20 * 60000);
      const t1 = iso(Date.now() - 10 * 60000);
      const t2 = iso(Date.now() - 1000);
      const start16 = await cp16.call('StartTransaction', { connectorId: 1, idTag: 'TAG-16', meterStart: 1000, timestamp: t0 });
      assert.strictEqual(start16.idTagInfo.status, 'Accepted');
      tx16 = start16.transactionId;
      const start201 = await cp201.call('TransactionEvent', {
        eventType: 'Started', timestamp: t0, triggerReason: 'Authorized', seqNo: 0,
        transactionInfo: { transactionId: 'MIX-TX-1', chargingState: 'Charging' }, evse: { id: 1, connectorId: 1 },
        idToken: { idToken: 'TOK-201', type: 'ISO14443' },
        meterValue: [{ timestamp: t0, sampledValue: [{ value: 1000, context: 'Transaction.Begin', measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'Wh' } }] }],
      });
      assert.strictEqual(start201.idTokenInfo.status, 'Accepted');
      await cp16.call('MeterValues', { connectorId: 1, transactionId: tx16, meterValue: [{ timestamp: t1, sampledValue: [{ value: '3.5', measurand: 'Energy.Active.Import.Register', unit: 'kWh' }] }] });
      await cp201.call('TransactionEvent', {
        eventType: 'Updated', timestamp: t1, triggerReason: 'MeterValuePeriodic', seqNo: 1, transactionInfo: { transactionId: 'MIX-TX-1' },
        meterValue: [{ timestamp: t1, sampledValue: [{ value: 3.5, measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'kWh' } }] }],
      });
      await cp16.call('StopTransaction', { transactionId: tx16, meterStop: 6000, timestamp: t2, reason: 'EVDisconnected', idTag: 'TAG-16' });
      await cp201.call('TransactionEvent', {
        eventType: 'Ended', timestamp: t2, triggerReason: 'EVCommunicationLost', seqNo: 2,
        transactionInfo: { transactionId: 'MIX-TX-1', stoppedReason: 'EVDisconnected' },
        meterValue: [{ timestamp: t2, sampledValue: [{ value: 6, context: 'Transaction.End', measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'kWh' } }] }],
      });
    });

    await t.test('GET /api/v1/sessions lists both sessions with the same fields and values', async () => {
      const r = await s.api('GET', '/api/v1/sessions?limit=1000');
      assert.strictEqual(r.status, 200);
      const a = r.body.items.find((x) => x.station_id === 'MIX-16');
      const b = r.body.items.find((x) => x.station_id === 'MIX-201');
      assert.ok(a && b, 'both sessions are listed');
      assert.deepStrictEqual(Object.keys(b).sort(), Object.keys(a).sort(), 'the same fields');
      assert.strictEqual(a.transaction_id, String(tx16), 'a 1.6 session\'s transaction_id is its numeric id as a string');
      assert.strictEqual(b.transaction_id, 'MIX-TX-1', 'a 2.0.1 session\'s transaction_id is the station\'s own');
      const pick = (x) => ({ evse_id: x.evse_id, connector_id: x.connector_id, meter_start_wh: x.meter_start_wh, meter_stop_wh: x.meter_stop_wh,
        energy_wh: x.energy_wh, stop_reason: x.stop_reason, active: x.active, auth_status: x.auth_status, started_at: x.started_at, stopped_at: x.stopped_at });
      assert.deepStrictEqual(pick(b), pick(a), 'the same session, seen the same way');
      assert.deepStrictEqual(pick(a).energy_wh, 5000);
      for (const x of [a, b]) assert.strictEqual(typeof x.id, 'number');
    });

    await t.test('GET /api/v1/sessions/{id} shows each session\'s meter values the same way', async () => {
      const r = await s.api('GET', '/api/v1/sessions?limit=1000');
      const [a, b] = ['MIX-16', 'MIX-201'].map((id) => r.body.items.find((x) => x.station_id === id));
      const [da, db] = await Promise.all([a, b].map(async (x) => (await s.api('GET', `/api/v1/sessions/${x.id}`)).body));
      assert.ok(da.meter_values.length > 0 && db.meter_values.length > 0);
      assert.deepStrictEqual(Object.keys(db.meter_values[0]).sort(), Object.keys(da.meter_values[0]).sort());
    });

    await t.test('a station offering ["ocpp2.0.1","ocpp1.6"] gets ocpp2.0.1', async () => {
      const cp = await connectAndBoot(s, 'MIX-BOTH', ['ocpp2.0.1', 'ocpp1.6']);
      open.push(cp);
      assert.strictEqual(cp.protocol, 'ocpp2.0.1');
      assert.strictEqual((await stationResource(s, 'MIX-BOTH')).protocol, 'ocpp2.0.1');
    });

    await t.test('a station offering only ocpp1.6 gets ocpp1.6', async () => {
      const cp = await connectAndBoot(s, 'MIX-ONLY16', ['ocpp1.6']);
      open.push(cp);
      assert.strictEqual(cp.protocol, 'ocpp1.6');
      assert.strictEqual((await stationResource(s, 'MIX-ONLY16')).protocol, 'ocpp1.6');
    });

    await t.test('a station offering ["ocpp1.6","ocpp2.0.1"] gets ocpp1.6 (documented libwebsockets 4.1 limitation)', async () => {
      // Known limitation: libwebsockets 4.1 picks the first subprotocol in the
      // client's order that the server supports, and its response header table
      // cannot be rewritten through its API, so the server cannot prefer 2.0.1
      // when a station lists 1.6 first (docs/operations.md: list ocpp2.0.1
      // first). What matters is that the server then speaks what it
      // negotiated: the station resource and the translator agree with the
      // Sec-WebSocket-Protocol answer, and a 1.6 boot is served.
      const cp = await connectAndBoot(s, 'MIX-16FIRST', ['ocpp1.6', 'ocpp2.0.1']);
      open.push(cp);
      assert.strictEqual(cp.protocol, 'ocpp1.6');
      assert.strictEqual((await stationResource(s, 'MIX-16FIRST')).protocol, 'ocpp1.6');
      assert.ok((await cp.call('Heartbeat', {})).currentTime);
    });

    await t.test('a station reconnecting with another version has its protocol updated', async () => {
      // MIX-ONLY16 comes back as a 2.0.1 station (a firmware upgrade).
      const cp = await connectAndBoot(s, 'MIX-ONLY16', ['ocpp2.0.1']);
      open.push(cp);
      assert.strictEqual((await stationResource(s, 'MIX-ONLY16')).protocol, 'ocpp2.0.1');
    });

    await t.test('a command only 2.0.1 has (GetVariables) sent to the 1.6 station is 400 and nothing is sent', async () => {
      let called = 0;
      cp16.handle(() => { called++; return {}; });
      assertProblem(await command(s, 'MIX-16', 'GetVariables', { getVariableData: [{ component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' } }] }), 400);
      assertProblem(await command(s, 'MIX-16', 'RequestStartTransaction', { idToken: { idToken: 'TAG-16', type: 'ISO14443' }, remoteStartId: 1 }), 400);
      assert.strictEqual(called, 0);
    });

    await t.test('a command only 1.6 has (ChangeConfiguration) sent to the 2.0.1 station is 400 and nothing is sent', async () => {
      let called = 0;
      cp201.handle(() => { called++; return {}; });
      assertProblem(await command(s, 'MIX-201', 'ChangeConfiguration', { key: 'HeartbeatInterval', value: '60' }), 400);
      assertProblem(await command(s, 'MIX-201', 'RemoteStartTransaction', { idTag: 'TAG-16' }), 400);
      assert.strictEqual(called, 0);
    });

    await t.test('a command both versions have is sent in each station\'s own version', async () => {
      const got16 = [];
      const got201 = [];
      cp16.removeAllHandlers();
      cp201.removeAllHandlers();
      cp16.handle('Reset', ({ params }) => { got16.push(params); return { status: 'Accepted' }; });
      cp201.handle('Reset', ({ params }) => { got201.push(params); return { status: 'Scheduled' }; });
      const a = await command(s, 'MIX-16', 'Reset', { type: 'Soft' });
      const b = await command(s, 'MIX-201', 'Reset', { type: 'OnIdle' });
      assert.deepStrictEqual([a.status, a.body], [200, { status: 'Accepted' }]);
      assert.deepStrictEqual([b.status, b.body], [200, { status: 'Scheduled' }]);
      assert.deepStrictEqual(got16, [{ type: 'Soft' }]);
      assert.deepStrictEqual(got201, [{ type: 'OnIdle' }]);
      // A payload valid only in the other version is refused.
      assertProblem(await command(s, 'MIX-201', 'Reset', { type: 'Soft' }), 400);
      assertProblem(await command(s, 'MIX-16', 'Reset', { type: 'OnIdle' }), 400);
    });

    await t.test('POST variables sends ChangeConfiguration to the 1.6 station and SetVariables to the 2.0.1 one', async () => {
      const got16 = [];
      const got201 = [];
      cp16.handle('ChangeConfiguration', ({ params }) => { got16.push(params); return { status: 'Accepted' }; });
      cp201.handle('SetVariables', ({ params }) => {
        got201.push(params);
        return { setVariableResult: params.setVariableData.map((d) => ({ attributeStatus: 'Accepted', component: d.component, variable: d.variable })) };
      });
      const a = await s.api('POST', '/api/v1/stations/MIX-16/variables', { variable: 'HeartbeatInterval', value: '120' });
      const b = await s.api('POST', '/api/v1/stations/MIX-201/variables', { component: 'OCPPCommCtrlr', variable: 'HeartbeatInterval', value: '120' });
      assert.strictEqual(a.status, 200, JSON.stringify(a.body));
      assert.strictEqual(b.status, 200, JSON.stringify(b.body));
      assert.strictEqual(a.body.status, 'Accepted');
      assert.strictEqual(b.body.status, 'Accepted');
      assert.deepStrictEqual(got16, [{ key: 'HeartbeatInterval', value: '120' }]);
      assert.strictEqual(got201.length, 1);
      assert.strictEqual(got201[0].setVariableData[0].attributeValue, '120');
    });
  } finally {
    await Promise.allSettled(open.map((c) => c.close()));
    await stopAndCheck(s);
  }
});
