// Demand response and prices (issue 7): utility signals through the API,
// announced as smart.signal / demand_response.* events at their start and
// end (one timer, seconds-exact), validated with problem+json, durable across
// a restart; and the OpenADR 3.0 VEN client against a VTN started here
// (tests/e2e/lib/vtn.js): capacity limits and prices picked up, reports sent,
// deletions followed, and a misbehaving VTN survived.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const http = require('node:http');
const { Server, waitFor, sleep } = require('./lib/harness');
const { openEvents } = require('./lib/helpers');
const { Vtn } = require('./lib/vtn');

function problem(r, status, re) {
  assert.strictEqual(r.status, status, JSON.stringify(r.body));
  assert.match(r.headers.get('content-type'), /^application\/problem\+json/);
  if (re) assert.match(r.body.detail, re);
}

// RFC 3339 for a whole second `s` seconds from now (the module works in seconds).
const at = (s) => new Date((Math.floor(Date.now() / 1000) + s) * 1000).toISOString();

test('demand-response events through the API: validation, overlap, timers, delete, restart', async (t) => {
  const s = await new Server().start();
  t.after(async () => { await s.stop(); s.cleanup(); });
  await s.createStation('DR-1', { site: 'depot' });
  const ev = await openEvents(s, 'types=smart.,demand_response.');

  // validation: clear problem+json, nothing stored
  problem(await s.api('POST', '/api/v1/demand-response/events', { site: 'depot', start: at(10), end: at(5), limit_kw: 10 }), 400, /end must be after start/);
  problem(await s.api('POST', '/api/v1/demand-response/events', { site: 'depot', start: at(1), end: at(5), limit_kw: -1 }), 400, /limit_kw/);
  problem(await s.api('POST', '/api/v1/demand-response/events', { site: 'nowhere', start: at(1), end: at(5), limit_kw: 5 }), 422, /unknown site 'nowhere'/);
  problem(await s.api('POST', '/api/v1/demand-response/events', { site: 'depot', start: 'yesterday', end: at(5), limit_kw: 5 }), 400, /start/);
  problem(await s.api('POST', '/api/v1/demand-response/events', { site: 'depot', start: at(1), end: at(5), limit_kw: 5, colour: 'red' }), 400, /unknown field 'colour'/);
  problem(await s.api('POST', '/api/v1/demand-response/events', { site: 'depot', start: at(1), end: at(5), limit_kw: 5, phase_limits_a: [16, -2, 16] }), 400, /phase_limits_a\[1\]/);
  assert.deepStrictEqual((await s.api('GET', '/api/v1/demand-response/events')).body.items, []);

  // a wide event and a tighter one inside it
  const wide = await s.api('POST', '/api/v1/demand-response/events', { site: 'depot', start: at(2), end: at(7), limit_kw: 50, reason: 'grid peak' });
  assert.strictEqual(wide.status, 201, JSON.stringify(wide.body));
  assert.strictEqual(wide.body.source, 'api');
  assert.strictEqual(wide.body.status, 'scheduled');
  const tight = await s.api('POST', '/api/v1/demand-response/events', { site: 'depot', start: at(3), end: at(5), limit_kw: 20, phase_limits_a: [16, 16, 16] });
  assert.strictEqual(tight.status, 201, JSON.stringify(tight.body));
  await waitFor(() => ev.events.filter((e) => e.type === 'smart.signal' && e.data.reason === 'created').length === 2, { what: 'created signals' });

  const startWide = Date.parse(wide.body.start), startTight = Date.parse(tight.body.start);
  const endTight = Date.parse(tight.body.end), endWide = Date.parse(wide.body.end);
  await waitFor(() => ev.events.filter((e) => e.type === 'demand_response.ended').length === 2, { timeout: 15000, what: 'both events to end' });
  const started = ev.events.filter((e) => e.type === 'demand_response.started');
  const ended = ev.events.filter((e) => e.type === 'demand_response.ended');
  assert.deepStrictEqual(started.map((e) => e.data.id), [wide.body.id, tight.body.id]);
  assert.deepStrictEqual(ended.map((e) => e.data.id), [tight.body.id, wide.body.id]);
  // each announced at its second, not before and not much after
  const when = [[started[0], startWide], [started[1], startTight], [ended[0], endTight], [ended[1], endWide]];
  for (const [e, due] of when) {
    assert.ok(e.at >= due - 50, `${e.type} ${e.data.id} came ${due - e.at} ms early`);
    assert.ok(e.at <= due + 1500, `${e.type} ${e.data.id} came ${e.at - due} ms late`);
  }
  const sig = ev.events.filter((e) => e.type === 'smart.signal' && ['started', 'ended'].includes(e.data.reason));
  assert.deepStrictEqual(sig.map((e) => [e.data.site, e.data.reason]),
    [['depot', 'started'], ['depot', 'started'], ['depot', 'ended'], ['depot', 'ended']]);

  // the list shows them ended; filters work
  const list = await s.api('GET', '/api/v1/demand-response/events?site=depot');
  assert.deepStrictEqual(list.body.items.map((e) => [e.id, e.status]), [[wide.body.id, 'ended'], [tight.body.id, 'ended']]);
  assert.strictEqual((await s.api('GET', '/api/v1/demand-response/events?status=active')).body.items.length, 0);
  assert.deepStrictEqual((await s.api('GET', `/api/v1/demand-response/events/${tight.body.id}`)).body.phase_limits_a, [16, 16, 16]);

  // change and delete: durable, audited, announced
  const later = await s.api('POST', '/api/v1/demand-response/events', { site: 'depot', start: at(3600), end: at(7200), limit_kw: 30 });
  const patched = await s.api('PATCH', `/api/v1/demand-response/events/${later.body.id}`, { limit_kw: 25 });
  assert.strictEqual(patched.status, 200, JSON.stringify(patched.body));
  assert.strictEqual(patched.body.limit_kw, 25);
  problem(await s.api('PATCH', `/api/v1/demand-response/events/${later.body.id}`, { end: at(1000) }), 400, /end must be after start/);
  const del = await s.api('DELETE', `/api/v1/demand-response/events/${wide.body.id}`);
  assert.strictEqual(del.status, 204);
  problem(await s.api('GET', `/api/v1/demand-response/events/${wide.body.id}`), 404);
  await waitFor(() => ev.events.some((e) => e.type === 'smart.signal' && e.data.reason === 'deleted'), { what: 'deleted signal' });
  const audit = await s.api('GET', '/api/v1/audit-log?limit=50');
  const actions = audit.body.items.map((a) => a.action);
  for (const a of ['demand_response.create', 'demand_response.update', 'demand_response.delete']) assert.ok(actions.includes(a), a);
  ev.close();

  // a restart keeps what was acknowledged (and the stop is clean)
  const st = await s.stop();
  assert.strictEqual(st.code, 0, s.stderr.slice(-3000));
  const s2 = await new Server(s.restartOptions()).start();
  t.after(async () => { await s2.stop(); });
  const after = await s2.api('GET', '/api/v1/demand-response/events?site=depot');
  assert.deepStrictEqual(after.body.items.map((e) => [e.id, e.limit_kw]), [[tight.body.id, 20], [later.body.id, 25]]);
});

