// Every list of the API sorts (?sort=field ascending, ?sort=-field
// descending) and pages with cursors: for each list and each documented sort
// field, in both directions, paging two items at a time gives exactly the
// order of the whole list in one page, and that order is the documented one
// (by the field, nulls where the documentation puts them, then by the unique
// id). Lists without ?sort= keep their documented default order. Unknown
// fields, a cursor used with another sort than it was made for and forged
// cursors get 400 problem+json saying what to send.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const http = require('node:http');
const { Server, waitFor } = require('./lib/harness');

const CONFIG = '[http]\nrate_limit = 0\n[webhooks]\nretry_base = 1\nmax_attempts = 3\ntimeout = 2\n' +
  'connect_timeout = 1\nallow_private_networks = true\n';
const DAY = '2026-02-03';
const at = (hhmm) => `${DAY}T${hhmm}:00.000Z`;

// ------------------------------------------------------------ the orders

const time = (v) => (v === null || v === undefined ? null : Date.parse(v));
// As the server compares keys: null per the field's rule, numbers, strings by code point.
function cmpKey(a, b, nullsHigh) {
  const an = a === null || a === undefined, bn = b === null || b === undefined;
  if (an || bn) return an && bn ? 0 : (an === nullsHigh ? 1 : -1);
  return a < b ? -1 : a > b ? 1 : 0;
}

// Each list: its path, the items' id, and its sort fields with the key of an
// item and where nulls go (high = after every value ascending).
const LISTS = {
  stations: {
    path: '/api/v1/stations', id: (x) => x.id, max: 1000, default: 'id',
    fields: {
      id: { key: (x) => x.id },
      site: { key: (x) => x.site },
      created_at: { key: (x) => time(x.created_at) },
      last_heartbeat_at: { key: (x) => time(x.last_heartbeat_at) },
      connected: { key: (x) => (x.connected ? 1 : 0) },
    },
  },
  idTokens: {
    path: '/api/v1/id-tokens', id: (x) => x.id_token, max: 1000, default: 'id_token',
    fields: {
      id_token: { key: (x) => x.id_token },
      created_at: { key: (x) => time(x.created_at) },
      updated_at: { key: (x) => time(x.updated_at) },
      expiry: { key: (x) => time(x.expiry), nullsHigh: true },
    },
  },
  sessions: {
    path: '/api/v1/sessions', id: (x) => x.id, max: 1000, default: '-id',
    fields: {
      id: { key: (x) => x.id },
      started_at: { key: (x) => time(x.started_at) },
      stopped_at: { key: (x) => time(x.stopped_at), nullsHigh: true },
      energy_wh: { key: (x) => x.energy_wh },
      station_id: { key: (x) => x.station_id },
    },
  },
  audit: {
    path: '/api/v1/audit-log', id: (x) => x.id, max: 500, default: '-id',
    fields: { id: { key: (x) => x.id }, at: { key: (x) => time(x.at) } },
  },
  users: {
    // users show no id: ties on the key are ordered by an id the API keeps to itself
    path: '/api/v1/users', id: (x) => x.username, hiddenId: true, max: 1000, default: 'username',
    fields: {
      username: { key: (x) => x.username },
      created_at: { key: (x) => time(x.created_at) },
      last_login_at: { key: (x) => time(x.last_login_at) },
    },
  },
  apiTokens: {
    path: '/api/v1/api-tokens', id: (x) => x.id, max: 1000, default: 'id',
    fields: {
      id: { key: (x) => x.id },
      name: { key: (x) => x.name },
      created_at: { key: (x) => time(x.created_at) },
      expires_at: { key: (x) => time(x.expires_at), nullsHigh: true },
      last_used_at: { key: (x) => time(x.last_used_at) },
    },
  },
  deliveries: {
    path: null, id: (x) => x.id, max: 500, default: '-id', // path set once the webhook exists
    fields: {
      id: { key: (x) => x.id },
      created_at: { key: (x) => time(x.created_at) },
      last_attempt_at: { key: (x) => time(x.last_attempt_at) },
      attempts: { key: (x) => x.attempts },
    },
  },
};

