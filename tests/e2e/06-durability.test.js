// Durability: nothing acknowledged is ever lost. Stations run sessions under
// load while the server is killed with SIGKILL and restarted on the same data
// directory, repeatedly; every StartTransaction, MeterValues and
// StopTransaction that got an answer must be in the database afterwards.
'use strict';
const { describe, it, before, after, test } = require('node:test');
const assert = require('node:assert');
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { Server, sleep, waitFor } = require('./lib/harness');

const STATIONS = 20;
const KILLS = 3;
const METER_VALUES_PER_TX = 4;

// ------------------------------------------------------------ the station

// A simulated charge point that runs sessions back to back and remembers
// what the server acknowledged. At most one request is in flight; when the
// connection dies, that request stays `pending` and is sent again, unchanged,
// after reconnecting (as a real charge point replays its offline queue).
class SimStation {
  constructor(id, tag, clockBase) {
    this.id = id;
    this.tag = tag;
    this.clock = clockBase; // synthetic, strictly increasing timestamps (ms)
    this.meter = 1000 + Math.floor(Math.random() * 1000);
    this.txs = []; // every transaction this station started
    this.current = null; // the open transaction (start sent; stop not acked)
    this.pending = null; // the request in flight when the connection died
    this.acks = 0;
  }

  ts() {
    this.clock += 1000;
    return new Date(this.clock).toISOString();
  }

  nextRequest() {
    const tx = this.current;
    if (!tx) {
      const t = { id: null, meterStart: this.meter, startTs: this.ts(), startAcked: false, samples: [], stopSent: false, stopAcked: false, meterStop: null };
      this.txs.push(t);
      this.current = t;
      return {
        action: 'StartTransaction',
        params: { connectorId: 1, idTag: this.tag, meterStart: t.meterStart, timestamp: t.startTs },
        ack: (res) => {
          assert.strictEqual(typeof res.transactionId, 'number', JSON.stringify(res));
          if (t.id !== null) assert.strictEqual(res.transactionId, t.id, 'a replayed StartTransaction got a new id');
          t.id = res.transactionId;
          t.startAcked = true;
        },
      };
    }
    if (tx.samples.length < METER_VALUES_PER_TX) {
      this.meter += 100 + Math.floor(Math.random() * 400);
      const sample = { ts: this.ts(), energy: String(this.meter), power: String(1000 + Math.floor(Math.random() * 10000)), acked: false };
      tx.samples.push(sample);
      return {
        action: 'MeterValues',
        params: {
          connectorId: 1,
          transactionId: tx.id,
          meterValue: [{
            timestamp: sample.ts,
            sampledValue: [
              { value: sample.energy, measurand: 'Energy.Active.Import.Register', unit: 'Wh' },
              { value: sample.power, measurand: 'Power.Active.Import', unit: 'W' },
            ],
          }],
        },
        ack: () => { sample.acked = true; },
      };
    }
    this.meter += 50;
    tx.meterStop = this.meter;
    tx.stopSent = true;
    return {
      action: 'StopTransaction',
      params: { transactionId: tx.id, meterStop: tx.meterStop, timestamp: this.ts(), reason: 'EVDisconnected' },
      ack: () => {
        tx.stopAcked = true;
        this.current = null;
      },
    };
  }

  async send(cp, req) {
    this.pending = req;
    const res = await cp.call(req.action, req.params);
    req.ack(res);
    this.pending = null;
    this.acks++;
  }

  // Runs until the connection fails (or `until()` says stop). Never throws.
  async run(cp, until = () => false) {
    try {
      if (this.pending) await this.send(cp, this.pending);
      while (!until()) await this.send(cp, this.nextRequest());
      return null;
    } catch (e) {
      return e;
    }
  }

  // Finishes the open transaction, if any (for the final check).
  async finish(cp) {
    if (this.pending) await this.send(cp, this.pending);
    while (this.current) await this.send(cp, this.nextRequest());
  }
}

// ------------------------------------------------------------ verification