test('price schedules: intervals and time of use, validation, the current price', async (t) => {
  const s = await new Server().start();
  t.after(async () => { await s.stop(); s.cleanup(); });
  await s.createStation('PR-1', { site: 'mall' });
  const ev = await openEvents(s, 'types=smart.');

  problem(await s.api('POST', '/api/v1/prices', { site: 'mall', currency: 'EUR', intervals: [
    { start: at(0), end: at(3600), price: 0.2 }, { start: at(1800), end: at(7200), price: 0.3 }] }), 400, /overlap/);
  problem(await s.api('POST', '/api/v1/prices', { site: 'mall', currency: 'EUR', intervals: [{ start: at(10), end: at(0), price: 0.2 }] }), 400, /end must be after start/);
  problem(await s.api('POST', '/api/v1/prices', { site: 'mall', currency: 'euro', intervals: [{ start: at(0), end: at(10), price: 0.2 }] }), 400, /currency/);
  problem(await s.api('POST', '/api/v1/prices', { site: 'atlantis', currency: 'EUR', intervals: [{ start: at(0), end: at(10), price: 0.2 }] }), 422, /unknown site/);
  problem(await s.api('POST', '/api/v1/prices', { currency: 'EUR', time_of_use: { weekday: [{ from: '25:00', price: 1 }] } }), 400, /HH:MM/);

  // a flat default for every site, and a site schedule with a period starting in 2 s
  const def = await s.api('POST', '/api/v1/prices', { site: null, currency: 'EUR',
    time_of_use: { utc_offset: 'Z', weekday: [{ from: '00:00', price: 0.25 }], weekend: [{ from: '00:00', price: 0.25 }] } });
  assert.strictEqual(def.status, 201, JSON.stringify(def.body));
  assert.strictEqual(def.body.site, null);
  assert.strictEqual((await s.api('GET', '/api/v1/prices?site=mall')).body.current_price, 0.25);
  const site = await s.api('POST', '/api/v1/prices', { site: 'mall', currency: 'EUR', intervals: [
    { start: at(2), end: at(4), price: 0.1 }] });
  assert.strictEqual(site.status, 201, JSON.stringify(site.body));
  const begin = Date.parse(site.body.intervals[0].start);
  await waitFor(() => ev.events.some((e) => e.type === 'smart.signal' && e.data.site === 'mall' && e.data.reason === 'started'), { what: 'price period start' });
  const st = ev.events.find((e) => e.type === 'smart.signal' && e.data.site === 'mall' && e.data.reason === 'started');
  assert.ok(st.at >= begin - 50 && st.at <= begin + 1500, `price start announced ${st.at - begin} ms off`);
  assert.strictEqual((await s.api('GET', '/api/v1/prices?site=mall')).body.current_price, 0.1);
  await waitFor(async () => (await s.api('GET', '/api/v1/prices?site=mall')).body.current_price === 0.25, { what: 'back to the default price' });

  const patched = await s.api('PATCH', `/api/v1/prices/${site.body.id}`, { currency: 'USD' });
  assert.strictEqual(patched.status, 200, JSON.stringify(patched.body));
  assert.strictEqual(patched.body.currency, 'USD');
  assert.strictEqual(patched.body.intervals.length, 1);
  assert.strictEqual((await s.api('DELETE', `/api/v1/prices/${def.body.id}`)).status, 204);
  assert.strictEqual((await s.api('GET', '/api/v1/prices?site=mall')).body.current_price, null);
  const all = await s.api('GET', '/api/v1/prices');
  assert.deepStrictEqual(all.body.items.map((p) => p.id), [site.body.id]);
  ev.close();

  // durable: a time-of-use table and the changed schedule come back after a restart, the same
  const tou = await s.api('POST', '/api/v1/prices', { site: 'mall', currency: 'EUR',
    time_of_use: { utc_offset: '-05:30', weekday: [{ from: '07:00', price: 0.3 }, { from: '22:00', price: 0.1 }], weekend: [{ from: '09:00', price: 0.15 }] } });
  assert.strictEqual(tou.status, 201, JSON.stringify(tou.body));
  const want = (await s.api('GET', '/api/v1/prices')).body;
  const stopped = await s.stop();
  assert.strictEqual(stopped.code, 0, s.stderr.slice(-3000));
  const s2 = await new Server(s.restartOptions()).start();
  t.after(async () => { await s2.stop(); });
  assert.deepStrictEqual((await s2.api('GET', '/api/v1/prices')).body, want);
});

