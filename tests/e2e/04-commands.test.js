// Operator commands: POST /api/v1/stations/{id}/commands/{Action} turns into
// an OCPP CALL to the station (validated first), the station's answer comes
// back as the API response. One CALL is outstanding per station at a time.
// Also: remote start / stop as a full flow, and password rotation.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { createRPCError } = require('ocpp-rpc');
const { Server, sleep, waitFor, upgradeStatus } = require('./lib/harness');

const PASSWORD = 'correct-horse-battery';

async function stopAndCheck(s) {
  const st = await s.stop();
  s.cleanup();
  assert.deepStrictEqual(st, { code: 0, signal: null },
    `server did not exit cleanly on SIGTERM: ${JSON.stringify(st)}\n--- stderr (tail) ---\n${s.stderr.slice(-6000)}`);
}

const iso = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const command = (s, station, action, body) => s.api('POST', `/api/v1/stations/${station}/commands/${action}`, body);

function assertProblem(r, status, detailPattern) {
  assert.strictEqual(r.status, status, JSON.stringify(r.body));
  assert.match(String(r.headers.get('content-type')), /^application\/problem\+json/);
  assert.strictEqual(r.body.status, status);
  assert.ok(typeof r.body.title === 'string' && r.body.title.length > 0);
  if (detailPattern) assert.match(r.body.detail, detailPattern);
}

// Live events (SSE) of the API, parsed into { type, data }.
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

// Every command a CSMS can send in OCPP 1.6, with a valid request and a
// valid answer the station gives.
const NOW = Date.now();
const COMMANDS = [
  { action: 'RemoteStartTransaction', request: { connectorId: 1, idTag: 'TAG-1' }, answer: { status: 'Accepted' } },
  { action: 'RemoteStopTransaction', request: { transactionId: 42 }, answer: { status: 'Rejected' } },
  { action: 'Reset', request: { type: 'Soft' }, answer: { status: 'Accepted' } },
  { action: 'UnlockConnector', request: { connectorId: 1 }, answer: { status: 'Unlocked' } },
  { action: 'ChangeAvailability', request: { connectorId: 0, type: 'Inoperative' }, answer: { status: 'Scheduled' } },
  { action: 'ChangeConfiguration', request: { key: 'HeartbeatInterval', value: '60' }, answer: { status: 'RebootRequired' } },
  {
    action: 'GetConfiguration', request: { key: ['HeartbeatInterval', 'NoSuchKey'] },
    answer: { configurationKey: [{ key: 'HeartbeatInterval', readonly: false, value: '60' }], unknownKey: ['NoSuchKey'] },
  },
  { action: 'ClearCache', request: {}, answer: { status: 'Accepted' } },
  { action: 'TriggerMessage', request: { requestedMessage: 'StatusNotification', connectorId: 1 }, answer: { status: 'Accepted' } },
  { action: 'DataTransfer', request: { vendorId: 'com.acme', messageId: 'ping', data: 'hello' }, answer: { status: 'Accepted', data: 'pong' } },
  {
    action: 'GetDiagnostics',
    request: { location: 'ftp://diag.example.com/upload/', retries: 3, retryInterval: 60, startTime: iso(NOW - 86400000), stopTime: iso(NOW) },
    answer: { fileName: 'diagnostics-CMD-1.zip' },
  },
  {
    action: 'UpdateFirmware',
    request: { location: 'https://fw.example.com/wallbox-2.0.1.bin', retrieveDate: iso(NOW + 3600000), retries: 2, retryInterval: 300 },
    answer: {},
  },
  {
    action: 'ReserveNow',
    request: { connectorId: 1, expiryDate: iso(NOW + 1800000), idTag: 'TAG-1', parentIdTag: 'GROUP-1', reservationId: 7 },
    answer: { status: 'Accepted' },
  },
  { action: 'CancelReservation', request: { reservationId: 7 }, answer: { status: 'Accepted' } },
  {
    action: 'SendLocalList',
    request: {
      listVersion: 3, updateType: 'Full',
      localAuthorizationList: [
        { idTag: 'TAG-1', idTagInfo: { status: 'Accepted', expiryDate: iso(NOW + 86400000), parentIdTag: 'GROUP-1' } },
        { idTag: 'TAG-2', idTagInfo: { status: 'Blocked' } },
        { idTag: 'TAG-3' },
      ],
    },
    answer: { status: 'Accepted' },
  },
  { action: 'GetLocalListVersion', request: {}, answer: { listVersion: 3 } },
  {
    action: 'SetChargingProfile',
    request: {
      connectorId: 1,
      csChargingProfiles: {
        chargingProfileId: 12, stackLevel: 0, chargingProfilePurpose: 'TxDefaultProfile', chargingProfileKind: 'Absolute',
        validFrom: iso(NOW), validTo: iso(NOW + 86400000),
        chargingSchedule: {
          duration: 3600, startSchedule: iso(NOW), chargingRateUnit: 'A', minChargingRate: 6.5,
          chargingSchedulePeriod: [{ startPeriod: 0, limit: 16.7, numberPhases: 3 }, { startPeriod: 1800, limit: 10 }],
        },
      },
    },
    answer: { status: 'Accepted' },
  },
  { action: 'ClearChargingProfile', request: { id: 12, connectorId: 1, chargingProfilePurpose: 'TxDefaultProfile', stackLevel: 0 }, answer: { status: 'Accepted' } },
  {
    action: 'GetCompositeSchedule', request: { connectorId: 1, duration: 3600, chargingRateUnit: 'W' },
    answer: {
      status: 'Accepted', connectorId: 1, scheduleStart: iso(NOW),
      chargingSchedule: { duration: 3600, startSchedule: iso(NOW), chargingRateUnit: 'W', chargingSchedulePeriod: [{ startPeriod: 0, limit: 11000 }] },
    },
  },
];