// Checks every acknowledged fact against the API. Returns a list of problems.
async function verify(s, sims) {
  const problems = [];
  for (const sim of sims) {
    const active = await s.api('GET', `/api/v1/sessions?station=${sim.id}&active=true&limit=1000`);
    if (active.status !== 200) { problems.push(`${sim.id}: active list ${active.status}`); continue; }
    const activeIds = new Set(active.body.items.map((x) => x.id));
    for (const tx of sim.txs) {
      if (!tx.startAcked) continue;
      const r = await s.api('GET', `/api/v1/sessions/${tx.id}`);
      if (r.status !== 200) { problems.push(`${sim.id}: acknowledged StartTransaction ${tx.id} is missing (${r.status})`); continue; }
      const b = r.body;
      if (b.station_id !== sim.id) problems.push(`${sim.id}: session ${tx.id} belongs to ${b.station_id}`);
      if (b.meter_start_wh !== tx.meterStart) problems.push(`${sim.id}: session ${tx.id} meter_start_wh ${b.meter_start_wh} != ${tx.meterStart}`);
      if (Date.parse(b.started_at) !== Date.parse(tx.startTs)) problems.push(`${sim.id}: session ${tx.id} started_at ${b.started_at} != ${tx.startTs}`);
      if (tx.stopAcked) {
        if (b.active !== false || !b.stopped_at) problems.push(`${sim.id}: acknowledged StopTransaction of ${tx.id} lost (active=${b.active})`);
        if (b.meter_stop_wh !== tx.meterStop) problems.push(`${sim.id}: session ${tx.id} meter_stop_wh ${b.meter_stop_wh} != ${tx.meterStop}`);
      } else if (!tx.stopSent) {
        if (b.active !== true) problems.push(`${sim.id}: session ${tx.id} was never stopped but is not active`);
        if (!activeIds.has(tx.id)) problems.push(`${sim.id}: session ${tx.id} missing from ?active=true`);
      }
      const have = new Set((b.meter_values || []).map((m) => `${Date.parse(m.timestamp)}|${m.value}|${m.measurand}`));
      for (const sm of tx.samples) {
        if (!sm.acked) continue;
        for (const [v, meas] of [[sm.energy, 'Energy.Active.Import.Register'], [sm.power, 'Power.Active.Import']]) {
          if (!have.has(`${Date.parse(sm.ts)}|${v}|${meas}`)) problems.push(`${sim.id}: acknowledged sample ${sm.ts} ${meas}=${v} of session ${tx.id} is missing`);
        }
      }
    }
  }
  return problems;
}

function summary(sims) {
  let starts = 0; let stops = 0; let samples = 0; let open = 0;
  for (const sim of sims) {
    for (const tx of sim.txs) {
      if (tx.startAcked) starts++;
      if (tx.stopAcked) stops++;
      if (tx.startAcked && !tx.stopSent) open++;
      samples += tx.samples.filter((x) => x.acked).length;
    }
  }
  return { starts, stops, samples, open };
}

async function connectAll(s, sims, boot) {
  return Promise.all(sims.map(async (sim) => {
    const cp = s.station(sim.id);
    await cp.connect();
    if (boot) {
      const r = await cp.call('BootNotification', { chargePointVendor: 'ampgrid-test', chargePointModel: 'durability' });
      assert.strictEqual(r.status, 'Accepted');
    }
    return cp;
  }));
}

// ------------------------------------------------------------------ tests

