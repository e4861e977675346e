// Hostile frames: what a broken or malicious station can send over an
// authenticated connection. Anything with a recoverable message id is
// answered with a CALLERROR whose description says what is wrong; anything
// else is ignored and the connection stays usable; frames that break the
// WebSocket contract (too large, binary, invalid UTF-8) close the connection
// with the matching close code. Other stations never notice.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { Server, sleep } = require('./lib/harness');

async function stopAndCheck(s) {
  const st = await s.stop();
  s.cleanup();
  assert.deepStrictEqual(st, { code: 0, signal: null },
    `server did not exit cleanly on SIGTERM: ${JSON.stringify(st)}\n--- stderr (tail) ---\n${s.stderr.slice(-6000)}`);
}

function within(promise, ms, what) {
  let t;
  const timeout = new Promise((_, reject) => {
    t = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(t));
}

const frame = (x) => (typeof x === 'string' ? x : JSON.stringify(x));
const now = () => new Date().toISOString();

let hb = 0;
// Sends a Heartbeat and returns every message received up to and including
// its answer. The server answers in order, so anything the previous frame
// provoked arrives before the Heartbeat's answer.
async function heartbeatAfter(ws) {
  const id = `hb-${++hb}`;
  ws.send(frame([2, id, 'Heartbeat', {}]));
  const before = [];
  for (;;) {
    const m = await ws.next(5000);
    if (m[0] === 3 && m[1] === id) {
      assert.ok(m[2] && typeof m[2].currentTime === 'string', 'the Heartbeat is answered normally');
      return before;
    }
    before.push(m);
  }
}

// The frame gets no answer at all, and the connection keeps working.
async function assertIgnored(ws, f) {
  ws.send(frame(f));
  const extra = await heartbeatAfter(ws);
  assert.deepStrictEqual(extra, [], `no answer to ${frame(f).slice(0, 80)}`);
}

// The frame is answered with exactly one CALLERROR [4, id, code, description, {}],
// and the connection keeps working.
async function assertCallError(ws, f, id, code, field) {
  ws.send(frame(f));
  const got = await heartbeatAfter(ws);
  assert.strictEqual(got.length, 1, `exactly one answer to ${frame(f).slice(0, 80)}, got ${JSON.stringify(got).slice(0, 300)}`);
  const m = got[0];
  assert.ok(Array.isArray(m) && m.length === 5, `a 5-element CALLERROR, got ${JSON.stringify(m).slice(0, 300)}`);
  assert.strictEqual(m[0], 4);
  if (id !== undefined) assert.strictEqual(m[1], id);
  else assert.strictEqual(typeof m[1], 'string');
  assert.strictEqual(m[2], code, `error code (description: ${m[3]})`);
  assert.strictEqual(typeof m[3], 'string');
  assert.ok(m[3].trim().length > 0, 'the description is not empty');
  if (field) assert.ok(m[3].includes(field), `the description "${m[3]}" names ${field}`);
  assert.ok(m[4] !== null && typeof m[4] === 'object' && !Array.isArray(m[4]), 'errorDetails is an object');
  return m;
}

test('hostile frames', async (t) => {
  const s = await new Server().start();
  const open = [];
  let bystander;
  let beat;
  const bystanderFailures = [];
  let bystanderBeats = 0;
  try {
    await s.createStation('ATTACKER');
    await s.createStation('BYSTANDER');
    bystander = await s.bootedStation('BYSTANDER');
    open.push(bystander);
    // The bystander keeps sending Heartbeats during the whole attack.
    beat = setInterval(() => {
      bystander.call('Heartbeat', {}, { callTimeoutMs: 3000 })
        .then(() => { bystanderBeats++; })
        .catch((e) => bystanderFailures.push(e.message));
    }, 100);

    // A fresh, booted raw connection for the attacker.
    const attacker = async () => {
      const ws = s.raw('ATTACKER');
      open.push({ close: async () => ws.close() });
      await ws.opened;
      ws.send(frame([2, 'boot', 'BootNotification', { chargePointVendor: 'evil', chargePointModel: 'x' }]));
      const m = await ws.next();
      assert.strictEqual(m[0], 3);
      assert.strictEqual(m[2].status, 'Accepted');
      return ws;
    };

    // --- broken JSON and framing ------------------------------------------------

    await t.test('invalid JSON with a recoverable message id is answered FormationViolation', async () => {
      const ws = await attacker();
      await assertCallError(ws, '[2,"abc",', 'abc', 'FormationViolation');
      await assertCallError(ws, '[2, "def", "Heartbeat", {]', 'def', 'FormationViolation');
    });

    await t.test('unrecoverable garbage gets no answer and the connection stays open', async () => {
      const ws = await attacker();
      for (const g of ['}{garbage', 'hello', '', ' ', '\u0000\u0001', '[', '[2,', '[2,abc', '[2,"unterminated', 'nul\u0000l']) {
        await assertIgnored(ws, g);
      }
    });

    await t.test('valid JSON that is not an array gets no answer', async () => {
      const ws = await attacker();
      for (const g of ['{"a":1}', '"a string"', '42', 'null', 'true', '{"0":2,"1":"x","2":"Heartbeat","3":{}}']) {
        await assertIgnored(ws, g);
      }
    });

    await t.test('arrays too short to carry a message id get no answer', async () => {
      const ws = await attacker();
      for (const g of ['[]', '[2]', '[3]']) await assertIgnored(ws, g);
    });

    await t.test('a CALL with only a type and a message id is answered ProtocolError', async () => {
      const ws = await attacker();
      await assertCallError(ws, [2, 'two-elems'], 'two-elems', 'ProtocolError');
    });

    await t.test('a CALL with the wrong number of elements is answered ProtocolError', async () => {
      const ws = await attacker();
      await assertCallError(ws, [2, 'three-elems', 'Heartbeat'], 'three-elems', 'ProtocolError');
      await assertCallError(ws, [2, 'five-elems', 'Heartbeat', {}, {}], 'five-elems', 'ProtocolError');
    });

    await t.test('message type 5 (or any type other than 2, 3, 4) is answered ProtocolError', async () => {
      const ws = await attacker();
      await assertCallError(ws, [5, 'type-5', 'Heartbeat', {}], 'type-5', 'ProtocolError');
      await assertCallError(ws, [1, 'type-1', 'Heartbeat', {}], 'type-1', 'ProtocolError');
      await assertCallError(ws, ['2', 'type-str', 'Heartbeat', {}], 'type-str', 'ProtocolError');
      await assertCallError(ws, [2.5, 'type-real', 'Heartbeat', {}], 'type-real', 'ProtocolError');
    });

    await t.test('a message id of 36 characters is fine', async () => {
      const ws = await attacker();
      const id = 'i'.repeat(36);
      ws.send(frame([2, id, 'Heartbeat', {}]));
      const m = await ws.next();
      assert.strictEqual(m[0], 3);
      assert.strictEqual(m[1], id);
    });

    await t.test('a message id longer than 36 characters is answered ProtocolError without crashing', async () => {
      const ws = await attacker();
      const id = 'L'.repeat(37);
      await assertCallError(ws, [2, id, 'Heartbeat', {}], id, 'ProtocolError');
      // A really long one is refused the same way (which id it echoes is not
      // prescribed here).
      await assertCallError(ws, [2, 'H'.repeat(5000), 'Heartbeat', {}], undefined, 'ProtocolError');
    });

    await t.test('an action that is not a string is answered ProtocolError', async () => {
      const ws = await attacker();
      await assertCallError(ws, [2, 'act-num', 42, {}], 'act-num', 'ProtocolError');
      await assertCallError(ws, [2, 'act-empty', '', {}], 'act-empty', 'ProtocolError');
    });

    await t.test('a payload that is not an object is answered FormationViolation', async () => {
      const ws = await attacker();
      await assertCallError(ws, [2, 'pl-arr', 'Heartbeat', []], 'pl-arr', 'FormationViolation');
      await assertCallError(ws, [2, 'pl-null', 'Heartbeat', null], 'pl-null', 'FormationViolation');
    });

    await t.test('duplicate JSON keys are answered FormationViolation', async () => {
      const ws = await attacker();
      await assertCallError(ws, '[2,"dup-keys","Authorize",{"idTag":"A","idTag":"B"}]', 'dup-keys', 'FormationViolation');
    });

    await t.test('deeply nested JSON is answered or ignored without a crash', async () => {
      const ws = await attacker();
      for (const [id, f] of [
        [null, '['.repeat(10000)],
        [null, '['.repeat(10000) + ']'.repeat(10000)],
        ['deep-1', '[2,"deep-1","Heartbeat",' + '['.repeat(10000) + ']'.repeat(10000) + ']'],
        ['deep-2', '[2,"deep-2","DataTransfer",{"vendorId":"v","data":' + '{"a":'.repeat(5000) + '1' + '}'.repeat(5000) + '}]'],
      ]) {
        ws.send(f);
        const extra = await heartbeatAfter(ws);
        for (const m of extra) {
          assert.strictEqual(m[0], 4, `only a CALLERROR may answer, got ${JSON.stringify(m).slice(0, 200)}`);
          assert.strictEqual(m[1], id);
        }
      }
    });

    await t.test('a CALLRESULT or CALLERROR for an unknown message id is ignored', async () => {
      const ws = await attacker();
      await assertIgnored(ws, [3, 'never-asked', { status: 'Accepted' }]);
      await assertIgnored(ws, [4, 'never-asked-2', 'GenericError', 'oops', {}]);
    });

    // --- actions and payload validation -------------------------------------------

    await t.test('an unknown action is answered NotImplemented', async () => {
      const ws = await attacker();
      await assertCallError(ws, [2, 'unk', 'MakeCoffee', {}], 'unk', 'NotImplemented', 'MakeCoffee');
    });

    await t.test('an action only a CSMS may send is answered NotSupported', async () => {
      const ws = await attacker();
      await assertCallError(ws, [2, 'csms-only', 'Reset', { type: 'Hard' }], 'csms-only', 'NotSupported', 'Reset');
      await assertCallError(ws, [2, 'csms-only-2', 'RemoteStartTransaction', { idTag: 'X' }], 'csms-only-2', 'NotSupported');
    });

    await t.test('a missing required field is answered OccurenceConstraintViolation naming the field', async () => {
      const ws = await attacker();
      await assertCallError(ws, [2, 'miss-1', 'StatusNotification', { connectorId: 1, status: 'Available' }], 'miss-1',
        'OccurenceConstraintViolation', 'errorCode');
      await assertCallError(ws, [2, 'miss-2', 'MeterValues', { connectorId: 1, meterValue: [{ timestamp: now(), sampledValue: [{ unit: 'Wh' }] }] }], 'miss-2',
        'OccurenceConstraintViolation', 'value');
    });

    await t.test('a field of the wrong type is answered TypeConstraintViolation naming the field', async () => {
      const ws = await attacker();
      await assertCallError(ws, [2, 'type-1', 'StatusNotification', { connectorId: '1', errorCode: 'NoError', status: 'Available' }], 'type-1',
        'TypeConstraintViolation', 'connectorId');
      await assertCallError(ws, [2, 'type-2', 'StartTransaction', { connectorId: 1, idTag: 'A', meterStart: 1.5, timestamp: now() }], 'type-2',
        'TypeConstraintViolation', 'meterStart');
      await assertCallError(ws, [2, 'type-3', 'Authorize', { idTag: null }], 'type-3', 'TypeConstraintViolation', 'idTag');
    });

    await t.test('a value outside an enumeration is answered PropertyConstraintViolation naming the field', async () => {
      const ws = await attacker();
      await assertCallError(ws, [2, 'enum-1', 'StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Sleeping' }], 'enum-1',
        'PropertyConstraintViolation', 'status');
    });

    await t.test('a string longer than allowed is answered PropertyConstraintViolation naming the field', async () => {
      const ws = await attacker();
      await assertCallError(ws, [2, 'long-1', 'BootNotification', { chargePointVendor: 'V'.repeat(21), chargePointModel: 'm' }], 'long-1',
        'PropertyConstraintViolation', 'chargePointVendor');
      await assertCallError(ws, [2, 'long-2', 'Authorize', { idTag: '\u00e9'.repeat(21) }], 'long-2', 'PropertyConstraintViolation', 'idTag');
    });

    await t.test('an unknown field is answered FormationViolation naming the field', async () => {
      const ws = await attacker();
      await assertCallError(ws, [2, 'extra-1', 'Heartbeat', { sneaky: true }], 'extra-1', 'FormationViolation', 'sneaky');
      await assertCallError(ws, [2, 'extra-2', 'MeterValues', { connectorId: 1, meterValue: [{ timestamp: now(), sampledValue: [{ value: '1', colour: 'red' }] }] }],
        'extra-2', 'FormationViolation', 'colour');
    });

    await t.test('an invalid date-time is answered TypeConstraintViolation naming the field', async () => {
      const ws = await attacker();
      for (const [i, ts] of ['yesterday', '2024-02-30T10:00:00Z', '2024-01-01 10:00:00Z', '2024-01-01T10:00:00', '2024-13-01T00:00:00Z', ''].entries()) {
        await assertCallError(ws, [2, `date-${i}`, 'StartTransaction', { connectorId: 1, idTag: 'A', meterStart: 0, timestamp: ts }], `date-${i}`,
          'TypeConstraintViolation', 'timestamp');
      }
    });

    await t.test('a negative connectorId is answered PropertyConstraintViolation', async () => {
      const ws = await attacker();
      await assertCallError(ws, [2, 'neg-1', 'StatusNotification', { connectorId: -1, errorCode: 'NoError', status: 'Available' }], 'neg-1',
        'PropertyConstraintViolation', 'connectorId');
    });

    await t.test('many CALLs sent without waiting are all answered, each with its own id', async () => {
      const ws = await attacker();
      const ids = Array.from({ length: 50 }, (_, i) => `burst-${i}`);
      for (const id of ids) ws.send(frame([2, id, 'Heartbeat', {}]));
      const got = [];
      for (let i = 0; i < ids.length; i++) got.push(await ws.next());
      assert.deepStrictEqual(got.map((m) => m[0]), ids.map(() => 3));
      assert.deepStrictEqual(got.map((m) => m[1]).sort(), [...ids].sort());
    });

    // --- WebSocket-level violations -----------------------------------------------

    await t.test('a message split into fragments is reassembled and answered', async () => {
      const ws = await attacker();
      const f = frame([2, 'frag-1', 'Heartbeat', {}]);
      ws.send(f.slice(0, 5), { fin: false });
      ws.send(f.slice(5, 12), { fin: false });
      ws.send(f.slice(12), { fin: true });
      const m = await ws.next();
      assert.deepStrictEqual(m.slice(0, 2), [3, 'frag-1']);
    });

    await t.test('a message of exactly 64 KiB is accepted', async () => {
      const ws = await attacker();
      const base = frame([2, 'big-ok', 'DataTransfer', { vendorId: 'v', data: '' }]);
      const f = frame([2, 'big-ok', 'DataTransfer', { vendorId: 'v', data: 'x'.repeat(65536 - base.length) }]);
      assert.strictEqual(Buffer.byteLength(f), 65536);
      ws.send(f);
      const m = await ws.next();
      assert.deepStrictEqual(m, [3, 'big-ok', { status: 'UnknownVendorId' }]);
    });

    await t.test('a message larger than 64 KiB closes the connection with 1009', async () => {
      const c = await attacker();
      c.send(frame([2, 'too-big', 'DataTransfer', { vendorId: 'v', data: 'x'.repeat(70000) }]));
      const closed = await within(c.closed, 5000, 'close after an oversized message');
      assert.strictEqual(closed.code, 1009);
    });

    await t.test('fragments adding up to more than 64 KiB close the connection with 1009', async () => {
      const c = await attacker();
      const chunk = 'x'.repeat(30000);
      c.send('[2,"frag-big","DataTransfer",{"vendorId":"v","data":"' + chunk, { fin: false });
      c.send(chunk, { fin: false });
      c.send(chunk, { fin: false }); // now past 64 KiB: the final fragment is never needed
      const closed = await within(c.closed, 5000, 'close after oversized fragments');
      assert.strictEqual(closed.code, 1009);
    });

    await t.test('a binary frame closes the connection with 1003', async () => {
      const c = await attacker();
      c.send(Buffer.from(frame([2, 'bin', 'Heartbeat', {}])), { binary: true });
      const closed = await within(c.closed, 5000, 'close after a binary frame');
      assert.strictEqual(closed.code, 1003);
    });

    await t.test('a text frame that is not valid UTF-8 closes the connection with 1007', async () => {
      const c = await attacker();
      const bad = Buffer.concat([Buffer.from('[2,"utf","Authorize",{"idTag":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}]')]);
      c.send(bad, { binary: false });
      const closed = await within(c.closed, 5000, 'close after invalid UTF-8');
      assert.strictEqual(closed.code, 1007);
    });

    await t.test('a flood of garbage from one station does not delay another station', async () => {
      const c = await attacker();
      const junk = '}{'.repeat(2000);
      for (let i = 0; i < 300; i++) c.send(junk);
      const t0 = Date.now();
      await bystander.call('Heartbeat', {});
      assert.ok(Date.now() - t0 < 3000, `bystander heartbeat took ${Date.now() - t0} ms`);
      assert.deepStrictEqual(await heartbeatAfter(c), []);
    });

    await t.test('other stations on the same server kept working during and after the attack', async () => {
      clearInterval(beat);
      beat = null;
      await sleep(200);
      assert.deepStrictEqual(bystanderFailures, []);
      assert.ok(bystanderBeats > 0, 'the bystander was answered during the attack');
      const r = await bystander.call('Heartbeat', {});
      assert.ok(r.currentTime);
      const st = await s.api('GET', '/api/v1/stations/BYSTANDER');
      assert.strictEqual(st.body.connected, true);
      // The attacker itself may connect and work again.
      const again = await attacker();
      assert.deepStrictEqual(await heartbeatAfter(again), []);
    });
  } finally {
    if (beat) clearInterval(beat);
    await Promise.allSettled(open.map((c) => c.close()));
    await stopAndCheck(s);
  }
});
