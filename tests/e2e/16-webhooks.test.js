// Outbound webhooks: an integration subscribes a URL to event types and gets
// signed POSTs (X-Ampgrid-Signature: t=..,v1=HMAC-SHA256(secret, "t.body"))
// for what happens on the network; failed deliveries are retried with
// back-off, their history is visible through the API, and a delivery
// survives kill -9 of the server. Hostile input is refused with problem+json.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const crypto = require('node:crypto');
const http = require('node:http');
const { spawnSync } = require('node:child_process');
const { Server, BIN, sleep, waitFor } = require('./lib/harness');

const CONFIG = '[webhooks]\nretry_base = 1\nmax_attempts = 3\ntimeout = 2\nconnect_timeout = 1\n' +
  'allow_private_networks = true\n[http]\nmax_body = 8192\n';

// A local receiver: records every request; `routes[path]` decides the answer
// (a status, or 'hang' to never answer).
async function receiver() {
  const r = { requests: [], routes: {}, sockets: new Set() };
  r.server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      const path = req.url;
      r.requests.push({ path, headers: req.headers, body, at: Date.now(), json: JSON.parse(body) });
      let route = r.routes[path] ?? 200;
      if (typeof route === 'function') route = route(r.requests.filter((x) => x.path === path).length);
      if (route === 'hang') return;
      res.writeHead(route, { 'content-type': 'text/plain' });
      res.end(route >= 200 && route < 300 ? 'thanks' : `no: ${route}`);
    });
  });
  r.server.on('connection', (s) => { r.sockets.add(s); s.on('close', () => r.sockets.delete(s)); });
  await new Promise((resolve) => r.server.listen(0, '127.0.0.1', resolve));
  r.url = (p) => `http://127.0.0.1:${r.server.address().port}${p}`;
  r.at = (p) => r.requests.filter((x) => x.path === p);
  r.close = () => new Promise((resolve) => {
    for (const s of r.sockets) s.destroy();
    r.server.close(resolve);
  });
  return r;
}

function verify(req, secret) {
  const sig = req.headers['x-ampgrid-signature'];
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(sig || '');
  assert.ok(m, `signature header malformed: ${sig}`);
  const expected = crypto.createHmac('sha256', secret).update(`${m[1]}.${req.body}`).digest('hex');
  assert.strictEqual(m[2], expected, 'the signature does not match the body and secret');
  assert.ok(Math.abs(Number(m[1]) - Date.now() / 1000) < 60, 'signature timestamp is now');
}

