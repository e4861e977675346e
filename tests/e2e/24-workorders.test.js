// Maintenance work orders against the real server with a real OCPP station
// (ocpp-rpc, strict mode): a Faulted connector raises an alert and a ticket
// for it ([workorders] auto_create); recovery resolves the alert and notes
// the ticket; a technician finds it with ?assignee=me and works it through
// its states (an illegal step is a 409), adds notes, time and parts (stock
// goes down; falling below the threshold raises parts_low_stock, restocking
// resolves it), uploads a photo and downloads it byte for byte; hostile
// input and wrong roles get clear 4xx answers; a maintenance window turns
// into an uptime exclusion the report applies; a due plan creates its ticket
// once, also across a restart; and a ticket answered 201 survives a kill -9.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const crypto = require('node:crypto');
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { Server, BIN, waitFor, sleep } = require('./lib/harness');
const { tokenCreate, openEvents } = require('./lib/helpers');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const OUT = path.join(process.env.AMPGRID_TEST_OUT || path.join(path.dirname(path.resolve(BIN)), 'tests', 'output'), 'dashboard');

const CONFIG = '[workorders]\nauto_create = connector_faulted, station_offline\nmax_attachment = 100000\n' +
  'auto_priority = normal, connector_faulted:high\n[http]\nrate_limit = 0\n' +
  '[webhooks]\nallow_private_networks = true\nretry_base = 1\n';
const now = () => new Date().toISOString();
const iso = (ms) => new Date(ms).toISOString();
const q = encodeURIComponent;

function problem(r, status, re) {
  assert.strictEqual(r.status, status, JSON.stringify(r.body));
  assert.match(r.headers.get('content-type'), /^application\/problem\+json/);
  assert.ok(r.body.detail && r.body.detail.length > 10, 'a detail a person understands');
  if (re) assert.match(r.body.detail, re);
}

// A webhook receiver that records every request.
async function receiver() {
  const r = { requests: [] };
  r.server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d) => { body += d; });
    req.on('end', () => { r.requests.push(JSON.parse(body)); res.writeHead(200); res.end('ok'); });
  });
  await new Promise((resolve) => r.server.listen(0, '127.0.0.1', resolve));
  r.url = `http://127.0.0.1:${r.server.address().port}/hook`;
  r.close = () => new Promise((resolve) => { r.server.closeAllConnections(); r.server.close(resolve); });
  return r;
}

