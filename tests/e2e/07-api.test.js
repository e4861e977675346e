// The operator HTTP API: bearer tokens and roles, the problem+json error
// shape, stations, id tokens, sessions, health and metrics, and hostile input.
'use strict';
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert');
const net = require('node:net');
const { spawnSync } = require('node:child_process');
const { Server, BIN, waitFor, sleep } = require('./lib/harness');

// ------------------------------------------------------------------ helpers

// One server per describe block. The block's last test stops it with SIGTERM
// and asserts exit code 0 (under ASan a leak or error makes it non-zero); the
// after hook makes sure the process is gone and the data directory removed
// even when a test in the middle failed.
function serverSuite(name, fn, opts = {}) {
  describe(name, () => {
    const ctx = { s: null };
    before(async () => { ctx.s = await new Server(opts).start(); });
    fn(ctx);
    it('the server exits with code 0 on SIGTERM', async () => {
      const s = ctx.s;
      try {
        const st = await s.stop();
        assert.strictEqual(st.code, 0, `exit ${JSON.stringify(st)}; stderr:\n${s.stderr.slice(-4000)}`);
      } finally {
        s.cleanup();
      }
    });
    after(async () => {
      if (!ctx.s) return;
      try { await ctx.s.stop(); } finally { ctx.s.cleanup(); }
    });
  });
}

function assertProblem(r, status, detailRe) {
  assert.strictEqual(r.status, status, `expected ${status}, got ${r.status}: ${JSON.stringify(r.body)}`);
  assert.match(r.headers.get('content-type') || '', /^application\/problem\+json/);
  assert.strictEqual(typeof r.body, 'object', `body is not JSON: ${r.body}`);
  assert.strictEqual(typeof r.body.type, 'string');
  assert.strictEqual(typeof r.body.title, 'string');
  assert.ok(r.body.title.length > 0);
  assert.strictEqual(r.body.status, status);
  assert.strictEqual(typeof r.body.detail, 'string');
  assert.ok(r.body.detail.length > 0, 'detail is empty');
  if (detailRe) assert.match(r.body.detail, detailRe);
}

function tokenCreate(dataDir, role, name, extra = []) {
  const r = spawnSync(BIN, ['token', 'create', '--data-dir', dataDir, '--role', role, '--name', name, ...extra],
    { encoding: 'utf8', timeout: 20000 });
  return r;
}

// Sends raw bytes over HTTP/1.1 and returns everything the server sent back
// until it closes the connection (or `timeout` ms pass).
function rawHttp(port, data, timeout = 3000) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    let buf = '';
    let closed = false;
    const done = (how) => { if (closed) return; closed = true; clearTimeout(t); sock.destroy(); resolve({ text: buf, how }); };
    const t = setTimeout(() => done('timeout'), timeout);
    sock.on('data', (d) => { buf += d.toString('latin1'); });
    sock.on('close', () => done('closed'));
    sock.on('error', () => done('error'));
    sock.write(data);
  });
}