// Asserts items are in the order sort (e.g. "-started_at") says.
function assertSorted(list, sort, items) {
  const desc = sort.startsWith('-');
  const f = list.fields[desc ? sort.slice(1) : sort];
  for (let i = 1; i < items.length; i++) {
    const a = items[i - 1], b = items[i];
    let c = cmpKey(f.key(a), f.key(b), !!f.nullsHigh);
    if (desc) c = -c;
    const where = `${list.path}?sort=${sort}: items ${i - 1} and ${i} (${JSON.stringify(f.key(a))}, ${JSON.stringify(f.key(b))})`;
    assert.ok(c <= 0, `${where} are out of order`);
    if (c === 0 && !list.hiddenId) {
      const t = desc ? -cmpKey(list.id(a), list.id(b), false) : cmpKey(list.id(a), list.id(b), false);
      assert.ok(t < 0, `${where}: equal keys must be ordered by id (${list.id(a)}, ${list.id(b)})`);
    }
  }
}

function problem(r, status, re) {
  assert.strictEqual(r.status, status, `expected ${status}, got ${r.status}: ${JSON.stringify(r.body)}`);
  assert.match(r.headers.get('content-type') || '', /^application\/problem\+json/);
  assert.strictEqual(r.body.status, status);
  if (re) assert.match(r.body.detail, re);
}

const b64 = (s) => Buffer.from(s).toString('base64url');

