// Charging sessions: Authorize against the operator's id tokens,
// StartTransaction (ids, replays, concurrent use of a tag), MeterValues
// (every field stored, energy and state of charge derived), StopTransaction
// (closing, transactionData, unknown and repeated stops).
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { Server } = require('./lib/harness');

async function stopAndCheck(s) {
  const st = await s.stop();
  s.cleanup();
  assert.deepStrictEqual(st, { code: 0, signal: null },
    `server did not exit cleanly on SIGTERM: ${JSON.stringify(st)}\n--- stderr (tail) ---\n${s.stderr.slice(-6000)}`);
}

function rejectsWith(code, field) {
  return (err) => {
    assert.strictEqual(err.rpcErrorCode, code, `expected CALLERROR ${code}, got ${err.rpcErrorCode}: ${err.message}`);
    assert.ok(err.message && err.message.length > 0, 'the CALLERROR has a description');
    if (field) assert.match(err.message, new RegExp(field), 'the description names the field');
    return true;
  };
}

const iso = (ms) => new Date(ms).toISOString();
const sameTime = (a, b) => Date.parse(a) === Date.parse(b);

async function getSession(s, id) {
  const r = await s.api('GET', `/api/v1/sessions/${id}`);
  assert.strictEqual(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

test('charging sessions', async (t) => {
  const s = await new Server().start();
  const open = [];
  try {
    const HOUR = 3600 * 1000;
    await s.createIdToken('TAG-OK');
    await s.createIdToken('TAG-BLOCKED', { status: 'Blocked' });
    await s.createIdToken('TAG-EXPSTATUS', { status: 'Expired' });
    await s.createIdToken('TAG-PAST', { expiry: iso(Date.now() - HOUR) });
    const future = new Date(Math.floor((Date.now() + 24 * HOUR) / 1000) * 1000).toISOString();
    await s.createIdToken('TAG-FUTURE', { expiry: future });
    await s.createIdToken('GROUP-1');
    await s.createIdToken('TAG-CHILD', { parent_id_token: 'GROUP-1' });
    for (const tag of ['TAG-START', 'TAG-CONC', 'TAG-METER', 'TAG-OLD', 'TAG-DEF', 'TAG-LATE', 'TAG-LATE-SOC', 'TAG-STOP', 'TAG-RESTOP', 'TAG-OTHER']) {
      await s.createIdToken(tag);
    }
    await s.createStation('SESS-1');
    await s.createStation('SESS-2');
    const cp = await s.bootedStation('SESS-1');
    open.push(cp);
    const cp2 = await s.bootedStation('SESS-2');
    open.push(cp2);

    const start = async (station, connectorId, idTag, meterStart, timestamp = iso(Date.now())) =>
      station.call('StartTransaction', { connectorId, idTag, meterStart, timestamp });

    // --- Authorize ---------------------------------------------------------

    await t.test('Authorize with an unknown tag is Invalid', async () => {
      assert.deepStrictEqual(await cp.call('Authorize', { idTag: 'NOT-A-TAG' }), { idTagInfo: { status: 'Invalid' } });
    });

    await t.test('Authorize with a known, valid tag is Accepted', async () => {
      const r = await cp.call('Authorize', { idTag: 'TAG-OK' });
      assert.strictEqual(r.idTagInfo.status, 'Accepted');
    });

    await t.test('Authorize with a Blocked tag is Blocked', async () => {
      assert.strictEqual((await cp.call('Authorize', { idTag: 'TAG-BLOCKED' })).idTagInfo.status, 'Blocked');
    });

    await t.test('Authorize with a tag whose status is Expired is Expired', async () => {
      assert.strictEqual((await cp.call('Authorize', { idTag: 'TAG-EXPSTATUS' })).idTagInfo.status, 'Expired');
    });

    await t.test('Authorize with an Accepted tag whose expiry has passed is Expired', async () => {
      assert.strictEqual((await cp.call('Authorize', { idTag: 'TAG-PAST' })).idTagInfo.status, 'Expired');
    });

    await t.test('Authorize with a tag that expires in the future is Accepted with its expiryDate', async () => {
      const r = await cp.call('Authorize', { idTag: 'TAG-FUTURE' });
      assert.strictEqual(r.idTagInfo.status, 'Accepted');
      assert.ok(sameTime(r.idTagInfo.expiryDate, future), `expiryDate ${r.idTagInfo.expiryDate} = ${future}`);
    });

    await t.test('Authorize returns the tag\'s parent_id_token as parentIdTag', async () => {
      const r = await cp.call('Authorize', { idTag: 'TAG-CHILD' });
      assert.deepStrictEqual(r.idTagInfo, { status: 'Accepted', parentIdTag: 'GROUP-1' });
    });

    // --- StartTransaction ---------------------------------------------------

    let startedId;
    const startTs = iso(Date.now() - 60 * 1000);
    await t.test('StartTransaction returns a database-assigned transactionId visible as an active session', async () => {
      const r = await start(cp, 1, 'TAG-START', 1000, startTs);
      assert.strictEqual(r.idTagInfo.status, 'Accepted');
      assert.ok(Number.isInteger(r.transactionId) && r.transactionId > 0, `transactionId ${r.transactionId}`);
      startedId = r.transactionId;
      const ses = await getSession(s, startedId);
      assert.strictEqual(ses.id, startedId);
      assert.strictEqual(ses.station_id, 'SESS-1');
      assert.strictEqual(ses.evse_id, 1);
      assert.strictEqual(ses.connector_id, 1);
      assert.strictEqual(ses.id_token, 'TAG-START');
      assert.strictEqual(ses.meter_start_wh, 1000);
      assert.ok(sameTime(ses.started_at, startTs), `started_at ${ses.started_at}`);
      assert.strictEqual(ses.active, true);
      assert.strictEqual(ses.stopped_at, null);
    });

    await t.test('a replayed StartTransaction (same connector, tag, meterStart and timestamp) returns the same transactionId', async () => {
      const r = await start(cp, 1, 'TAG-START', 1000, startTs);
      assert.strictEqual(r.transactionId, startedId);
      assert.notStrictEqual(r.idTagInfo.status, 'ConcurrentTx', 'a replay is not a concurrent use of the tag');
      const list = await s.api('GET', '/api/v1/sessions?id_token=TAG-START');
      assert.strictEqual(list.status, 200);
      assert.strictEqual(list.body.items.length, 1, 'the replay created no second session');
    });

    await t.test('Authorize with a tag that is in an active transaction is ConcurrentTx', async () => {
      assert.strictEqual((await cp.call('Authorize', { idTag: 'TAG-START' })).idTagInfo.status, 'ConcurrentTx');
    });

    await t.test('a second StartTransaction with the same tag elsewhere gets ConcurrentTx but still a transactionId', async () => {
      const a = await start(cp, 2, 'TAG-CONC', 0);
      assert.strictEqual(a.idTagInfo.status, 'Accepted');
      const b = await start(cp2, 1, 'TAG-CONC', 0);
      assert.strictEqual(b.idTagInfo.status, 'ConcurrentTx');
      assert.ok(Number.isInteger(b.transactionId) && b.transactionId > 0);
      assert.notStrictEqual(b.transactionId, a.transactionId);
    });

    await t.test('StartTransaction with an unknown tag is answered Invalid with a transactionId', async () => {
      const r = await start(cp2, 2, 'NOT-A-TAG', 0);
      assert.strictEqual(r.idTagInfo.status, 'Invalid');
      assert.ok(Number.isInteger(r.transactionId) && r.transactionId > 0);
    });

    await t.test('StartTransaction on connectorId 0 is a CALLERROR PropertyConstraintViolation', async () => {
      await assert.rejects(start(cp, 0, 'TAG-OK', 0), rejectsWith('PropertyConstraintViolation', 'connectorId'));
      const list = await s.api('GET', '/api/v1/sessions?station=SESS-1&id_token=TAG-OK');
      assert.deepStrictEqual(list.body.items, [], 'no session was created');
    });

    // --- MeterValues ----------------------------------------------------------

    await t.test('MeterValues stores every sampled value with all its fields, and the session shows SoC and energy so far', async () => {
      const tx = (await start(cp, 3, 'TAG-METER', 2000)).transactionId;
      const ts1 = iso(Date.now() - 2000);
      const ts2 = iso(Date.now() - 1000);
      const sampled1 = [
        { value: '2.5', context: 'Sample.Periodic', format: 'Raw', measurand: 'Energy.Active.Import.Register', location: 'Outlet', unit: 'kWh' },
        { value: '7400', context: 'Sample.Periodic', format: 'Raw', measurand: 'Power.Active.Import', phase: 'L1', location: 'Outlet', unit: 'W' },
        { value: '231.4', context: 'Sample.Periodic', format: 'Raw', measurand: 'Voltage', phase: 'L1-N', location: 'Inlet', unit: 'V' },
        { value: '40', context: 'Sample.Periodic', format: 'Raw', measurand: 'SoC', location: 'EV', unit: 'Percent' },
      ];
      const sampled2 = [
        { value: '3.25', context: 'Sample.Clock', format: 'Raw', measurand: 'Energy.Active.Import.Register', location: 'Outlet', unit: 'kWh' },
        { value: '42', context: 'Sample.Clock', format: 'Raw', measurand: 'SoC', location: 'EV', unit: 'Percent' },
        { value: '31.5', context: 'Sample.Clock', format: 'Raw', measurand: 'Temperature', location: 'Body', unit: 'Celsius' },
      ];
      assert.deepStrictEqual(await cp.call('MeterValues', { connectorId: 3, transactionId: tx, meterValue: [{ timestamp: ts1, sampledValue: sampled1 }] }), {});
      assert.deepStrictEqual(await cp.call('MeterValues', { connectorId: 3, transactionId: tx, meterValue: [{ timestamp: ts2, sampledValue: sampled2 }] }), {});
      const ses = await getSession(s, tx);
      assert.strictEqual(ses.active, true);
      assert.strictEqual(ses.soc_percent, 42);
      assert.strictEqual(ses.energy_wh, 3250 - 2000, 'latest register (3.25 kWh = 3250 Wh) minus meterStart');
      const expected = [...sampled1.map((v) => ({ ...v, ts: ts1 })), ...sampled2.map((v) => ({ ...v, ts: ts2 }))];
      assert.strictEqual(ses.meter_values.length, expected.length);
      for (const e of expected) {
        const m = ses.meter_values.find((x) => x.value === e.value && x.measurand === e.measurand);
        assert.ok(m, `sample ${e.measurand}=${e.value} is stored`);
        assert.ok(sameTime(m.timestamp, e.ts), `timestamp of ${e.measurand}`);
        for (const k of ['context', 'format', 'location', 'unit']) assert.strictEqual(m[k], e[k], `${e.measurand}.${k}`);
        assert.strictEqual(m.phase ?? undefined, e.phase, `${e.measurand}.phase`);
      }
    });

    await t.test('sampled values that omit optional fields are stored with the OCPP 1.6 defaults', async () => {
      const tx = (await start(cp2, 3, 'TAG-DEF', 500)).transactionId;
      await cp2.call('MeterValues', { connectorId: 3, transactionId: tx, meterValue: [{ timestamp: iso(Date.now()), sampledValue: [{ value: '1500' }] }] });
      const ses = await getSession(s, tx);
      assert.strictEqual(ses.meter_values.length, 1);
      const m = ses.meter_values[0];
      assert.deepStrictEqual({ value: m.value, measurand: m.measurand, unit: m.unit, context: m.context, location: m.location, format: m.format },
        { value: '1500', measurand: 'Energy.Active.Import.Register', unit: 'Wh', context: 'Sample.Periodic', location: 'Outlet', format: 'Raw' });
      assert.strictEqual(ses.energy_wh, 1000, 'an unlabelled value is the energy register in Wh');
    });

    await t.test('meter values queued offline are stored with their own (old) timestamps', async () => {
      const txStart = iso(Date.now() - 3 * HOUR);
      const tx = (await start(cp, 4, 'TAG-OLD', 0, txStart)).transactionId;
      const old = [iso(Date.now() - 3 * HOUR + 15 * 60000), iso(Date.now() - 3 * HOUR + 30 * 60000)];
      await cp.call('MeterValues', {
        connectorId: 4, transactionId: tx,
        meterValue: old.map((ts, i) => ({ timestamp: ts, sampledValue: [{ value: String((i + 1) * 1000), unit: 'Wh', measurand: 'Energy.Active.Import.Register' }] })),
      });
      const ses = await getSession(s, tx);
      const stamps = ses.meter_values.map((m) => Date.parse(m.timestamp)).sort();
      assert.deepStrictEqual(stamps, old.map(Date.parse).sort());
      assert.strictEqual(ses.energy_wh, 2000);
    });

    // An offline-queued reading from half an hour ago is delivered after a
    // current one: the session must keep showing the newest reading.
    const lateReadings = async (station, connectorId, idTag, newer, older) => {
      const tx = (await start(station, connectorId, idTag, 0, iso(Date.now() - HOUR))).transactionId;
      await station.call('MeterValues', { connectorId, transactionId: tx, meterValue: [{ timestamp: iso(Date.now()), sampledValue: [newer] }] });
      await station.call('MeterValues', { connectorId, transactionId: tx, meterValue: [{ timestamp: iso(Date.now() - HOUR / 2), sampledValue: [older] }] });
      const ses = await getSession(s, tx);
      assert.strictEqual(ses.meter_values.length, 2, 'both readings are stored');
      return ses;
    };

    await t.test('an energy reading that arrives late with an older timestamp does not move energy_wh backwards', async () => {
      const ses = await lateReadings(cp2, 4, 'TAG-LATE',
        { value: '5000', measurand: 'Energy.Active.Import.Register', unit: 'Wh' },
        { value: '3000', measurand: 'Energy.Active.Import.Register', unit: 'Wh' });
      assert.strictEqual(ses.energy_wh, 5000, 'energy_wh follows the newest reading, not the last delivered');
    });

    await t.test('a SoC reading that arrives late with an older timestamp does not move soc_percent backwards', async () => {
      const ses = await lateReadings(cp2, 5, 'TAG-LATE-SOC',
        { value: '80', measurand: 'SoC', unit: 'Percent' },
        { value: '50', measurand: 'SoC', unit: 'Percent' });
      assert.strictEqual(ses.soc_percent, 80, 'soc_percent follows the newest reading, not the last delivered');
    });

    // --- StopTransaction --------------------------------------------------------

    await t.test('StopTransaction closes the session with its reason, meter stop, stop time and transactionData', async () => {
      const tx = (await start(cp, 5, 'TAG-STOP', 10000)).transactionId;
      const stopTs = iso(Date.now());
      const dataTs = iso(Date.now() - 500);
      const r = await cp.call('StopTransaction', {
        transactionId: tx, meterStop: 17500, timestamp: stopTs, reason: 'EVDisconnected', idTag: 'TAG-STOP',
        transactionData: [{ timestamp: dataTs, sampledValue: [
          { value: '17.5', measurand: 'Energy.Active.Import.Register', unit: 'kWh', context: 'Transaction.End', location: 'Outlet', format: 'Raw' },
          { value: '77', measurand: 'SoC', unit: 'Percent', context: 'Transaction.End', location: 'EV' }] }],
      });
      assert.strictEqual(r.idTagInfo.status, 'Accepted');
      const ses = await getSession(s, tx);
      assert.strictEqual(ses.active, false);
      assert.strictEqual(ses.stop_reason, 'EVDisconnected');
      assert.strictEqual(ses.meter_stop_wh, 17500);
      assert.ok(sameTime(ses.stopped_at, stopTs), `stopped_at ${ses.stopped_at}`);
      assert.strictEqual(ses.energy_wh, 7500);
      assert.strictEqual(ses.soc_percent, 77);
      const end = ses.meter_values.filter((m) => m.context === 'Transaction.End');
      assert.strictEqual(end.length, 2, 'transactionData is stored as meter values');
      const e = end.find((m) => m.measurand === 'Energy.Active.Import.Register');
      assert.deepStrictEqual({ value: e.value, unit: e.unit, location: e.location, format: e.format }, { value: '17.5', unit: 'kWh', location: 'Outlet', format: 'Raw' });
      assert.ok(sameTime(e.timestamp, dataTs));
      // The tag is free again.
      assert.strictEqual((await cp.call('Authorize', { idTag: 'TAG-STOP' })).idTagInfo.status, 'Accepted');
    });

    await t.test('StopTransaction without a reason is recorded as Local', async () => {
      const tx = (await start(cp, 6, 'TAG-OK', 0)).transactionId;
      const r = await cp.call('StopTransaction', { transactionId: tx, meterStop: 10, timestamp: iso(Date.now()) });
      assert.deepStrictEqual(r, {}, 'no idTag sent, so no idTagInfo');
      assert.strictEqual((await getSession(s, tx)).stop_reason, 'Local');
    });

    await t.test('StopTransaction for an unknown transactionId is answered normally and changes nothing', async () => {
      const before = await s.api('GET', '/api/v1/sessions?limit=1000');
      const r = await cp.call('StopTransaction', { transactionId: 987654, meterStop: 5, timestamp: iso(Date.now()), idTag: 'TAG-OK' });
      assert.deepStrictEqual(r, { idTagInfo: { status: 'Accepted' } });
      const r2 = await cp.call('StopTransaction', { transactionId: 987655, meterStop: 5, timestamp: iso(Date.now()) });
      assert.deepStrictEqual(r2, {});
      const r3 = await cp.call('StopTransaction', { transactionId: 987656, meterStop: 5, timestamp: iso(Date.now()), idTag: 'NOT-A-TAG' });
      assert.deepStrictEqual(r3, { idTagInfo: { status: 'Invalid' } });
      const after = await s.api('GET', '/api/v1/sessions?limit=1000');
      assert.deepStrictEqual(after.body, before.body);
      assert.strictEqual((await s.api('GET', '/api/v1/sessions/987654')).status, 404);
    });

    await t.test('a repeated StopTransaction is answered normally and leaves the stopped session unchanged', async () => {
      const tx = (await start(cp, 7, 'TAG-RESTOP', 100)).transactionId;
      const stopTs = iso(Date.now());
      await cp.call('StopTransaction', { transactionId: tx, meterStop: 600, timestamp: stopTs, reason: 'Local', idTag: 'TAG-RESTOP' });
      const first = await getSession(s, tx);
      const again = await cp.call('StopTransaction', {
        transactionId: tx, meterStop: 99999, timestamp: iso(Date.now() + 60000), reason: 'PowerLoss', idTag: 'TAG-RESTOP',
        transactionData: [{ timestamp: iso(Date.now()), sampledValue: [{ value: '99999' }] }],
      });
      assert.strictEqual(again.idTagInfo.status, 'Accepted');
      assert.deepStrictEqual(await getSession(s, tx), first);
      assert.strictEqual(first.energy_wh, 500);
    });

    await t.test('a station cannot stop another station\'s transaction', async () => {
      const tx = (await start(cp, 8, 'TAG-OTHER', 0)).transactionId;
      const before = await getSession(s, tx);
      const r = await cp2.call('StopTransaction', { transactionId: tx, meterStop: 50, timestamp: iso(Date.now()), reason: 'Remote' });
      assert.deepStrictEqual(r, {});
      const after = await getSession(s, tx);
      assert.deepStrictEqual(after, before);
      assert.strictEqual(after.active, true);
      // The owner still can.
      await cp.call('StopTransaction', { transactionId: tx, meterStop: 50, timestamp: iso(Date.now()) });
      assert.strictEqual((await getSession(s, tx)).active, false);
    });
  } finally {
    await Promise.allSettled(open.map((c) => c.close()));
    await stopAndCheck(s);
  }
});