// Status lines (HTTP/1.x NNN) found in a raw response stream.
function statusLines(text) {
  return [...text.matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((m) => Number(m[1]));
}

// Head of the first response in a raw stream.
function firstHead(text) {
  const i = text.indexOf('\r\n\r\n');
  return i >= 0 ? text.slice(0, i) : text;
}

// GET through fetch, returning {status} or {error} when the server dropped the connection.
async function tryGet(s, path, opts) {
  try {
    const r = await s.api('GET', path, undefined, opts);
    return { status: r.status, body: r.body };
  } catch (e) {
    return { error: (e.cause && e.cause.code) || e.message };
  }
}

async function stillServing(s) {
  const h = await fetch(`${s.httpUrl}/healthz`);
  assert.strictEqual(h.status, 200);
  const r = await s.api('GET', '/api/v1/stations');
  assert.strictEqual(r.status, 200);
}

function parseMetrics(text) {
  const m = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    m.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return m;
}

async function metrics(s) {
  const r = await fetch(`${s.httpUrl}/metrics`);
  assert.strictEqual(r.status, 200);
  return { ctype: r.headers.get('content-type'), text: await r.text() };
}

const PW = 'correct-horse-battery';

// ---------------------------------------------------------- authentication

serverSuite('bearer tokens', (ctx) => {
  it('a request without a token gets 401 problem+json with WWW-Authenticate: Bearer', async () => {
    const r = await ctx.s.api('GET', '/api/v1/stations', undefined, { token: null });
    assertProblem(r, 401);
    assert.match(r.headers.get('www-authenticate') || '', /^Bearer\b/);
  });

  it('a wrong token gets 401 with WWW-Authenticate', async () => {
    const r = await ctx.s.api('GET', '/api/v1/stations', undefined, { token: 'agt_' + '0'.repeat(64) });
    assertProblem(r, 401);
    assert.match(r.headers.get('www-authenticate') || '', /^Bearer\b/);
  });

  it('a non-Bearer Authorization scheme gets 401', async () => {
    const r = await ctx.s.api('GET', '/api/v1/stations', undefined,
      { token: null, headers: { authorization: 'Basic ' + Buffer.from('admin:admin').toString('base64') } });
    assertProblem(r, 401);
  });

  it('`token create` prints only the token on stdout', () => {
    const r = tokenCreate(ctx.s.dataDir, 'viewer', 'cli-check');
    assert.strictEqual(r.status, 0, r.stderr);
    assert.match(r.stdout, /^agt_[0-9a-f]{64}\n$/);
  });

  it('a viewer token created while the server runs can GET', async () => {
    const r = tokenCreate(ctx.s.dataDir, 'viewer', 'x');
    assert.strictEqual(r.status, 0, r.stderr);
    const tok = r.stdout.trim();
    const g = await ctx.s.api('GET', '/api/v1/stations', undefined, { token: tok });
    assert.strictEqual(g.status, 200, JSON.stringify(g.body));
    assert.ok(Array.isArray(g.body.items));
  });

  it('a viewer token gets 403 on POST, naming the operator role', async () => {
    const tok = tokenCreate(ctx.s.dataDir, 'viewer', 'viewer-2').stdout.trim();
    const r = await ctx.s.api('POST', '/api/v1/stations', { id: 'VIEWER-MADE', password: PW }, { token: tok });
    assertProblem(r, 403, /operator/);
    const g = await ctx.s.api('GET', '/api/v1/stations/VIEWER-MADE');
    assert.strictEqual(g.status, 404, 'the forbidden request must not have created the station');
  });

  it('an operator token can create stations', async () => {
    const tok = tokenCreate(ctx.s.dataDir, 'operator', 'ops').stdout.trim();
    const r = await ctx.s.api('POST', '/api/v1/stations', { id: 'OPERATOR-MADE', password: PW }, { token: tok });
    assert.strictEqual(r.status, 201, JSON.stringify(r.body));
    assert.strictEqual(r.body.id, 'OPERATOR-MADE');
  });

  it('an expired token (--expires in the past) gets 401', async () => {
    const r = tokenCreate(ctx.s.dataDir, 'admin', 'old', ['--expires', '2020-01-01T00:00:00Z']);
    assert.strictEqual(r.status, 0, r.stderr);
    const g = await ctx.s.api('GET', '/api/v1/stations', undefined, { token: r.stdout.trim() });
    assertProblem(g, 401);
    assert.match(g.headers.get('www-authenticate') || '', /^Bearer\b/);
  });

  it('a token that is still valid (--expires in the future) works', async () => {
    const r = tokenCreate(ctx.s.dataDir, 'viewer', 'future', ['--expires', '2999-01-01T00:00:00Z']);
    assert.strictEqual(r.status, 0, r.stderr);
    const g = await ctx.s.api('GET', '/api/v1/stations', undefined, { token: r.stdout.trim() });
    assert.strictEqual(g.status, 200);
  });
});

// ---------------------------------------------------------------- stations

serverSuite('stations', (ctx) => {
  const post = (body, o) => ctx.s.api('POST', '/api/v1/stations', body, o);

  it('POST creates a station: 201 with the station and no password or hash in the output', async () => {
    const password = 'Sup3r-Secret-Station-Pw';
    const res = await fetch(`${ctx.s.httpUrl}/api/v1/stations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ctx.s.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'CP-001', password, security_profile: 1, registration_status: 'Pending', description: 'Car park level 2' }),
    });
    const text = await res.text();
    assert.strictEqual(res.status, 201, text);
    assert.match(res.headers.get('content-type'), /^application\/json/);
    assert.ok(!text.includes(password), 'response contains the password');
    assert.ok(!/argon2/i.test(text), 'response contains the password hash');
    const b = JSON.parse(text);
    assert.strictEqual(b.id, 'CP-001');
    assert.strictEqual(b.security_profile, 1);
    assert.strictEqual(b.registration_status, 'Pending');
    assert.strictEqual(b.description, 'Car park level 2');
    assert.strictEqual(b.has_password, true);
    assert.strictEqual(b.connected, false);
    // and the stored station, read back, does not leak it either
    const g = await fetch(`${ctx.s.httpUrl}/api/v1/stations/CP-001`, { headers: { authorization: `Bearer ${ctx.s.token}` } });
    const gt = await g.text();
    assert.strictEqual(g.status, 200);
    assert.ok(!gt.includes(password) && !/argon2/i.test(gt), gt);
    const l = await fetch(`${ctx.s.httpUrl}/api/v1/stations`, { headers: { authorization: `Bearer ${ctx.s.token}` } });
    const lt = await l.text();
    assert.ok(!lt.includes(password) && !/argon2/i.test(lt), 'list leaks the password or its hash');
  });

  const invalid = [
    ['a missing id', { password: PW }, /\bid\b/],
    ['invalid id characters', { id: 'CP:1/x', password: PW }, /\bid\b/],
    ['an id longer than 48 characters', { id: 'A'.repeat(49), password: PW }, /\bid\b.*48|48.*\bid\b/],
    ['a password shorter than 16 characters', { id: 'PW-SHORT', password: 'short-pw' }, /password/],
    ['a password longer than 40 characters', { id: 'PW-LONG', password: 'p'.repeat(41) }, /password/],
    ['an unknown field', { id: 'UNK-FIELD', password: PW, colour: 'red' }, /colour/],
    ['security_profile 7', { id: 'SP7', password: PW, security_profile: 7 }, /security_profile/],
    ['registration_status "Maybe"', { id: 'MAYBE', password: PW, registration_status: 'Maybe' }, /registration_status/],
    ['a non-string id', { id: 42, password: PW }, /\bid\b/],
  ];
  for (const [what, body, re] of invalid) {
    it(`POST with ${what} gets 400 with a detail naming the problem`, async () => {
      const r = await post(body);
      assertProblem(r, 400, re);
      if (typeof body.id === 'string') {
        const g = await ctx.s.api('GET', `/api/v1/stations/${encodeURIComponent(body.id)}`);
        assert.notStrictEqual(g.status, 200, 'an invalid station was created');
      }
    });
  }

  it('POST with a body that is not JSON gets 400', async () => {
    assertProblem(await post('{"id": "BROKEN", '), 400, /JSON/);
  });

  it('POST with a JSON array body gets 400', async () => {
    assertProblem(await post('[{"id":"ARR","password":"correct-horse-battery"}]'), 400, /object/);
  });

  it('POST with a non-JSON content-type gets 415', async () => {
    const r = await post('id=FORM&password=correct-horse-battery', { headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assertProblem(r, 415);
  });

  it('POST with content-type application/json; charset=utf-8 is accepted', async () => {
    const r = await post(JSON.stringify({ id: 'CHARSET-1', password: PW }), { headers: { 'content-type': 'application/json; charset=utf-8' } });
    assert.strictEqual(r.status, 201, JSON.stringify(r.body));
  });

  it('POST of an id that exists gets 409', async () => {
    assert.strictEqual((await post({ id: 'DUP-1', password: PW })).status, 201);
    assertProblem(await post({ id: 'DUP-1', password: PW }), 409, /DUP-1/);
  });

  it('GET /api/v1/stations lists {items, total}', async () => {
    await post({ id: 'LIST-1', password: PW });
    const r = await ctx.s.api('GET', '/api/v1/stations');
    assert.strictEqual(r.status, 200);
    assert.ok(Array.isArray(r.body.items));
    assert.strictEqual(r.body.total, r.body.items.length);
    assert.ok(r.body.items.some((x) => x.id === 'LIST-1'));
  });

  it('?connected=true lists only connected stations (and =false only the others)', async () => {
    await post({ id: 'CONN-ON', password: PW });
    await post({ id: 'CONN-OFF', password: PW });
    const cp = await ctx.s.bootedStation('CONN-ON');
    try {
      const on = await ctx.s.api('GET', '/api/v1/stations?connected=true');
      assert.strictEqual(on.status, 200);
      const ids = on.body.items.map((x) => x.id);
      assert.ok(ids.includes('CONN-ON'), JSON.stringify(ids));
      assert.ok(!ids.includes('CONN-OFF'), JSON.stringify(ids));
      assert.ok(on.body.items.every((x) => x.connected === true));
      assert.strictEqual(on.body.total, on.body.items.length);
      const off = await ctx.s.api('GET', '/api/v1/stations?connected=false');
      const offIds = off.body.items.map((x) => x.id);
      assert.ok(offIds.includes('CONN-OFF') && !offIds.includes('CONN-ON'), JSON.stringify(offIds));
    } finally {
      await cp.close();
    }
  });

  it('GET of an unknown station gets 404', async () => {
    assertProblem(await ctx.s.api('GET', '/api/v1/stations/NO-SUCH-STATION'), 404);
  });

  it('PATCH changes a station and answers 200 with it', async () => {
    await post({ id: 'PATCH-1', password: PW, description: 'before' });
    const r = await ctx.s.api('PATCH', '/api/v1/stations/PATCH-1', { description: 'after', registration_status: 'Rejected' });
    assert.strictEqual(r.status, 200, JSON.stringify(r.body));
    assert.strictEqual(r.body.description, 'after');
    assert.strictEqual(r.body.registration_status, 'Rejected');
    const g = await ctx.s.api('GET', '/api/v1/stations/PATCH-1');
    assert.strictEqual(g.body.description, 'after');
  });

  it('PATCH cannot change the id (400)', async () => {
    await post({ id: 'PATCH-ID', password: PW });
    assertProblem(await ctx.s.api('PATCH', '/api/v1/stations/PATCH-ID', { id: 'OTHER-ID' }), 400, /\bid\b/);
    assert.strictEqual((await ctx.s.api('GET', '/api/v1/stations/OTHER-ID')).status, 404);
    assert.strictEqual((await ctx.s.api('GET', '/api/v1/stations/PATCH-ID')).status, 200);
  });

  it('PATCH with an invalid value gets 400 and changes nothing', async () => {
    await post({ id: 'PATCH-BAD', password: PW, description: 'kept' });
    assertProblem(await ctx.s.api('PATCH', '/api/v1/stations/PATCH-BAD', { description: 'changed', security_profile: 7 }), 400, /security_profile/);
    assert.strictEqual((await ctx.s.api('GET', '/api/v1/stations/PATCH-BAD')).body.description, 'kept');
  });

  it('PATCH of an unknown station gets 404', async () => {
    assertProblem(await ctx.s.api('PATCH', '/api/v1/stations/NO-SUCH-STATION', { description: 'x' }), 404);
  });

  it('DELETE removes a station (204, then 404)', async () => {
    await post({ id: 'DEL-1', password: PW });
    const r = await ctx.s.api('DELETE', '/api/v1/stations/DEL-1');
    assert.strictEqual(r.status, 204);
    assertProblem(await ctx.s.api('GET', '/api/v1/stations/DEL-1'), 404);
  });

  it('DELETE of an unknown station gets 404', async () => {
    assertProblem(await ctx.s.api('DELETE', '/api/v1/stations/NO-SUCH-STATION'), 404);
  });

  it('DELETE of a connected station disconnects it', async () => {
    await post({ id: 'DEL-CONN', password: PW });
    const cp = await ctx.s.bootedStation('DEL-CONN');
    const closed = new Promise((resolve) => cp.once('close', resolve));
    const r = await ctx.s.api('DELETE', '/api/v1/stations/DEL-CONN');
    assert.strictEqual(r.status, 204);
    const ev = await Promise.race([closed, sleep(5000).then(() => null)]);
    assert.ok(ev, 'the station was not disconnected within 5 s');
    // and it cannot come back: the station no longer exists
    const again = ctx.s.station('DEL-CONN');
    await assert.rejects(again.connect());
  });

  it('every id POST accepts can be read back with GET /api/v1/stations/{percent-encoded id}', async () => {
    const problems = [];
    for (const id of ['A|B@C.D+E=F*G_H-I', 'x.y', '.', '..', '...']) {
      const c = await post({ id, password: PW });
      if (c.status !== 201) continue; // refusing an id is fine; accepting one that cannot be addressed is not
      const g = await ctx.s.api('GET', `/api/v1/stations/${encodeURIComponent(id).replace(/\./g, '%2E')}`);
      if (g.status !== 200 || !g.body || g.body.id !== id) problems.push(`${JSON.stringify(id)}: created, but GET answered ${g.status} ${JSON.stringify(g.body).slice(0, 80)}`);
    }
    assert.deepStrictEqual(problems, []);
  });

  it('a literal + in the path is a +, not a space (GET /api/v1/stations/P+Q)', async () => {
    assert.strictEqual((await post({ id: 'P+Q', password: PW })).status, 201);
    const r = await ctx.s.api('GET', '/api/v1/stations/P+Q');
    assert.strictEqual(r.status, 200, JSON.stringify(r.body));
    assert.strictEqual(r.body.id, 'P+Q');
  });

  it('shows live state: connected, protocol, last_heartbeat_at, boot info and connectors', async () => {
    await post({ id: 'LIVE-1', password: PW });
    const cp = ctx.s.station('LIVE-1');
    await cp.connect();
    try {
      const t0 = Date.now();
      const boot = await cp.call('BootNotification', {
        chargePointVendor: 'ACME', chargePointModel: 'X1', firmwareVersion: '1.2.3', chargePointSerialNumber: 'SN-77',
      });
      assert.strictEqual(boot.status, 'Accepted');
      await cp.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available', timestamp: new Date().toISOString() });
      await cp.call('StatusNotification', { connectorId: 2, errorCode: 'GroundFailure', status: 'Faulted', info: 'rcd tripped', timestamp: new Date().toISOString() });
      await cp.call('Heartbeat', {});
      const r = await ctx.s.api('GET', '/api/v1/stations/LIVE-1');
      assert.strictEqual(r.status, 200);
      const b = r.body;
      assert.strictEqual(b.connected, true);
      assert.strictEqual(b.protocol, 'ocpp1.6');
      assert.ok(b.connected_at, 'connected_at missing');
      assert.ok(b.last_heartbeat_at, 'last_heartbeat_at missing');
      assert.ok(Date.parse(b.last_heartbeat_at) >= t0 - 1000, `last_heartbeat_at ${b.last_heartbeat_at} is stale`);
      assert.ok(b.last_boot_at);
      assert.strictEqual(b.boot.vendor, 'ACME');
      assert.strictEqual(b.boot.model, 'X1');
      assert.strictEqual(b.boot.firmware_version, '1.2.3');
      assert.strictEqual(b.boot.serial_number, 'SN-77');
      const c1 = b.connectors.find((k) => k.evse_id === 1);
      const c2 = b.connectors.find((k) => k.evse_id === 2);
      assert.ok(c1 && c2, JSON.stringify(b.connectors));
      assert.strictEqual(c1.connector_id, 1);
      assert.strictEqual(c1.status, 'Available');
      assert.strictEqual(c2.status, 'Faulted');
      assert.strictEqual(c2.error_code, 'GroundFailure');
      assert.strictEqual(c2.info, 'rcd tripped');
    } finally {
      await cp.close();
    }
    await waitFor(async () => (await ctx.s.api('GET', '/api/v1/stations/LIVE-1')).body.connected === false,
      { what: 'connected=false after the station closed' });
  });
});

// --------------------------------------------------------------- id tokens

serverSuite('id tokens', (ctx) => {
  const post = (body) => ctx.s.api('POST', '/api/v1/id-tokens', body);

  it('POST creates a token with defaults type ISO14443 and status Accepted', async () => {
    const r = await post({ id_token: 'TOK-DEFAULTS' });
    assert.strictEqual(r.status, 201, JSON.stringify(r.body));
    assert.strictEqual(r.body.id_token, 'TOK-DEFAULTS');
    assert.strictEqual(r.body.type, 'ISO14443');
    assert.strictEqual(r.body.status, 'Accepted');
    assert.strictEqual(r.body.expiry, null);
    assert.strictEqual(r.body.parent_id_token, null);
  });

  it('POST keeps every field: type, status, expiry (RFC 3339) and parent_id_token', async () => {
    await post({ id_token: 'FLEET-7' });
    const r = await post({ id_token: 'TOK-FULL', type: 'KeyCode', status: 'Blocked', expiry: '2030-06-01T12:00:00+02:00', parent_id_token: 'FLEET-7' });
    assert.strictEqual(r.status, 201, JSON.stringify(r.body));
    assert.strictEqual(r.body.type, 'KeyCode');
    assert.strictEqual(r.body.status, 'Blocked');
    assert.strictEqual(Date.parse(r.body.expiry), Date.parse('2030-06-01T10:00:00Z'));
    assert.strictEqual(r.body.parent_id_token, 'FLEET-7');
    const g = await ctx.s.api('GET', '/api/v1/id-tokens/TOK-FULL');
    assert.strictEqual(g.status, 200);
    assert.deepStrictEqual(
      [g.body.type, g.body.status, Date.parse(g.body.expiry), g.body.parent_id_token],
      ['KeyCode', 'Blocked', Date.parse('2030-06-01T10:00:00Z'), 'FLEET-7']);
  });

  const invalid = [
    ['a status outside Accepted/Blocked/Expired/Invalid', { id_token: 'BAD-STATUS', status: 'Maybe' }, /status/],
    ['an expiry that is not RFC 3339', { id_token: 'BAD-EXPIRY', expiry: 'next tuesday' }, /expiry/],
    ['an id_token longer than 36 characters', { id_token: 'T'.repeat(37) }, /id_token/],
    ['itself as parent', { id_token: 'SELF-PARENT', parent_id_token: 'SELF-PARENT' }, /parent/],
    ['a missing id_token', { status: 'Accepted' }, /id_token/],
    ['an unknown type', { id_token: 'BAD-TYPE', type: 'Barcode' }, /type/],
    ['an unknown field', { id_token: 'BAD-FIELD', colour: 'red' }, /colour/],
  ];
  for (const [what, body, re] of invalid) {
    it(`POST with ${what} gets 400`, async () => {
      assertProblem(await post(body), 400, re);
      if (body.id_token) assert.strictEqual((await ctx.s.api('GET', `/api/v1/id-tokens/${body.id_token}`)).status, 404);
    });
  }

  it('POST of an existing id_token gets 409', async () => {
    assert.strictEqual((await post({ id_token: 'TOK-DUP' })).status, 201);
    assertProblem(await post({ id_token: 'TOK-DUP' }), 409);
  });

  it('GET lists tokens, and ?status= filters them', async () => {
    await post({ id_token: 'LIST-ACC' });
    await post({ id_token: 'LIST-BLK', status: 'Blocked' });
    const all = await ctx.s.api('GET', '/api/v1/id-tokens');
    assert.strictEqual(all.status, 200);
    const ids = all.body.items.map((t) => t.id_token);
    assert.ok(ids.includes('LIST-ACC') && ids.includes('LIST-BLK'));
    const blk = await ctx.s.api('GET', '/api/v1/id-tokens?status=Blocked');
    assert.strictEqual(blk.status, 200);
    assert.ok(blk.body.items.length > 0);
    assert.ok(blk.body.items.every((t) => t.status === 'Blocked'), JSON.stringify(blk.body.items));
    assert.ok(blk.body.items.some((t) => t.id_token === 'LIST-BLK'));
    assert.ok(!blk.body.items.some((t) => t.id_token === 'LIST-ACC'));
  });

  it('GET of an unknown token gets 404', async () => {
    assertProblem(await ctx.s.api('GET', '/api/v1/id-tokens/NO-SUCH-TOKEN'), 404);
  });

  it('PATCH changes fields; null clears expiry and parent', async () => {
    await post({ id_token: 'GROUP-1' });
    await post({ id_token: 'TOK-PATCH', expiry: '2031-01-01T00:00:00Z', parent_id_token: 'GROUP-1' });
    let r = await ctx.s.api('PATCH', '/api/v1/id-tokens/TOK-PATCH', { status: 'Expired', type: 'eMAID' });
    assert.strictEqual(r.status, 200, JSON.stringify(r.body));
    assert.strictEqual(r.body.status, 'Expired');
    assert.strictEqual(r.body.type, 'eMAID');
    assert.strictEqual(r.body.parent_id_token, 'GROUP-1', 'an unmentioned field changed');
    r = await ctx.s.api('PATCH', '/api/v1/id-tokens/TOK-PATCH', { expiry: null, parent_id_token: null });
    assert.strictEqual(r.status, 200, JSON.stringify(r.body));
    assert.strictEqual(r.body.expiry, null);
    assert.strictEqual(r.body.parent_id_token, null);
  });

  it('PATCH making a token its own parent gets 400', async () => {
    await post({ id_token: 'TOK-SELF' });
    assertProblem(await ctx.s.api('PATCH', '/api/v1/id-tokens/TOK-SELF', { parent_id_token: 'TOK-SELF' }), 400, /parent/);
  });

  it('PATCH with an invalid status gets 400 and changes nothing', async () => {
    await post({ id_token: 'TOK-KEEP' });
    assertProblem(await ctx.s.api('PATCH', '/api/v1/id-tokens/TOK-KEEP', { status: 'Revoked' }), 400, /status/);
    assert.strictEqual((await ctx.s.api('GET', '/api/v1/id-tokens/TOK-KEEP')).body.status, 'Accepted');
  });

  it('PATCH of an unknown token gets 404', async () => {
    assertProblem(await ctx.s.api('PATCH', '/api/v1/id-tokens/NO-SUCH-TOKEN', { status: 'Blocked' }), 404);
  });

  it('DELETE removes a token (204, then 404); DELETE of an unknown one gets 404', async () => {
    await post({ id_token: 'TOK-DEL' });
    assert.strictEqual((await ctx.s.api('DELETE', '/api/v1/id-tokens/TOK-DEL')).status, 204);
    assertProblem(await ctx.s.api('GET', '/api/v1/id-tokens/TOK-DEL'), 404);
    assertProblem(await ctx.s.api('DELETE', '/api/v1/id-tokens/TOK-DEL'), 404);
  });

  it('every id token POST accepts can be fetched, blocked and deleted through its percent-encoded id', async () => {
    const problems = [];
    for (const t of ['04:A2:B3:C4', 'A B', 'A+B', 'A%B', 'A?B#C', 'ÄÖÜ', 'A\\B', 'A/B', '..']) {
      const c = await post({ id_token: t });
      if (c.status !== 201) continue; // refusing is fine; accepting an unmanageable token is not
      const enc = `/api/v1/id-tokens/${encodeURIComponent(t).replace(/\./g, '%2E')}`;
      const g = await ctx.s.api('GET', enc);
      const p = await ctx.s.api('PATCH', enc, { status: 'Blocked' });
      const d = await ctx.s.api('DELETE', enc);
      if (g.status !== 200 || (g.body && g.body.id_token) !== t || p.status !== 200 || d.status !== 204) {
        problems.push(`${JSON.stringify(t)}: created, then GET ${g.status} PATCH ${p.status} DELETE ${d.status}`);
      }
    }
    assert.deepStrictEqual(problems, []);
  });

  it('changing a token to Blocked makes the next Authorize answer Blocked', async () => {
    await ctx.s.createStation('AUTH-CP');
    await post({ id_token: 'TOK-BLOCK-ME' });
    const cp = await ctx.s.bootedStation('AUTH-CP');
    try {
      let a = await cp.call('Authorize', { idTag: 'TOK-BLOCK-ME' });
      assert.strictEqual(a.idTagInfo.status, 'Accepted');
      const r = await ctx.s.api('PATCH', '/api/v1/id-tokens/TOK-BLOCK-ME', { status: 'Blocked' });
      assert.strictEqual(r.status, 200);
      a = await cp.call('Authorize', { idTag: 'TOK-BLOCK-ME' });
      assert.strictEqual(a.idTagInfo.status, 'Blocked');
    } finally {
      await cp.close();
    }
  });
});

// ---------------------------------------------------------------- sessions

serverSuite('sessions', (ctx) => {
  // Three sessions, created in this order (so ids ascend):
  //  s1: SES-A / TOK-A, 10:00, 1000 -> 3500 Wh (ended)
  //  s2: SES-B / TOK-B, 11:00, 0 -> 700 Wh (ended)
  //  s3: SES-A / TOK-A, 12:00, 5000, active, last reading 5600 Wh
  const T = (h) => `2026-03-01T${String(h).padStart(2, '0')}:00:00.000Z`;
  const ids = {};
  before(async () => {
    const s = ctx.s;
    await s.createStation('SES-A');
    await s.createStation('SES-B');
    await s.createIdToken('TOK-A');
    await s.createIdToken('TOK-B');
    const a = await s.bootedStation('SES-A');
    const b = await s.bootedStation('SES-B');
    try {
      let r = await a.call('StartTransaction', { connectorId: 1, idTag: 'TOK-A', meterStart: 1000, timestamp: T(10) });
      ids.s1 = r.transactionId;
      await a.call('MeterValues', { connectorId: 1, transactionId: ids.s1, meterValue: [{ timestamp: '2026-03-01T10:15:00.000Z', sampledValue: [{ value: '1800' }] }] });
      await a.call('MeterValues', { connectorId: 1, transactionId: ids.s1, meterValue: [{ timestamp: '2026-03-01T10:30:00.000Z', sampledValue: [{ value: '2.5', unit: 'kWh' }, { value: '41', measurand: 'SoC', unit: 'Percent' }] }] });
      await a.call('StopTransaction', { transactionId: ids.s1, meterStop: 3500, timestamp: '2026-03-01T10:45:00.000Z', reason: 'EVDisconnected',
        transactionData: [{ timestamp: '2026-03-01T10:44:00.000Z', sampledValue: [{ value: '3450', context: 'Transaction.End' }] }] });
      r = await b.call('StartTransaction', { connectorId: 1, idTag: 'TOK-B', meterStart: 0, timestamp: T(11) });
      ids.s2 = r.transactionId;
      await b.call('StopTransaction', { transactionId: ids.s2, meterStop: 700, timestamp: '2026-03-01T11:30:00.000Z' });
      r = await a.call('StartTransaction', { connectorId: 1, idTag: 'TOK-A', meterStart: 5000, timestamp: T(12) });
      ids.s3 = r.transactionId;
      await a.call('MeterValues', { connectorId: 1, transactionId: ids.s3, meterValue: [{ timestamp: '2026-03-01T12:10:00.000Z', sampledValue: [{ value: '5600' }] }] });
    } finally {
      await a.close();
      await b.close();
    }
  });
  const list = async (q) => {
    const r = await ctx.s.api('GET', `/api/v1/sessions${q}`);
    assert.strictEqual(r.status, 200, JSON.stringify(r.body));
    assert.ok(Array.isArray(r.body.items));
    return r.body.items;
  };

  it('lists sessions newest first with energy_wh', async () => {
    const items = await list('');
    assert.deepStrictEqual(items.map((x) => x.id), [ids.s3, ids.s2, ids.s1]);
    const byId = Object.fromEntries(items.map((x) => [x.id, x]));
    assert.strictEqual(byId[ids.s1].energy_wh, 2500);
    assert.strictEqual(byId[ids.s2].energy_wh, 700);
    assert.strictEqual(byId[ids.s3].energy_wh, 600, 'active session: latest reading minus meter_start');
    assert.strictEqual(byId[ids.s1].active, false);
    assert.strictEqual(byId[ids.s3].active, true);
    assert.strictEqual(byId[ids.s1].station_id, 'SES-A');
    assert.strictEqual(byId[ids.s1].id_token, 'TOK-A');
    assert.strictEqual(byId[ids.s1].meter_start_wh, 1000);
    assert.strictEqual(byId[ids.s1].meter_stop_wh, 3500);
    assert.strictEqual(Date.parse(byId[ids.s1].started_at), Date.parse(T(10)));
    assert.strictEqual(Date.parse(byId[ids.s1].stopped_at), Date.parse('2026-03-01T10:45:00Z'));
    assert.strictEqual(byId[ids.s1].stop_reason, 'EVDisconnected');
  });

  it('?station= filters by station', async () => {
    assert.deepStrictEqual((await list('?station=SES-A')).map((x) => x.id), [ids.s3, ids.s1]);
    assert.deepStrictEqual((await list('?station=SES-B')).map((x) => x.id), [ids.s2]);
    assert.deepStrictEqual(await list('?station=NOBODY'), []);
  });

  it('?id_token= filters by id token', async () => {
    assert.deepStrictEqual((await list('?id_token=TOK-B')).map((x) => x.id), [ids.s2]);
  });

  it('?active=true and ?active=false filter by state', async () => {
    assert.deepStrictEqual((await list('?active=true')).map((x) => x.id), [ids.s3]);
    assert.deepStrictEqual((await list('?active=false')).map((x) => x.id), [ids.s2, ids.s1]);
  });

  it('?from= and ?to= filter on the start time', async () => {
    assert.deepStrictEqual((await list('?from=2026-03-01T10:30:00Z')).map((x) => x.id), [ids.s3, ids.s2]);
    assert.deepStrictEqual((await list('?to=2026-03-01T10:30:00Z')).map((x) => x.id), [ids.s1]);
    assert.deepStrictEqual((await list('?from=2026-03-01T10:30:00Z&to=2026-03-01T11:30:00Z')).map((x) => x.id), [ids.s2]);
  });

  it('?limit= and ?offset= page through the list', async () => {
    assert.deepStrictEqual((await list('?limit=1')).map((x) => x.id), [ids.s3]);
    assert.deepStrictEqual((await list('?limit=1&offset=1')).map((x) => x.id), [ids.s2]);
    assert.deepStrictEqual((await list('?limit=2&offset=2')).map((x) => x.id), [ids.s1]);
  });

  it('combined filters apply together', async () => {
    assert.deepStrictEqual((await list('?station=SES-A&active=false')).map((x) => x.id), [ids.s1]);
  });

  const bad = [
    ['?from=yesterday', /from/],
    ['?to=2026-13-01T00:00:00Z', /to/],
    ['?limit=0', /limit/],
    ['?limit=5000', /limit/],
    ['?limit=ten', /limit/],
    ['?offset=-1', /offset/],
    ['?active=maybe', /active/],
  ];
  for (const [q, re] of bad) {
    it(`GET /api/v1/sessions${q} gets 400`, async () => {
      assertProblem(await ctx.s.api('GET', `/api/v1/sessions${q}`), 400, re);
    });
  }

  it('a filter that follows many other query parameters still applies (or the request is refused)', async () => {
    const junk = Array.from({ length: 30 }, (_, i) => `utm_${i}=x`).join('&');
    const r = await ctx.s.api('GET', `/api/v1/sessions?${junk}&station=NOBODY`);
    if (r.status === 200) {
      assert.deepStrictEqual(r.body.items.map((x) => x.station_id), [], 'station=NOBODY was ignored: other stations\' sessions returned');
    } else {
      assert.ok(r.status >= 400 && r.status < 500, `unexpected ${r.status}`);
    }
    const l = await ctx.s.api('GET', `/api/v1/sessions?${junk}&limit=0`);
    assert.ok(l.status >= 400 && l.status < 500, `limit=0 after 30 other parameters answered ${l.status}`);
  });

  it('GET /api/v1/sessions/{id} includes every meter value, from MeterValues and transactionData', async () => {
    const r = await ctx.s.api('GET', `/api/v1/sessions/${ids.s1}`);
    assert.strictEqual(r.status, 200, JSON.stringify(r.body));
    assert.strictEqual(r.body.id, ids.s1);
    assert.strictEqual(r.body.energy_wh, 2500);
    const mv = r.body.meter_values;
    assert.ok(Array.isArray(mv), 'meter_values missing');
    const got = mv.map((m) => `${Date.parse(m.timestamp)}|${m.value}|${m.measurand}|${m.unit}`).sort();
    const want = [
      `${Date.parse('2026-03-01T10:15:00Z')}|1800|Energy.Active.Import.Register|Wh`,
      `${Date.parse('2026-03-01T10:30:00Z')}|2.5|Energy.Active.Import.Register|kWh`,
      `${Date.parse('2026-03-01T10:30:00Z')}|41|SoC|Percent`,
      `${Date.parse('2026-03-01T10:44:00Z')}|3450|Energy.Active.Import.Register|Wh`,
    ].sort();
    assert.deepStrictEqual(got, want);
    const end = mv.find((m) => m.value === '3450');
    assert.strictEqual(end.context, 'Transaction.End');
  });

  it('GET /api/v1/sessions/{id} of an unknown id gets 404', async () => {
    assertProblem(await ctx.s.api('GET', '/api/v1/sessions/999999'), 404);
  });

  it('GET /api/v1/sessions/{id} of a non-numeric id gets 404', async () => {
    assertProblem(await ctx.s.api('GET', '/api/v1/sessions/abc'), 404);
    assertProblem(await ctx.s.api('GET', '/api/v1/sessions/1x'), 404);
  });
});

// ------------------------------------------------ routing, health, metrics

serverSuite('routing, health and metrics', (ctx) => {
  it('an unknown path gets a 404 problem', async () => {
    assertProblem(await ctx.s.api('GET', '/api/v1/no-such-thing'), 404);
    assertProblem(await ctx.s.api('GET', '/api/v2/stations'), 404);
  });

  it('a wrong method on a known path gets 405', async () => {
    assertProblem(await ctx.s.api('PUT', '/api/v1/stations', { id: 'X' }), 405);
    assertProblem(await ctx.s.api('DELETE', '/api/v1/sessions'), 405);
    assertProblem(await ctx.s.api('POST', '/api/v1/sessions/1', {}), 405);
  });

  it('/healthz answers 200 {status:"ok"} without a token', async () => {
    const r = await fetch(`${ctx.s.httpUrl}/healthz`);
    assert.strictEqual(r.status, 200);
    assert.match(r.headers.get('content-type'), /^application\/json/);
    const b = await r.json();
    assert.strictEqual(b.status, 'ok');
  });

  it('/metrics is Prometheus text with the documented series, without a token', async () => {
    const cp = await (async () => { await ctx.s.createStation('MET-0'); return ctx.s.bootedStation('MET-0'); })();
    await cp.close();
    const { ctype, text } = await metrics(ctx.s);
    assert.match(ctype, /^text\/plain/);
    for (const re of [
      /^ampgrid_stations_connected \d+$/m,
      /^ampgrid_ocpp_messages_total\{direction="in",action="BootNotification",result="ok"\} \d+$/m,
      /^ampgrid_ocpp_validation_errors_total \d+$/m,
      /^ampgrid_ocpp_handling_seconds_bucket\{le="[^"]+"\} \d+$/m,
      /^ampgrid_ocpp_handling_seconds_bucket\{le="\+Inf"\} \d+$/m,
      /^ampgrid_store_queue_depth \d+$/m,
      /^ampgrid_store_commit_seconds_bucket\{le="[^"]+"\} \d+$/m,
      /^# TYPE ampgrid_ocpp_messages_total counter$/m,
      /^# TYPE ampgrid_ocpp_handling_seconds histogram$/m,
    ]) assert.match(text, re);
  });

  it('/metrics counters move with traffic', async () => {
    const s = ctx.s;
    await s.createStation('MET-1');
    const before = parseMetrics((await metrics(s)).text);
    const bootKey = 'ampgrid_ocpp_messages_total{direction="in",action="BootNotification",result="ok"}';
    const cp = await s.bootedStation('MET-1');
    const mid = parseMetrics((await metrics(s)).text);
    assert.strictEqual(mid.get('ampgrid_stations_connected'), (before.get('ampgrid_stations_connected') || 0) + 1);
    await cp.call('Heartbeat', {});
    // an invalid payload, sent raw (ocpp-rpc in strict mode would refuse to send it)
    const ws = s.raw('MET-1');
    await ws.opened;
    ws.send(JSON.stringify([2, 'bad-1', 'StatusNotification', { connectorId: 1, status: 'Sleeping', errorCode: 'NoError' }]));
    const err = await ws.next();
    assert.strictEqual(err[0], 4, JSON.stringify(err));
    ws.close();
    await cp.close().catch(() => {});
    const after = parseMetrics((await metrics(s)).text);
    assert.strictEqual(after.get(bootKey), (before.get(bootKey) || 0) + 1, 'BootNotification ok counter');
    assert.ok((after.get('ampgrid_ocpp_validation_errors_total') || 0) > (before.get('ampgrid_ocpp_validation_errors_total') || 0),
      'validation error counter did not move');
    assert.ok(after.get('ampgrid_ocpp_handling_seconds_count') >= (before.get('ampgrid_ocpp_handling_seconds_count') || 0) + 2,
      'handling histogram count did not move');
    assert.ok(after.get('ampgrid_ocpp_handling_seconds_bucket{le="+Inf"}') >= (before.get('ampgrid_ocpp_handling_seconds_bucket{le="+Inf"}') || 0) + 2);
    assert.ok(after.get('ampgrid_store_commit_seconds_count') > (before.get('ampgrid_store_commit_seconds_count') || 0), 'store commits did not move');
    assert.ok([...after.keys()].some((k) => k.startsWith('ampgrid_ocpp_messages_total{direction="in",action="Heartbeat",result="ok"}')));
  });
});

// ------------------------------------------------------------ hostile input

serverSuite('hostile input', (ctx) => {
  it('a body larger than 1 MiB gets 413 and the server keeps serving', async () => {
    const big = JSON.stringify({ id: 'BIG-BODY', password: PW, description: 'x'.repeat((1 << 20) + 1024) });
    let r;
    try {
      r = await ctx.s.api('POST', '/api/v1/stations', big);
    } catch (e) {
      assert.fail(`the server dropped the connection instead of answering 413: ${e.cause ? e.cause.code : e.message}`);
    }
    assertProblem(r, 413);
    assert.strictEqual((await ctx.s.api('GET', '/api/v1/stations/BIG-BODY')).status, 404);
    await stillServing(ctx.s);
  });

  // Known gap, as for CR/LF below: libwebsockets 4.1 drops a decoded NUL from
  // the path before the server sees it.
  it('a NUL (%00) in the path is refused, not served as a truncated path', { todo: 'libwebsockets 4.1 drops %00 from the decoded path' }, async () => {
    await ctx.s.createStation('NUL-CP');
    for (const p of ['/api/v1/stations/%00', '/api/v1/stations/NUL-CP%00', '/api/v1/stations/NUL-CP%00.json', '/healthz%00']) {
      const r = await tryGet(ctx.s, p);
      assert.ok(r.error || (r.status >= 400 && r.status < 500),
        `GET ${p} answered ${r.status} ${JSON.stringify(r.body).slice(0, 120)}`);
    }
    await stillServing(ctx.s);
  });

  // Known gap: libwebsockets 4.1 ends the decoded path at an escaped CR/LF and
  // does not expose the raw request target, so the server cannot tell. Kept as
  // a todo so it reports, and so it starts passing once the seam can see it.
  it('an escaped CR/LF in the path does not truncate it (DELETE /id-tokens/TAG%0dX must not delete TAG)', { todo: 'libwebsockets 4.1 truncates the decoded path at %0d/%0a' }, async () => {
    await ctx.s.createIdToken('TRUNC-1');
    await ctx.s.createIdToken('TRUNC-2');
    for (const [tag, esc] of [['TRUNC-1', '%0d'], ['TRUNC-2', '%0a']]) {
      let r;
      try {
        r = await ctx.s.api('DELETE', `/api/v1/id-tokens/${tag}${esc}other`);
      } catch (_) { r = { status: 'dropped' }; }
      assert.ok(r.status !== 204, `DELETE /api/v1/id-tokens/${tag}${esc}other answered 204`);
      const g = await ctx.s.api('GET', `/api/v1/id-tokens/${tag}`);
      assert.strictEqual(g.status, 200, `${tag} was deleted through /api/v1/id-tokens/${tag}${esc}other`);
    }
    await stillServing(ctx.s);
  });

  it('a very long path (64 KiB) gets 4xx or is dropped, and the server keeps serving', async () => {
    const r = await tryGet(ctx.s, '/api/v1/stations/' + 'A'.repeat(65536));
    assert.ok(r.error || (r.status >= 400 && r.status < 500), JSON.stringify(r));
    await stillServing(ctx.s);
  });

  it('10k query parameters get 4xx, are ignored, or are dropped; the server keeps serving', async () => {
    const q = Array.from({ length: 10000 }, (_, i) => `p${i}=${i}`).join('&');
    const r = await tryGet(ctx.s, `/api/v1/sessions?${q}`);
    assert.ok(r.error || r.status === 200 || (r.status >= 400 && r.status < 500), JSON.stringify(r).slice(0, 300));
    // many short ones that fit in the header space
    const q2 = Array.from({ length: 600 }, (_, i) => `a${i}=1`).join('&');
    const r2 = await tryGet(ctx.s, `/api/v1/sessions?${q2}&limit=1`);
    assert.ok(r2.error || r2.status === 200 || (r2.status >= 400 && r2.status < 500), JSON.stringify(r2).slice(0, 300));
    await stillServing(ctx.s);
  });

  it('a CR/LF escaped into the path does not inject response headers', async () => {
    const { text } = await rawHttp(ctx.s.httpPort,
      `GET /api/v1/stations/X%0d%0aSet-Cookie:%20injected=1%0d%0aX-Injected:%201 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ctx.s.token}\r\nConnection: close\r\n\r\n`);
    const head = firstHead(text);
    assert.ok(!/^set-cookie:/im.test(head) && !/^x-injected:/im.test(head), `injected header in:\n${head}`);
    await stillServing(ctx.s);
  });

  it('obs-fold and bare-CR header tricks do not break the server', async () => {
    const tricks = [
      `GET /api/v1/stations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ctx.s.token}\r\nX-A: a\r\n injected: 1\r\nConnection: close\r\n\r\n`,
      `GET /api/v1/stations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer wrong\rAuthorization: Bearer ${ctx.s.token}\r\nConnection: close\r\n\r\n`,
      `GET /api/v1/stations HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(100000)}\r\n\r\n`,
      `GET /api/v1/stations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ctx.s.token}\r\nContent-Length: -5\r\nConnection: close\r\n\r\n`,
      'GARBAGE\r\n\r\n',
      '\x00\x01\x02\x03\r\n\r\n',
    ];
    for (const t of tricks) {
      const { text } = await rawHttp(ctx.s.httpPort, t);
      const codes = statusLines(text);
      assert.ok(codes.every((c) => c < 500), `5xx for ${JSON.stringify(t.slice(0, 80))}: ${text.slice(0, 200)}`);
    }
    await stillServing(ctx.s);
  });

  it('conflicting duplicate Content-Length headers are refused and the leftover bytes are not run as a second request', async () => {
    const smuggled = 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n';
    const body = `{"id":"SMUG-1"}${smuggled}`;
    const { text } = await rawHttp(ctx.s.httpPort,
      `POST /api/v1/stations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ctx.s.token}\r\n` +
      `Content-Type: application/json\r\nContent-Length: 15\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    const codes = statusLines(text);
    assert.strictEqual(codes.length, 1, `expected one response, got ${codes.length} (${codes.join(', ')}):\n${text.slice(0, 600)}`);
    assert.strictEqual(codes[0], 400, text.slice(0, 300));
    await stillServing(ctx.s);
  });

  it('a chunked request body is applied or refused, never silently treated as empty', async () => {
    await ctx.s.createStation('CHUNKED-CP', { description: 'before' });
    const json = '{"description":"after"}';
    const chunked = `${json.length.toString(16)}\r\n${json}\r\n0\r\n\r\n`;
    const { text } = await rawHttp(ctx.s.httpPort,
      `PATCH /api/v1/stations/CHUNKED-CP HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ctx.s.token}\r\n` +
      `Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunked}`);
    const codes = statusLines(text);
    assert.ok(codes.length >= 1, `no answer: ${text}`);
    const g = await ctx.s.api('GET', '/api/v1/stations/CHUNKED-CP');
    if (codes[0] >= 200 && codes[0] < 300) {
      assert.strictEqual(g.body.description, 'after', `answered ${codes[0]} but the change was not applied`);
    } else {
      assert.ok(codes[0] === 411 || codes[0] === 400 || codes[0] === 501, `unexpected ${codes[0]}`);
      assert.strictEqual(g.body.description, 'before');
    }
    await stillServing(ctx.s);
  });
});