test('maintenance work orders', async (t) => {
  const rx = await receiver();
  let s = await new Server({ config: CONFIG }).start();
  const open = [];
  let stream;
  const ok = async (method, p, body, opts, status = 200) => {
    const r = await s.api(method, p, body, opts);
    assert.strictEqual(r.status, status, `${method} ${p}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  try {
    stream = await openEvents(s, 'types=workorder.');
    await ok('POST', '/api/v1/webhooks', { url: rx.url, event_types: ['workorder.created', 'workorder.updated'], secret: 'workorders-webhook-secret-0123' }, undefined, 201);
    await s.createStation('WO-1', { site: 'Depot-North' });
    await s.createStation('WO-2', { site: 'Depot-North' });
    const tech = 'tech-ana';
    await ok('POST', '/api/v1/users', { username: tech, password: 'a-long-passphrase-1', role: 'technician' }, undefined, 201);
    await ok('POST', '/api/v1/users', { username: 'tech-bo', password: 'a-long-passphrase-2', role: 'technician' }, undefined, 201);
    await ok('POST', '/api/v1/users', { username: 'vic', password: 'a-long-passphrase-3', role: 'viewer' }, undefined, 201);
    const techToken = tokenCreate(s.dataDir, 'technician', tech);
    const otherTech = tokenCreate(s.dataDir, 'technician', 'tech-bo');
    const viewer = tokenCreate(s.dataDir, 'viewer', 'vic');
    const asTech = { token: techToken };

    let ticket, alertId, tFault, tBack;
    const cp = await s.bootedStation('WO-1');
    open.push(cp);

    await t.test('a Faulted connector raises an alert and one ticket for it', async () => {
      tFault = Date.now();
      await cp.call('StatusNotification', { connectorId: 1, errorCode: 'GroundFailure', status: 'Faulted', timestamp: now() });
      ticket = await waitFor(async () => {
        const r = await ok('GET', '/api/v1/work-orders?station=WO-1');
        return r.items.find((w) => w.alert_id) || null;
      }, { what: 'a ticket for the alert' });
      alertId = ticket.alert_id;
      const al = await ok('GET', `/api/v1/alerts/${alertId}`);
      assert.strictEqual(al.rule, 'connector_faulted');
      assert.strictEqual(ticket.source, `alert:${alertId}`);
      assert.strictEqual(ticket.state, 'open');
      assert.strictEqual(ticket.priority, 'high', 'auto_priority for the rule');
      assert.deepStrictEqual(ticket.connector, { evse_id: 1, connector_id: 1 });
      assert.strictEqual(ticket.assignee, null);
      // the same fault again bumps the alert, not the tickets
      await cp.call('StatusNotification', { connectorId: 1, errorCode: 'GroundFailure', status: 'Faulted', timestamp: now() });
      await waitFor(async () => (await ok('GET', `/api/v1/alerts/${alertId}`)).count === 2, { what: 'the repeat' });
      const all = await ok('GET', '/api/v1/work-orders?station=WO-1');
      assert.strictEqual(all.items.length, 1);
      await waitFor(() => stream.events.some((e) => e.type === 'workorder.created' && e.data.id === ticket.id), { what: 'workorder.created on the stream' });
      const hook = await waitFor(() => rx.requests.find((r) => r.type === 'workorder.created' && r.data.id === ticket.id), { what: 'the webhook delivery', timeout: 15000 });
      assert.strictEqual(hook.data.alert_id, alertId);
    });

    await t.test('recovery resolves the alert and notes the ticket, which stays open', async () => {
      await sleep(200);
      await cp.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available', timestamp: now() });
      tBack = Date.now();
      await waitFor(async () => (await ok('GET', `/api/v1/alerts/${alertId}`)).state === 'resolved', { what: 'alert resolved' });
      const w = await waitFor(async () => {
        const x = await ok('GET', `/api/v1/work-orders/${ticket.id}`);
        return x.notes.length === 1 && x;
      }, { what: 'the note' });
      assert.match(w.notes[0].text, new RegExp(`Alert ${alertId} resolved itself`));
      assert.strictEqual(w.notes[0].author, 'system');
      assert.strictEqual(w.state, 'open');
      await waitFor(() => stream.events.some((e) => e.type === 'workorder.updated' && e.data.id === ticket.id), { what: 'workorder.updated' });
    });

    await t.test('assigning: only to a technician; the technician sees it with assignee=me', async () => {
      problem(await s.api('PATCH', `/api/v1/work-orders/${ticket.id}`, { assignee: 'vic' }), 400, /technician/);
      problem(await s.api('PATCH', `/api/v1/work-orders/${ticket.id}`, { assignee: 'nobody-here' }), 400, /not a user/);
      const w = await ok('PATCH', `/api/v1/work-orders/${ticket.id}`, { assignee: tech });
      assert.strictEqual(w.state, 'assigned', 'giving an open ticket to someone assigns it');
      const mine = await ok('GET', '/api/v1/work-orders?assignee=me', undefined, asTech);
      assert.deepStrictEqual(mine.items.map((x) => x.id), [ticket.id]);
      const theirs = await ok('GET', '/api/v1/work-orders?assignee=me', undefined, { token: otherTech });
      assert.deepStrictEqual(theirs.items, []);
      const filtered = await ok('GET', '/api/v1/work-orders?state=assigned,in_progress&priority=high&site=Depot-North', undefined, asTech);
      assert.deepStrictEqual(filtered.items.map((x) => x.id), [ticket.id]);
    });

    await t.test('the technician moves it; an illegal step is a 409; others may not touch it', async () => {
      let w = await ok('PATCH', `/api/v1/work-orders/${ticket.id}`, { state: 'in_progress' }, asTech);
      assert.strictEqual(w.state, 'in_progress');
      problem(await s.api('PATCH', `/api/v1/work-orders/${ticket.id}`, { state: 'closed' }, asTech), 409, /cannot go from in_progress to closed.*waiting_for_parts, resolved/);
      problem(await s.api('PATCH', `/api/v1/work-orders/${ticket.id}`, { title: 'mine now' }, asTech), 403, /only the state/);
      problem(await s.api('PATCH', `/api/v1/work-orders/${ticket.id}`, { state: 'resolved' }, { token: otherTech }), 403, /assigned to tech-ana/);
      problem(await s.api('PATCH', `/api/v1/work-orders/${ticket.id}`, { state: 'resolved' }, { token: viewer }), 403);
      problem(await s.api('POST', '/api/v1/work-orders', { title: 'x' }, asTech), 403);
      w = await ok('PATCH', `/api/v1/work-orders/${ticket.id}`, { state: 'waiting_for_parts' }, asTech);
      assert.strictEqual(w.state, 'waiting_for_parts');
      w = await ok('PATCH', `/api/v1/work-orders/${ticket.id}`, { state: 'in_progress' }, asTech);
      assert.strictEqual(w.state, 'in_progress');
      // viewers read
      assert.strictEqual((await ok('GET', `/api/v1/work-orders/${ticket.id}`, undefined, { token: viewer })).id, ticket.id);
    });

    await t.test('notes and time', async () => {
      await ok('POST', `/api/v1/work-orders/${ticket.id}/notes`, { text: 'RCD reset, cable checked' }, asTech, 201);
      await ok('POST', `/api/v1/work-orders/${ticket.id}/time`, { minutes: 45, note: 'on site' }, asTech, 201);
      await ok('POST', `/api/v1/work-orders/${ticket.id}/time`, { minutes: 15 }, asTech, 201);
      const w = await ok('GET', `/api/v1/work-orders/${ticket.id}`);
      assert.deepStrictEqual(w.notes.map((n) => [n.author, n.text]).slice(1), [[tech, 'RCD reset, cable checked']]);
      assert.strictEqual(w.minutes_total, 60);
      assert.deepStrictEqual(w.time_entries.map((e) => [e.technician, e.minutes]), [[tech, 45], [tech, 15]]);
      problem(await s.api('POST', `/api/v1/work-orders/${ticket.id}/time`, { minutes: -5 }, asTech), 400, /minutes/);
      problem(await s.api('POST', `/api/v1/work-orders/${ticket.id}/time`, { minutes: 1e12 }, asTech), 400, /minutes/);
      problem(await s.api('POST', `/api/v1/work-orders/${ticket.id}/notes`, { text: '' }, asTech), 400, /text/);
      problem(await s.api('POST', `/api/v1/work-orders/${ticket.id}/notes`, { text: 'x', extra: 1 }, asTech), 400, /unknown field/);
    });

    let part, depot;
    const stockOf = async () => (await ok('GET', `/api/v1/stock?part=${part.id}&depot=${depot.id}`)).items[0];
    const lowAlert = async (state) => waitFor(async () => {
      const r = await ok('GET', `/api/v1/alerts?rule=parts_low_stock&state=${state}`);
      return r.items.length === 1 ? r.items[0] : null;
    }, { what: `a ${state} parts_low_stock alert` });

    await t.test('parts used come out of stock; low stock raises an alert; restocking resolves it', async () => {
      part = await ok('POST', '/api/v1/parts', { sku: 'RCD-30MA', name: 'RCD 30 mA type B', models: ['e2e'], unit: 'piece' }, undefined, 201);
      depot = await ok('POST', '/api/v1/depots', { name: 'North van', location: 'Van 7' }, undefined, 201);
      problem(await s.api('POST', '/api/v1/parts', { sku: 'RCD-30MA', name: 'again' }), 409, /sku/);
      let st = await ok('POST', '/api/v1/stock/adjustments', { part_id: part.id, depot_id: depot.id, kind: 'receive', quantity: 5, low_threshold: 3 });
      assert.strictEqual(st.quantity, 5);
      // technicians use parts, operators receive them
      problem(await s.api('POST', '/api/v1/stock/adjustments', { part_id: part.id, depot_id: depot.id, kind: 'receive', quantity: 1 }, asTech), 403);
      await ok('POST', `/api/v1/work-orders/${ticket.id}/parts`, { part_id: part.id, depot_id: depot.id, quantity: 2 }, asTech, 201);
      assert.strictEqual((await stockOf()).quantity, 3);
      assert.strictEqual((await stockOf()).low, false);
      let r = await ok('GET', '/api/v1/alerts?rule=parts_low_stock&state=open');
      assert.deepStrictEqual(r.items, [], 'at the threshold is not low');
      await ok('POST', `/api/v1/work-orders/${ticket.id}/parts`, { part_id: part.id, depot_id: depot.id, quantity: 1 }, asTech, 201);
      st = await stockOf();
      assert.strictEqual(st.quantity, 2);
      assert.strictEqual(st.low, true);
      const al = await lowAlert('active');
      assert.strictEqual(al.station_id, null);
      assert.deepStrictEqual(al.details.items.map((i) => [i.sku, i.quantity, i.low_threshold]), [['RCD-30MA', 2, 3]]);
      // more than there is: refused, nothing changes
      problem(await s.api('POST', `/api/v1/work-orders/${ticket.id}/parts`, { part_id: part.id, depot_id: depot.id, quantity: 10 }, asTech), 409, /fewer than 10/);
      assert.strictEqual((await stockOf()).quantity, 2);
      const w = await ok('GET', `/api/v1/work-orders/${ticket.id}`);
      assert.deepStrictEqual(w.parts.map((p) => [p.sku, p.quantity, p.depot_name]), [['RCD-30MA', 2, 'North van'], ['RCD-30MA', 1, 'North van']]);
      // hostile quantities and ids
      for (const quantity of [0, -3, 1e10, '2', 2.5]) {
        problem(await s.api('POST', `/api/v1/work-orders/${ticket.id}/parts`, { part_id: part.id, depot_id: depot.id, quantity }, asTech), 400, /quantity/);
      }
      problem(await s.api('POST', `/api/v1/work-orders/${ticket.id}/parts`, { part_id: 999, depot_id: depot.id, quantity: 1 }, asTech), 409, /no stock/);
      problem(await s.api('POST', '/api/v1/stock/adjustments', { part_id: part.id, depot_id: depot.id, kind: 'steal', quantity: 1 }), 400, /kind/);
      problem(await s.api('POST', '/api/v1/stock/adjustments', { part_id: part.id, depot_id: depot.id, kind: 'receive', quantity: -1 }), 400, /quantity/);
      problem(await s.api('POST', '/api/v1/stock/adjustments', { part_id: 4242, depot_id: depot.id, kind: 'receive', quantity: 1 }), 404);
      // restock: resolved by itself
      st = await ok('POST', '/api/v1/stock/adjustments', { part_id: part.id, depot_id: depot.id, kind: 'receive', quantity: 5, note: 'delivery 42' });
      assert.strictEqual(st.quantity, 7);
      const done = await waitFor(async () => { const a = await ok('GET', `/api/v1/alerts/${al.id}`); return a.state === 'resolved' && a; }, { what: 'low stock resolved' });
      assert.strictEqual(done.resolved_by, 'auto');
      // a count corrects it absolutely
      st = await ok('POST', '/api/v1/stock/adjustments', { part_id: part.id, depot_id: depot.id, kind: 'correct', quantity: 6 });
      assert.strictEqual(st.quantity, 6);
      const audit = await ok('GET', '/api/v1/audit-log?limit=200');
      for (const action of ['stock.adjust', 'work_order.use_part', 'work_order.update', 'part.create', 'depot.create'])
        assert.ok(audit.items.some((e) => e.action === action), `audited: ${action}`);
    });

    await t.test('a photo uploads and downloads byte for byte; hostile names are refused', async () => {
      const photo = crypto.randomBytes(70000);
      photo[0] = 0x89; photo[1] = 0x50; photo[2] = 0x4e; photo[3] = 0x47;
      const up = await fetch(`${s.httpUrl}/api/v1/work-orders/${ticket.id}/attachments?name=${q('rcd photo.png')}`,
        { method: 'POST', headers: { authorization: `Bearer ${techToken}`, 'content-type': 'image/png' }, body: photo });
      const att = await up.json();
      assert.strictEqual(up.status, 201, JSON.stringify(att));
      assert.strictEqual(att.size, photo.length);
      assert.strictEqual(att.sha256, crypto.createHash('sha256').update(photo).digest('hex'));
      const down = await fetch(`${s.httpUrl}/api/v1/work-orders/${ticket.id}/attachments/${att.id}`, { headers: { authorization: `Bearer ${viewer}` } });
      assert.strictEqual(down.status, 200);
      assert.strictEqual(down.headers.get('content-type'), 'image/png');
      assert.match(down.headers.get('content-disposition'), /^attachment; filename="rcd_photo.png"$/);
      assert.strictEqual(down.headers.get('x-content-type-options'), 'nosniff');
      assert.ok(Buffer.from(await down.arrayBuffer()).equals(photo), 'byte-identical');
      const w = await ok('GET', `/api/v1/work-orders/${ticket.id}`);
      assert.deepStrictEqual(w.attachments.map((a) => [a.name, a.content_type, a.size]), [['rcd photo.png', 'image/png', photo.length]]);
      const send = (name, headers = { 'content-type': 'image/png' }, body = Buffer.from('x'), token = techToken) =>
        fetch(`${s.httpUrl}/api/v1/work-orders/${ticket.id}/attachments${name === null ? '' : `?name=${q(name)}`}`,
          { method: 'POST', headers: { authorization: `Bearer ${token}`, ...headers }, body });
      for (const name of ['../../etc/passwd', 'a/b.png', '..', 'x\\y', 'a"b', 'bad\u0001name', null, 'x'.repeat(101)]) {
        const r = await send(name);
        assert.strictEqual(r.status, 400, `name ${JSON.stringify(name)}: ${r.status} ${await r.text()}`);
      }
      assert.strictEqual((await send('p.png', {})).status, 400, 'no content type');
      assert.strictEqual((await send('p.png', { 'content-type': 'image/png/x' })).status, 400);
      assert.strictEqual((await send('p.png', { 'content-type': 'image/png' }, Buffer.alloc(0))).status, 400, 'empty');
      // over [workorders] max_attachment (but within [http] max_body): 413, nothing stored
      const big = await send('big.png', { 'content-type': 'image/png' }, Buffer.alloc(100001, 1));
      assert.strictEqual(big.status, 413);
      assert.match(big.headers.get('content-type'), /^application\/problem\+json/);
      assert.match((await big.json()).detail, /100001 bytes; at most 100000 .*max_attachment/);
      assert.strictEqual((await send('fits.png', { 'content-type': 'image/png' }, Buffer.alloc(100000, 1))).status, 201, 'the limit itself fits');
      assert.strictEqual((await ok('GET', `/api/v1/work-orders/${ticket.id}`)).attachments.length, 2);
      assert.strictEqual((await send('p.png', undefined, undefined, viewer)).status, 403);
      assert.strictEqual((await send('p.png', undefined, undefined, otherTech)).status, 403);
      for (const p of [`/api/v1/work-orders/${ticket.id}/attachments/999`, `/api/v1/work-orders/${ticket.id}/attachments/..`, `/api/v1/work-orders/999/attachments/${att.id}`]) {
        const r = await s.api('GET', p);
        assert.strictEqual(r.status, 404, p);
      }
    });

    await t.test('resolved, closed: final; hostile ids and bodies', async () => {
      let w = await ok('PATCH', `/api/v1/work-orders/${ticket.id}`, { state: 'resolved' }, asTech);
      assert.ok(w.resolved_at);
      w = await ok('PATCH', `/api/v1/work-orders/${ticket.id}`, { state: 'open' });
      assert.strictEqual(w.state, 'open', 'reopened');
      assert.strictEqual(w.resolved_at, null);
      await ok('PATCH', `/api/v1/work-orders/${ticket.id}`, { state: 'assigned' });
      await ok('PATCH', `/api/v1/work-orders/${ticket.id}`, { state: 'in_progress' }, asTech);
      await ok('PATCH', `/api/v1/work-orders/${ticket.id}`, { state: 'resolved' }, asTech);
      w = await ok('PATCH', `/api/v1/work-orders/${ticket.id}`, { state: 'closed' });
      assert.ok(w.closed_at);
      problem(await s.api('PATCH', `/api/v1/work-orders/${ticket.id}`, { state: 'open' }), 409, /final/);
      problem(await s.api('POST', `/api/v1/work-orders/${ticket.id}/notes`, { text: 'late' }), 409, /closed/);
      for (const id of ['abc', '-1', '0', '99999', '1e3']) problem(await s.api('GET', `/api/v1/work-orders/${id}`), 404);
      problem(await s.api('PATCH', `/api/v1/work-orders/${ticket.id}`, { state: 'exploded' }), 400, /state must be/);
      problem(await s.api('PATCH', `/api/v1/work-orders/${ticket.id}`, {}), 400);
      problem(await s.api('POST', '/api/v1/work-orders', { title: 'x', station_id: 'NOPE' }), 400, /no station/);
      problem(await s.api('POST', '/api/v1/work-orders', { title: 'x'.repeat(201) }), 400, /title/);
      problem(await s.api('POST', '/api/v1/work-orders', { title: 'x', priority: 'whenever' }), 400, /priority/);
      problem(await s.api('POST', '/api/v1/work-orders', { title: 'x', connector: { evse_id: -1 } , station_id: 'WO-1' }), 400, /connector/);
      problem(await s.api('POST', '/api/v1/work-orders', { title: 'x', alert_id: alertId }), 409, /has a work order/);
      problem(await s.api('GET', '/api/v1/work-orders?state=bogus'), 400, /state/);
      problem(await s.api('GET', '/api/v1/work-orders?sort=title'), 400);
      const r = await s.api('POST', '/api/v1/work-orders', '{"title":', {});
      assert.strictEqual(r.status, 400);
    });

    await t.test('lists page with cursors and sort', async () => {
      for (let i = 0; i < 5; i++) await ok('POST', '/api/v1/work-orders', { title: `inspect ${i}`, station_id: 'WO-2', priority: ['low', 'urgent', 'normal', 'high', 'low'][i] }, undefined, 201);
      const seen = [];
      let cursor = '';
      for (;;) {
        const r = await ok('GET', `/api/v1/work-orders?station=WO-2&limit=2&sort=priority${cursor ? `&cursor=${q(cursor)}` : ''}`);
        seen.push(...r.items.map((x) => x.priority));
        if (!r.next_cursor) break;
        cursor = r.next_cursor;
      }
      assert.deepStrictEqual(seen, ['urgent', 'high', 'normal', 'low', 'low']);
    });

    await t.test('a maintenance window becomes an uptime exclusion the report applies', async () => {
      const range = `from=${q(iso(tFault - 60000))}&to=${q(iso(tBack + 60000))}&station=WO-1`;
      const before = await ok('GET', `/api/v1/uptime?${range}`);
      const p0 = before.ports.find((p) => p.evse_id === 1);
      assert.ok(p0.outage_minutes > 0, 'the fault is an outage');
      assert.strictEqual(p0.excluded_minutes, 0);
      const win = await ok('POST', '/api/v1/maintenance-windows', { station_id: 'WO-1', from: iso(tFault - 1000), to: iso(tBack + 1000), reason: 'RCD replacement', work_order_id: ticket.id }, asTech, 201);
      assert.strictEqual(win.exclusion_ids.length, 1);
      const ex = await ok('GET', `/api/v1/uptime/exclusions/${win.exclusion_ids[0]}`);
      assert.strictEqual(ex.reason, 'scheduled_maintenance');
      assert.strictEqual(ex.station_id, 'WO-1');
      const after = await ok('GET', `/api/v1/uptime?${range}`);
      const p1 = after.ports.find((p) => p.evse_id === 1);
      assert.ok(Math.abs(p1.excluded_minutes - p1.outage_minutes) < 1e-6, `all of the outage excluded: ${JSON.stringify(p1)}`);
      assert.strictEqual(p1.uptime_pct, 100);
      // a site window covers each of its stations
      const site = await ok('POST', '/api/v1/maintenance-windows', { site: 'Depot-North', from: iso(Date.now() + 3600e3), to: iso(Date.now() + 7200e3), reason: 'annual inspection' }, undefined, 201);
      assert.strictEqual(site.exclusion_ids.length, 2);
      problem(await s.api('POST', '/api/v1/maintenance-windows', { site: 'Nowhere', from: iso(Date.now()), to: iso(Date.now() + 1000), reason: 'x' }), 400, /site/);
      problem(await s.api('POST', '/api/v1/maintenance-windows', { station_id: 'WO-1', site: 'Depot-North', from: iso(Date.now()), to: iso(Date.now() + 1000), reason: 'x' }), 400, /exactly one/);
      problem(await s.api('POST', '/api/v1/maintenance-windows', { station_id: 'WO-1', from: iso(Date.now() + 1000), to: iso(Date.now()), reason: 'x' }), 400, /before/);
      problem(await s.api('POST', '/api/v1/maintenance-windows', { station_id: 'WO-1', from: iso(Date.now()), to: iso(Date.now() + 1000), reason: 'x' }, { token: viewer }), 403);
      // deleting the window deletes its exclusions
      assert.strictEqual((await s.api('DELETE', `/api/v1/maintenance-windows/${win.id}`)).status, 204);
      problem(await s.api('GET', `/api/v1/uptime/exclusions/${win.exclusion_ids[0]}`), 404);
      const again = await ok('GET', `/api/v1/uptime?${range}`);
      assert.strictEqual(again.ports.find((p) => p.evse_id === 1).excluded_minutes, 0);
      problem(await s.api('DELETE', `/api/v1/maintenance-windows/${win.id}`), 404);
    });

    let plan;
    const planTickets = async () => (await ok('GET', '/api/v1/work-orders?station=WO-1&limit=100')).items.filter((w) => w.plan_id === plan.id);
    await t.test('a due plan creates its ticket once and moves next_due on', async () => {
      const due = Date.now() - 60000;
      plan = await ok('POST', '/api/v1/maintenance-plans', { name: 'Quarterly inspection', interval_days: 90, task: 'Check cables, RCD test, clean screen', scope: { kind: 'station', value: 'WO-1' }, next_due: iso(due) }, undefined, 201);
      const tickets = await waitFor(async () => { const x = await planTickets(); return x.length === 1 && x; }, { what: 'the plan ticket' });
      assert.strictEqual(tickets[0].source, `plan:${plan.id}`);
      assert.strictEqual(tickets[0].title, 'Quarterly inspection');
      assert.strictEqual(Date.parse(tickets[0].due_at), Math.floor(due / 1000) * 1000 + (due % 1000));
      const p = await waitFor(async () => { const x = await ok('GET', `/api/v1/maintenance-plans/${plan.id}`); return Date.parse(x.next_due) > Date.now() && x; }, { what: 'next_due moved' });
      assert.strictEqual(Date.parse(p.next_due), due + 90 * 86400e3);
      problem(await s.api('POST', '/api/v1/maintenance-plans', { name: 'x', interval_days: 0, task: 'x', scope: { kind: 'station', value: 'WO-1' } }), 400, /interval_days/);
      problem(await s.api('POST', '/api/v1/maintenance-plans', { name: 'x', interval_days: 7, task: 'x', scope: { kind: 'galaxy', value: 'x' } }), 400, /scope/);
      problem(await s.api('POST', '/api/v1/maintenance-plans', { name: 'x', interval_days: 7, task: 'x', scope: { kind: 'station', value: 'WO-1' } }, asTech), 403);
    });

    await t.test('after a restart the plan does not create its ticket again', async () => {
      const st = await s.stop();
      assert.strictEqual(st.code, 0, s.stderr.slice(-3000));
      assert.doesNotMatch(s.stderr, /Sanitizer|runtime error/);
      s = await new Server(s.restartOptions()).start();
      await sleep(500); // the start-up check has run
      assert.strictEqual((await planTickets()).length, 1);
    });

    await t.test('a ticket answered 201 survives kill -9', async () => {
      const w = await ok('POST', '/api/v1/work-orders', { title: 'durable', station_id: 'WO-1', assignee: tech, description: 'kill me' }, undefined, 201);
      assert.strictEqual(w.state, 'assigned');
      assert.strictEqual((await s.kill9()).signal, 'SIGKILL');
      s = await new Server(s.restartOptions()).start();
      const back = await ok('GET', `/api/v1/work-orders/${w.id}`);
      assert.strictEqual(back.title, 'durable');
      assert.strictEqual(back.assignee, tech);
      // and the alert's ticket is not made twice by the start-up catch-up
      assert.strictEqual((await ok('GET', `/api/v1/work-orders?station=WO-1&limit=100`)).items.filter((x) => x.alert_id === alertId).length, 1);
    });
    await t.test('the dashboard: my tickets, a state button, a note, an upload, technician actions', async () => {
      const cp2 = await s.bootedStation('WO-1');
      open.push(cp2);
      cp2.handle('TriggerMessage', () => ({ status: 'Accepted' }));
      const durable = (await ok('GET', '/api/v1/work-orders?assignee=tech-ana&state=assigned')).items[0];
      const browser = await chromium.launch({
        executablePath: CHROMIUM, headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
          '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
      });
      try {
        const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
        page.setDefaultTimeout(10000);
        const problems = [];
        page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
        page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
        page.on('dialog', (d) => d.accept());
        await page.goto(s.httpUrl + '/');
        await page.getByLabel('Username').fill(tech);
        await page.getByLabel('Password').fill('a-long-passphrase-1');
        await page.getByRole('button', { name: 'Sign in', exact: true }).click();
        await page.locator('#nav a[href="#/work-orders"]').click();
        await page.getByRole('heading', { name: 'Work orders', level: 1 }).waitFor();
        await page.locator(`tr[data-workorder="${durable.id}"]`).waitFor();
        await page.locator(`tr[data-workorder="${durable.id}"] a`).first().click();
        await page.getByRole('heading', { name: `#${durable.id} durable` }).waitFor();
        await page.locator('button[data-state="in_progress"]').click();
        await waitFor(async () => (await ok('GET', `/api/v1/work-orders/${durable.id}`)).state === 'in_progress', { what: 'state from the button' });
        await page.getByLabel('Add notes').getByLabel('Note').fill('from the dashboard');
        await page.getByLabel('Add notes').getByRole('button', { name: 'Add' }).click();
        await page.getByText('from the dashboard').waitFor();
        await page.getByLabel('Upload a photo or file').setInputFiles({ name: 'meter.txt', mimeType: 'text/plain', buffer: Buffer.from('kWh 1234.5') });
        await page.getByRole('button', { name: 'meter.txt' }).waitFor();
        const w = await ok('GET', `/api/v1/work-orders/${durable.id}`);
        assert.deepStrictEqual(w.attachments.map((a) => [a.name, a.content_type, a.size]), [['meter.txt', 'text/plain', 10]]);
        assert.ok(w.notes.some((n) => n.author === tech && n.text === 'from the dashboard'));
        fs.mkdirSync(OUT, { recursive: true });
        await page.screenshot({ path: path.join(OUT, 'workorder.png'), fullPage: true });
        await page.getByRole('link', { name: 'Technician actions' }).click();
        await page.getByRole('heading', { name: /Technician actions/ }).waitFor();
        await page.locator('button[data-action="TriggerMessage"]').click();
        await page.locator('.result.ok', { hasText: 'Accepted' }).waitFor();
        await page.screenshot({ path: path.join(OUT, 'technician.png'), fullPage: true });
        const audit = await ok('GET', '/api/v1/audit-log?limit=50');
        assert.ok(audit.items.some((e) => e.action === 'command.TriggerMessage' && e.actor === tech), 'the action is audited');
        assert.deepStrictEqual(problems, [], 'no errors in the page');
      } finally {
        await browser.close();
      }
    });

    await t.test('a clean shutdown (no leaks, no sanitizer reports)', async () => {
      const st = await s.stop();
      assert.strictEqual(st.code, 0, s.stderr.slice(-3000));
      assert.doesNotMatch(s.stderr, /Sanitizer|runtime error/);
    });
  } finally {
    if (stream) stream.close();
    await rx.close();
    for (const c of open) await c.close().catch(() => {});
    await s.stop();
    s.cleanup();
  }
});