test('nothing acknowledged is lost across repeated SIGKILLs under load', { timeout: 75000 }, async (t) => {
  // the checks after each kill query the API as fast as they can: no rate limit here
  let s = await new Server({ config: '[http]\nrate_limit = 0\n' }).start();
  const sims = [];
  const clockBase = Date.now() - 7 * 24 * 3600 * 1000;
  try {
    for (let i = 0; i < STATIONS; i++) {
      const id = `DUR-${String(i).padStart(2, '0')}`;
      await s.createStation(id);
      await s.createIdToken(`DUR-TAG-${i}`);
      sims.push(new SimStation(id, `DUR-TAG-${i}`, clockBase + i * 1e9));
    }
    for (let round = 0; round < KILLS; round++) {
      // round 0 boots; later rounds reconnect without booting (the last boot was Accepted)
      const cps = await connectAll(s, sims, round === 0);
      const before = sims.reduce((n, x) => n + x.acks, 0);
      const runs = sims.map((sim, i) => sim.run(cps[i]));
      // let the load build up, then kill mid-flight
      await waitFor(() => sims.reduce((n, x) => n + x.acks, 0) - before >= STATIONS * 6, { timeout: 20000, what: 'load to build up' });
      await sleep(200 + Math.floor(Math.random() * 400));
      const killed = await s.kill9();
      assert.strictEqual(killed.signal, 'SIGKILL');
      const errors = await Promise.all(runs);
      assert.ok(errors.every((e) => e instanceof Error), 'a station kept running after the kill');
      for (const cp of cps) await cp.close({ force: true }).catch(() => {});
      const inFlight = sims.filter((x) => x.pending).length;

      s = await new Server(s.restartOptions()).start();
      t.diagnostic(`kill ${round + 1}: ${JSON.stringify(summary(sims))}, ${inFlight} requests in flight`);
      const problems = await verify(s, sims);
      assert.deepStrictEqual(problems, [],
        `after kill ${round + 1} (${JSON.stringify(summary(sims))}, ${inFlight} requests in flight):\n${problems.slice(0, 40).join('\n')}`);
    }
    const sum = summary(sims);
    assert.ok(sum.starts >= STATIONS && sum.samples >= STATIONS && sum.stops >= 1, `too little load to mean anything: ${JSON.stringify(sum)}`);

    // A last round: reconnect without booting, replay what was in flight,
    // finish every open transaction; everything must add up.
    const cps = await connectAll(s, sims, false);
    await Promise.all(sims.map((sim, i) => sim.finish(cps[i])));
    for (const cp of cps) await cp.close();
    const problems = await verify(s, sims);
    assert.deepStrictEqual(problems, [], problems.slice(0, 40).join('\n'));
    const active = await s.api('GET', '/api/v1/sessions?active=true&limit=1000');
    assert.deepStrictEqual(active.body.items.filter((x) => x.station_id.startsWith('DUR-')).map((x) => x.id), [],
      'sessions left active after every station finished');
  } finally {
    const st = await s.stop();
    s.cleanup();
    assert.strictEqual(st.code, 0, `exit ${JSON.stringify(st)}\n${s.stderr.slice(-3000)}`);
  }
});

describe('a transaction open at a SIGKILL', () => {
  const ctx = {};
  const T = (min) => new Date(Date.UTC(2026, 4, 1, 8, min)).toISOString();
  before(async () => {
    const s = await new Server().start();
    ctx.first = s;
    await s.createStation('CRASH-1');
    await s.createIdToken('CRASH-TAG');
    const cp = await s.bootedStation('CRASH-1');
    const r = await cp.call('StartTransaction', { connectorId: 1, idTag: 'CRASH-TAG', meterStart: 5000, timestamp: T(0) });
    ctx.txId = r.transactionId;
    await cp.call('MeterValues', { connectorId: 1, transactionId: ctx.txId, meterValue: [{ timestamp: T(1), sampledValue: [{ value: '5100' }] }] });
    await s.kill9();
    await cp.close({ force: true }).catch(() => {});
    ctx.s = await new Server(s.restartOptions()).start();
  });

  it('is still active after the restart (GET /api/v1/sessions?active=true)', async () => {
    const r = await ctx.s.api('GET', '/api/v1/sessions?active=true');
    assert.strictEqual(r.status, 200);
    const mine = r.body.items.find((x) => x.id === ctx.txId);
    assert.ok(mine, `session ${ctx.txId} not in ${JSON.stringify(r.body.items.map((x) => x.id))}`);
    assert.strictEqual(mine.active, true);
    assert.strictEqual(mine.energy_wh, 100);
  });

  it('counts in ampgrid_transactions_active after the restart', async () => {
    const text = await (await fetch(`${ctx.s.httpUrl}/metrics`)).text();
    assert.match(text, /^ampgrid_transactions_active 1$/m);
  });

  it('its station reconnects without booting and its MeterValues are accepted', async () => {
    const cp = ctx.s.station('CRASH-1');
    await cp.connect();
    try {
      const r = await cp.call('MeterValues', { connectorId: 1, transactionId: ctx.txId, meterValue: [{ timestamp: T(2), sampledValue: [{ value: '5250' }] }] });
      assert.deepStrictEqual(r, {});
    } finally {
      await cp.close();
    }
  });

  it('its station stops it; the session has meter_stop_wh and every sample from before and after the crash', async () => {
    const cp = ctx.s.station('CRASH-1');
    await cp.connect();
    try {
      const r = await cp.call('StopTransaction', { transactionId: ctx.txId, meterStop: 5400, timestamp: T(3), idTag: 'CRASH-TAG' });
      assert.strictEqual(r.idTagInfo.status, 'Accepted');
    } finally {
      await cp.close();
    }
    const g = await ctx.s.api('GET', `/api/v1/sessions/${ctx.txId}`);
    assert.strictEqual(g.status, 200);
    assert.strictEqual(g.body.active, false);
    assert.strictEqual(g.body.meter_stop_wh, 5400);
    assert.strictEqual(g.body.energy_wh, 400);
    assert.deepStrictEqual(g.body.meter_values.map((m) => [Date.parse(m.timestamp), m.value]),
      [[Date.parse(T(1)), '5100'], [Date.parse(T(2)), '5250']]);
    const a = await ctx.s.api('GET', '/api/v1/sessions?active=true');
    assert.ok(!a.body.items.some((x) => x.id === ctx.txId));
  });

  it('the restarted server exits with code 0 on SIGTERM', async () => {
    const st = await ctx.s.stop();
    assert.strictEqual(st.code, 0, `exit ${JSON.stringify(st)}\n${ctx.s.stderr.slice(-3000)}`);
  });

  after(async () => {
    if (ctx.s) await ctx.s.stop();
    if (ctx.first) { await ctx.first.stop(); ctx.first.cleanup(); }
  });
});

