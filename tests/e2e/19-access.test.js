// Who may do what: the five roles on real routes, dashboard logins with a
// session cookie and CSRF token, API tokens created and revoked through the
// API, per-token rate limits, failed-login limits, the audit log with
// before/after for each kind of change, station site/location/labels, and
// cursor pagination.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { spawnSync } = require('node:child_process');
const { Server, BIN } = require('./lib/harness');

const PW = 'access-test-password';

function cli(args, input) {
  return spawnSync(BIN, args, { encoding: 'utf8', input, timeout: 30000 });
}

function api(s) {
  return async (method, url, { token = s.token, body, headers = {}, expect } = {}) => {
    const h = { ...headers };
    if (token) h.authorization = `Bearer ${token}`;
    if (body !== undefined) h['content-type'] = 'application/json';
    const res = await fetch(s.httpUrl + url, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    let parsed = text;
    try { parsed = text ? JSON.parse(text) : null; } catch (_) { /* not JSON */ }
    const r = { status: res.status, headers: res.headers, body: parsed };
    if (expect !== undefined) assert.strictEqual(r.status, expect, `${method} ${url}: expected ${expect}, got ${r.status}: ${text.slice(0, 300)}`);
    return r;
  };
}

function token(s, role, name) {
  const r = cli(['token', 'create', '--data-dir', s.dataDir, '--role', role, '--name', name]);
  assert.strictEqual(r.status, 0, r.stderr);
  return r.stdout.trim();
}

test('roles, logins, tokens, rate limits and the audit log', async (t) => {
  const s = await new Server({ config: '[http]\nrate_limit = 2\nrate_burst = 40\n' }).start();
  const call = api(s);
  try {
    await t.test('the first start created an admin user whose password the banner shows once', async () => {
      const m = s.stdout.match(/user admin, password ([0-9a-f]+)/);
      assert.ok(m, s.stdout);
      const r = await call('POST', '/api/v1/auth/login', { token: null, body: { username: 'admin', password: m[1] }, expect: 200 });
      const sc = r.headers.get('set-cookie');
      assert.match(sc, /^ampgrid_session=[0-9a-f]{64}; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Strict$/);
      assert.strictEqual(r.headers.get('cache-control'), 'no-store');
    });

    const tokens = {};
    await t.test('each role may do what it should and is refused the rest, with a message saying why', async () => {
      for (const role of ['viewer', 'integration', 'technician', 'operator']) tokens[role] = token(s, role, `t-${role}`);
      await call('POST', '/api/v1/stations', { body: { id: 'AC-1', password: 'station-password-0001' }, expect: 201 });
      const cases = [
        // [method, url, body, roles allowed]
        ['GET', '/api/v1/stations', undefined, ['viewer', 'integration', 'technician', 'operator']],
        ['GET', '/api/v1/id-tokens', undefined, ['viewer', 'technician', 'operator']],
        ['PATCH', '/api/v1/stations/AC-1', { description: 'x' }, ['technician', 'operator']],
        ['POST', '/api/v1/id-tokens', { id_token: 'TAG-R' }, ['operator']],
        ['GET', '/api/v1/users', undefined, []],
        ['GET', '/api/v1/audit-log', undefined, []],
      ];
      for (const [method, url, body, allowed] of cases) {
        for (const role of Object.keys(tokens)) {
          const r = await call(method, url, { token: tokens[role], body });
          if (allowed.includes(role)) {
            assert.ok(r.status < 300 || r.status === 409, `${role} ${method} ${url}: ${r.status} ${JSON.stringify(r.body)}`);
          } else {
            assert.strictEqual(r.status, 403, `${role} ${method} ${url}: ${r.status}`);
            assert.match(r.body.detail, new RegExp(`has the ${role} role`));
            assert.match(r.body.detail, /this needs the .*admin role/);
          }
        }
      }
    });

    let cookie, csrf;
    await t.test('ampgrid user create makes a user who logs in; wrong passwords are refused and then limited', async () => {
      let r = cli(['user', 'create', '--data-dir', s.dataDir, '--username', 'tech1', '--role', 'technician'], 'technician-password\n');
      assert.strictEqual(r.status, 0, r.stderr);
      r = cli(['user', 'create', '--data-dir', s.dataDir, '--username', 'tech1', '--role', 'technician'], 'technician-password\n');
      assert.notStrictEqual(r.status, 0, 'a duplicate user was created');
      r = cli(['user', 'create', '--data-dir', s.dataDir, '--username', 'short', '--role', 'viewer'], 'short\n');
      assert.strictEqual(r.status, 2);
      r = cli(['user', 'create', '--data-dir', s.dataDir, '--username', 'x', '--role', 'king'], 'long-enough-password\n');
      assert.strictEqual(r.status, 2);
      const ok = await call('POST', '/api/v1/auth/login', { token: null, body: { username: 'tech1', password: 'technician-password' }, expect: 200 });
      assert.deepStrictEqual(ok.body.user, { username: 'tech1', role: 'technician' });
      cookie = ok.headers.get('set-cookie').split(';')[0];
      csrf = ok.body.csrf_token;
      for (const bad of [{}, { username: 'tech1' }, { username: 1, password: 'x' }, { username: 'tech1', password: 'x', extra: 1 }]) {
        await call('POST', '/api/v1/auth/login', { token: null, body: bad, expect: 400 });
      }
      const r2 = await fetch(`${s.httpUrl}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"username":' });
      assert.strictEqual(r2.status, 400);
      let limited = null;
      for (let i = 0; i < 15 && !limited; i++) {
        const f = await call('POST', '/api/v1/auth/login', { token: null, body: { username: 'tech1', password: `wrong-${i}` } });
        if (f.status === 429) limited = f;
        else assert.strictEqual(f.status, 401);
      }
      assert.ok(limited, 'failed logins were never limited');
      assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    });

    await t.test('a session acts with the user\'s role; changes need the CSRF token', async () => {
      const as = (extra = {}) => ({ token: null, headers: { cookie, ...extra } });
      await call('GET', '/api/v1/stations', { ...as(), expect: 200 });
      const r = await call('PATCH', '/api/v1/stations/AC-1', { ...as(), body: { description: 'by tech' }, expect: 403 });
      assert.match(r.body.detail, /X-CSRF-Token/);
      await call('PATCH', '/api/v1/stations/AC-1', { ...as({ 'x-csrf-token': 'f'.repeat(32) }), body: { description: 'by tech' }, expect: 403 });
      await call('PATCH', '/api/v1/stations/AC-1', { ...as({ 'x-csrf-token': csrf }), body: { description: 'by tech' }, expect: 200 });
      await call('POST', '/api/v1/id-tokens', { ...as({ 'x-csrf-token': csrf }), body: { id_token: 'T1' }, expect: 403 });
      await call('GET', '/api/v1/stations', { token: null, headers: { cookie: 'ampgrid_session=' + '0'.repeat(64) }, expect: 401 });
    });

    await t.test('disabling a user ends their session at once', async () => {
      await call('PATCH', '/api/v1/users/tech1', { body: { disabled: true }, expect: 200 });
      await call('GET', '/api/v1/stations', { token: null, headers: { cookie }, expect: 401 });
      await call('POST', '/api/v1/auth/login', { token: null, body: { username: 'tech1', password: 'technician-password' }, expect: 429 }); // still limited from above
    });

    await t.test('API tokens: created through the API, shown once, revoked at once, expired ones refused', async () => {
      const c = await call('POST', '/api/v1/api-tokens', { body: { name: 'ci', role: 'operator' }, expect: 201 });
      await call('GET', '/api/v1/id-tokens', { token: c.body.token, expect: 200 });
      const list = await call('GET', '/api/v1/api-tokens', { expect: 200 });
      const mine = list.body.items.find((x) => x.id === c.body.id);
      assert.ok(mine.last_used_at, 'last_used_at not recorded');
      assert.strictEqual(mine.created_by, 'initial-admin');
      assert.ok(!JSON.stringify(list.body).includes(c.body.token), 'a token is listed in clear');
      await call('DELETE', `/api/v1/api-tokens/${c.body.id}`, { expect: 204 });
      const r = await call('GET', '/api/v1/id-tokens', { token: c.body.token, expect: 401 });
      assert.match(r.body.detail, /unknown or revoked/);
      await call('POST', '/api/v1/api-tokens', { body: { name: 'old', role: 'viewer', expires_at: '2001-01-01T00:00:00Z' }, expect: 400 });
      await call('POST', '/api/v1/api-tokens', { body: { name: '', role: 'viewer' }, expect: 400 });
      await call('DELETE', '/api/v1/api-tokens/abc', { expect: 404 });
    });

    await t.test('stations carry site, location and labels; lists filter and page with cursors', async () => {
      const loc = { name: 'Depot', address: '1 Main St', city: 'Springfield', country: 'US', latitude: 39.78, longitude: -89.65 };
      const r = await call('PATCH', '/api/v1/stations/AC-1', { body: { site: 'depot', location: loc, labels: { fleet: 'yes', public: 'false' } }, expect: 200 });
      assert.deepStrictEqual(r.body.location, loc);
      assert.strictEqual(r.body.site, 'depot');
      for (const bad of [{ location: { latitude: 91, longitude: 0 } }, { location: { latitude: 1 } }, { location: { planet: 'Mars' } },
        { labels: { 'bad key': 'x' } }, { labels: { k: 1 } }, { site: '' }, { location: 'here' }]) {
        const b = await call('PATCH', '/api/v1/stations/AC-1', { body: bad, expect: 400 });
        assert.ok(b.body.detail.length > 10);
      }
      for (let i = 2; i <= 5; i++) await call('POST', '/api/v1/stations', { body: { id: `AC-${i}`, site: i % 2 ? 'depot' : 'mall' }, expect: 201 });
      assert.deepStrictEqual((await call('GET', '/api/v1/stations?site=depot', { expect: 200 })).body.items.map((x) => x.id), ['AC-1', 'AC-3', 'AC-5']);
      assert.deepStrictEqual((await call('GET', '/api/v1/stations?label=fleet:yes', { expect: 200 })).body.items.map((x) => x.id), ['AC-1']);
      assert.deepStrictEqual((await call('GET', '/api/v1/stations?label=public', { expect: 200 })).body.items.map((x) => x.id), ['AC-1']);
      const seen = [];
      let cur = '';
      for (let n = 0; n < 10; n++) {
        const p = await call('GET', `/api/v1/stations?limit=2${cur ? `&cursor=${cur}` : ''}`, { expect: 200 });
        assert.strictEqual(p.body.total, 5);
        seen.push(...p.body.items.map((x) => x.id));
        if (!p.body.next_cursor) break;
        cur = p.body.next_cursor;
      }
      assert.deepStrictEqual(seen, ['AC-1', 'AC-2', 'AC-3', 'AC-4', 'AC-5']);
      await call('GET', '/api/v1/stations?cursor=bm90LW91cnM', { expect: 400 });
      const cleared = await call('PATCH', '/api/v1/stations/AC-1', { body: { location: null, labels: null }, expect: 200 });
      assert.strictEqual(cleared.body.location, null);
      assert.deepStrictEqual(cleared.body.labels, {});
    });

    await t.test('every change is in the audit log with who, from where, before and after; it cannot be changed', async () => {
      await call('POST', '/api/v1/id-tokens', { body: { id_token: 'AUD-1' }, expect: 201 });
      await call('PATCH', '/api/v1/id-tokens/AUD-1', { body: { status: 'Blocked' }, expect: 200 });
      await call('DELETE', '/api/v1/id-tokens/AUD-1', { expect: 204 });
      const log = await call('GET', '/api/v1/audit-log?target_type=id_token&target_id=AUD-1', { expect: 200 });
      assert.deepStrictEqual(log.body.items.map((e) => e.action), ['id_token.delete', 'id_token.update', 'id_token.create']);
      const [del, upd, cre] = log.body.items;
      assert.strictEqual(cre.before, null);
      assert.strictEqual(cre.after.status, 'Accepted');
      assert.strictEqual(upd.before.status, 'Accepted');
      assert.strictEqual(upd.after.status, 'Blocked');
      assert.strictEqual(del.before.status, 'Blocked');
      assert.strictEqual(del.after, null);
      for (const e of log.body.items) {
        assert.strictEqual(e.actor, 'initial-admin');
        assert.strictEqual(e.actor_kind, 'token');
        assert.strictEqual(e.role, 'admin');
        assert.match(e.ip, /127\.0\.0\.1/);
        assert.ok(e.status >= 200 && e.status < 300);
      }
      const st = await call('GET', '/api/v1/audit-log?target_type=station&target_id=AC-1&action=station.*', { expect: 200 });
      const byTech = st.body.items.find((e) => e.actor === 'tech1');
      assert.ok(byTech, 'the technician\'s change is not in the log');
      assert.strictEqual(byTech.actor_kind, 'user');
      assert.strictEqual(byTech.before.description, 'x'); // set by the technician token earlier
      assert.strictEqual(byTech.after.description, 'by tech');
      const users = await call('GET', '/api/v1/audit-log?action=user.*', { expect: 200 });
      assert.ok(users.body.items.some((e) => e.action === 'user.update' && e.after.disabled === true));
      const logins = await call('GET', '/api/v1/audit-log?action=auth.login', { expect: 200 });
      assert.ok(logins.body.items.length >= 2);
      // refused changes are not recorded as changes
      assert.ok(!st.body.items.some((e) => e.status >= 400));
      for (const m of ['POST', 'PATCH', 'DELETE']) await call(m, '/api/v1/audit-log', { body: m === 'DELETE' ? undefined : {}, expect: 405 });
      await call('GET', '/api/v1/audit-log?from=yesterday', { expect: 400 });
      await call('GET', '/api/v1/audit-log?limit=100000', { expect: 400 });
    });

    await t.test('a token that sends too much gets 429 with Retry-After; others are not affected', async () => {
      const greedy = token(s, 'viewer', 'greedy');
      let r;
      for (let i = 0; i < 80; i++) {
        r = await call('GET', '/healthz', { token: null });
        r = await call('GET', '/api/v1/stations?limit=1', { token: greedy });
        if (r.status === 429) break;
      }
      assert.strictEqual(r.status, 429, 'never limited');
      assert.ok(Number(r.headers.get('retry-after')) >= 1);
      assert.match(r.body.detail, /requests a second/);
      await call('GET', '/api/v1/stations?limit=1', { token: tokens.viewer, expect: 200 });
    });
  } finally {
    const st = await s.stop();
    s.cleanup();
    assert.deepStrictEqual(st, { code: 0, signal: null }, s.stderr.slice(-3000));
  }
});