test('operator commands', async (t) => {
  const s = await new Server({ config: '[ocpp]\ncall_timeout = 2\n[security]\nauth_fail_limit = 1000\n' }).start();
  const open = [];
  try {
    await s.createStation('CMD-1');
    const cp = await s.bootedStation('CMD-1');
    open.push(cp);
    // Every CALL the station receives, and the station's behaviour per action
    // (tests replace entries of `behaviour`).
    const calls = [];
    const inbound = [];
    cp.on('message', ({ message, outbound }) => { if (!outbound) inbound.push(String(message)); });
    const defaults = Object.fromEntries(COMMANDS.map((c) => [c.action, () => c.answer]));
    let behaviour = { ...defaults };
    cp.handle(({ method, params }) => {
      calls.push({ method, params });
      const b = behaviour[method];
      if (!b) throw createRPCError('NotImplemented', `no behaviour for ${method}`);
      return b(params);
    });
    const reset = () => { calls.length = 0; inbound.length = 0; behaviour = { ...defaults }; };

    for (const c of COMMANDS) {
      await t.test(`${c.action} is sent to the station as given and its answer is returned`, async () => {
        reset();
        const r = await command(s, 'CMD-1', c.action, c.request);
        assert.strictEqual(r.status, 200, JSON.stringify(r.body));
        assert.deepStrictEqual(r.body, c.answer);
        assert.deepStrictEqual(calls, [{ method: c.action, params: c.request }]);
      });
    }

    await t.test('an invalid command payload is refused with 400 naming the field, and nothing is sent to the station', async () => {
      reset();
      const cases = [
        ['Reset', { type: 'Medium' }, /type/],
        ['Reset', {}, /type/],
        ['RemoteStartTransaction', { connectorId: 1 }, /idTag/],
        ['RemoteStartTransaction', { idTag: 'X'.repeat(21) }, /idTag/],
        ['RemoteStartTransaction', { idTag: 'TAG-1', colour: 'blue' }, /colour/],
        ['ChangeConfiguration', { key: 'HeartbeatInterval', value: 60 }, /value/],
        ['UnlockConnector', { connectorId: '1' }, /connectorId/],
        ['ReserveNow', { connectorId: 1, expiryDate: 'tomorrow', idTag: 'T', reservationId: 1 }, /expiryDate/],
        ['SetChargingProfile', {
          connectorId: 1,
          csChargingProfiles: {
            chargingProfileId: 1, stackLevel: 0, chargingProfilePurpose: 'TxProfile', chargingProfileKind: 'Absolute',
            chargingSchedule: { chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 16.55 }] },
          },
        }, /limit/],
      ];
      for (const [action, body, field] of cases) {
        const r = await command(s, 'CMD-1', action, body);
        assertProblem(r, 400, field);
      }
      // A valid command afterwards is the only thing the station ever sees.
      const ok = await command(s, 'CMD-1', 'ClearCache', {});
      assert.strictEqual(ok.status, 200);
      assert.deepStrictEqual(calls.map((c) => c.method), ['ClearCache']);
      assert.strictEqual(inbound.length, 1, `frames received: ${inbound.join('\n')}`);
    });

    await t.test('a command body that is not a JSON object is refused with 400', async () => {
      reset();
      for (const body of ['{"type":', '[]', '"Soft"', '{"type":"Soft","type":"Hard"}']) {
        const r = await command(s, 'CMD-1', 'Reset', body);
        assertProblem(r, 400);
      }
      assert.deepStrictEqual(calls, []);
    });

    await t.test('an action a CSMS cannot send, or that does not exist, is refused with 400', async () => {
      reset();
      for (const action of ['BootNotification', 'Heartbeat', 'StatusNotification', 'StartTransaction', 'NoSuchAction', 'reset']) {
        const r = await command(s, 'CMD-1', action, {});
        assertProblem(r, 400, new RegExp(action));
      }
      assert.deepStrictEqual(calls, []);
    });

    await t.test('a command to an unknown station is 404', async () => {
      assertProblem(await command(s, 'NO-SUCH-STATION', 'Reset', { type: 'Soft' }), 404);
    });

    await t.test('a command to a station that is not connected is 409', async () => {
      await s.createStation('CMD-OFFLINE');
      assertProblem(await command(s, 'CMD-OFFLINE', 'Reset', { type: 'Soft' }), 409);
    });

    await t.test('a station answering with a CALLERROR gives 502 with the error code in the problem detail', async () => {
      reset();
      behaviour.Reset = () => { throw createRPCError('NotSupported', 'resets are disabled on this unit'); };
      const r = await command(s, 'CMD-1', 'Reset', { type: 'Hard' });
      assertProblem(r, 502, /NotSupported/);
    });

    await t.test('a station that does not answer in time gives 504 and the next command still goes through', async () => {
      reset();
      behaviour.Reset = () => new Promise(() => {}); // never answers
      const t0 = Date.now();
      const r = await command(s, 'CMD-1', 'Reset', { type: 'Soft' });
      const took = Date.now() - t0;
      assertProblem(r, 504);
      assert.ok(took >= 900 && took < 6000, `timed out after ${took} ms with call_timeout = 2`);
      const next = await command(s, 'CMD-1', 'ClearCache', {});
      assert.strictEqual(next.status, 200, JSON.stringify(next.body));
      assert.deepStrictEqual(next.body, { status: 'Accepted' });
    });

    await t.test('several commands sent at once reach the station one at a time, in the order they were queued', async () => {
      reset();
      const ev = await openEvents(s, 'types=command.sent&station=CMD-1');
      try {
        let outstanding = 0;
        let maxOutstanding = 0;
        behaviour.ChangeConfiguration = async () => {
          outstanding++;
          maxOutstanding = Math.max(maxOutstanding, outstanding);
          await sleep(80);
          outstanding--;
          return { status: 'Accepted' };
        };
        const keys = ['K1', 'K2', 'K3', 'K4', 'K5', 'K6'];
        const results = await Promise.all(keys.map((key) => command(s, 'CMD-1', 'ChangeConfiguration', { key, value: key.toLowerCase() })));
        for (const r of results) {
          assert.strictEqual(r.status, 200, JSON.stringify(r.body));
          assert.deepStrictEqual(r.body, { status: 'Accepted' });
        }
        assert.strictEqual(maxOutstanding, 1, 'the station never had two CALLs outstanding');
        await waitFor(() => ev.events.length >= keys.length, { what: 'command.sent events', timeout: 5000 });
        const queued = ev.events.map((e) => e.data.request.key);
        assert.deepStrictEqual([...queued].sort(), keys);
        assert.deepStrictEqual(calls.map((c) => c.params.key), queued, 'delivered in queue order');
      } finally {
        await ev.close();
      }
    });

    await t.test('remote start then remote stop drive a full session', async () => {
      reset();
      await s.createIdToken('TAG-REMOTE');
      let started;
      const startedP = new Promise((resolve) => { started = resolve; });
      let stopped;
      const stoppedP = new Promise((resolve) => { stopped = resolve; });
      let txId;
      behaviour.RemoteStartTransaction = ({ connectorId, idTag }) => {
        setImmediate(async () => {
          await cp.call('StatusNotification', { connectorId, errorCode: 'NoError', status: 'Preparing' });
          const r = await cp.call('StartTransaction', { connectorId, idTag, meterStart: 1200, timestamp: new Date().toISOString() });
          txId = r.transactionId;
          await cp.call('StatusNotification', { connectorId, errorCode: 'NoError', status: 'Charging' });
          started(r);
        });
        return { status: 'Accepted' };
      };
      behaviour.RemoteStopTransaction = ({ transactionId }) => {
        if (transactionId !== txId) return { status: 'Rejected' };
        setImmediate(async () => {
          const r = await cp.call('StopTransaction', { transactionId, meterStop: 9200, timestamp: new Date().toISOString(), reason: 'Remote' });
          await cp.call('StatusNotification', { connectorId: 2, errorCode: 'NoError', status: 'Finishing' });
          stopped(r);
        });
        return { status: 'Accepted' };
      };
      const r1 = await command(s, 'CMD-1', 'RemoteStartTransaction', { connectorId: 2, idTag: 'TAG-REMOTE' });
      assert.deepStrictEqual(r1.body, { status: 'Accepted' });
      const start = await startedP;
      assert.strictEqual(start.idTagInfo.status, 'Accepted');
      const active = await s.api('GET', `/api/v1/sessions/${start.transactionId}`);
      assert.strictEqual(active.body.active, true);
      assert.strictEqual(active.body.evse_id, 2);
      assert.strictEqual(active.body.id_token, 'TAG-REMOTE');
      const st = await s.api('GET', '/api/v1/stations/CMD-1');
      assert.strictEqual(st.body.connectors.find((c) => c.evse_id === 2).status, 'Charging');

      const r2 = await command(s, 'CMD-1', 'RemoteStopTransaction', { transactionId: start.transactionId });
      assert.deepStrictEqual(r2.body, { status: 'Accepted' });
      await stoppedP;
      const done = await s.api('GET', `/api/v1/sessions/${start.transactionId}`);
      assert.strictEqual(done.body.active, false);
      assert.strictEqual(done.body.stop_reason, 'Remote');
      assert.strictEqual(done.body.energy_wh, 8000);
    });

    await t.test('a station that disconnects before answering gives 502 for the outstanding and the queued commands', async () => {
      await s.createStation('CMD-DROP');
      const drop = await s.bootedStation('CMD-DROP');
      let got;
      const gotP = new Promise((resolve) => { got = resolve; });
      drop.handle('Reset', () => { got(); return new Promise(() => {}); });
      const pending = command(s, 'CMD-DROP', 'Reset', { type: 'Soft' });
      await gotP;
      const queued = command(s, 'CMD-DROP', 'ClearCache', {});
      await sleep(100);
      await drop.close({ force: true });
      const [a, b] = await Promise.all([pending, queued]);
      assertProblem(a, 502);
      assertProblem(b, 502);
    });

    // A raw station controls exactly what it answers and when.
    const rawStation = async (id) => {
      await s.createStation(id);
      const ws = s.raw(id);
      await ws.opened;
      open.push({ close: async () => ws.close() });
      return ws;
    };

    await t.test('a station answer that does not match the response schema gives 502', async () => {
      const ws = await rawStation('CMD-RAW-1');
      const pending = command(s, 'CMD-RAW-1', 'Reset', { type: 'Soft' });
      const [type, id, action, payload] = await ws.next();
      assert.deepStrictEqual([type, action, payload], [2, 'Reset', { type: 'Soft' }]);
      ws.send(JSON.stringify([3, id, { status: 'Maybe' }]));
      assertProblem(await pending, 502, /status/);
    });

    await t.test('a late answer to a timed-out command is ignored and does not answer the next one', async () => {
      const ws = await rawStation('CMD-RAW-2');
      const first = await command(s, 'CMD-RAW-2', 'Reset', { type: 'Soft' });
      assertProblem(first, 504);
      const [, resetId, resetAction] = await ws.next();
      assert.strictEqual(resetAction, 'Reset');
      const pending = command(s, 'CMD-RAW-2', 'GetLocalListVersion', {});
      const [, id, action] = await ws.next();
      assert.strictEqual(action, 'GetLocalListVersion');
      assert.notStrictEqual(id, resetId);
      ws.send(JSON.stringify([3, resetId, { status: 'Accepted' }])); // too late
      await sleep(50);
      ws.send(JSON.stringify([3, id, { listVersion: 9 }]));
      const r = await pending;
      assert.strictEqual(r.status, 200, JSON.stringify(r.body));
      assert.deepStrictEqual(r.body, { listVersion: 9 });
    });
  } finally {
    // force: a handler above never answers, and a graceful close would wait for it.
    await Promise.allSettled(open.map((c) => c.close({ force: true })));
    await stopAndCheck(s);
  }
});