test('acknowledged API changes (create, patch, delete) survive a SIGKILL under load', { timeout: 40000 }, async (t) => {
  let s = await new Server().start();
  try {
    for (let i = 0; i < 40; i++) await s.createIdToken(`API-OLD-${i}`);
    const acked = { created: [], blocked: [], deleted: [], stations: [] };
    let stop = false;
    const worker = async (w) => {
      for (let i = 0; !stop; i++) {
        const k = `${w}-${i}`;
        try {
          const r = await s.api('POST', '/api/v1/id-tokens', { id_token: `API-NEW-${k}`, status: 'Accepted' });
          if (r.status === 201) acked.created.push(`API-NEW-${k}`);
          if (w < 40 && i === 0) {
            const p = await s.api('PATCH', `/api/v1/id-tokens/API-OLD-${w}`, w % 2 ? { status: 'Blocked' } : {});
            if (p.status === 200 && w % 2) acked.blocked.push(`API-OLD-${w}`);
            if (!(w % 2)) {
              const d = await s.api('DELETE', `/api/v1/id-tokens/API-OLD-${w}`);
              if (d.status === 204) acked.deleted.push(`API-OLD-${w}`);
            }
          }
          const c = await s.api('POST', '/api/v1/stations', { id: `API-CP-${k}`, description: `d${k}` });
          if (c.status === 201) acked.stations.push(`API-CP-${k}`);
        } catch (_) {
          return; // the server is gone
        }
      }
    };
    const workers = Array.from({ length: 40 }, (_, w) => worker(w));
    await waitFor(() => acked.stations.length >= 100, { timeout: 20000, what: 'API load' });
    await s.kill9();
    stop = true;
    await Promise.all(workers);
    t.diagnostic(`acknowledged: ${acked.created.length} tokens created, ${acked.blocked.length} blocked, ${acked.deleted.length} deleted, ${acked.stations.length} stations`);
    s = await new Server(s.restartOptions()).start();
    const tokens = new Map((await s.api('GET', '/api/v1/id-tokens')).body.items.map((x) => [x.id_token, x]));
    const stations = new Set((await s.api('GET', '/api/v1/stations')).body.items.map((x) => x.id));
    const problems = [];
    for (const x of acked.created) if (!tokens.has(x)) problems.push(`token ${x} created (201) but missing`);
    for (const x of acked.blocked) if (!tokens.has(x) || tokens.get(x).status !== 'Blocked') problems.push(`token ${x} blocked (200) but not Blocked`);
    for (const x of acked.deleted) if (tokens.has(x)) problems.push(`token ${x} deleted (204) but back`);
    for (const x of acked.stations) if (!stations.has(x)) problems.push(`station ${x} created (201) but missing`);
    assert.deepStrictEqual(problems, []);
  } finally {
    const st = await s.stop();
    s.cleanup();
    assert.strictEqual(st.code, 0, `exit ${JSON.stringify(st)}\n${s.stderr.slice(-3000)}`);
  }
});