test('lists sort both ways and page correctly under every sort', async (t) => {
  const s = await new Server({ config: CONFIG }).start();
  const open = [];
  let rx;
  // The lists are read with a login session: a token's use would change its
  // own last_used_at while the API tokens are being sorted by it.
  let cookie = null;
  const call = (p) => (cookie ? s.api('GET', p, undefined, { token: null, headers: { cookie } }) : s.api('GET', p));
  const get = async (p) => {
    const r = await call(p);
    assert.strictEqual(r.status, 200, `${p}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const q = (path, params) => `${path}${path.includes('?') ? '&' : '?'}${params}`;
  // Every item of a list with one sort, two at a time; checks the pages.
  async function paged(path, sort, limit = 2) {
    const seen = [];
    let cursor = null;
    for (let n = 0; n < 200; n++) {
      const page = await get(q(path, `sort=${encodeURIComponent(sort)}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`));
      assert.ok(page.items.length <= limit, 'a page is at most limit long');
      seen.push(...page.items);
      cursor = page.next_cursor;
      if (!cursor) return seen;
      assert.strictEqual(page.items.length, limit, 'only the last page may be short');
      assert.match(cursor, /^[A-Za-z0-9_-]+$/, 'cursors are base64url');
    }
    throw new Error(`${path} sort=${sort}: more than 200 pages`);
  }
  async function checkList(name, list, { minItems = 4 } = {}) {
    const whole = (await get(q(list.path, `limit=${list.max}`))).items;
    assert.ok(whole.length >= minItems, `${name}: only ${whole.length} items to sort`);
    assertSorted(list, list.default, whole);
    for (const field of Object.keys(list.fields)) {
      for (const sort of [field, `-${field}`]) {
        const all = (await get(q(list.path, `sort=${encodeURIComponent(sort)}&limit=${list.max}`))).items;
        assert.strictEqual(all.length, whole.length, `${name} sort=${sort}: every item, once`);
        assertSorted(list, sort, all);
        const pages = await paged(list.path, sort);
        assert.deepStrictEqual(pages.map(list.id), all.map(list.id), `${name} sort=${sort}: paging two at a time gives the same order`);
      }
    }
    // the two directions of a field with distinct keys are each other's reverse
    const asc = (await get(q(list.path, `sort=${Object.keys(list.fields)[0]}&limit=${list.max}`))).items.map(list.id);
    const desc = (await get(q(list.path, `sort=-${Object.keys(list.fields)[0]}&limit=${list.max}`))).items.map(list.id);
    assert.deepStrictEqual(desc, [...asc].reverse(), `${name}: descending is ascending reversed`);
  }

  try {
    // --- data with ties, nulls and variety in every sort field -----------------
    const sites = ['north', null, 'south', 'north', null, 'east', 'south'];
    for (let i = 0; i < sites.length; i++) {
      await s.createStation(`LS-${i}`, sites[i] ? { site: sites[i] } : {});
    }
    for (const id of ['LS-1', 'LS-4', 'LS-5']) {
      const cp = await s.bootedStation(id);
      open.push(cp);
      if (id !== 'LS-4') await cp.call('Heartbeat', {});
    }
    const expiries = ['2027-01-01T00:00:00Z', null, '2026-06-01T00:00:00Z', null, '2027-01-01T00:00:00Z', '2030-01-01T00:00:00Z'];
    for (let i = 0; i < expiries.length; i++) {
      await s.createIdToken(`LT-${i}`, expiries[i] ? { expiry: expiries[i] } : {});
    }
    await s.api('PATCH', '/api/v1/id-tokens/LT-2', { status: 'Blocked' });
    // sessions on three stations: ended ones with energy, running ones without
    const [cp1, cp4, cp5] = open;
    const plan = [[cp1, '08:00', 1000, 4000, '09:00'], [cp4, '08:00', 0, 2500, '08:30'], [cp5, '07:00', 500, null, null],
      [cp1, '10:00', 100, 100, '10:05'], [cp4, '09:00', 0, null, null], [cp5, '06:00', 0, 9000, '09:00'],
      [cp1, '11:00', 0, 2500, '12:00']];
    let conn = 1;
    for (const [cp, start, m0, m1, stop] of plan) {
      const tag = `LT-${[0, 1, 3, 5][conn % 4]}`;
      const r = await cp.call('StartTransaction', { connectorId: conn++, idTag: tag, meterStart: m0, timestamp: at(start) });
      if (m1 !== null) await cp.call('StopTransaction', { transactionId: r.transactionId, meterStop: m1, timestamp: at(stop) });
    }
    // users, two of them logged in once
    const pw = 'a-list-password-1';
    for (const u of ['zoe', 'adam', 'mia', 'bob']) {
      const r = await s.api('POST', '/api/v1/users', { username: u, password: pw, role: 'viewer' });
      assert.strictEqual(r.status, 201, JSON.stringify(r.body));
    }
    for (const u of ['mia', 'zoe']) {
      assert.strictEqual((await s.api('POST', '/api/v1/auth/login', { username: u, password: pw }, { token: null })).status, 200);
    }
    // API tokens: names with a tie, expiries with nulls, some used
    const made = [];
    for (const [name, exp] of [['sync', '2030-01-01T00:00:00Z'], ['alpha', null], ['sync', '2028-01-01T00:00:00Z'], ['beta', null]]) {
      const r = await s.api('POST', '/api/v1/api-tokens', exp ? { name, role: 'viewer', expires_at: exp } : { name, role: 'viewer' });
      assert.strictEqual(r.status, 201, JSON.stringify(r.body));
      made.push(r.body.token);
    }
    for (const tok of [made[0], made[3]]) await s.api('GET', '/api/v1/stations?limit=1', undefined, { token: tok });
    // webhook deliveries that end after 1, 2 or 3 attempts
    let hits = 0;
    const tries = new Map();
    rx = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => { body += d; });
      req.on('end', () => {
        hits++;
        const id = Number(JSON.parse(body).id);
        const n = (tries.get(id) || 0) + 1;
        tries.set(id, n);
        const fail = id % 3 === 0 || (id % 3 === 1 && n === 1);
        res.writeHead(fail ? 500 : 200);
        res.end();
      });
    });
    await new Promise((resolve) => rx.listen(0, '127.0.0.1', resolve));
    const hook = await s.api('POST', '/api/v1/webhooks', { url: `http://127.0.0.1:${rx.address().port}/lists`, event_types: ['session.ended'] });
    assert.strictEqual(hook.status, 201, JSON.stringify(hook.body));
    LISTS.deliveries.path = `/api/v1/webhooks/${hook.body.id}/deliveries`;
    for (let i = 0; i < 7; i++) assert.strictEqual((await s.api('POST', `/api/v1/webhooks/${hook.body.id}/test`)).status, 202);
    await waitFor(async () => {
      const d = (await get(`${LISTS.deliveries.path}?limit=500`)).items;
      return d.length === 7 && d.every((x) => x.state === 'succeeded' || x.state === 'failed');
    }, { what: 'every delivery to finish', timeout: 20000 });
    assert.ok(hits >= 7);
    assert.strictEqual((await s.api('POST', '/api/v1/users', { username: 'lister', password: pw, role: 'admin' })).status, 201);
    const li = await s.api('POST', '/api/v1/auth/login', { username: 'lister', password: pw }, { token: null });
    assert.strictEqual(li.status, 200, JSON.stringify(li.body));
    cookie = li.headers.get('set-cookie').split(';')[0];

    // --- every list, every sort, both ways ---------------------------------------
    for (const [name, list] of Object.entries(LISTS)) {
      await t.test(`${name}: sorted both ways by each field, paging gives the same order`, async () => {
        await checkList(name, list);
      });
    }

    await t.test('defaults are unchanged: stations by id, sessions and the audit log newest first', async () => {
      const st = (await get('/api/v1/stations')).items.map((x) => x.id);
      assert.deepStrictEqual(st, [...st].sort());
      const ses = (await get('/api/v1/sessions')).items.map((x) => x.id);
      assert.deepStrictEqual(ses, [...ses].sort((a, b) => b - a));
      const au = (await get('/api/v1/audit-log?limit=500')).items.map((x) => x.id);
      assert.deepStrictEqual(au, [...au].sort((a, b) => b - a));
      const users = (await get('/api/v1/users')).items.map((x) => x.username);
      assert.deepStrictEqual(users, [...users].sort());
    });

    await t.test('sort keys have the documented nulls: running sessions stop last, tokens without expiry expire last', async () => {
      const ses = (await get('/api/v1/sessions?sort=stopped_at')).items;
      assert.ok(ses.slice(-2).every((x) => x.stopped_at === null) && ses.filter((x) => x.stopped_at === null).length === 2);
      const en = (await get('/api/v1/sessions?sort=energy_wh')).items;
      assert.deepStrictEqual(en.map((x) => x.energy_wh).slice(0, 2), [null, null], 'unknown energy first ascending');
      assert.deepStrictEqual((await get('/api/v1/sessions?sort=-energy_wh&limit=1')).items[0].energy_wh, 9000);
      const tok = (await get('/api/v1/id-tokens?sort=expiry')).items.map((x) => x.id_token);
      assert.deepStrictEqual(tok.slice(-2), ['LT-1', 'LT-3'], 'no expiry = never expires, last; ties by id');
      assert.deepStrictEqual((await get('/api/v1/stations?sort=-connected')).items.slice(0, 3).map((x) => x.id), ['LS-5', 'LS-4', 'LS-1']);
      const logins = (await get('/api/v1/users?sort=-last_login_at')).items.map((x) => x.username);
      assert.deepStrictEqual(logins.slice(0, 3), ['lister', 'zoe', 'mia'], 'the latest login first');
    });

    await t.test('filters and sort combine, and page together', async () => {
      const all = (await get('/api/v1/sessions?station=LS-1&sort=-started_at')).items;
      assert.deepStrictEqual(all.map((x) => x.started_at).map(Date.parse), [at('11:00'), at('10:00'), at('08:00')].map(Date.parse));
      const pages = await paged('/api/v1/sessions?station=LS-1', '-started_at', 1);
      assert.deepStrictEqual(pages.map((x) => x.id), all.map((x) => x.id));
      const north = await paged('/api/v1/stations?site=north', '-created_at', 1);
      assert.deepStrictEqual(north.map((x) => x.id), ['LS-3', 'LS-0']);
      const sessOffset = (await get('/api/v1/sessions?sort=started_at&offset=2&limit=2')).items.map((x) => x.id);
      const sessAll = (await get('/api/v1/sessions?sort=started_at')).items.map((x) => x.id);
      assert.deepStrictEqual(sessOffset, sessAll.slice(2, 4), 'offset applies within the sort');
    });

    await t.test('a page boundary inside a run of equal keys and across the nulls loses nothing', async () => {
      // energies: null, null, 0, 2500, 2500, 3000, 9000 ascending: pages of 1 cross both
      const one = await paged('/api/v1/sessions', 'energy_wh', 1);
      const all = (await get('/api/v1/sessions?sort=energy_wh')).items;
      assert.deepStrictEqual(one.map((x) => x.id), all.map((x) => x.id));
      const three = await paged('/api/v1/api-tokens', '-expires_at', 3);
      assert.deepStrictEqual(three.map((x) => x.id), (await get('/api/v1/api-tokens?sort=-expires_at')).items.map((x) => x.id));
    });

    await t.test('unknown sort fields are refused, naming the allowed ones', async () => {
      for (const [name, list] of Object.entries(LISTS)) {
        for (const bad of ['nope', '-', '', '--id', 'id,site', 'password_hash', ' id']) {
          const r = await call(q(list.path, `sort=${encodeURIComponent(bad)}`));
          problem(r, 400, /^sort must be /);
          for (const f of Object.keys(list.fields)) assert.ok(r.body.detail.includes(f), `${name}: the detail names ${f}: ${r.body.detail}`);
        }
      }
    });

    await t.test('a cursor works only with the sort it was made for', async () => {
      for (const [name, list] of Object.entries(LISTS)) {
        const fields = Object.keys(list.fields);
        const p = await get(q(list.path, `sort=${fields[1]}&limit=1`));
        assert.ok(p.next_cursor, `${name}: a next page`);
        const other = await call(q(list.path, `sort=-${fields[1]}&limit=1&cursor=${p.next_cursor}`));
        problem(other, 400, new RegExp(`belongs to sort=${fields[1]}, not sort=-${fields[1]}`));
        problem(await call(q(list.path, `limit=1&cursor=${p.next_cursor}`)), 400, /belongs to sort=/);
        const def = await get(q(list.path, 'limit=1'));
        problem(await call(q(list.path, `sort=${fields[1]}&cursor=${def.next_cursor}`)), 400, new RegExp(`belongs to sort=${list.default}`));
        assert.strictEqual((await call(q(list.path, `sort=${fields[1]}&limit=1&cursor=${p.next_cursor}`))).status, 200);
      }
    });

    await t.test('forged and damaged cursors are refused', async () => {
      const bad = [
        'garbage!', b64('v2:not json'), b64('v2:["id","LS-1"]'), b64('v2:["id",{"a":1},"LS-1"]'),
        b64('v2:["id","LS-1",5]'), b64('v3:["id","LS-1","LS-1"]'), b64('v1:'), 'A'.repeat(900), b64('v2:["id","x\u0000","y"]'),
      ];
      for (const c of bad) {
        const r = await call(`/api/v1/stations?cursor=${encodeURIComponent(c)}`);
        assert.strictEqual(r.status, 400, `cursor ${c.slice(0, 60)} (${Buffer.from(c, 'base64url').toString().slice(0, 40)}): ${r.status}`);
        problem(r, 400, /cursor/);
      }
      problem(await call(`/api/v1/sessions?cursor=${b64('v2:["-id",5,"5"]')}`), 400, /cursor is not one/);
      problem(await call(`/api/v1/sessions?cursor=${b64('v1:abc')}`), 400, /cursor is not one/);
    });

    await t.test('cursors of the earlier format still page the default order', async () => {
      const all = (await get('/api/v1/sessions')).items.map((x) => x.id);
      const r = await get(`/api/v1/sessions?cursor=${b64(`v1:${all[1]}`)}`);
      assert.deepStrictEqual(r.items.map((x) => x.id), all.slice(2));
      const st = await get(`/api/v1/stations?cursor=${b64('v1:LS-4')}`);
      assert.deepStrictEqual(st.items.map((x) => x.id), ['LS-5', 'LS-6']);
      problem(await call(`/api/v1/stations?sort=site&cursor=${b64('v1:LS-4')}`), 400, /belongs to sort=id/);
    });
  } finally {
    for (const c of open) await c.close().catch(() => {});
    if (rx) rx.close();
    const st = await s.stop();
    s.cleanup();
    assert.deepStrictEqual(st, { code: 0, signal: null }, `exit ${JSON.stringify(st)}; stderr:\n${s.stderr.slice(-4000)}`);
  }
});
