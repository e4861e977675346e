// Connecting: the OCPP endpoint's URL, subprotocol negotiation, HTTP Basic
// authentication, security profiles, failed-attempt rate limiting and
// duplicate connections. Every refusal is an HTTP answer with a reason,
// never a hang or a silent drop.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const WebSocket = require('ws');
const { Server, sleep, waitFor, upgradeStatus } = require('./lib/harness');

const PASSWORD = 'correct-horse-battery';

// Stops the server (SIGTERM) and requires a clean exit: under
// AddressSanitizer a leak or memory error turns into a non-zero exit code.
async function stopAndCheck(s) {
  const st = await s.stop();
  s.cleanup();
  assert.deepStrictEqual(st, { code: 0, signal: null },
    `server did not exit cleanly on SIGTERM: ${JSON.stringify(st)}\n--- stderr (tail) ---\n${s.stderr.slice(-6000)}`);
}

function within(promise, ms, what) {
  let t;
  const timeout = new Promise((_, reject) => {
    t = setTimeout(() => reject(new Error(`${what}: no outcome within ${ms} ms (hang or silent drop)`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(t));
}

function basic(user, pass) {
  return 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64');
}

// Opens a WebSocket to any path of the OCPP port and reports how the upgrade
// ended: { status: 101, ws } when accepted (caller closes ws), otherwise
// { status, body, headers } of the HTTP refusal.
function attempt(url, { protocols = ['ocpp1.6'], headers = {}, localAddress } = {}) {
  const opts = { headers };
  if (localAddress) opts.localAddress = localAddress;
  const ws = new WebSocket(url, protocols, opts);
  const outcome = new Promise((resolve, reject) => {
    ws.on('open', () => resolve({ status: 101, ws, protocol: ws.protocol }));
    ws.on('unexpected-response', (req, res) => {
      let b = '';
      res.on('data', (d) => { b += d; });
      res.on('end', () => resolve({ status: res.statusCode, body: b, headers: res.headers }));
    });
    ws.on('error', reject);
  });
  return within(outcome, 5000, `upgrade of ${url}`);
}

async function attemptStation(s, id, { password = PASSWORD, localAddress, protocols } = {}) {
  const headers = password === null ? {} : { authorization: basic(id, password) };
  const r = await attempt(`${s.ocppUrl}/${id}`, { headers, localAddress, protocols });
  if (r.ws) r.ws.close();
  return r;
}

async function refused(s, identity, opts) {
  return within(upgradeStatus(s, identity, opts), 5000, `upgrade for ${identity}`);
}

function assertPlainTextReason(r) {
  assert.match(String(r.headers['content-type']), /^text\/plain/, `content-type ${r.headers['content-type']}`);
  assert.ok(r.body && r.body.trim().length > 0, 'the refusal carries a human-readable reason');
}

test('connecting to the OCPP endpoint', async (t) => {
  // A high failure limit: this server is about answers, not rate limiting.
  const s = await new Server({ config: '[security]\nauth_fail_limit = 1000\n' }).start();
  try {
    await s.createStation('CONN-1');

    await t.test('a station with the right credentials and subprotocol ocpp1.6 connects and can boot', async () => {
      const cp = s.station('CONN-1');
      await cp.connect();
      try {
        assert.strictEqual(cp.protocol, 'ocpp1.6');
        const boot = await cp.call('BootNotification', { chargePointVendor: 'v', chargePointModel: 'm' });
        assert.strictEqual(boot.status, 'Accepted');
        const r = await s.api('GET', '/api/v1/stations/CONN-1');
        assert.strictEqual(r.body.connected, true);
        assert.strictEqual(r.body.protocol, 'ocpp1.6');
      } finally {
        await cp.close();
      }
    });

    await t.test('ocpp1.6 is selected when offered among unknown subprotocols', async () => {
      const r = await attemptStation(s, 'CONN-1', { protocols: ['chat', 'ocpp1.6', 'ocpp1.5'] });
      assert.strictEqual(r.status, 101);
      assert.strictEqual(r.protocol, 'ocpp1.6');
    });

    await t.test('ocpp2.0.1 is selected when offered first before ocpp1.6', async () => {
      const r = await attemptStation(s, 'CONN-1', { protocols: ['ocpp2.0.1', 'ocpp1.6', 'chat'] });
      assert.strictEqual(r.status, 101);
      assert.strictEqual(r.protocol, 'ocpp2.0.1');
    });

    await t.test('an upgrade without any subprotocol is refused with 400 and a plain-text reason', async () => {
      const r = await refused(s, 'CONN-1', { protocols: [] });
      assert.strictEqual(r.status, 400);
      assertPlainTextReason(r);
      assert.match(r.body, /ocpp1\.6/, 'the reason names the supported subprotocols');
      assert.match(r.body, /ocpp2\.0\.1/, 'the reason names the supported subprotocols');
    });

    await t.test('an upgrade offering only unknown subprotocols is refused with 400 and a plain-text reason', async () => {
      const r = await refused(s, 'CONN-1', { protocols: ['ocpp2.1', 'ocpp1.5', 'ocpp1.6j'] });
      assert.strictEqual(r.status, 400);
      assertPlainTextReason(r);
    });

    await t.test('a path that is not /ocpp/{stationId} is refused with 404', async () => {
      const base = `ws://127.0.0.1:${s.ocppPort}`;
      for (const p of ['/', '/CONN-1', '/ocpp', '/ocpp/', '/api/v1/stations', '/ocpp16/CONN-1', '/OCPP/CONN-1']) {
        const r = await attempt(base + p, { headers: { authorization: basic('CONN-1', PASSWORD) } });
        if (r.ws) r.ws.close();
        assert.strictEqual(r.status, 404, `path ${p}`);
        assertPlainTextReason(r);
      }
    });

    await t.test('a station id with a character outside the allowed set is refused with 400', async () => {
      const base = `ws://127.0.0.1:${s.ocppPort}/ocpp/`;
      // Not %20: libwebsockets decodes '+' in the path as a space, so the server
      // reads a space in a station id as the '+' it stood for (ids may hold '+').
      for (const id of ['BAD:ID', 'BAD%3AID', 'BAD%22ID', 'B%C3%84D', 'BAD%7EID']) {
        const r = await attempt(base + id, { headers: { authorization: basic(decodeURIComponent(id), PASSWORD) } });
        if (r.ws) r.ws.close();
        assert.strictEqual(r.status, 400, `station id ${id}`);
        assertPlainTextReason(r);
      }
    });

    await t.test('a station id longer than 48 characters is refused with 400, 48 characters are fine', async () => {
      const long = await refused(s, 'L'.repeat(49));
      assert.strictEqual(long.status, 400);
      assertPlainTextReason(long);
      // 48 characters is a valid id: it is refused only because it is unknown.
      const max = await refused(s, 'L'.repeat(48));
      assert.strictEqual(max.status, 404);
    });

    await t.test('an unknown station is refused with 404', async () => {
      const r = await refused(s, 'NO-SUCH-STATION');
      assert.strictEqual(r.status, 404);
      assertPlainTextReason(r);
    });

    await t.test('missing credentials are refused with 401 and WWW-Authenticate: Basic', async () => {
      const r = await refused(s, 'CONN-1', { password: null });
      assert.strictEqual(r.status, 401);
      assert.match(String(r.headers['www-authenticate']), /^Basic\b/);
      assertPlainTextReason(r);
    });

    await t.test('a wrong password is refused with 401 and WWW-Authenticate: Basic', async () => {
      const r = await refused(s, 'CONN-1', { password: 'wrong-horse-battery' });
      assert.strictEqual(r.status, 401);
      assert.match(String(r.headers['www-authenticate']), /^Basic\b/);
    });

    await t.test('a username other than the station id is refused with 401 even with the right password', async () => {
      await s.createStation('CONN-OTHER');
      const r = await refused(s, 'CONN-1', { password: null, headers: { authorization: basic('CONN-OTHER', PASSWORD) } });
      assert.strictEqual(r.status, 401);
    });

    await t.test('malformed Authorization headers are refused with 401, not accepted or crashed on', async () => {
      for (const authorization of ['Basic', 'Basic !!!not-base64!!!', 'Basic ' + Buffer.from('no-colon').toString('base64'),
        'Bearer ' + PASSWORD, 'Basic ' + Buffer.from('CONN-1:' + PASSWORD + '\0x').toString('base64'),
        'Basic ' + 'QUFB'.repeat(200)]) {
        const r = await refused(s, 'CONN-1', { password: null, headers: { authorization } });
        assert.strictEqual(r.status, 401, `Authorization: ${authorization.slice(0, 40)}`);
      }
      // The right credentials still work afterwards.
      assert.strictEqual((await attemptStation(s, 'CONN-1')).status, 101);
    });

    await t.test('a security profile 2 station connecting over plain ws is refused with 403', async () => {
      const r0 = await s.api('POST', '/api/v1/stations', { id: 'TLS-ONLY', password: PASSWORD, security_profile: 2 });
      assert.strictEqual(r0.status, 201, JSON.stringify(r0.body));
      const r = await refused(s, 'TLS-ONLY');
      assert.strictEqual(r.status, 403);
      assertPlainTextReason(r);
    });

    await t.test('a security profile 0 station without a password connects without credentials', async () => {
      const r0 = await s.api('POST', '/api/v1/stations', { id: 'OPEN-1', security_profile: 0 });
      assert.strictEqual(r0.status, 201, JSON.stringify(r0.body));
      assert.strictEqual(r0.body.has_password, false);
      const cp = s.station('OPEN-1', { password: null });
      await cp.connect();
      try {
        const boot = await cp.call('BootNotification', { chargePointVendor: 'v', chargePointModel: 'm' });
        assert.strictEqual(boot.status, 'Accepted');
        await cp.call('Heartbeat', {});
      } finally {
        await cp.close();
      }
    });

    await t.test('a second connection with wrong credentials is refused and the first stays open and working', async () => {
      await s.createStation('DUP-1');
      const first = await s.bootedStation('DUP-1');
      let firstClosed = false;
      first.on('close', () => { firstClosed = true; });
      try {
        const r = await refused(s, 'DUP-1', { password: 'not-the-password-123' });
        assert.strictEqual(r.status, 401);
        await sleep(200);
        assert.strictEqual(firstClosed, false, 'the first connection was not closed');
        const hb = await first.call('Heartbeat', {});
        assert.ok(hb.currentTime);
        const st = await s.api('GET', '/api/v1/stations/DUP-1');
        assert.strictEqual(st.body.connected, true);
      } finally {
        await first.close();
      }
    });

    await t.test('a second connection with the right credentials replaces the first, which is closed', async () => {
      await s.createStation('DUP-2');
      const first = await s.bootedStation('DUP-2');
      const firstClosed = new Promise((resolve) => first.once('close', resolve));
      const second = s.station('DUP-2');
      await second.connect();
      try {
        await within(firstClosed, 5000, 'the replaced connection to close');
        const hb = await second.call('Heartbeat', {});
        assert.ok(hb.currentTime);
        const st = await s.api('GET', '/api/v1/stations/DUP-2');
        assert.strictEqual(st.body.connected, true);
      } finally {
        await second.close();
      }
      // The old connection closing must not have marked the station offline
      // while the new one was live; now that both are gone it is offline.
      await waitFor(async () => (await s.api('GET', '/api/v1/stations/DUP-2')).body.connected === false,
        { what: 'station to show connected false', timeout: 5000 });
    });

    await t.test('the replaced connection is told why with a WebSocket Close frame, not dropped', async () => {
      await s.createStation('DUP-3');
      const first = s.raw('DUP-3');
      await first.opened;
      const second = s.raw('DUP-3');
      await second.opened;
      try {
        const closed = await within(first.closed, 5000, 'the replaced connection to close');
        assert.notStrictEqual(closed.code, 1006, 'a Close frame was received (1006 = connection dropped without one)');
        assert.ok(closed.reason.length > 0, 'the Close frame carries a reason');
      } finally {
        second.close();
      }
    });

    await t.test('a station password must be 16 to 40 characters; both limits work, and so does a colon in it', async () => {
      for (const [id, password] of [['PW-15', 'a'.repeat(15)], ['PW-41', 'b'.repeat(41)]]) {
        const r = await s.api('POST', '/api/v1/stations', { id, password });
        assert.strictEqual(r.status, 400, `${password.length} characters`);
        assert.match(r.body.detail, /password/);
      }
      for (const [id, password] of [['PW-16', 'c'.repeat(16)], ['PW-40', 'd'.repeat(40)], ['PW-COLON', 'has:colons:in:the:password']]) {
        const r = await s.api('POST', '/api/v1/stations', { id, password });
        assert.strictEqual(r.status, 201, JSON.stringify(r.body));
        assert.strictEqual((await attemptStation(s, id, { password })).status, 101, `${id} connects with its password`);
      }
      assert.strictEqual((await attemptStation(s, 'PW-COLON', { password: 'has:colons' })).status, 401, 'only the whole password counts');
    });

    await t.test('the API port refuses WebSocket upgrades instead of hanging', async () => {
      const r = await attempt(`ws://127.0.0.1:${s.httpPort}/ocpp/CONN-1`, { headers: { authorization: basic('CONN-1', PASSWORD) } });
      if (r.ws) r.ws.close();
      assert.notStrictEqual(r.status, 101);
      assert.ok(r.status >= 400 && r.status < 500, `status ${r.status}`);
    });
  } finally {
    await stopAndCheck(s);
  }
});

test('rate limiting of failed station authentication', async (t) => {
  const s = await new Server({ config: '[security]\nauth_fail_limit = 3\nauth_fail_window = 60\n' }).start();
  try {
    await s.createStation('RL-1');
    await s.createStation('RL-2');
    await s.createStation('RL-3');

    await t.test('below the limit, the right password still gets in after failures', async () => {
      for (let i = 0; i < 2; i++) {
        const r = await attemptStation(s, 'RL-1', { password: 'wrong-password-0000', localAddress: '127.0.0.2' });
        assert.strictEqual(r.status, 401);
      }
      const ok = await attemptStation(s, 'RL-1', { localAddress: '127.0.0.2' });
      assert.strictEqual(ok.status, 101);
    });

    await t.test('after auth_fail_limit failures for a station id, even the right password gets 429 with Retry-After', async () => {
      // Failures come from different source addresses, so only the per-station limit can apply.
      const sources = ['127.0.0.3', '127.0.0.4', '127.0.0.5'];
      for (const localAddress of sources) {
        const r = await attemptStation(s, 'RL-2', { password: 'wrong-password-0000', localAddress });
        assert.strictEqual(r.status, 401);
      }
      const r = await attemptStation(s, 'RL-2', { localAddress: '127.0.0.6' });
      assert.strictEqual(r.status, 429);
      const retry = Number(r.headers['retry-after']);
      assert.ok(Number.isInteger(retry) && retry >= 1 && retry <= 60, `Retry-After: ${r.headers['retry-after']}`);
      assertPlainTextReason(r);
    });

    await t.test('the lock-out raises one security alert naming the address; failures below the limit raise none', async () => {
      const alerts = async (id) => {
        const r = await s.api('GET', `/api/v1/alerts?station=${id}&rule=security_event`);
        assert.strictEqual(r.status, 200, JSON.stringify(r.body));
        return r.body.items;
      };
      const items = await waitFor(async () => { const a = await alerts('RL-2'); return a.length ? a : null; },
        { what: 'the lock-out alert' });
      assert.strictEqual(items.length, 1);
      assert.strictEqual(items[0].state, 'active');
      assert.strictEqual(items[0].severity, 'major');
      assert.strictEqual(items[0].details.type, 'RepeatedFailedLogins');
      assert.strictEqual(items[0].details.failures, 3);
      assert.strictEqual(items[0].details.peer, '127.0.0.5');
      assert.match(items[0].title, /Repeated failed logins \(3\) from 127\.0\.0\.5/);
      assert.deepStrictEqual(await alerts('RL-1'), []);
    });

    await t.test('after auth_fail_limit failures from one address, that address gets 429 even for another station', async () => {
      const from = '127.0.0.7';
      // Failures of different kinds, all counted per address.
      assert.strictEqual((await attemptStation(s, 'RL-3', { password: 'wrong-password-0000', localAddress: from })).status, 401);
      assert.strictEqual((await attemptStation(s, 'RL-UNKNOWN-A', { localAddress: from })).status, 404);
      assert.strictEqual((await attemptStation(s, 'RL-UNKNOWN-B', { localAddress: from })).status, 404);
      const blocked = await attemptStation(s, 'RL-1', { localAddress: from });
      assert.strictEqual(blocked.status, 429);
      assert.ok(Number(blocked.headers['retry-after']) >= 1, `Retry-After: ${blocked.headers['retry-after']}`);
      // Another address is not affected.
      const other = await attemptStation(s, 'RL-1', { localAddress: '127.0.0.8' });
      assert.strictEqual(other.status, 101);
    });
  } finally {
    await stopAndCheck(s);
  }
});
