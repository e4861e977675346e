// NEVI uptime (23 CFR 680.116(b)) against the real server, with real OCPP
// 1.6 and 2.0.1 stations (ocpp-rpc, strict mode):
//   - status history placed on a known day in the past (stations send their
//     own timestamps), with every number worked out by hand below: faults,
//     connector 0 taking every port down, an outage across the day's edge,
//     excluded windows, a 2.0.1 port with two connectors, month reports;
//   - connectivity in real time (minutes cannot be waited for): a station
//     that disconnects while its last status said Available, queried over
//     exact from/to instants, checked against the times this test observed
//     (within a second);
//   - failed session starts (a remote start the station rejects, a session
//     that ends with PowerLoss having delivered nothing) and their recovery;
//   - the quarterly NEVI report as JSON and CSV;
//   - exclusions through the API with roles and the audit log;
//   - a SIGKILL and a graceful restart: a station connected at the crash is
//     offline from the server's last sign of life;
//   - hostile parameters: 400 with a problem+json that says why.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { spawnSync } = require('node:child_process');
const { Server, BIN, sleep } = require('./lib/harness');

const D0 = '2026-01-10';
const D1 = '2026-01-11';
const at = (hhmm, day = D0) => `${day}T${hhmm}:00.000Z`;
const ms = (iso) => new Date(iso).getTime();
const iso = (t) => new Date(t).toISOString();
const MIN = 60000;
const V201 = ['ocpp2.0.1'];
const pct = (period, counted) => (period - counted) / period * 100;