test('password rotation', async (t) => {
  const s = await new Server({ config: '[security]\nauth_fail_limit = 1000\n' }).start();
  const open = [];
  const status = async (id, password) => (await upgradeStatus(s, id, { password })).status;
  try {
    await s.createStation('ROT-1');
    await s.createStation('ROT-2');
    let newPassword;

    await t.test('rotate-password sends ChangeConfiguration AuthorizationKey with a new 40-hex-digit password and returns Accepted', async () => {
      const cp = await s.bootedStation('ROT-1');
      open.push(cp);
      const seen = [];
      cp.handle('ChangeConfiguration', ({ params }) => { seen.push(params); return { status: 'Accepted' }; });
      const r = await s.api('POST', '/api/v1/stations/ROT-1/rotate-password');
      assert.strictEqual(r.status, 200, JSON.stringify(r.body));
      assert.strictEqual(r.body.outcome, 'Accepted');
      assert.strictEqual(seen.length, 1);
      assert.strictEqual(seen[0].key, 'AuthorizationKey');
      assert.match(seen[0].value, /^[0-9a-fA-F]{40}$/);
      newPassword = seen[0].value;
      // The password never shows up in the server's output.
      assert.ok(!s.stdout.includes(newPassword) && !s.stderr.includes(newPassword), 'the new password is not logged');
    });

    await t.test('until the station reconnects with the new password, the old one still works', async () => {
      assert.ok(newPassword, 'needs the previous test');
      assert.strictEqual(await status('ROT-1', PASSWORD), 101);
      assert.strictEqual(await status('ROT-1', PASSWORD), 101);
    });

    await t.test('the station can reconnect with the new password', async () => {
      const cp = s.station('ROT-1', { password: newPassword });
      await cp.connect();
      open.push(cp);
      await cp.call('Heartbeat', {});
    });

    await t.test('after the station reconnected with the new password, the old one is refused with 401', async () => {
      assert.strictEqual(await status('ROT-1', PASSWORD), 401);
      assert.strictEqual(await status('ROT-1', newPassword), 101);
    });

    await t.test('when the station rejects the new password, the API answers 502 and the old password stays the only one', async () => {
      const cp = await s.bootedStation('ROT-2');
      open.push(cp);
      const seen = [];
      cp.handle('ChangeConfiguration', ({ params }) => { seen.push(params); return { status: 'Rejected' }; });
      const r = await s.api('POST', '/api/v1/stations/ROT-2/rotate-password');
      assertProblem(r, 502);
      assert.strictEqual(seen.length, 1);
      await cp.close();
      assert.strictEqual(await status('ROT-2', seen[0].value), 401, 'the rejected password does not work');
      assert.strictEqual(await status('ROT-2', PASSWORD), 101, 'the old password still works');
    });

    await t.test('rotating the password of a station that is not connected is 409', async () => {
      await s.createStation('ROT-OFF');
      assertProblem(await s.api('POST', '/api/v1/stations/ROT-OFF/rotate-password'), 409);
      assert.strictEqual(await status('ROT-OFF', PASSWORD), 101, 'its password is unchanged');
    });

    await t.test('rotating the password of an unknown station is 404', async () => {
      assertProblem(await s.api('POST', '/api/v1/stations/NO-SUCH/rotate-password'), 404);
    });
  } finally {
    await Promise.allSettled(open.map((c) => c.close()));
    await stopAndCheck(s);
  }
});