test('leftover files are removed at start: half-written ones, and attachments without a row', async () => {
  let s = await new Server({ config: '[http]\nrate_limit = 0\n' }).start();
  try {
    const w = await s.api('POST', '/api/v1/work-orders', { title: 'keep my photo' });
    assert.strictEqual(w.status, 201, JSON.stringify(w.body));
    const photo = crypto.randomBytes(5000);
    const up = await fetch(`${s.httpUrl}/api/v1/work-orders/${w.body.id}/attachments?name=kept.bin`,
      { method: 'POST', headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/octet-stream' }, body: photo });
    const att = await up.json();
    assert.strictEqual(up.status, 201, JSON.stringify(att));
    assert.strictEqual((await s.stop()).code, 0, s.stderr.slice(-3000));
    const attDir = path.join(s.dataDir, 'attachments');
    const files = path.join(s.dataDir, 'files');
    const kept = fs.readdirSync(attDir);
    assert.strictEqual(kept.length, 1);
    // what a crash could have left
    const planted = [
      path.join(attDir, `${w.body.id}-00112233445566778899aabbccddeeff`), // placed, row never committed
      path.join(attDir, `${w.body.id}-ffeeddccbbaa99887766554433221100.tmp`), // being written
      path.join(files, 'diagnostics', '41.part'),
      path.join(files, 'firmware', `${'ab'.repeat(32)}.part`),
    ];
    for (const p of planted) fs.writeFileSync(p, 'leftover');
    const diagKept = path.join(files, 'diagnostics', '7');
    fs.writeFileSync(diagKept, 'a finished upload'); // not half-written: stays
    s = await new Server(s.restartOptions()).start();
    for (const p of planted) assert.ok(!fs.existsSync(p), `${p} removed`);
    assert.ok(fs.existsSync(diagKept));
    assert.deepStrictEqual(fs.readdirSync(attDir), kept, 'the real attachment stays');
    const down = await fetch(`${s.httpUrl}/api/v1/work-orders/${w.body.id}/attachments/${att.id}`, { headers: { authorization: `Bearer ${s.token}` } });
    assert.strictEqual(down.status, 200);
    assert.ok(Buffer.from(await down.arrayBuffer()).equals(photo));
    const metrics = await (await fetch(`${s.httpUrl}/metrics`)).text();
    assert.match(metrics, /^ampgrid_leftover_files_removed_total 4$/m);
    for (const p of planted) assert.ok(s.stderr.includes(path.basename(p)), `the log names ${p}`);
  } finally {
    await s.stop();
    s.cleanup();
  }
});