test('acknowledged boot info and connector status survive a SIGKILL', async () => {
  let s = await new Server().start();
  try {
    await s.createStation('LIVE-DUR');
    const cp = s.station('LIVE-DUR');
    await cp.connect();
    await cp.call('BootNotification', { chargePointVendor: 'DurVendor', chargePointModel: 'DurModel', firmwareVersion: '9.9' });
    await cp.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Charging', timestamp: '2026-05-01T10:00:00.000Z' });
    await cp.call('StatusNotification', { connectorId: 2, errorCode: 'HighTemperature', status: 'Faulted', timestamp: '2026-05-01T10:00:01.000Z' });
    const hbBefore = Date.now();
    await cp.call('Heartbeat', {});
    await s.kill9();
    await cp.close({ force: true }).catch(() => {});
    s = await new Server(s.restartOptions()).start();
    const r = await s.api('GET', '/api/v1/stations/LIVE-DUR');
    assert.strictEqual(r.status, 200);
    assert.strictEqual(r.body.connected, false);
    assert.strictEqual(r.body.boot.vendor, 'DurVendor');
    assert.strictEqual(r.body.boot.model, 'DurModel');
    assert.strictEqual(r.body.boot.firmware_version, '9.9');
    // Heartbeat times are written every minute and at a graceful stop (next
    // test); after a SIGKILL the boot's time remains.
    assert.ok(Date.parse(r.body.last_heartbeat_at) > 0, `last_heartbeat_at ${r.body.last_heartbeat_at}`);
    assert.ok(hbBefore > 0);
    const c1 = r.body.connectors.find((k) => k.evse_id === 1);
    const c2 = r.body.connectors.find((k) => k.evse_id === 2);
    assert.strictEqual(c1 && c1.status, 'Charging', JSON.stringify(r.body.connectors));
    assert.strictEqual(c2 && c2.status, 'Faulted');
    assert.strictEqual(c2.error_code, 'HighTemperature');
    const h = await s.api('GET', '/api/v1/stations/LIVE-DUR/status-history');
    assert.strictEqual(h.status, 200);
    assert.strictEqual(h.body.items.length, 2);
  } finally {
    const st = await s.stop();
    s.cleanup();
    assert.strictEqual(st.code, 0, `exit ${JSON.stringify(st)}\n${s.stderr.slice(-3000)}`);
  }
});

test('the server refuses to start on a database whose schema is newer than it knows', async () => {
  const first = await new Server().start();
  let second;
  try {
    const st = await first.stop();
    assert.strictEqual(st.code, 0, first.stderr);
    const db = path.join(first.dataDir, 'ampgrid.db');
    const set = spawnSync('sqlite3', [db, 'PRAGMA user_version=99;'], { encoding: 'utf8' });
    assert.strictEqual(set.status, 0, set.stderr);
    second = new Server(first.restartOptions());
    await assert.rejects(second.start(), /server exited/);
    const ex = await second.exited;
    assert.ok(ex.code !== 0 && ex.code !== null, `exit ${JSON.stringify(ex)}`);
    assert.match(second.stderr, /schema version/i);
    assert.match(second.stderr, /\b99\b/);
    // and the database was left as it was
    const v = spawnSync('sqlite3', [db, 'PRAGMA user_version;'], { encoding: 'utf8' });
    assert.strictEqual(v.stdout.trim(), '99');
  } finally {
    if (second && second.proc && second.proc.exitCode === null) await second.stop();
    first.cleanup();
  }
});

test('heartbeat times are written when the server stops gracefully', async () => {
  let s = await new Server().start();
  try {
    await s.createStation('HB-DUR');
    const cp = s.station('HB-DUR');
    await cp.connect();
    await cp.call('BootNotification', { chargePointVendor: 'V', chargePointModel: 'M' });
    // far enough from the boot that the boot's own time cannot pass the check
    await new Promise((r) => setTimeout(r, 1500));
    const hbBefore = Date.now();
    await cp.call('Heartbeat', {});
    const live = await s.api('GET', '/api/v1/stations/HB-DUR');
    assert.ok(Date.parse(live.body.last_heartbeat_at) >= hbBefore - 50, 'shown at once from memory');
    assert.strictEqual((await s.stop()).code, 0);
    await cp.close({ force: true }).catch(() => {});
    s = await new Server(s.restartOptions()).start();
    const r = await s.api('GET', '/api/v1/stations/HB-DUR');
    assert.ok(Date.parse(r.body.last_heartbeat_at) >= hbBefore - 50,
      `last_heartbeat_at ${r.body.last_heartbeat_at} is the heartbeat's, not the boot's`);
  } finally {
    await s.stop();
  }
});