const near = (a, b, tol, what) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} is not within ${tol} of ${b}`);
const exact = (a, b, what) => near(a, b, 1e-6, what);

function token(s, role, name) {
  const r = spawnSync(BIN, ['token', 'create', '--data-dir', s.dataDir, '--role', role, '--name', name], { encoding: 'utf8', timeout: 30000 });
  assert.strictEqual(r.status, 0, r.stderr);
  return r.stdout.trim();
}

// A small RFC 4180 parser (quoted cells, doubled quotes, CRLF records).
function parseCsv(text) {
  const rows = [];
  let row = [], cell = '', i = 0, quoted = false;
  while (i < text.length) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { cell += '"'; i += 2; continue; }
      if (ch === '"') { quoted = false; i++; continue; }
      cell += ch; i++; continue;
    }
    if (ch === '"') { quoted = true; i++; continue; }
    if (ch === ',') { row.push(cell); cell = ''; i++; continue; }
    if (ch === '\r' && text[i + 1] === '\n') { row.push(cell); rows.push(row); row = []; cell = ''; i += 2; continue; }
    cell += ch; i++;
  }
  assert.strictEqual(cell, '', 'the file ends with CRLF');
  return rows;
}

test('NEVI uptime: reports, outages, failed starts, exclusions, restarts', async (t) => {
  let s = await new Server().start();
  const open = [];
  const get = (p, opts) => s.api('GET', p, undefined, opts);
  const ok = async (p, opts) => {
    const r = await get(p, opts);
    assert.strictEqual(r.status, 200, `${p}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const bad = async (p, status = 400, re) => {
    const r = await get(p);
    assert.strictEqual(r.status, status, `${p}: expected ${status}, got ${r.status} ${JSON.stringify(r.body)}`);
    assert.match(r.headers.get('content-type'), /application\/problem\+json/, p);
    assert.ok(r.body.detail && r.body.detail.length > 10, `${p}: a detail a person understands`);
    if (re) assert.match(r.body.detail, re, p);
    return r.body;
  };
  const port = (rep, station, evse) => {
    const p = rep.ports.find((x) => x.station_id === station && x.evse_id === evse);
    assert.ok(p, `port ${station}/${evse} in ${JSON.stringify(rep.ports.map((x) => `${x.station_id}/${x.evse_id}`))}`);
    return p;
  };
  const status16 = (cp, connectorId, status, timestamp, errorCode = 'NoError') =>
    cp.call('StatusNotification', { connectorId, errorCode, status, timestamp });
  const status201 = (cp, evseId, connectorId, connectorStatus, timestamp) =>
    cp.call('StatusNotification', { timestamp, connectorStatus, evseId, connectorId });
  const q = encodeURIComponent;
  const range = (from, to) => `from=${q(from)}&to=${q(to)}`;

  try {
    await s.createStation('UP-1', { site: 'North' });
    await s.createStation('UP-201', { site: 'North' });
    await s.createStation('UP-2', { site: 'South' });
    await s.createStation('UP-3', { site: 'South' });
    await s.createIdToken('UP-TAG');

    // ------------------------------------------------ a day in the past
    // UP-1 (OCPP 1.6), everything Available since the day before at 12:00:
    //   connector 1: Faulted (GroundFailure) 10:00-11:00
    //   connector 2: Unavailable 10:30-12:00, Faulted 23:00 until 01:00 the next day
    //   connector 0 (the station): Unavailable 20:00-20:30, taking both ports down
    // Exclusions: port 1 10:15-10:45 (grid outage), the whole station
    // 20:00-20:10 (vandalism), port 1 14:00-15:00 (no outage then: nothing).
    //   port 1: outages 10:00-11:00 (60) + 20:00-20:30 (30) = 90, excluded 30 + 10 = 40
    //   port 2: 10:30-12:00 (90) + 20:00-20:30 (30) + 23:00-24:00 (60) = 180, excluded 10
    // UP-201 (OCPP 2.0.1), EVSE 1 with two connectors, EVSE 2 with one:
    //   EVSE 1 connector 1 Faulted 09:00-10:00, connector 2 Unavailable 09:30-10:30:
    //   the port is down only while both are: 09:30-10:00 (30)
    //   EVSE 2: never down
    const cp1 = await s.bootedStation('UP-1');
    open.push(cp1);
    const before = at('12:00', '2026-01-09');
    for (const c of [0, 1, 2]) await status16(cp1, c, 'Available', before);
    await status16(cp1, 1, 'Faulted', at('10:00'), 'GroundFailure');
    await status16(cp1, 2, 'Unavailable', at('10:30'));
    await status16(cp1, 1, 'Available', at('11:00'));
    await status16(cp1, 2, 'Available', at('12:00'));
    await status16(cp1, 0, 'Unavailable', at('20:00'));
    await status16(cp1, 0, 'Available', at('20:30'));
    await status16(cp1, 2, 'Faulted', at('23:00'), 'OtherError');
    await status16(cp1, 2, 'Available', at('01:00', D1));

    const cp201 = s.station('UP-201', { protocols: V201 });
    await cp201.connect();
    open.push(cp201);
    assert.strictEqual((await cp201.call('BootNotification', { reason: 'PowerUp', chargingStation: { vendorName: 'ampgrid-test', model: 'e2e-201' } })).status, 'Accepted');
    for (const [e, c] of [[1, 1], [1, 2], [2, 1]]) await status201(cp201, e, c, 'Available', before);
    await status201(cp201, 1, 1, 'Faulted', at('09:00'));
    await status201(cp201, 1, 2, 'Unavailable', at('09:30'));
    await status201(cp201, 1, 1, 'Available', at('10:00'));
    await status201(cp201, 1, 2, 'Available', at('10:30'));

    const excl = async (body, expect = 201) => {
      const r = await s.api('POST', '/api/v1/uptime/exclusions', body);
      assert.strictEqual(r.status, expect, JSON.stringify(r.body));
      return r.body;
    };
    const e1 = await excl({ station_id: 'UP-1', evse_id: 1, reason: 'grid_outage', from: at('10:15'), to: at('10:45'), note: 'utility feeder trip' });
    await excl({ station_id: 'UP-1', reason: 'vandalism', from: at('20:00'), to: at('20:10') });
    await excl({ station_id: 'UP-1', evse_id: 1, reason: 'scheduled_maintenance', from: at('14:00'), to: at('15:00') });

    await t.test('a day: each port\'s outages and uptime as computed by hand', async () => {
      const r = await ok(`/api/v1/uptime?${range(at('00:00'), at('00:00', D1))}&site=North`);
      assert.strictEqual(r.period.name, null);
      assert.strictEqual(r.period.from, `${D0}T00:00:00Z`);
      exact(r.period.minutes, 1440, 'period minutes');
      assert.strictEqual(r.period.complete, true);
      assert.match(r.method, /680\.116/);
      const p1 = port(r, 'UP-1', 1), p2 = port(r, 'UP-1', 2);
      exact(p1.period_minutes, 1440, 'UP-1/1 period');
      exact(p1.outage_minutes, 90, 'UP-1/1 outage');
      exact(p1.excluded_minutes, 40, 'UP-1/1 excluded');
      exact(p1.counted_outage_minutes, 50, 'UP-1/1 counted');
      exact(p1.uptime_pct, pct(1440, 50), 'UP-1/1 uptime');
      assert.strictEqual(p1.outage_count, 2);
      exact(p2.outage_minutes, 180, 'UP-1/2 outage');
      exact(p2.excluded_minutes, 10, 'UP-1/2 excluded');
      exact(p2.uptime_pct, pct(1440, 170), 'UP-1/2 uptime');
      const e1p = port(r, 'UP-201', 1), e2p = port(r, 'UP-201', 2);
      exact(e1p.outage_minutes, 30, 'UP-201/1: down only while both connectors are');
      exact(e1p.uptime_pct, pct(1440, 30), 'UP-201/1 uptime');
      exact(e2p.uptime_pct, 100, 'UP-201/2 uptime');
      assert.strictEqual(e2p.outage_count, 0);
      // stations, the site and the network sum port-minutes
      const st1 = r.stations.find((x) => x.station_id === 'UP-1');
      assert.strictEqual(st1.ports, 2);
      exact(st1.period_minutes, 2880, 'UP-1 port-minutes');
      exact(st1.uptime_pct, pct(2880, 220), 'UP-1 uptime');
      assert.deepStrictEqual(r.sites.map((x) => x.site), ['North']);
      assert.strictEqual(r.sites[0].stations, 2);
      assert.strictEqual(r.network.ports, 4);
      exact(r.network.uptime_pct, pct(4 * 1440, 50 + 170 + 30), 'network uptime');
      // UP-2 and UP-3 had no port in service that day
      assert.ok(!r.stations.some((x) => x.station_id === 'UP-2'));
    });

    await t.test('the outages behind it, with causes, details and excluded minutes', async () => {
      const r = await ok(`/api/v1/uptime/outages?${range(at('00:00'), at('00:00', D1))}&station=UP-1`);
      assert.strictEqual(r.total, 5);
      assert.strictEqual(r.truncated, false);
      const list = r.items.map((o) => [o.evse_id, o.start, o.end, o.causes.join('+'), o.excluded_minutes]);
      assert.deepStrictEqual(list, [
        [1, at('10:00'), at('11:00'), 'faulted', 30],
        [2, at('10:30'), at('12:00'), 'unavailable', 0],
        [1, at('20:00'), at('20:30'), 'station_unavailable', 10],
        [2, at('20:00'), at('20:30'), 'station_unavailable', 10],
        [2, at('23:00'), at('00:00', D1), 'faulted', 0],
      ]);
      assert.strictEqual(r.items[0].detail, 'GroundFailure');
      assert.strictEqual(r.items[4].detail, 'OtherError');
      assert.strictEqual(r.items[4].ongoing, false);
      exact(r.items[4].minutes, 60, 'clipped at the period\'s end');
      // one port of one station, and a limit
      const one = await ok(`/api/v1/uptime/outages?${range(at('00:00'), at('00:00', D1))}&station=UP-1&evse_id=2&limit=2`);
      assert.strictEqual(one.total, 3);
      assert.strictEqual(one.items.length, 2);
      assert.strictEqual(one.truncated, true);
      assert.deepStrictEqual(one.filters, { station: 'UP-1', site: null, evse_id: 2 });
      // the next day starts inside the outage that crossed midnight
      const next = await ok(`/api/v1/uptime/outages?${range(at('00:00', D1), at('12:00', D1))}&station=UP-1`);
      assert.deepStrictEqual(next.items.map((o) => [o.evse_id, o.start, o.end]), [[2, at('00:00', D1), at('01:00', D1)]]);
    });

    await t.test('a month: pro rata over the minutes each port was in service', async () => {
      // UP-1's ports are in service from 2026-01-09T12:00 to 2026-02-01: 22.5 days
      const r = await ok('/api/v1/uptime?period=2026-01&station=UP-1');
      assert.strictEqual(r.period.name, '2026-01');
      exact(r.period.minutes, 31 * 1440, 'January');
      const p2 = port(r, 'UP-1', 2);
      assert.strictEqual(p2.from, '2026-01-09T12:00:00.000Z');
      exact(p2.period_minutes, 22.5 * 1440, 'in service');
      // 90 + 30 + 120 (23:00-01:00 whole) = 240, 10 excluded
      exact(p2.outage_minutes, 240, 'month outage');
      exact(p2.uptime_pct, pct(22.5 * 1440, 230), 'month uptime');
      // in local time (UTC+02:00) January begins two hours earlier, still before the first status
      const local = await ok(`/api/v1/uptime?period=2026-01&station=UP-1&utc_offset=${q('+02:00')}`);
      assert.strictEqual(local.period.from, '2026-01-01T00:00:00+02:00');
      exact(port(local, 'UP-1', 2).period_minutes, 22.5 * 1440 - 120, 'January ends two hours earlier in UTC');
    });

    await t.test('exclusions: read, changed and deleted through the API; reports follow', async () => {
      const got = await ok(`/api/v1/uptime/exclusions/${e1.id}`);
      assert.deepStrictEqual({ ...got, created_at: undefined, updated_at: undefined }, {
        id: e1.id, station_id: 'UP-1', evse_id: 1, reason: 'grid_outage', from: at('10:15'), to: at('10:45'),
        minutes: 30, note: 'utility feeder trip', created_by: 'initial-admin', created_at: undefined, updated_by: null, updated_at: undefined,
      });
      const list = await ok(`/api/v1/uptime/exclusions?station=UP-1&${range(at('00:00'), at('00:00', D1))}`);
      assert.deepStrictEqual(list.items.map((x) => x.from), [at('20:00'), at('14:00'), at('10:15')], 'newest window first');
      const asc = await ok('/api/v1/uptime/exclusions?station=UP-1&sort=from&limit=2');
      assert.deepStrictEqual(asc.items.map((x) => x.from), [at('10:15'), at('14:00')]);
      const rest = await ok(`/api/v1/uptime/exclusions?station=UP-1&sort=from&limit=2&cursor=${q(asc.next_cursor)}`);
      assert.deepStrictEqual(rest.items.map((x) => x.from), [at('20:00')]);
      assert.strictEqual(rest.next_cursor, null);
      // widen the grid outage to cover all of 10:00-11:00 on port 1: excluded 60 + 10
      const ch = await s.api('PATCH', `/api/v1/uptime/exclusions/${e1.id}`, { from: at('09:30'), to: at('11:30') });
      assert.strictEqual(ch.status, 200, JSON.stringify(ch.body));
      assert.strictEqual(ch.body.updated_by, 'initial-admin');
      assert.strictEqual(ch.body.note, 'utility feeder trip', 'fields left out keep their values');
      let r = await ok(`/api/v1/uptime?${range(at('00:00'), at('00:00', D1))}&station=UP-1&evse_id=1`);
      assert.strictEqual(r.ports.length, 1);
      exact(r.ports[0].excluded_minutes, 70, 'excluded after the change');
      exact(r.ports[0].uptime_pct, pct(1440, 20), 'uptime after the change');
      const gone = await s.api('DELETE', `/api/v1/uptime/exclusions/${e1.id}`);
      assert.strictEqual(gone.status, 204);
      assert.strictEqual((await s.api('DELETE', `/api/v1/uptime/exclusions/${e1.id}`)).status, 404);
      assert.strictEqual((await get(`/api/v1/uptime/exclusions/${e1.id}`)).status, 404);
      r = await ok(`/api/v1/uptime?${range(at('00:00'), at('00:00', D1))}&station=UP-1&evse_id=1`);
      exact(r.ports[0].excluded_minutes, 10, 'excluded after the delete');
      // every change is in the audit log with who made it
      const audit = await ok('/api/v1/audit-log?target_type=uptime_exclusion');
      const actions = audit.items.map((x) => x.action);
      for (const a of ['uptime_exclusion.create', 'uptime_exclusion.update', 'uptime_exclusion.delete']) assert.ok(actions.includes(a), `${a} in ${actions}`);
      const upd = audit.items.find((x) => x.action === 'uptime_exclusion.update');
      assert.strictEqual(upd.before.from, at('10:15'));
      assert.strictEqual(upd.after.from, at('09:30'));
    });

    await t.test('roles: readers read, technicians record exclusions, viewers may not', async () => {
      const viewer = token(s, 'viewer', 'uptime-viewer');
      const tech = token(s, 'technician', 'uptime-tech');
      const integration = token(s, 'integration', 'uptime-integration');
      await ok('/api/v1/uptime', { token: viewer });
      await ok('/api/v1/uptime/exclusions', { token: integration });
      const body = { station_id: 'UP-1', reason: 'outside_operating_hours', from: at('02:00'), to: at('05:00') };
      const refused = await s.api('POST', '/api/v1/uptime/exclusions', body, { token: viewer });
      assert.strictEqual(refused.status, 403);
      assert.match(refused.body.detail, /technician, operator or admin/);
      const made = await s.api('POST', '/api/v1/uptime/exclusions', body, { token: tech });
      assert.strictEqual(made.status, 201, JSON.stringify(made.body));
      assert.strictEqual(made.body.created_by, 'uptime-tech');
      assert.strictEqual(made.body.evse_id, null);
      assert.strictEqual((await s.api('DELETE', `/api/v1/uptime/exclusions/${made.body.id}`, undefined, { token: integration })).status, 403);
    });

    // ------------------------------------------------ connectivity, live
    const cp2 = await s.bootedStation('UP-2');
    await status16(cp2, 1, 'Available', new Date().toISOString());
    await sleep(300);
    const tBegin = Date.now();
    await sleep(300);
    const tClose0 = Date.now();
    await cp2.close();
    const tClose1 = Date.now();
    await sleep(1500);
    const tRe0 = Date.now();
    const cp2b = await s.bootedStation('UP-2');
    open.push(cp2b);
    const tRe1 = Date.now();
    await sleep(300);
    const tEnd = Date.now();

    await t.test('a station offline while its last status said Available is down', async () => {
      const r = await ok(`/api/v1/uptime/outages?${range(iso(tBegin), iso(tEnd))}&station=UP-2`);
      assert.strictEqual(r.items.length, 1, JSON.stringify(r.items));
      const o = r.items[0];
      assert.deepStrictEqual(o.causes, ['offline']);
      near(ms(o.start), (tClose0 + tClose1) / 2, (tClose1 - tClose0) / 2 + 1000, 'offline from the disconnect');
      near(ms(o.end), (tRe0 + tRe1) / 2, (tRe1 - tRe0) / 2 + 1000, 'until the reconnect');
      const rep = await ok(`/api/v1/uptime?${range(iso(tBegin), iso(tEnd))}&station=UP-2`);
      const p = port(rep, 'UP-2', 1);
      const period = tEnd - tBegin, out = ms(o.end) - ms(o.start);
      near(p.period_minutes, period / MIN, 1e-6, 'period');
      near(p.outage_minutes, out / MIN, 1e-6, 'outage as listed');
      near(p.uptime_pct, pct(period, out), 1e-9, 'uptime');
      // and what this test saw, within a second
      near(p.outage_minutes * MIN, tRe0 - tClose1, (tRe1 - tRe0) + (tClose1 - tClose0) + 1000, 'outage observed');
    });

    await t.test('an exclusion inside the offline time counts only there', async () => {
      const a = tClose1 + 400, b = tRe0 - 400;
      await excl({ station_id: 'UP-2', reason: 'grid_outage', from: iso(a), to: iso(b) });
      // and one mostly outside the outage: only its overlap counts
      const r = await ok(`/api/v1/uptime?${range(iso(tBegin), iso(tEnd))}&station=UP-2`);
      near(port(r, 'UP-2', 1).excluded_minutes * MIN, b - a, 1, 'excluded');
      await excl({ station_id: 'UP-2', reason: 'other', note: 'test window', from: iso(tBegin - 10000), to: iso(tClose1 + 400) });
      const o = (await ok(`/api/v1/uptime/outages?${range(iso(tBegin), iso(tEnd))}&station=UP-2`)).items[0];
      near(o.excluded_minutes * MIN, b - ms(o.start), 1, 'excluded: the overlap only');
    });

    // ------------------------------------------------ failed session starts
    const cp3 = await s.bootedStation('UP-3');
    open.push(cp3);
    let answer = 'Rejected';
    cp3.handle('RemoteStartTransaction', () => ({ status: answer }));
    const now = () => new Date().toISOString();
    await status16(cp3, 1, 'Available', now());
    await sleep(200);
    const fBegin = Date.now();
    await sleep(200);
    const tCmd0 = Date.now();
    const cmd = await s.api('POST', '/api/v1/stations/UP-3/commands/RemoteStartTransaction', { connectorId: 1, idTag: 'UP-TAG' });
    const tCmd1 = Date.now();
    assert.strictEqual(cmd.status, 200, JSON.stringify(cmd.body));
    await sleep(300);
    const tMid = Date.now();

    await t.test('a remote start the station rejects takes the port down until a session starts', async () => {
      // a period that has not ended: counted up to now, and the outage is ongoing
      const r = await ok(`/api/v1/uptime/outages?${range(iso(fBegin), iso(fBegin + 86400000))}&station=UP-3`);
      assert.strictEqual(r.period.complete, false);
      assert.ok(ms(r.period.observed_until) >= tMid, r.period.observed_until);
      assert.strictEqual(r.items.length, 1, JSON.stringify(r.items));
      assert.deepStrictEqual(r.items[0].causes, ['failed_start']);
      assert.strictEqual(r.items[0].detail, 'Rejected');
      assert.strictEqual(r.items[0].ongoing, true);
      near(ms(r.items[0].start), (tCmd0 + tCmd1) / 2, (tCmd1 - tCmd0) / 2 + 50, 'when the station refused');
    });

    // a session starts (the port recovers), delivers 2 kWh at up to 7.5 kW
    const tStart1 = now();
    const s1 = await cp3.call('StartTransaction', { connectorId: 1, idTag: 'UP-TAG', meterStart: 1000, timestamp: tStart1 });
    await status16(cp3, 1, 'Charging', tStart1);
    const power = (v, phase) => ({ value: v, measurand: 'Power.Active.Import', unit: 'W', ...(phase ? { phase } : {}) });
    await cp3.call('MeterValues', { connectorId: 1, transactionId: s1.transactionId, meterValue: [{ timestamp: now(), sampledValue: [power('7200')] }] });
    await cp3.call('MeterValues', { connectorId: 1, transactionId: s1.transactionId, meterValue: [{ timestamp: now(), sampledValue: [power('2500', 'L1'), power('2500', 'L2'), { ...power('2.5', 'L3'), unit: 'kW' }] }] });
    await sleep(100);
    await cp3.call('StopTransaction', { transactionId: s1.transactionId, meterStop: 3000, timestamp: now(), reason: 'Local' });
    await status16(cp3, 1, 'Available', now());
    // a session that ends with PowerLoss having delivered nothing: a failed start
    const s2 = await cp3.call('StartTransaction', { connectorId: 1, idTag: 'UP-TAG', meterStart: 3000, timestamp: now() });
    await sleep(100);
    const tFail2 = now();
    await cp3.call('StopTransaction', { transactionId: s2.transactionId, meterStop: 3000, timestamp: tFail2, reason: 'PowerLoss' });
    await sleep(100);
    await status16(cp3, 1, 'Finishing', now());
    await status16(cp3, 1, 'Available', now()); /* the failed session's wind-down: not a recovery */
    await sleep(200);
    const tStillDown = Date.now();
    await sleep(100);
    const tFault = now();
    await status16(cp3, 1, 'Faulted', tFault, 'PowerSwitchFailure');
    await sleep(100);
    const tBack = now();
    await status16(cp3, 1, 'Available', tBack);
    await sleep(200);
    const fEnd = Date.now();

    await t.test('a failed session is down until the port goes through a fault and back', async () => {
      let r = await ok(`/api/v1/uptime/outages?${range(iso(fBegin), iso(tStillDown))}&station=UP-3`);
      assert.strictEqual(r.items.length, 2, JSON.stringify(r.items));
      assert.strictEqual(r.items[0].end, tStart1, 'the rejection ends with the next session\'s start');
      assert.strictEqual(r.items[1].start, tFail2);
      assert.strictEqual(r.items[1].detail, 'PowerLoss');
      assert.ok(ms(r.items[1].end) >= tStillDown - 1, 'still down after the wind-down\'s Available');
      r = await ok(`/api/v1/uptime/outages?${range(iso(fBegin), iso(fEnd))}&station=UP-3`);
      assert.deepStrictEqual(r.items.map((o) => [o.start, o.end, o.causes.sort().join('+')]), [
        [r.items[0].start, tStart1, 'failed_start'],
        [tFail2, tBack, 'failed_start+faulted'],
      ]);
      const rep = await ok(`/api/v1/uptime?${range(iso(fBegin), iso(fEnd))}&station=UP-3`);
      const p = port(rep, 'UP-3', 1);
      const out = (ms(tStart1) - ms(r.items[0].start)) + (ms(tBack) - ms(tFail2));
      near(p.outage_minutes * MIN, out, 1e-3, 'outage');
      near(p.uptime_pct, pct(fEnd - fBegin, out), 1e-9, 'uptime');
    });

    await t.test('OCPP 2.0.1: a transaction Ended with a charger-side stoppedReason is a failed start', async () => {
      // EVSE 2 of UP-201: a transaction without meter values (energy unknown)
      // ends with GroundFault 100 ms after it began; the next one to start
      // ends the outage
      const txe = (eventType, transactionId, seqNo, timestamp, triggerReason, extra = {}) => cp201.call('TransactionEvent', {
        eventType, timestamp, triggerReason, seqNo, transactionInfo: { transactionId, ...extra }, evse: { id: 2, connectorId: 1 } });
      const t0 = Date.now();
      await txe('Started', 'UPT-1', 0, now(), 'CablePluggedIn');
      await sleep(100);
      const tEnded = now();
      await txe('Ended', 'UPT-1', 1, tEnded, 'AbnormalCondition', { stoppedReason: 'GroundFault' });
      await sleep(100);
      let r = await ok(`/api/v1/uptime/outages?${range(iso(t0), iso(t0 + 86400000))}&station=UP-201&evse_id=2`);
      assert.deepStrictEqual(r.items.map((o) => [o.start, o.causes, o.detail, o.ongoing]), [[tEnded, ['failed_start'], 'GroundFault', true]]);
      await sleep(100);
      const tAgain = now();
      await txe('Started', 'UPT-2', 0, tAgain, 'CablePluggedIn');
      r = await ok(`/api/v1/uptime/outages?${range(iso(t0), iso(t0 + 86400000))}&station=UP-201&evse_id=2`);
      assert.deepStrictEqual(r.items.map((o) => [o.start, o.end, o.ongoing]), [[tEnded, tAgain, false]]);
      // an ordinary end (the driver unplugs) is no failure
      await txe('Ended', 'UPT-2', 1, now(), 'EVCommunicationLost', { stoppedReason: 'EVDisconnected' });
      r = await ok(`/api/v1/uptime/outages?${range(iso(t0), iso(t0 + 86400000))}&station=UP-201&evse_id=2`);
      assert.strictEqual(r.items.length, 1);
    });

    await t.test('the quarterly NEVI fields, as JSON and as CSV', async () => {
      const d = new Date();
      const quarter = `${d.getUTCFullYear()}-Q${Math.floor(d.getUTCMonth() / 3) + 1}`;
      const r = await ok(`/api/v1/reports/nevi-quarterly?quarter=${quarter}&station=UP-3`);
      assert.strictEqual(r.quarter, quarter);
      assert.strictEqual(r.ports.length, 1);
      const p = r.ports[0];
      assert.strictEqual(p.sessions, 2);
      exact(p.energy_kwh, 2, 'energy');
      exact(p.peak_kw, 7.5, 'peak: the phases summed beat the phase-less reading');
      assert.strictEqual(p.failed_sessions, 2);
      assert.deepStrictEqual(p.failed_session_errors.map((e) => [e.kind, e.reason]), [['rejected', 'Rejected'], ['failed_session', 'PowerLoss']]);
      assert.strictEqual(p.failed_session_errors[1].session_id, s2.transactionId);
      assert.strictEqual(p.outage_count, 2);
      assert.ok(p.outages.every((o) => o.minutes > 0 && o.start && o.end));
      const csvs = [await get(`/api/v1/reports/nevi-quarterly.csv?quarter=${quarter}&station=UP-3`),
        await get(`/api/v1/reports/nevi-quarterly?quarter=${quarter}&station=UP-3&format=csv`)];
      for (const c of csvs) {
        assert.strictEqual(c.status, 200);
        assert.match(c.headers.get('content-type'), /^text\/csv/);
        assert.match(c.headers.get('content-disposition'), new RegExp(`attachment; filename="nevi-${quarter}-UP-3\\.csv"`));
        const rows = parseCsv(c.body);
        assert.deepStrictEqual(rows[0].slice(0, 6), ['station_id', 'site', 'port', 'period_start', 'period_end', 'period_minutes']);
        assert.strictEqual(rows.length, 2);
        const row = Object.fromEntries(rows[0].map((h, i) => [h, rows[1][i]]));
        assert.strictEqual(row.station_id, 'UP-3');
        assert.strictEqual(row.site, 'South');
        assert.strictEqual(row.port, '1');
        assert.strictEqual(row.sessions, '2');
        assert.strictEqual(row.energy_kwh, '2.000');
        assert.strictEqual(row.peak_kw, '7.500');
        assert.strictEqual(row.failed_sessions, '2');
        assert.match(row.failed_session_errors, /^\S+ Rejected; \S+ PowerLoss$/);
        assert.strictEqual(row.outage_count, '2');
        // the quarter is still running: each answer counts up to its own now
        const P = Number(row.period_minutes), O = Number(row.outage_minutes), E = Number(row.excluded_minutes);
        near(O, p.outage_minutes, 1e-3, 'outage minutes in the CSV');
        near(Number(row.uptime_pct), pct(P, O - E), 0.01, 'uptime in the CSV');
        assert.strictEqual(row.outages.split('; ').length, 2);
      }
    });

    // ------------------------------------------------ restarts
    await t.test('after a SIGKILL a connected station is offline from the last sign of life', async () => {
      const tK = Date.now();
      await s.kill9();
      for (const c of open) c.close({ force: true }).catch(() => {});
      open.length = 0;
      await sleep(500);
      s = await new Server(s.restartOptions()).start();
      const tR0 = Date.now();
      const c = await s.bootedStation('UP-2');
      open.push(c);
      const tR1 = Date.now();
      await sleep(200);
      const r = await ok(`/api/v1/uptime/outages?${range(iso(tRe1), iso(Date.now()))}&station=UP-2`);
      assert.strictEqual(r.items.length, 1, JSON.stringify(r.items));
      const o = r.items[0];
      assert.deepStrictEqual(o.causes, ['offline']);
      // the server was last known alive at or after UP-2's reconnect, and
      // before the kill; the outage ends when UP-2 is back
      assert.ok(ms(o.start) >= tRe0 - 1000 && ms(o.start) <= tK + 1000, `start ${o.start} within [${iso(tRe0)}, ${iso(tK)}]`);
      near(ms(o.end), (tR0 + tR1) / 2, (tR1 - tR0) / 2 + 1000, 'back at the reconnect');
    });

    await t.test('after a graceful stop the stations are offline from the stop', async () => {
      const tS0 = Date.now();
      const st = await s.stop();
      assert.deepStrictEqual(st, { code: 0, signal: null }, s.stderr.slice(-3000));
      const tS1 = Date.now();
      for (const c of open) c.close({ force: true }).catch(() => {});
      open.length = 0;
      s = await new Server(s.restartOptions()).start();
      const tR0 = Date.now();
      open.push(await s.bootedStation('UP-2'));
      const tR1 = Date.now();
      await sleep(200);
      const r = await ok(`/api/v1/uptime/outages?${range(iso(tS0 - 2000), iso(Date.now()))}&station=UP-2`);
      const o = r.items[r.items.length - 1];
      near(ms(o.start), (tS0 + tS1) / 2, (tS1 - tS0) / 2 + 1000, 'offline from the stop');
      near(ms(o.end), (tR0 + tR1) / 2, (tR1 - tR0) / 2 + 1000, 'back at the reconnect');
    });

    await t.test('hostile parameters are refused with a reason', async () => {
      await bad('/api/v1/uptime?period=2026-13', 400, /year|month|quarter/);
      await bad('/api/v1/uptime?period=last-week');
      await bad('/api/v1/uptime?period=2026-01&from=2026-01-01T00:00:00Z', 400, /not both/);
      await bad('/api/v1/uptime?from=2026-01-01T00:00:00Z', 400, /both from and to/);
      await bad('/api/v1/uptime?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z', 400, /before/);
      await bad('/api/v1/uptime?from=nope&to=2026-01-01T00:00:00Z', 400, /RFC 3339/);
      await bad('/api/v1/uptime?from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z', 400, /366 days/);
      await bad(`/api/v1/uptime?period=${new Date().getUTCFullYear() + 2}`, 400, /not begun/);
      await bad('/api/v1/uptime?station=NO-SUCH', 400, /no station/);
      await bad('/api/v1/uptime?site=', 400, /site/);
      await bad('/api/v1/uptime?evse_id=1', 400, /needs station/);
      await bad('/api/v1/uptime?station=UP-1&evse_id=0', 400, /evse_id/);
      await bad('/api/v1/uptime?utc_offset=%2B25:00', 400, /utc_offset/);
      await bad('/api/v1/uptime/outages?limit=0');
      await bad('/api/v1/uptime/outages?limit=100000');
      await bad('/api/v1/reports/nevi-quarterly', 400, /quarter is required/);
      await bad('/api/v1/reports/nevi-quarterly?quarter=2026-07', 400, /quarter/);
      await bad('/api/v1/reports/nevi-quarterly?quarter=2026-Q1&format=xml', 400, /json or csv/);
      await bad('/api/v1/reports/nevi-quarterly.csv?quarter=2026-Q1&format=json', 400, /CSV/);
      await bad('/api/v1/uptime/exclusions?station=NO-SUCH', 400, /no station/);
      await bad('/api/v1/uptime/exclusions?sort=reason', 400);
      await bad('/api/v1/uptime/exclusions/abc', 404);
      await bad('/api/v1/uptime/exclusions/999999', 404);
      const post = async (body, re) => {
        const r = await s.api('POST', '/api/v1/uptime/exclusions', body);
        assert.strictEqual(r.status, 400, `${JSON.stringify(body)}: ${r.status} ${JSON.stringify(r.body)}`);
        assert.match(r.body.detail, re, JSON.stringify(body));
      };
      const good = { station_id: 'UP-1', reason: 'vandalism', from: at('01:00'), to: at('02:00') };
      await post({ ...good, station_id: undefined }, /station_id is required/);
      await post({ ...good, station_id: 'NO-SUCH' }, /no station/);
      await post({ ...good, reason: 'bad luck' }, /reason must be/);
      await post({ ...good, reason: 'other' }, /needs a note/);
      await post({ ...good, to: good.from }, /before/);
      await post({ ...good, to: '2027-06-01T00:00:00Z' }, /366 days/);
      await post({ ...good, from: 'yesterday' }, /RFC 3339/);
      await post({ ...good, evse_id: 0 }, /evse_id/);
      await post({ ...good, evse_id: '1' }, /evse_id/);
      await post({ ...good, note: 'x'.repeat(501) }, /note/);
      await post({ ...good, colour: 'red' }, /unknown field/);
      const made = await excl(good);
      const patch = await s.api('PATCH', `/api/v1/uptime/exclusions/${made.id}`, { station_id: 'UP-2' });
      assert.strictEqual(patch.status, 400);
      assert.match(patch.body.detail, /cannot be changed/);
      const flip = await s.api('PATCH', `/api/v1/uptime/exclusions/${made.id}`, { to: at('00:30') });
      assert.strictEqual(flip.status, 400, 'the combination is checked: from before to');
      assert.strictEqual((await s.api('PATCH', '/api/v1/uptime/exclusions/999999', { note: 'x' })).status, 404);
    });
  } finally {
    for (const c of open) await c.close({ force: true }).catch(() => {});
    const st = await s.stop();
    s.cleanup();
    assert.deepStrictEqual(st, { code: 0, signal: null }, `server did not exit cleanly: ${s.stderr.slice(-4000)}`);
  }
});