// /metrics as { 'name{labels}': value }
async function metrics(s) {
  const text = await (await fetch(`${s.httpUrl}/metrics`)).text();
  const m = {};
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    m[line.slice(0, i)] = Number(line.slice(i + 1));
  }
  return m;
}

test('OpenADR 3.0 VEN: limits and prices from the VTN, reports, deletions, a misbehaving VTN', async (t) => {
  const vtn = await new Vtn().start();
  t.after(() => vtn.stop());
  const s = await new Server({ config: [
    '[openadr]', `vtn_url = ${vtn.url}`, `client_id = ${vtn.clientId}`, `client_secret = ${vtn.clientSecret}`,
    'ven_name = ampgrid-test-ven', 'poll_interval = 1', 'timeout = 2',
    'sites = METER-1:depot, METER-2:yard', 'currency = EUR', '', '[webhooks]', 'allow_private_networks = true', ''].join('\n') }).start();
  t.after(async () => { await s.stop(); s.cleanup(); });
  // a webhook receiver for demand_response.started / ended
  const hooks = [];
  const receiver = http.createServer((req, res) => {
    let b = '';
    req.on('data', (c) => { b += c; });
    req.on('end', () => { hooks.push({ type: req.headers['x-ampgrid-event'], body: JSON.parse(b) }); res.end(); });
  });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => receiver.close(r)));
  const hook = await s.api('POST', '/api/v1/webhooks', { url: `http://127.0.0.1:${receiver.address().port}/dr`,
    event_types: ['demand_response.started', 'demand_response.ended'] });
  assert.strictEqual(hook.status, 201, JSON.stringify(hook.body));
  await s.createStation('OA-1', { site: 'depot' });
  await s.createStation('OA-2', { site: 'yard' });
  const ev = await openEvents(s, 'types=smart.,demand_response.');

  const prog = vtn.addProgram('grid-relief');
  const now = Math.floor(Date.now() / 1000);
  const iso = (x) => new Date(x * 1000).toISOString();
  const cap = vtn.addEvent({ programID: prog.id, eventName: 'evening peak',
    targets: [{ type: 'RESOURCE_NAME', values: ['METER-1'] }],
    payloadDescriptors: [{ objectType: 'EVENT_PAYLOAD_DESCRIPTOR', payloadType: 'IMPORT_CAPACITY_LIMIT', units: 'KW' }],
    intervalPeriod: { start: iso(now - 60), duration: 'PT1H' },
    intervals: [{ id: 0, payloads: [{ type: 'IMPORT_CAPACITY_LIMIT', values: [30] }] },
      { id: 1, payloads: [{ type: 'IMPORT_CAPACITY_LIMIT', values: [45] }] }] });
  const price = vtn.addEvent({ programID: prog.id, eventName: 'day-ahead prices',
    payloadDescriptors: [{ objectType: 'EVENT_PAYLOAD_DESCRIPTOR', payloadType: 'PRICE', units: 'KWH', currency: 'EUR' }],
    intervalPeriod: { start: iso(now - 60), duration: 'PT30M' },
    intervals: [{ id: 0, payloads: [{ type: 'PRICE', values: [0.31] }] },
      { id: 1, intervalPeriod: { start: iso(now - 60 + 1800), duration: 'PT2H' }, payloads: [{ type: 'PRICE', values: [0.12] }] }] });
  // for a resource not mapped here: ignored
  vtn.addEvent({ programID: prog.id, targets: [{ type: 'RESOURCE_NAME', values: ['SOMEONE-ELSE'] }],
    intervalPeriod: { start: iso(now - 60), duration: 'PT1H' },
    intervals: [{ id: 0, payloads: [{ type: 'IMPORT_CAPACITY_LIMIT', values: [1] }] }] });

  // the limit event: two sequential intervals for the targeted site only
  const dr = await waitFor(async () => {
    const r = await s.api('GET', '/api/v1/demand-response/events?source=openadr');
    return r.body.items.length === 2 && r.body.items;
  }, { timeout: 15000, what: 'OpenADR limits' });
  assert.deepStrictEqual(dr.map((e) => [e.site, e.limit_kw, e.external_id, e.start, e.end]), [
    ['depot', 30, `oadr:${cap.id}/0`, iso(now - 60), iso(now - 60 + 3600)],
    ['depot', 45, `oadr:${cap.id}/1`, iso(now - 60 + 3600), iso(now - 60 + 7200)]]);
  assert.strictEqual(dr[0].status, 'active');
  assert.match(dr[0].reason, /evening peak/);
  await waitFor(() => ev.events.some((e) => e.type === 'demand_response.started' && e.data.site === 'depot'), { what: 'started event' });

  // the load manager allocates within it: a 100 A connection held to 30 kW (43.5 A a phase at 230 V)
  const put = await s.api('PUT', '/api/v1/sites/depot/capacity', { policy: 'equal', voltage_v: 230, nodes: [
    { id: 'grid', kind: 'grid_connection', limit_a: 100, phases: 'L1L2L3' },
    { id: 'S', kind: 'station', parent: 'grid', station_id: 'OA-1' }, { id: 'S1', kind: 'evse', parent: 'S', evse_id: 1 }] });
  assert.strictEqual(put.status, 200, JSON.stringify(put.body));
  const alloc = await waitFor(async () => {
    const x = (await s.api('GET', '/api/v1/sites/depot/allocation')).body;
    return x && x.demand_response && x.limit_a && x;
  }, { what: 'the allocation under the OpenADR limit' });
  for (let ph = 0; ph < 3; ph++) assert.ok(Math.abs(alloc.limit_a[ph] - 30000 / 690) < 0.01, JSON.stringify(alloc.limit_a));

  // the price event: one schedule per mapped site (it targets nobody in particular)
  const prices = await waitFor(async () => {
    const r = await s.api('GET', '/api/v1/prices?site=depot');
    return r.body.items.length === 1 && r.body;
  }, { what: 'OpenADR prices' });
  assert.strictEqual(prices.items[0].source, 'openadr');
  assert.strictEqual(prices.items[0].external_id, `oadr:${price.id}/price`);
  assert.strictEqual(prices.items[0].currency, 'EUR');
  assert.deepStrictEqual(prices.items[0].intervals.map((i) => i.price), [0.31, 0.12]);
  assert.strictEqual(prices.current_price, 0.31);
  assert.strictEqual((await s.api('GET', '/api/v1/prices?site=yard')).body.current_price, 0.31);

  // OAuth2 client credentials at the endpoint the VTN names: one token, then bearer requests only
  assert.strictEqual(vtn.requests[0].path, '/auth/server');
  assert.strictEqual(vtn.tokenRequests, 1);
  const polled = vtn.requests.filter((r) => r.path.startsWith('/events'));
  assert.ok(polled.length >= 1 && polled.every((r) => r.auth && r.auth.startsWith('Bearer ')));
  assert.ok(polled.some((r) => r.path === `/events?programID=${prog.id}`));

  // reports per running event, in the specification's shape
  const rep = await waitFor(() => vtn.reports.find((r) => r.eventID === cap.id), { what: 'a report' });
  assert.strictEqual(rep.programID, prog.id);
  assert.strictEqual(rep.clientName, 'ampgrid-test-ven');
  assert.deepStrictEqual(rep.resources.map((r) => r.resourceName), ['METER-1']);
  const lim = rep.resources[0].intervals[0].payloads.find((p) => p.type === 'IMPORT_CAPACITY_LIMIT');
  assert.deepStrictEqual(lim.values, [30]);
  assert.ok(rep.payloadDescriptors.some((d) => d.payloadType === 'USAGE'));

  // a change on the VTN replaces the event's limits
  vtn.updateEvent(cap.id, { intervals: [{ id: 0, payloads: [{ type: 'IMPORT_CAPACITY_LIMIT', values: [25] }] }] });
  await waitFor(async () => {
    const r = await s.api('GET', '/api/v1/demand-response/events?source=openadr');
    return r.body.items.length === 1 && r.body.items[0].limit_kw === 25;
  }, { what: 'the changed limit' });
  // ... and the running interval runs on: no ended/started pair for a change
  await waitFor(() => ev.events.some((e) => e.type === 'smart.signal' && e.data.site === 'depot' && e.data.reason === 'updated'), { what: 'the update announced' });
  await sleep(300);
  const oa = (type) => ev.events.filter((e) => e.type === type && e.data.source === 'openadr').length;
  assert.deepStrictEqual([oa('demand_response.started'), oa('demand_response.ended')], [1, 0]);

  // a misbehaving VTN: garbage, wrong shapes, 500, too slow, refused tokens; nothing lost
  const before = await metrics(s);
  for (const mode of ['garbage', 'shape', '500', 'slow', 'unauthorized']) {
    vtn.mode = mode;
    const key = { garbage: 'json', shape: 'json', 500: 'http', slow: 'http', unauthorized: 'auth' }[mode];
    const base = (await metrics(s))[`ampgrid_openadr_errors_total{cause="${key}"}`];
    await waitFor(async () => (await metrics(s))[`ampgrid_openadr_errors_total{cause="${key}"}`] > base,
      { timeout: 15000, what: `an error counted for mode ${mode}` });
    assert.strictEqual((await fetch(`${s.httpUrl}/healthz`)).status, 200);
    const still = await s.api('GET', '/api/v1/demand-response/events?source=openadr');
    assert.deepStrictEqual(still.body.items.map((e) => e.limit_kw), [25], `last good signals kept (${mode})`);
    assert.strictEqual((await s.api('GET', '/api/v1/prices?site=depot')).body.current_price, 0.31);
  }
  assert.match(s.stderr, /OpenADR poll failed: keeping the last good signals/);
  vtn.mode = 'ok';
  const failed = (await metrics(s))['ampgrid_openadr_polls_total{result="failed"}'];
  assert.ok(failed > before['ampgrid_openadr_polls_total{result="failed"}']);
  const okBase = (await metrics(s))['ampgrid_openadr_polls_total{result="ok"}'];
  await waitFor(async () => (await metrics(s))['ampgrid_openadr_polls_total{result="ok"}'] > okBase,
    { timeout: 15000, what: 'polling to recover' });
  assert.ok(vtn.tokenRequests >= 2, 'a refused token is fetched again');

  // hostile events beside good ones: ignored, the rest applies
  vtn.addEvent({ programID: prog.id, intervals: 'many' });
  vtn.addEvent({ programID: prog.id, intervalPeriod: { start: 'soon', duration: 'PT1H' }, intervals: [] });
  vtn.addEvent({ programID: prog.id, intervalPeriod: { start: iso(now), duration: 'PT1H' },
    intervals: [{ id: 0, payloads: [{ type: 'IMPORT_CAPACITY_LIMIT', values: [-5] }] }] });
  vtn.addEvent({ id: 'x'.repeat(5000), programID: prog.id, intervals: [] });
  const jsonBase = (await metrics(s))['ampgrid_openadr_errors_total{cause="json"}'];
  await waitFor(async () => (await metrics(s))['ampgrid_openadr_errors_total{cause="json"}'] >= jsonBase + 3, { what: 'hostile events counted' });
  assert.deepStrictEqual((await s.api('GET', '/api/v1/demand-response/events?source=openadr')).body.items.map((e) => e.limit_kw), [25]);

  // deleted on the VTN -> removed here, and announced
  vtn.deleteEvent(cap.id);
  vtn.deleteEvent(price.id);
  await waitFor(async () => (await s.api('GET', '/api/v1/demand-response/events?source=openadr')).body.items.length === 0, { what: 'the limit removed' });
  await waitFor(async () => (await s.api('GET', '/api/v1/prices')).body.items.length === 0, { what: 'the prices removed' });
  await waitFor(() => ev.events.some((e) => e.type === 'demand_response.ended' && e.data.source === 'openadr'), { what: 'ended event' });
  ev.close();
  // the webhook got both, with the event as the API shows it
  await waitFor(() => hooks.some((h) => h.type === 'demand_response.ended'), { what: 'the ended webhook' });
  const started = hooks.find((h) => h.type === 'demand_response.started');
  assert.ok(started, JSON.stringify(hooks.map((h) => h.type)));
  assert.strictEqual(started.body.type, 'demand_response.started');
  assert.strictEqual(started.body.data.site, 'depot');
  assert.strictEqual(started.body.data.source, 'openadr');
  assert.ok(hooks.every((h) => ['demand_response.started', 'demand_response.ended'].includes(h.type)));
  // a stop with the VEN mid-poll (a slow VTN) is clean
  vtn.mode = 'slow';
  await sleep(1500);
  const st = await s.stop();
  assert.strictEqual(st.code, 0, s.stderr.slice(-3000));
});