async function deliveries(s, hookId, query = '') {
  const r = await s.api('GET', `/api/v1/webhooks/${hookId}/deliveries${query}`);
  assert.strictEqual(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

// The webhook counters of /metrics.
async function hookMetrics(s) {
  const r = await fetch(`${s.httpUrl}/metrics`);
  assert.strictEqual(r.status, 200);
  const text = await r.text();
  const m = {};
  for (const k of ['pending', 'succeeded_total', 'failed_total', 'retried_total']) {
    const name = `ampgrid_webhook_deliveries_${k}`;
    assert.match(text, new RegExp(`^# TYPE ${name} ${k === 'pending' ? 'gauge' : 'counter'}$`, 'm'));
    const line = new RegExp(`^${name} (\\d+)$`, 'm').exec(text);
    assert.ok(line, `${name} is missing from /metrics`);
    m[k.replace('_total', '')] = Number(line[1]);
  }
  return m;
}

async function createHook(s, body, expect = 201) {
  const r = await s.api('POST', '/api/v1/webhooks', body);
  assert.strictEqual(r.status, expect, JSON.stringify(r.body));
  return r.body;
}

function problem(r, status, re) {
  assert.strictEqual(r.status, status, JSON.stringify(r.body));
  assert.match(r.headers.get('content-type'), /^application\/problem\+json/);
  assert.strictEqual(r.body.status, status);
  if (re) assert.match(r.body.detail, re);
}

async function stopAndCheck(s) {
  const st = await s.stop();
  s.cleanup();
  assert.deepStrictEqual(st, { code: 0, signal: null },
    `server did not exit cleanly on SIGTERM: ${JSON.stringify(st)}\n--- stderr (tail) ---\n${s.stderr.slice(-6000)}`);
}

test('webhooks', async (t) => {
  const rx = await receiver();
  const s = await new Server({ config: CONFIG }).start();
  const open = [];
  try {
    await t.test('hostile input is refused with 400 problem+json', async () => {
      const bad = async (body, re, status = 400) => problem(await s.api('POST', '/api/v1/webhooks', body), status, re);
      const ok = { url: rx.url('/x'), event_types: ['*'] };
      for (const url of ['file:///etc/passwd', 'ftp://example.com/x', 'gopher://example.com/', 'javascript:alert(1)',
        'not a url', 'http://', '/relative/path', 'http://exa mple.com/', 'dict://127.0.0.1:11211/']) {
        await bad({ ...ok, url }, /url/);
      }
      await bad({ ...ok, url: 'https://example.com/' + 'a'.repeat(3000) }, /longer than/);
      await bad({ ...ok, url: 42 }, /url must be a string/);
      await bad({ event_types: ['*'] }, /url is required/);
      await bad({ url: rx.url('/x') }, /event_types is required/);
      await bad({ ...ok, event_types: ['station.exploded'] }, /not an event type/);
      await bad({ ...ok, event_types: ['meter.values'] }, /not an event type/);
      await bad({ ...ok, event_types: [] }, /event_types must be a list/);
      await bad({ ...ok, event_types: 'session.started' }, /event_types must be a list/);
      await bad({ ...ok, event_types: ['session.started', 'session.started'] }, /twice/);
      await bad({ ...ok, event_types: [1] }, /not an event type/);
      await bad({ ...ok, secret: 'short' }, /secret must be/);
      await bad({ ...ok, secret: 'has spaces in it, too many' }, /secret must be/);
      await bad({ ...ok, enabled: 'yes' }, /enabled must be/);
      await bad({ ...ok, description: 'd'.repeat(501) }, /description/);
      await bad({ ...ok, colour: 'red' }, /unknown field 'colour'/);
      await bad('{"url": ', /not valid JSON/);
      await bad('[]', /JSON object/);
      await bad({ ...ok, description: 'x'.repeat(10000) }, null, 413);
      problem(await s.api('POST', '/api/v1/webhooks', 'url=x', { headers: { 'content-type': 'text/plain' } }), 415);
      problem(await s.api('GET', '/api/v1/webhooks/999'), 404, /no webhook/);
      problem(await s.api('GET', '/api/v1/webhooks/abc'), 404);
      problem(await s.api('GET', '/api/v1/webhooks/-1'), 404);
      const list = await s.api('GET', '/api/v1/webhooks');
      assert.deepStrictEqual(list.body.items, [], 'nothing was created by the refused requests');
    });

    await t.test('roles: an integration token manages webhooks, a viewer or operator may not', async () => {
      const tok = (role) => {
        const r = spawnSync(BIN, ['token', 'create', '--data-dir', s.dataDir, '--role', role, '--name', `wh-${role}`], { encoding: 'utf8' });
        assert.strictEqual(r.status, 0, r.stderr);
        return r.stdout.trim();
      };
      const integration = tok('integration');
      for (const role of ['viewer', 'operator']) {
        problem(await s.api('GET', '/api/v1/webhooks', undefined, { token: tok(role) }), 403, new RegExp(`has the ${role} role`));
      }
      const r = await s.api('POST', '/api/v1/webhooks', { url: rx.url('/roles'), event_types: ['session.ended'] }, { token: integration });
      assert.strictEqual(r.status, 201, JSON.stringify(r.body));
      assert.strictEqual((await s.api('DELETE', `/api/v1/webhooks/${r.body.id}`, undefined, { token: integration })).status, 204);
      problem(await s.api('GET', '/api/v1/webhooks', undefined, { token: null }), 401);
    });

    let all, faults;
    await t.test('create, read, change and delete', async () => {
      all = await createHook(s, { url: rx.url('/all'), event_types: ['*'], description: 'everything' });
      assert.match(all.secret, /^whsec_[0-9a-f]{64}$/);
      assert.strictEqual(all.enabled, true);
      assert.deepStrictEqual(all.event_types, ['*']);
      assert.ok(Date.parse(all.created_at) > 0);
      faults = await createHook(s, { url: rx.url('/faults'), event_types: ['connector.fault'], secret: 'my-own-secret-0123456789' });
      assert.strictEqual(faults.secret, 'my-own-secret-0123456789');
      const got = await s.api('GET', `/api/v1/webhooks/${all.id}`);
      assert.strictEqual(got.status, 200);
      assert.strictEqual(got.body.secret, undefined, 'the secret is only shown on create');
      assert.strictEqual(got.body.description, 'everything');
      const list = await s.api('GET', '/api/v1/webhooks');
      assert.deepStrictEqual(list.body.items.map((w) => w.id), [all.id, faults.id]);
      assert.ok(list.body.items.every((w) => w.secret === undefined));

      const tmp = await createHook(s, { url: rx.url('/tmp'), event_types: ['station.online'], enabled: false });
      assert.strictEqual(tmp.enabled, false);
      const p = await s.api('PATCH', `/api/v1/webhooks/${tmp.id}`, { description: 'changed', event_types: ['station.offline', 'station.online'] });
      assert.strictEqual(p.status, 200, JSON.stringify(p.body));
      assert.strictEqual(p.body.description, 'changed');
      assert.deepStrictEqual(p.body.event_types, ['station.offline', 'station.online']);
      assert.strictEqual(p.body.url, rx.url('/tmp'));
      problem(await s.api('PATCH', `/api/v1/webhooks/${tmp.id}`, { secret: 'a-new-secret-0123456789' }), 400, /rotate-secret/);
      problem(await s.api('PATCH', `/api/v1/webhooks/${tmp.id}`, { url: 'file:///etc/shadow' }), 400, /http/);
      problem(await s.api('PATCH', '/api/v1/webhooks/424242', { enabled: true }), 404);
      assert.strictEqual((await s.api('DELETE', `/api/v1/webhooks/${tmp.id}`)).status, 204);
      problem(await s.api('DELETE', `/api/v1/webhooks/${tmp.id}`), 404);
      problem(await s.api('GET', `/api/v1/webhooks/${tmp.id}`), 404);
    });

    await t.test('a station\'s life produces signed deliveries of the subscribed types', async () => {
      await s.createStation('WH-1');
      await s.createIdToken('WH-TAG');
      const cp = await s.bootedStation('WH-1');
      open.push(cp);
      const now = () => new Date().toISOString();
      await cp.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available', timestamp: now() });
      await cp.call('StatusNotification', { connectorId: 2, errorCode: 'GroundFailure', status: 'Faulted', timestamp: now() });
      const start = await cp.call('StartTransaction', { connectorId: 1, idTag: 'WH-TAG', meterStart: 100, timestamp: now() });
      await cp.call('StopTransaction', { transactionId: start.transactionId, meterStop: 900, timestamp: now(), reason: 'Local' });
      await cp.close();
      const want = ['station.online', 'station.boot', 'connector.status', 'connector.fault', 'session.started', 'session.ended', 'station.offline'];
      await waitFor(() => want.every((ty) => rx.at('/all').some((r) => r.json.type === ty)),
        { what: `deliveries of ${want.join(', ')}; got ${JSON.stringify(rx.at('/all').map((r) => r.json.type))}`, timeout: 15000 });
      for (const req of rx.at('/all')) {
        verify(req, all.secret);
        assert.strictEqual(req.headers['content-type'], 'application/json');
        assert.strictEqual(req.headers['x-ampgrid-event'], req.json.type);
        assert.strictEqual(req.headers['x-ampgrid-delivery'], req.json.id);
        assert.match(req.headers['user-agent'], /^ampgrid\/\d+\.\d+\.\d+$/);
        assert.match(req.json.id, /^\d+$/);
        assert.ok(Date.parse(req.json.created_at) > Date.now() - 60000, req.body);
        assert.strictEqual(req.json.data.station_id, 'WH-1', req.body);
        assert.deepStrictEqual(Object.keys(req.json), ['id', 'type', 'created_at', 'data']);
      }
      const byType = (ty) => rx.at('/all').filter((r) => r.json.type === ty);
      assert.strictEqual(byType('connector.fault').length, 1);
      assert.strictEqual(byType('connector.fault')[0].json.data.error_code, 'GroundFailure');
      assert.strictEqual(byType('session.started')[0].json.data.session_id, start.transactionId, JSON.stringify(byType('session.started')[0].json));
      assert.strictEqual(byType('connector.status').length, 2);
      // the fault-only webhook got the fault and nothing else, signed with its own secret
      await waitFor(() => rx.at('/faults').length >= 1, { what: 'the fault delivery' });
      await sleep(300);
      assert.deepStrictEqual(rx.at('/faults').map((r) => r.json.type), ['connector.fault']);
      verify(rx.at('/faults')[0], 'my-own-secret-0123456789');
      // history
      await waitFor(async () => (await deliveries(s, all.id, '?state=succeeded')).items.length >= want.length, { what: 'history' });
      const h = await deliveries(s, all.id);
      for (const d of h.items) {
        assert.strictEqual(d.state, 'succeeded', JSON.stringify(d));
        assert.strictEqual(d.attempts, 1);
        assert.strictEqual(d.last_status, 200);
        assert.strictEqual(d.last_response, 'thanks');
        assert.strictEqual(d.webhook_id, all.id);
        assert.strictEqual(typeof d.last_duration_ms, 'number');
      }
    });

    await t.test('disabled webhooks get nothing; rotate-secret changes the signing key', async () => {
      const p = await s.api('PATCH', `/api/v1/webhooks/${faults.id}`, { enabled: false });
      assert.strictEqual(p.body.enabled, false);
      const before = rx.at('/faults').length;
      const cp = await s.bootedStation('WH-1');
      await cp.call('StatusNotification', { connectorId: 2, errorCode: 'GroundFailure', status: 'Faulted', timestamp: new Date().toISOString() });
      await cp.close();
      const rot = await s.api('POST', `/api/v1/webhooks/${all.id}/rotate-secret`);
      assert.strictEqual(rot.status, 200, JSON.stringify(rot.body));
      assert.match(rot.body.secret, /^whsec_[0-9a-f]{64}$/);
      assert.notStrictEqual(rot.body.secret, all.secret);
      const n = rx.at('/all').length;
      const ping = await s.api('POST', `/api/v1/webhooks/${all.id}/test`);
      assert.strictEqual(ping.status, 202, JSON.stringify(ping.body));
      assert.strictEqual(ping.body.event_type, 'ping');
      await waitFor(() => rx.at('/all').slice(n).some((r) => r.json.type === 'ping'), { what: 'the ping' });
      verify(rx.at('/all').slice(n).find((r) => r.json.type === 'ping'), rot.body.secret);
      assert.strictEqual(rx.at('/faults').length, before, 'a disabled webhook got a delivery');
    });

    await t.test('a 500 is retried with back-off; history shows attempts and the last status', async () => {
      const m0 = await hookMetrics(s);
      rx.routes['/flaky'] = (n) => (n === 1 ? 500 : 200);
      const hook = await createHook(s, { url: rx.url('/flaky'), event_types: ['session.ended'] });
      const ping = await s.api('POST', `/api/v1/webhooks/${hook.id}/test`);
      assert.strictEqual(ping.status, 202);
      await waitFor(() => rx.at('/flaky').length >= 2, { what: 'the retry', timeout: 10000 });
      const [a, b] = rx.at('/flaky');
      assert.strictEqual(a.json.id, b.json.id, 'the retry is the same delivery');
      assert.strictEqual(a.body, b.body, 'the same body');
      assert.ok(b.at - a.at >= 450, `retried after ${b.at - a.at} ms; retry_base = 1 s means at least 0.5 s`);
      await waitFor(async () => (await deliveries(s, hook.id)).items[0].state === 'succeeded', { what: 'success recorded' });
      const d = (await deliveries(s, hook.id)).items[0];
      assert.strictEqual(d.attempts, 2);
      assert.strictEqual(d.last_status, 200);
      assert.strictEqual(d.last_error, null);
      assert.strictEqual(d.id, Number(ping.body.id));
      // one delivery on its own, as the list shows it
      const one = await s.api('GET', `/api/v1/webhooks/${hook.id}/deliveries/${d.id}`);
      assert.strictEqual(one.status, 200, JSON.stringify(one.body));
      assert.deepStrictEqual(one.body, d);
      problem(await s.api('GET', `/api/v1/webhooks/${all.id}/deliveries/${d.id}`), 404, /no delivery/);
      problem(await s.api('GET', `/api/v1/webhooks/${hook.id}/deliveries/abc`), 404);
      problem(await s.api('GET', `/api/v1/webhooks/999999/deliveries/${d.id}`), 404, /no webhook/);
      let m = await hookMetrics(s);
      assert.strictEqual(m.succeeded - m0.succeeded, 1, 'one delivery succeeded');
      assert.strictEqual(m.retried - m0.retried, 1, 'after one retry');
      assert.strictEqual(m.failed, m0.failed);

      rx.routes['/broken'] = 500;
      const broken = await createHook(s, { url: rx.url('/broken'), event_types: ['*'] });
      const p2 = await s.api('POST', `/api/v1/webhooks/${broken.id}/test`);
      await waitFor(async () => (await deliveries(s, broken.id)).items[0].state === 'failed', { what: 'failed after max_attempts', timeout: 15000 });
      const f = (await deliveries(s, broken.id, '?state=failed')).items[0];
      assert.strictEqual(f.attempts, 3);
      assert.strictEqual(f.last_status, 500);
      assert.match(f.last_error, /HTTP 500/);
      assert.strictEqual(f.last_response, 'no: 500');
      assert.strictEqual(rx.at('/broken').length, 3);
      m = await hookMetrics(s);
      assert.strictEqual(m.failed - m0.failed, 1, 'the broken one failed for good');
      assert.strictEqual(m.retried - m0.retried, 1 + 2, 'after two more retries');
      const detail = (await s.api('GET', `/api/v1/webhooks/${broken.id}/deliveries/${f.id}`)).body;
      assert.strictEqual(detail.state, 'failed');
      assert.strictEqual(detail.last_response, 'no: 500');
      assert.strictEqual(detail.attempts, 3);
      const gaps = rx.at('/broken').slice(1).map((r, i) => r.at - rx.at('/broken')[i].at);
      assert.ok(gaps[1] >= 900, `the second retry waits longer (back-off doubles): gaps ${gaps}`);
      // redeliver: a new delivery with the same payload
      rx.routes['/broken'] = 204;
      const re = await s.api('POST', `/api/v1/webhooks/${broken.id}/deliveries/${p2.body.id}/redeliver`);
      assert.strictEqual(re.status, 202, JSON.stringify(re.body));
      assert.strictEqual(re.body.redelivery_of, p2.body.id);
      assert.notStrictEqual(re.body.id, p2.body.id);
      await waitFor(async () => (await deliveries(s, broken.id, '?state=succeeded')).items.length === 1, { what: 'the redelivery' });
      assert.deepStrictEqual(rx.at('/broken')[3].json.data, rx.at('/broken')[0].json.data);
      problem(await s.api('POST', `/api/v1/webhooks/${broken.id}/deliveries/999999/redeliver`), 404);
      problem(await s.api('POST', `/api/v1/webhooks/${hook.id}/deliveries/${p2.body.id}/redeliver`), 404, /no delivery/);
    });

    await t.test('a receiver that never answers times out', async () => {
      rx.routes['/hang'] = 'hang';
      const hook = await createHook(s, { url: rx.url('/hang'), event_types: ['*'] });
      await s.api('POST', `/api/v1/webhooks/${hook.id}/test`);
      await waitFor(async () => (await deliveries(s, hook.id)).items[0].attempts >= 1, { what: 'a timed-out attempt', timeout: 10000 });
      const d = (await deliveries(s, hook.id)).items[0];
      assert.match(d.last_error, /timed out/);
      assert.strictEqual(d.last_status, null);
      assert.ok(d.last_duration_ms >= 1900 && d.last_duration_ms < 5000, `duration ${d.last_duration_ms}`);
      assert.strictEqual(d.state, 'pending');
      assert.ok(d.next_attempt_at);
      // nothing listening: connection refused, recorded as such
      const dead = await createHook(s, { url: 'http://127.0.0.1:1/nothing', event_types: ['*'] });
      await s.api('POST', `/api/v1/webhooks/${dead.id}/test`);
      await waitFor(async () => (await deliveries(s, dead.id)).items[0].attempts >= 1, { what: 'a refused attempt' });
      assert.match((await deliveries(s, dead.id)).items[0].last_error, /connect/i);
      await s.api('DELETE', `/api/v1/webhooks/${hook.id}`);
      await s.api('DELETE', `/api/v1/webhooks/${dead.id}`);
    });

    await t.test('deliveries page with opaque cursors and filter by state', async () => {
      const hook = await createHook(s, { url: rx.url('/pages'), event_types: ['*'], enabled: false });
      const ids = [];
      for (let i = 0; i < 5; i++) ids.push((await s.api('POST', `/api/v1/webhooks/${hook.id}/test`)).body.id);
      const seen = [];
      let cursor = null;
      do {
        const page = await deliveries(s, hook.id, `?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        assert.ok(page.items.length <= 2);
        seen.push(...page.items.map((d) => d.id));
        cursor = page.next_cursor;
      } while (cursor);
      assert.deepStrictEqual(seen, [...ids].reverse(), 'newest first, each once');
      assert.strictEqual((await deliveries(s, hook.id, '?state=pending')).items.length, 5);
      assert.strictEqual((await deliveries(s, hook.id, '?state=succeeded')).items.length, 0);
      // the pending gauge counts what the store holds unfinished, across webhooks
      let unfinished = 0;
      for (const w of (await s.api('GET', '/api/v1/webhooks')).body.items) {
        for (const st of ['pending', 'sending']) unfinished += (await deliveries(s, w.id, `?state=${st}&limit=500`)).items.length;
      }
      assert.ok(unfinished >= 5);
      assert.strictEqual((await hookMetrics(s)).pending, unfinished);
      problem(await s.api('GET', `/api/v1/webhooks/${hook.id}/deliveries?limit=0`), 400, /limit/);
      problem(await s.api('GET', `/api/v1/webhooks/${hook.id}/deliveries?limit=501`), 400, /limit/);
      problem(await s.api('GET', `/api/v1/webhooks/${hook.id}/deliveries?cursor=garbage`), 400, /cursor/);
      problem(await s.api('GET', `/api/v1/webhooks/${hook.id}/deliveries?state=lost`), 400, /state/);
      problem(await s.api('GET', '/api/v1/webhooks/999999/deliveries'), 404);
      // enabling sends what waited
      await s.api('PATCH', `/api/v1/webhooks/${hook.id}`, { enabled: true });
      await waitFor(() => rx.at('/pages').length === 5, { what: 'the 5 queued pings after enabling' });
      await waitFor(async () => (await hookMetrics(s)).pending === unfinished - 5, { what: 'the pending gauge to drop by 5' });
    });

    await t.test('a pending delivery survives kill -9 and is delivered after restart', async () => {
      rx.routes['/durable'] = 'hang'; // the first attempt is in flight when the server dies
      const hook = await createHook(s, { url: rx.url('/durable'), event_types: ['*'] });
      const ping = await s.api('POST', `/api/v1/webhooks/${hook.id}/test`);
      await waitFor(() => rx.at('/durable').length === 1, { what: 'the first attempt' });
      await s.kill9();
      rx.routes['/durable'] = 200;
      const s2 = new Server(s.restartOptions());
      s.proc = null;
      await s2.start();
      Object.assign(s, { proc: s2.proc, exited: s2.exited, httpPort: s2.httpPort, ocppPort: s2.ocppPort, stdout: s2.stdout, stderr: s2.stderr });
      s2.proc.stderr.on('data', (d) => { s.stderr += d; });
      await waitFor(() => rx.at('/durable').length >= 2, { what: 'delivery after restart', timeout: 10000 });
      assert.strictEqual(rx.at('/durable')[1].json.id, String(ping.body.id));
      await waitFor(async () => (await deliveries(s, hook.id)).items[0].state === 'succeeded', { what: 'success recorded after restart' });
      const list = await s.api('GET', '/api/v1/webhooks');
      assert.ok(list.body.items.some((w) => w.id === all.id), 'webhooks are durable too');
      // an attempt in flight at SIGTERM is cancelled cleanly (the finally block checks the exit)
      rx.routes['/durable'] = 'hang';
      await s.api('POST', `/api/v1/webhooks/${hook.id}/test`);
      await waitFor(() => rx.at('/durable').length >= 3, { what: 'an attempt in flight' });
    });
  } finally {
    for (const c of open) await c.close().catch(() => {});
    await stopAndCheck(s);
    await rx.close();
  }
});

test('by default, deliveries to loopback and private addresses are refused', async () => {
  const rx = await receiver();
  const s = await new Server({ config: '[webhooks]\nmax_attempts = 1\n' }).start();
  try {
    const hook = await createHook(s, { url: rx.url('/private'), event_types: ['*'] });
    await s.api('POST', `/api/v1/webhooks/${hook.id}/test`);
    await waitFor(async () => (await deliveries(s, hook.id)).items[0].state === 'failed', { what: 'the refused delivery' });
    const d = (await deliveries(s, hook.id)).items[0];
    assert.match(d.last_error, /127\.0\.0\.1.*not a public address/);
    assert.strictEqual(rx.requests.length, 0);
  } finally {
    await stopAndCheck(s);
    await rx.close();
  }
});
