// Load management end to end: a site of seven EVSEs on OCPP 1.6 and 2.0.1
// stations (ocpp-rpc, strict mode) behind a grid connection and a feeder.
// Each simulated station keeps the charging profiles it is sent, the way a
// real one would (TxProfile per transaction, TxDefaultProfile as the
// fallback), and after every profile it receives the test adds up what every
// charging EVSE may draw: that sum must never pass a limit on any phase.
// Then: a car drawing less (1.6 MeterValues, 2.0.1 TransactionEvent meter
// values) frees current for the others, a demand-response
// event lowers every profile and its end restores them, a station that drops
// off keeps a failsafe default within its share, a station that refuses
// profiles is flagged, and hostile trees are refused.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Server, BIN, waitFor, sleep } = require('./lib/harness');

const SITE = 'DEPOT-1';
const GRID_A = 63;
const FEEDER_A = 30;
const EPS = 0.051;

async function startServer() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ampgrid-e2e-'));
  const token = execFileSync(BIN, ['token', 'create', '--data-dir', dataDir, '--role', 'admin', '--name', 'e2e'], { encoding: 'utf8' }).trim();
  const s = new Server({ dataDir, token, config: '[smart]\ndebounce_ms = 50\nmax_profiles_per_second = 50\npriority_groups = FLEET:7, STAFF:3\n' });
  await s.start();
  return s;
}

// The tree under test: L16-A (2 EVSEs) and L16-B behind feeder F1; L201-A
// (2 EVSEs of at most 16 A), L201-B (single phase, on L2) and L16-REJ (which
// refuses every profile) straight on the grid connection.
function tree() {
  return {
    policy: 'equal',
    voltage_v: 230,
    nodes: [
      { id: 'grid', kind: 'grid_connection', limit_a: GRID_A, phases: 'L1L2L3' },
      { id: 'F1', kind: 'feeder', parent: 'grid', limit_a: FEEDER_A },
      { id: 'A', kind: 'station', parent: 'F1', station_id: 'L16-A', rotation: 'L2L3L1' },
      { id: 'A1', kind: 'evse', parent: 'A', evse_id: 1 },
      { id: 'A2', kind: 'evse', parent: 'A', evse_id: 2 },
      { id: 'B', kind: 'station', parent: 'F1', station_id: 'L16-B', limit_a: 32 },
      { id: 'B1', kind: 'evse', parent: 'B', evse_id: 1 },
      { id: 'C', kind: 'station', parent: 'grid', station_id: 'L201-A' },
      { id: 'C1', kind: 'evse', parent: 'C', evse_id: 1, max_a: 16 },
      { id: 'C2', kind: 'evse', parent: 'C', evse_id: 2, max_a: 16 },
      { id: 'D', kind: 'station', parent: 'grid', station_id: 'L201-B', rotation: 'L2' },
      { id: 'D1', kind: 'evse', parent: 'D', evse_id: 1 },
      { id: 'R', kind: 'station', parent: 'grid', station_id: 'L16-REJ' },
      { id: 'R1', kind: 'evse', parent: 'R', evse_id: 1 },
    ],
  };
}

// A simulated station: the profiles it holds and the transactions it runs.
class Sim {
  constructor(s, id, proto, evses, { phases = [0, 1, 2], reject = false, feeder = false } = {}) {
    Object.assign(this, { s, id, proto, evses, phases, reject, feeder });
    this.tx = {};          // evse -> limit of the TxProfile for the running transaction
    this.txId = {};        // evse -> transaction id (number for 1.6, string for 2.0.1)
    this.sessionId = {};   // evse -> the server's session id
    this.dflt = null;      // TxDefaultProfile limit
    this.max = null;       // station maximum
    this.received = [];
    this.early = {};       // TxProfiles that arrived before we knew the transaction id
    this.cleared = [];     // ClearChargingProfile requests
  }

  // ClearChargingProfile the way a station applies it: by profile id (the
  // ids ampgrid uses: 1 default, 2 station maximum, 100 + EVSE its
  // TxProfiles) or by purpose and stack level.
  clear(params) {
    const v16 = this.proto === 'ocpp1.6';
    this.cleared.push(params);
    const id = v16 ? params.id : params.chargingProfileId;
    const crit = v16 ? params : (params.chargingProfileCriteria ?? {});
    let n = 0;
    const drop = (purpose, level, evse, pid) => {
      if (id !== undefined) return id === pid;
      if (crit.chargingProfilePurpose && crit.chargingProfilePurpose !== purpose) return false;
      if (crit.stackLevel !== undefined && crit.stackLevel !== level) return false;
      const ce = v16 ? crit.connectorId : crit.evseId;
      return ce === undefined || ce === evse;
    };
    if (this.dflt !== null && drop('TxDefaultProfile', 0, 0, 1)) { this.dflt = null; n++; }
    if (this.max !== null && drop(v16 ? 'ChargePointMaxProfile' : 'ChargingStationMaxProfile', 0, 0, 2)) { this.max = null; n++; }
    for (const evse of Object.keys(this.tx)) {
      if (drop('TxProfile', 1, Number(evse), 100 + Number(evse))) { delete this.tx[evse]; n++; }
    }
    return { status: n ? 'Accepted' : 'Unknown' };
  }

  async connect(onProfile) {
    this.cp = this.s.station(this.id, { protocols: [this.proto] });
    const v16 = this.proto === 'ocpp1.6';
    this.cp.handle('SetChargingProfile', ({ params }) => {
      if (this.reject) return { status: 'Rejected' };
      const p = v16 ? params.csChargingProfiles : params.chargingProfile;
      const sched = v16 ? p.chargingSchedule : p.chargingSchedule[0];
      const limit = sched.chargingSchedulePeriod[0].limit;
      assert.strictEqual(sched.chargingRateUnit, 'A');
      const evse = v16 ? params.connectorId : params.evseId;
      this.received.push({ purpose: p.chargingProfilePurpose, evse, limit, kind: p.chargingProfileKind, periods: sched.chargingSchedulePeriod });
      if (p.chargingProfilePurpose === 'TxDefaultProfile') this.dflt = limit;
      else if (/MaxProfile$/.test(p.chargingProfilePurpose)) this.max = limit;
      else if (p.chargingProfilePurpose === 'TxProfile') {
        if (this.txId[evse] === undefined) {
          // the answer to StartTransaction may still be on its way to us
          this.early[String(p.transactionId)] = limit;
        } else if (String(p.transactionId) !== String(this.txId[evse])) {
          return { status: 'Rejected' };
        } else {
          this.tx[evse] = limit;
        }
      }
      onProfile();
      return { status: 'Accepted' };
    });
    this.cp.handle('ClearChargingProfile', ({ params }) => this.clear(params));
    this.cp.handle('GetCompositeSchedule', ({ params }) => {
      const evse = v16 ? params.connectorId : params.evseId;
      const limit = evse ? this.heldFor(evse) : Math.min(this.dflt ?? 1e6, this.max ?? 1e6);
      const periods = [{ startPeriod: 0, limit }];
      return v16
        ? { status: 'Accepted', connectorId: evse, scheduleStart: new Date().toISOString(), chargingSchedule: { duration: params.duration, chargingRateUnit: 'A', chargingSchedulePeriod: periods } }
        : { status: 'Accepted', schedule: { evseId: evse, duration: params.duration, scheduleStart: new Date().toISOString(), chargingRateUnit: 'A', chargingSchedulePeriod: periods } };
    });
    await this.cp.connect();
    const boot = v16
      ? await this.cp.call('BootNotification', { chargePointVendor: 'ampgrid-test', chargePointModel: 'lm' })
      : await this.cp.call('BootNotification', { reason: 'PowerUp', chargingStation: { vendorName: 'ampgrid-test', model: 'lm' } });
    assert.strictEqual(boot.status, 'Accepted');
  }

  // What an EVSE with a running transaction may draw under the profiles held.
  heldFor(evse) {
    const own = this.tx[evse];
    const cap = this.max ?? Infinity;
    return Math.min(own ?? this.dflt ?? Infinity, cap);
  }

  async start(evse, tag) {
    if (this.proto === 'ocpp1.6') {
      const r = await this.cp.call('StartTransaction', { connectorId: evse, idTag: tag, meterStart: 0, timestamp: new Date().toISOString() });
      assert.strictEqual(r.idTagInfo.status, 'Accepted');
      this.txId[evse] = r.transactionId;
      if (this.early[String(r.transactionId)] !== undefined) this.tx[evse] = this.early[String(r.transactionId)];
    } else {
      const txId = `${this.id}-TX-${evse}`;
      this.txId[evse] = txId;
      const r = await this.cp.call('TransactionEvent', {
        eventType: 'Started', timestamp: new Date().toISOString(), triggerReason: 'Authorized', seqNo: 0,
        transactionInfo: { transactionId: txId, chargingState: 'Charging' }, evse: { id: evse, connectorId: 1 },
        idToken: { idToken: tag, type: 'ISO14443' },
      });
      assert.strictEqual(r.idTokenInfo.status, 'Accepted');
    }
  }

  // The car's draw per phase: MeterValues on 1.6; on 2.0.1 the meterValue of
  // a TransactionEvent(Updated), the way 2.0.1 stations report a session.
  async meterCurrent(evse, amps) {
    if (this.proto === 'ocpp1.6') {
      await this.cp.call('MeterValues', {
        connectorId: evse, transactionId: this.txId[evse],
        meterValue: [{ timestamp: new Date().toISOString(), sampledValue: ['L1', 'L2', 'L3'].map((ph) => ({ value: String(amps), measurand: 'Current.Import', phase: ph, unit: 'A' })) }],
      });
      return;
    }
    this.seqNo = (this.seqNo ?? 0) + 1;
    const phases = this.phases.length === 1 ? ['L1'] : ['L1', 'L2', 'L3'];
    await this.cp.call('TransactionEvent', {
      eventType: 'Updated', timestamp: new Date().toISOString(), triggerReason: 'MeterValuePeriodic', seqNo: this.seqNo,
      transactionInfo: { transactionId: this.txId[evse], chargingState: 'Charging' }, evse: { id: evse, connectorId: 1 },
      meterValue: [{ timestamp: new Date().toISOString(), sampledValue: phases.map((ph) => ({ value: amps, measurand: 'Current.Import', phase: ph, unitOfMeasure: { unit: 'A' } })) }],
    });
  }
}

function assertProblem(r, status, pattern) {
  assert.strictEqual(r.status, status, JSON.stringify(r.body));
  assert.match(String(r.headers.get('content-type')), /^application\/problem\+json/);
  if (pattern) assert.match(r.body.detail, pattern);
}

test('load management: a site shared by 1.6 and 2.0.1 stations', async (t) => {
  const s = await startServer();
  const violations = [];
  let dr = null; // the demand-response limit per phase while an event runs
  const sims = [
    new Sim(s, 'L16-A', 'ocpp1.6', [1, 2], { feeder: true, phases: [1, 2, 0] }),
    new Sim(s, 'L16-B', 'ocpp1.6', [1], { feeder: true }),
    new Sim(s, 'L201-A', 'ocpp2.0.1', [1, 2]),
    new Sim(s, 'L201-B', 'ocpp2.0.1', [1], { phases: [1] }),
    new Sim(s, 'L16-REJ', 'ocpp1.6', [1], { reject: true }),
  ];
  const byId = Object.fromEntries(sims.map((x) => [x.id, x]));

  // Per grid phase: what the charging EVSEs may draw, on the grid and on F1.
  // A station that refuses profiles is counted at the failsafe the server
  // holds it to (it cannot be told anything else).
  let rejFailsafe = 0;
  const loads = (opts = {}) => {
    const grid = [0, 0, 0];
    const f1 = [0, 0, 0];
    for (const x of sims) {
      for (const evse of Object.keys(x.txId)) {
        // A car that has just started draws under its station's default until
        // the server, told of the start, has lowered the others and sent its
        // own profile: that window is the start's, not a profile's, so it is
        // checked once settled (see settled()) rather than at every profile.
        if (!x.reject && x.tx[evse] === undefined && !opts.all) continue;
        const a = x.reject ? rejFailsafe : x.heldFor(Number(evse));
        for (const ph of x.phases) {
          grid[ph] += a;
          if (x.feeder) f1[ph] += a;
        }
      }
    }
    return { grid, f1 };
  };
  const check = (when, opts = {}) => {
    const { grid, f1 } = loads(opts);
    for (let ph = 0; ph < 3; ph++) {
      const gl = dr ? Math.min(dr, GRID_A) : GRID_A;
      if (grid[ph] > gl + EPS) violations.push(`${when}: grid L${ph + 1} ${grid[ph].toFixed(1)} > ${gl}`);
      if (f1[ph] > FEEDER_A + EPS) violations.push(`${when}: F1 L${ph + 1} ${f1[ph].toFixed(1)} > ${FEEDER_A}`);
    }
  };
  const allocation = async () => {
    const r = await s.api('GET', `/api/v1/sites/${SITE}/allocation`);
    assert.strictEqual(r.status, 200, JSON.stringify(r.body));
    const rej = r.body.stations.find((x) => x.station_id === 'L16-REJ');
    if (rej) rejFailsafe = rej.failsafe_a;
    return r.body;
  };
  // Settled: every running transaction of a reachable, unflagged station
  // holds a TxProfile equal to what the allocation grants it.
  const settled = async (what) => {
    let last;
    await waitFor(async () => {
      last = await allocation();
      for (const e of last.evses) {
        const x = byId[e.station_id];
        if (!e.active || e.held || x.reject) continue;
        if (x.tx[e.evse_id] === undefined || Math.abs(x.tx[e.evse_id] - e.grant_a) > EPS) return false;
      }
      return true;
    }, { timeout: 10000, what });
    return last;
  };
  const grantOf = (a, id, evse) => a.evses.find((e) => e.station_id === id && e.evse_id === evse);
  // Every EVSE of the site charging at its station's TxDefaultProfile at once
  // (the server gone, every car plugged in): within every limit on every phase.
  const failsafesFit = async (what, gridLimit) => {
    await waitFor(async () => {
      const x = await allocation();
      return x.stations.every((st) => st.station_id === 'L16-REJ' || byId[st.station_id].dflt === st.failsafe_a);
    }, { what });
    const grid = [0, 0, 0];
    const f1 = [0, 0, 0];
    for (const x of sims) {
      const d = x.reject ? rejFailsafe : x.dflt;
      for (let k = 0; k < x.evses.length; k++) {
        for (const ph of x.phases) {
          grid[ph] += d;
          if (x.feeder) f1[ph] += d;
        }
      }
    }
    for (let ph = 0; ph < 3; ph++) {
      assert.ok(grid[ph] <= gridLimit + EPS, `${what}: grid L${ph + 1} ${grid[ph]} > ${gridLimit}`);
      assert.ok(f1[ph] <= FEEDER_A + EPS, `${what}: F1 L${ph + 1} ${f1[ph]} > ${FEEDER_A}`);
    }
    return grid;
  };

  try {
    for (const x of sims) await s.createStation(x.id, { site: SITE });
    await s.createStation('ELSEWHERE-1', { site: 'OTHER' });
    await s.createIdToken('FLEET');
    for (const tag of ['T1', 'T2', 'T3', 'T4', 'T6', 'T7']) await s.createIdToken(tag);
    await s.createIdToken('T5', { parent_id_token: 'FLEET' }); // L201-B's driver is in the fleet
    for (const x of sims) await x.connect(() => check(`after a profile to ${x.id}`));

    await t.test('PUT /sites/{site}/capacity stores the tree and GET answers it', async () => {
      const r = await s.api('PUT', `/api/v1/sites/${SITE}/capacity`, tree());
      assert.strictEqual(r.status, 200, JSON.stringify(r.body));
      assert.strictEqual(r.body.site, SITE);
      assert.strictEqual(r.body.nodes.length, 14);
      const d = r.body.nodes.find((n) => n.id === 'D');
      assert.strictEqual(d.phases, 'L2');
      assert.strictEqual(r.body.nodes.find((n) => n.id === 'A').rotation, 'L2L3L1');
      assert.deepStrictEqual(r.body.nodes.find((n) => n.id === 'F1').limit_a, [FEEDER_A, FEEDER_A, FEEDER_A]);
      const g = await s.api('GET', `/api/v1/sites/${SITE}/capacity`);
      assert.deepStrictEqual(g.body, r.body);
      const l = await s.api('GET', '/api/v1/sites');
      assert.deepStrictEqual(l.body.items.map((x) => x.site), [SITE]);
      assert.strictEqual(l.body.items[0].evses, 7);
    });

    await t.test('every station gets a failsafe TxDefaultProfile within its share', async () => {
      await waitFor(() => sims.every((x) => x.reject || x.dflt !== null), { what: 'default profiles' });
      const a = await allocation();
      for (const st of a.stations) {
        if (st.station_id === 'L16-REJ') continue;
        assert.strictEqual(byId[st.station_id].dflt, st.failsafe_a, st.station_id);
      }
      // 7 EVSEs on the grid, 3 behind the feeder: each failsafe is at most the share
      const fs = Object.fromEntries(a.stations.map((x) => [x.station_id, x.failsafe_a]));
      assert.ok(fs['L16-A'] <= FEEDER_A / 3 + EPS && fs['L16-A'] > 0, JSON.stringify(fs));
      assert.ok(fs['L201-A'] <= GRID_A / 7 + EPS && fs['L201-A'] > 0, JSON.stringify(fs));
      assert.strictEqual(byId['L16-B'].max, 32, 'the station limit goes out as ChargePointMaxProfile');
      rejFailsafe = fs['L16-REJ'];
      const grid = await failsafesFit('every EVSE at its failsafe', GRID_A);
      assert.ok(grid[1] > GRID_A - 7, `the failsafes use the connection (L2 ${grid[1]})`);
    });

    await t.test('sessions start and share the capacity within every limit', async () => {
      await byId['L16-A'].start(1, 'T1');
      await byId['L16-A'].start(2, 'T2');
      await byId['L16-B'].start(1, 'T3');
      await byId['L201-A'].start(1, 'T4');
      await byId['L201-B'].start(1, 'T5');
      await byId['L16-REJ'].start(1, 'T6');
      const a = await settled('profiles for five sessions');
      if (process.env.LM_DEBUG) console.log(JSON.stringify(a, null, 1), JSON.stringify(sims.map((x) => [x.id, x.tx, x.dflt, x.max])));
      check('settled', { all: true });
      assert.deepStrictEqual(violations, []);
      // the feeder is the bottleneck of its three sessions: equal shares of it
      const f = [grantOf(a, 'L16-A', 1), grantOf(a, 'L16-A', 2), grantOf(a, 'L16-B', 1)].map((e) => e.grant_a);
      assert.ok(Math.abs(f[0] - f[1]) < EPS && Math.abs(f[1] - f[2]) < EPS, JSON.stringify(f) + JSON.stringify(a) + JSON.stringify(sims.map((x) => [x.id, x.tx, x.dflt, x.received])));
      assert.ok(f[0] * 3 <= FEEDER_A + EPS && f[0] * 3 > FEEDER_A - 1, JSON.stringify(f));
      // the grid's L2 (where the single-phase L201-B also draws) is the bottleneck of the rest
      const g = a.nodes.find((n) => n.id === 'grid');
      assert.ok(Math.abs(g.load_a[1] - GRID_A) < 0.5, `grid L2 used up: ${g.load_a}`);
      assert.strictEqual(grantOf(a, 'L201-A', 1).grant_a, grantOf(a, 'L201-B', 1).grant_a, 'equal shares of L2');
      assert.ok(grantOf(a, 'L201-A', 1).grant_a <= 16, 'never above its EVSE maximum');
      assert.strictEqual(grantOf(a, 'L201-B', 1).priority, 7, 'the priority class of the id token\'s group');
      assert.strictEqual(grantOf(a, 'L201-A', 1).priority, 0);
      const f1 = a.nodes.find((n) => n.id === 'F1');
      for (let ph = 0; ph < 3; ph++) assert.ok(f1.load_a[ph] <= FEEDER_A + EPS);
    });

    await t.test('a station that refuses profiles is flagged and held to its failsafe', async () => {
      const a = await allocation();
      const st = a.stations.find((x) => x.station_id === 'L16-REJ');
      assert.strictEqual(st.flagged, true);
      assert.match(st.flag_reason, /Rejected/);
      const e = grantOf(a, 'L16-REJ', 1);
      assert.strictEqual(e.held, true);
      assert.strictEqual(e.grant_a, st.failsafe_a);
    });

    await t.test('a car drawing less than its grant gives the rest to the others', async () => {
      const before = await allocation();
      const b1 = grantOf(before, 'L16-A', 2).grant_a;
      await byId['L16-A'].meterCurrent(1, 4); // capped at its draw + 2 A of headroom
      const a = await waitFor(async () => {
        const x = await allocation();
        return grantOf(x, 'L16-A', 1).grant_a <= 6 + EPS ? x : false;
      }, { what: 'the low-drawing car capped' });
      const after = await settled('profiles after the car drew less');
      if (process.env.LM_DEBUG) console.log(JSON.stringify(before.evses.map((e) => [e.station_id, e.evse_id, e.grant_a])), JSON.stringify(after.evses.map((e) => [e.station_id, e.evse_id, e.grant_a, e.draw_a])));
      check('after the low draw', { all: true });
      assert.ok(grantOf(a, 'L16-A', 2).grant_a > b1 + 1, `${grantOf(a, 'L16-A', 2).grant_a} > ${b1}`);
      assert.ok(byId['L16-B'].tx[1] > b1 + 1, 'the other feeder session received more');
      assert.deepStrictEqual(violations, []);
    });

    let preDr;
    await t.test('a demand-response event lowers every profile in time, its end restores them', async () => {
      preDr = await settled('before demand response');
      const limitA = 30;
      const now = Date.now();
      const ev = await s.api('POST', '/api/v1/demand-response/events', {
        site: SITE, start: new Date(now - 5000).toISOString(), end: new Date(now + 600000).toISOString(),
        limit_kw: (limitA * 230 * 3) / 1000, reason: 'e2e',
      });
      assert.strictEqual(ev.status, 201, JSON.stringify(ev.body));
      const t0 = Date.now();
      const a = await waitFor(async () => {
        const x = await allocation();
        return x.demand_response && Math.abs(x.limit_a[0] - limitA) < 0.01 ? x : false;
      }, { what: 'the allocation under the event' });
      await settled('profiles under demand response');
      assert.ok(Date.now() - t0 < 5000, 'lowered within seconds');
      dr = limitA; // from here on, every profile must keep within the event's limit
      const { grid } = loads({ all: true });
      for (let ph = 0; ph < 3; ph++) assert.ok(grid[ph] <= limitA + EPS, `L${ph + 1}: ${grid[ph]} > ${limitA}`);
      // 30 A for seven EVSEs is below their 6 A minimum: the failsafe pauses them all
      await failsafesFit('every EVSE at its failsafe under the event', limitA);
      assert.ok(sims.every((x) => x.reject || x.dflt === 0), JSON.stringify(sims.map((x) => [x.id, x.dflt])));
      for (const n of a.nodes.filter((x) => x.id === 'grid')) for (let ph = 0; ph < 3; ph++) assert.ok(n.load_a[ph] <= limitA + EPS);
      assert.deepStrictEqual(violations, []);
      dr = null; // the limit may lift as soon as the event is gone
      const del = await s.api('DELETE', `/api/v1/demand-response/events/${ev.body.id}`);
      assert.ok(del.status === 204 || del.status === 200, JSON.stringify(del.body));
      await waitFor(async () => !(await allocation()).demand_response, { what: 'the event gone' });
      // the capped car still draws 4 A: its next meter value caps it again
      await byId['L16-A'].meterCurrent(1, 4);
      await waitFor(async () => grantOf(await allocation(), 'L16-A', 1).grant_a <= 6 + EPS, { what: 'capped again' });
      const after = await settled('profiles restored');
      for (const e of preDr.evses) {
        if (!e.active || e.held) continue;
        assert.ok(Math.abs(grantOf(after, e.station_id, e.evse_id).grant_a - e.grant_a) < EPS, `${e.station_id}/${e.evse_id} restored`);
      }
    });

    await t.test('a 2.0.1 car\'s draw in TransactionEvent meter values frees current for the others', async () => {
      const before = await settled('before the 2.0.1 car draws less');
      const b = grantOf(before, 'L201-B', 1).grant_a;
      assert.ok(grantOf(before, 'L201-A', 1).grant_a > 6 + 1, JSON.stringify(grantOf(before, 'L201-A', 1)));
      await byId['L201-A'].meterCurrent(1, 4); // capped at its draw + 2 A of headroom
      const a = await waitFor(async () => {
        const x = await allocation();
        return grantOf(x, 'L201-A', 1).grant_a <= 6 + EPS ? x : false;
      }, { what: 'the low-drawing 2.0.1 car capped' });
      assert.strictEqual(grantOf(a, 'L201-A', 1).draw_a, 4);
      const after = await settled('profiles after the 2.0.1 car drew less');
      check('after the 2.0.1 low draw', { all: true });
      // L201-B shares the grid's L2 with it: it receives what the car left
      assert.ok(grantOf(after, 'L201-B', 1).grant_a > b + 1, `${grantOf(after, 'L201-B', 1).grant_a} > ${b}`);
      assert.ok(byId['L201-B'].tx[1] > b + 1, 'the profile of the other 2.0.1 session went up');
      assert.deepStrictEqual(violations, []);
      // the samples are kept with the session, as MeterValues' are
      const sid = grantOf(after, 'L201-A', 1).session_id;
      const ses = await s.api('GET', `/api/v1/sessions/${sid}`);
      assert.strictEqual(ses.status, 200, JSON.stringify(ses.body));
      const cur = ses.body.meter_values.filter((m) => m.measurand === 'Current.Import');
      assert.deepStrictEqual(cur.map((m) => [m.phase, Number(m.value)]), [['L1', 4], ['L2', 4], ['L3', 4]]);
      // drawing all it may again lifts the cap: the shares are as before
      await byId['L201-A'].meterCurrent(1, 16);
      await waitFor(async () => grantOf(await allocation(), 'L201-A', 1).grant_a > 6 + 1, { what: 'the cap lifted' });
      const back = await settled('profiles after the cap lifted');
      assert.ok(Math.abs(grantOf(back, 'L201-B', 1).grant_a - b) < EPS, `${grantOf(back, 'L201-B', 1).grant_a} = ${b}`);
      check('after the cap lifted', { all: true });
      assert.deepStrictEqual(violations, []);
    });

    await t.test('a station that disconnects keeps a default profile within its failsafe share', async () => {
      const d = byId['L201-B'];
      await d.cp.close();
      const a = await waitFor(async () => {
        const x = await allocation();
        const st = x.stations.find((y) => y.station_id === 'L201-B');
        return st.connected === false ? x : false;
      }, { what: 'the station seen disconnected' });
      const st = a.stations.find((y) => y.station_id === 'L201-B');
      assert.ok(d.dflt !== null && d.dflt <= st.failsafe_a + EPS, `${d.dflt} <= ${st.failsafe_a}`);
      assert.ok(st.failsafe_a * 7 <= GRID_A + EPS);
      const e = grantOf(a, 'L201-B', 1);
      assert.strictEqual(e.held, true, 'its EVSE is held at what it may be drawing');
      assert.strictEqual(e.grant_a, d.tx[1], 'the last TxProfile it accepted');
      await settled('after the disconnection');
      check('after the disconnection', { all: true });
      assert.deepStrictEqual(violations, []);
    });

    await t.test('GetCompositeSchedule verifies what the stations apply', async () => {
      const r = await s.api('POST', `/api/v1/sites/${SITE}/verify`);
      assert.strictEqual(r.status, 202, JSON.stringify(r.body));
      const a = await waitFor(async () => {
        const x = await allocation();
        const e = grantOf(x, 'L16-B', 1);
        return e.verify ? x : false;
      }, { what: 'the composite schedule' });
      const e = grantOf(a, 'L16-B', 1);
      assert.strictEqual(e.verify.limit_a, byId['L16-B'].tx[1]);
      assert.strictEqual(e.verify.matches, true);
    });

    await t.test('history and charging needs', async () => {
      const h = await s.api('GET', `/api/v1/sites/${SITE}/allocation/history`);
      assert.strictEqual(h.status, 200);
      assert.ok(h.body.samples.length >= 2, JSON.stringify(h.body));
      assert.ok(h.body.samples.every((x) => x.load_a.length === 3));
      const a = await allocation();
      const sid = grantOf(a, 'L201-A', 1).session_id;
      const dep = new Date(Date.now() + 3600000).toISOString().replace(/\.\d+Z$/, 'Z');
      const p = await s.api('PUT', `/api/v1/sessions/${sid}/charging-needs`, { energy_wh: 9000, departure: dep, priority: 2 });
      assert.strictEqual(p.status, 200, JSON.stringify(p.body));
      const g = await s.api('GET', `/api/v1/sessions/${sid}/charging-needs`);
      assert.strictEqual(Date.parse(g.body.departure), Date.parse(dep));
      assert.deepStrictEqual({ ...g.body, departure: dep }, { session_id: sid, energy_wh: 9000, departure: dep, priority: 2 });
      const x = await waitFor(async () => { const y = await allocation(); return grantOf(y, 'L201-A', 1).need_wh === 9000 ? y : false; });
      assert.strictEqual(grantOf(x, 'L201-A', 1).priority, 2);
      assertProblem(await s.api('PUT', `/api/v1/sessions/${sid}/charging-needs`, { energy_wh: -1 }), 400);
      assertProblem(await s.api('PUT', `/api/v1/sessions/${sid}/charging-needs`, { departure: 'tomorrow' }), 400);
      assertProblem(await s.api('PUT', `/api/v1/sessions/${sid}/charging-needs`, { bogus: 1 }), 400);
      assertProblem(await s.api('PUT', '/api/v1/sessions/999999/charging-needs', { energy_wh: 1 }), 404);
      const audit = await s.api('GET', '/api/v1/audit-log?limit=100');
      const actions = audit.body.items.map((i) => i.action);
      assert.ok(actions.includes('site_capacity.update') && actions.includes('session.charging_needs'), JSON.stringify(actions));
    });

    await t.test('NotifyEVChargingNeeds is answered with a schedule, NotifyEVChargingSchedule renegotiates', async () => {
      const c = byId['L201-A'];
      await c.start(2, 'T7');
      await settled('profiles with the new session');
      const n0 = c.received.length;
      const departure = new Date(Date.now() + 2 * 3600000).toISOString();
      const r = await c.cp.call('NotifyEVChargingNeeds', {
        evseId: 2, chargingNeeds: { requestedEnergyTransfer: 'AC_three_phase', departureTime: departure,
          acChargingParameters: { energyAmount: 15000, evMinCurrent: 6, evMaxCurrent: 16, evMaxVoltage: 400 } },
      });
      assert.ok(['Accepted', 'Processing'].includes(r.status), JSON.stringify(r));
      const sched = await waitFor(() => c.received.slice(n0).find((x) => x.purpose === 'TxProfile' && x.evse === 2 && x.periods.length > 1), { what: 'a schedule profile' });
      assert.strictEqual(sched.kind, 'Absolute');
      assert.strictEqual(sched.periods[0].startPeriod, 0);
      assert.ok(sched.periods.length >= 8, `a period per slot up to the departure: ${sched.periods.length}`);
      for (const q of sched.periods) assert.ok(q.limit <= 16 + EPS, JSON.stringify(q));
      const a = await allocation();
      const e = grantOf(a, 'L201-A', 2);
      assert.strictEqual(e.need_wh, 15000);
      assert.strictEqual(Date.parse(e.departure), Math.floor(Date.parse(departure) / 1000) * 1000);
      assert.ok(sched.periods[0].limit <= e.grant_a + EPS, 'the first period is the live grant');
      const n1 = c.received.length;
      const ren = await c.cp.call('NotifyEVChargingSchedule', {
        timeBase: new Date().toISOString(), evseId: 2,
        chargingSchedule: { id: 1, chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 10 }] },
      });
      assert.strictEqual(ren.status, 'Accepted');
      await waitFor(() => c.received.slice(n1).some((x) => x.purpose === 'TxProfile' && x.evse === 2 && x.periods.length > 1), { what: 'the renegotiated schedule' });
      await settled('after the renegotiation');
      check('after the schedule', { all: true });
      assert.deepStrictEqual(violations, []);
    });

    await t.test('building meter readings reserve capacity on live_meter nodes', async () => {
      const tr = tree();
      tr.nodes[0].live_meter = true;
      tr.nodes[0].reserved_a = 2;
      assert.strictEqual((await s.api('PUT', `/api/v1/sites/${SITE}/capacity`, tr)).status, 200);
      const r = await s.api('PUT', `/api/v1/sites/${SITE}/nodes/grid/load`, { current_a: [20, 21, 22], timestamp: new Date().toISOString() });
      assert.strictEqual(r.status, 204, JSON.stringify(r.body));
      const a = await waitFor(async () => {
        const x = await allocation();
        const g = x.nodes.find((n) => n.id === 'grid');
        return g.reserved_source === 'meter' ? x : false;
      });
      const g = a.nodes.find((n) => n.id === 'grid');
      assert.deepStrictEqual(g.reserved_a, [20, 21, 22]);
      for (let ph = 0; ph < 3; ph++) assert.ok(g.load_a[ph] <= GRID_A + EPS, JSON.stringify(g));
      await settled('profiles with the building load');
      assert.deepStrictEqual(violations, []);
      assertProblem(await s.api('PUT', `/api/v1/sites/${SITE}/nodes/F1/load`, { current_a: [1, 1, 1] }), 422, /building meter/);
      assertProblem(await s.api('PUT', `/api/v1/sites/${SITE}/nodes/grid/load`, { current_a: [1, -1, 1] }), 400);
      assertProblem(await s.api('PUT', `/api/v1/sites/${SITE}/nodes/nope/load`, { current_a: [1, 1, 1] }), 404);
    });

    await t.test('hostile trees are refused with a problem and change nothing', async () => {
      const before = (await s.api('GET', `/api/v1/sites/${SITE}/capacity`)).body;
      const put = (body, site = SITE) => s.api('PUT', `/api/v1/sites/${site}/capacity`, body);
      const mod = (f) => { const x = tree(); f(x); return x; };
      assertProblem(await put(mod((x) => { x.nodes[1].parent = 'A'; })), 422, /cannot hang off|cycle/);
      assertProblem(await put(mod((x) => { x.nodes[0].parent = 'F1'; })), 422, /cannot hang off/);
      assertProblem(await put(mod((x) => { x.nodes.push({ id: 'X', kind: 'feeder', parent: 'Y' }, { id: 'Y', kind: 'feeder', parent: 'X' }); })), 422, /cycle/);
      assertProblem(await put({ nodes: [{ id: 'a', kind: 'grid_connection', limit_a: 10, parent: 'b' }, { id: 'b', kind: 'feeder', parent: 'a' }] }), 422, /cannot hang off|cycle|root/);
      assertProblem(await put(mod((x) => { x.nodes[1].phases = 'L1'; x.nodes[2].rotation = 'L1L2L3'; })), 422, /lacks/);
      assertProblem(await put(mod((x) => { x.nodes[1].limit_a = -5; })), 422, />= 0/);
      assertProblem(await put(mod((x) => { x.nodes[1].limit_a = [10, 'x', 10]; })), 400);
      assertProblem(await put(mod((x) => { x.nodes[2].station_id = 'NO-SUCH'; })), 422, /unknown station/);
      assertProblem(await put(mod((x) => { x.nodes[5].station_id = 'L16-A'; })), 422, /twice/);
      assertProblem(await put(mod((x) => { x.nodes.push({ id: 'grid', kind: 'feeder', parent: 'grid' }); })), 422, /twice/);
      assertProblem(await put(mod((x) => { x.nodes[0].limit_a = undefined; })), 422, /root needs a limit/);
      assertProblem(await put(mod((x) => { x.policy = 'cheapest'; })), 400);
      assertProblem(await put(mod((x) => { x.nodes[3].rotation = 'L1L1'; })), 422);
      assertProblem(await put(mod((x) => { x.nodes[2].rotation = 'L1L1L2'; })), 400);
      assertProblem(await put(mod((x) => { x.extra = 1; })), 400, /unknown field/);
      assertProblem(await put({ nodes: [] }), 400);
      assertProblem(await put('{"nodes": [{"id": "g", "kind": "grid_connection", "limit_a": 1e999}]}'), 400);
      // a station of this site cannot join another site's tree
      assertProblem(await put({ nodes: [{ id: 'g', kind: 'grid_connection', limit_a: 10 }, { id: 's', kind: 'station', parent: 'g', station_id: 'L16-B' }] }, 'OTHER'), 422, /station 'L16-B' belongs to site 'DEPOT-1', not 'OTHER'/);
      assertProblem(await put(tree(), 'bad site!'), 400);
      assert.deepStrictEqual((await s.api('GET', `/api/v1/sites/${SITE}/capacity`)).body, before);
      assertProblem(await s.api('GET', '/api/v1/sites/NOPE/allocation'), 404);
    });

    await t.test('the tree survives a restart', async () => {
      const before = (await s.api('GET', `/api/v1/sites/${SITE}/capacity`)).body;
      for (const x of sims) if (x.cp && x.id !== 'L201-B') await x.cp.close().catch(() => {});
      const st = await s.stop();
      assert.deepStrictEqual(st, { code: 0, signal: null }, s.stderr.slice(-3000));
      const s2 = new Server(s.restartOptions());
      await s2.start();
      try {
        const after = await s2.api('GET', `/api/v1/sites/${SITE}/capacity`);
        assert.deepStrictEqual(after.body, before);
        const needs = await s2.api('GET', '/api/v1/sites');
        assert.strictEqual(needs.body.items[0].site, SITE);
      } finally {
        await s2.stop();
      }
    });
  } finally {
    for (const x of sims) if (x.cp) await x.cp.close().catch(() => {});
    if (process.env.LM_DEBUG) console.log('STDERR', s.stderr.slice(-8000));
    await s.stop();
    s.cleanup?.();
  }
});

// Leaving load management: a station's site decides which tree may wire it,
// and a station a tree no longer holds (the tree deleted, or a new tree
// without it) has the profiles ampgrid set cleared — at once when connected,
// else when it connects again.
test('load management: site membership and clearing the profiles of stations that leave', async (t) => {
  const s = await startServer();
  const sims = [new Sim(s, 'CL16', 'ocpp1.6', [1]), new Sim(s, 'CL201', 'ocpp2.0.1', [1]), new Sim(s, 'CLOFF', 'ocpp1.6', [1])];
  const byId = Object.fromEntries(sims.map((x) => [x.id, x]));
  const site = 'YARD';
  const tree = (ids) => ({ policy: 'equal', voltage_v: 230, nodes: [
    { id: 'grid', kind: 'grid_connection', limit_a: 40 },
    ...ids.map((id) => ({ id: `n-${id}`, kind: 'station', parent: 'grid', station_id: id, limit_a: 32 })),
  ] });
  const held = (x) => x.dflt !== null || x.max !== null || Object.keys(x.tx).length > 0;
  const clears = async (id) => (await s.api('GET', `/api/v1/stations/${id}/events?limit=100`)).body.items
    .filter((e) => e.kind === 'command' && e.detail.action === 'ClearChargingProfile');
  try {
    for (const x of sims) await s.createStation(x.id, { site });
    await s.createStation('CL-ELSE', { site: 'ELSEWHERE' });
    await s.createStation('CL-NONE');
    await s.createIdToken('CT1');
    await s.createIdToken('CT2');
    for (const x of sims) await x.connect(() => {});

    await t.test('a tree may only wire stations of its own site', async () => {
      const r = await s.api('PUT', `/api/v1/sites/${site}/capacity`, tree(['CL16', 'CL-ELSE']));
      assertProblem(r, 422, /station 'CL-ELSE' belongs to site 'ELSEWHERE', not 'YARD'/);
      assertProblem(await s.api('PUT', `/api/v1/sites/${site}/capacity`, tree(['CL-NONE'])), 422, /station 'CL-NONE' belongs to no site/);
      assert.strictEqual((await s.api('GET', `/api/v1/sites/${site}/capacity`)).status, 404, 'nothing stored');
    });

    await t.test('the stations of the tree get their profiles', async () => {
      const r = await s.api('PUT', `/api/v1/sites/${site}/capacity`, tree(['CL16', 'CL201', 'CLOFF']));
      assert.strictEqual(r.status, 200, JSON.stringify(r.body));
      await waitFor(() => sims.every((x) => x.dflt !== null && x.max !== null), { what: 'default and maximum profiles' });
      await byId.CL16.start(1, 'CT1');
      await byId.CL201.start(1, 'CT2');
      await waitFor(() => byId.CL16.tx[1] !== undefined && byId.CL201.tx[1] !== undefined, { what: 'TxProfiles' });
    });

    await t.test('the site page shows the tree, the sessions and the demand-response event in force (chromium)', async () => {
      const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
      assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: run scripts/install-deps.sh --test`);
      const { chromium } = require('playwright-core');
      const made = spawnSync(BIN, ['user', 'create', '--data-dir', s.dataDir, '--username', 'lm-ops', '--role', 'operator'],
        { input: 'a-site-page-password-1\n', encoding: 'utf8', timeout: 30000 });
      assert.strictEqual(made.status, 0, made.stderr);
      const now = Date.now();
      const ev = await s.api('POST', '/api/v1/demand-response/events', {
        site, start: new Date(now - 5000).toISOString(), end: new Date(now + 600000).toISOString(), limit_kw: 12.5, reason: 'grid peak',
      });
      assert.strictEqual(ev.status, 201, JSON.stringify(ev.body));
      const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'] });
      try {
        const page = await browser.newPage();
        page.setDefaultTimeout(10000);
        const errors = [];
        page.on('pageerror', (e) => errors.push(String(e)));
        await page.goto(`${s.httpUrl}/#/sites/${site}`);
        await page.getByLabel('Username').fill('lm-ops');
        await page.getByLabel('Password').fill('a-site-page-password-1');
        await page.getByRole('button', { name: 'Sign in', exact: true }).click();
        if (!(await page.getByRole('heading', { name: `Site ${site}` }).isVisible().catch(() => false))) await page.goto(`${s.httpUrl}/#/sites/${site}`);
        await page.getByRole('heading', { name: `Site ${site}`, level: 1 }).waitFor();
        // the allocation names the event's limit, and the embedded section lists it as active
        await page.getByText('demand response: at most 12.5 kW').waitFor();
        const dr = page.getByRole('region', { name: `Demand-response limits of ${site}` });
        const row = dr.locator(`[data-dr="${ev.body.id}"]`);
        await row.waitFor();
        const text = await row.textContent();
        assert.match(text, /12\.5 kW/);
        assert.match(text, /active/);
        assert.match(text, /grid peak/);
        // the tree and the sessions of the site
        await page.getByRole('region', { name: 'Capacity tree' }).locator('[data-node="n-CL16"]').waitFor();
        const sessions = await page.getByRole('region', { name: 'EVSE allocations' }).textContent();
        assert.match(sessions, /CL16/);
        assert.match(sessions, /CL201/);
        assert.deepStrictEqual(errors, []);
      } finally {
        await browser.close();
      }
      assert.strictEqual((await s.api('DELETE', `/api/v1/demand-response/events/${ev.body.id}`)).status, 204);
    });

    await t.test('a station moved to another site stays out of every other tree until its tree lets it go', async () => {
      const p = await s.api('PATCH', '/api/v1/stations/CLOFF', { site: 'ELSEWHERE' });
      assert.strictEqual(p.status, 200, JSON.stringify(p.body));
      const r = await s.api('PUT', '/api/v1/sites/ELSEWHERE/capacity', tree(['CLOFF']));
      assertProblem(r, 422, /station 'CLOFF' is already in the tree of site 'YARD'/);
    });

    await t.test('a station left out of the new tree has its profiles cleared when it connects again', async () => {
      const off = byId.CLOFF;
      await off.cp.close();
      await waitFor(async () => (await s.api('GET', `/api/v1/sites/${site}/allocation`)).body.stations.find((x) => x.station_id === 'CLOFF').connected === false, { what: 'CLOFF seen offline' });
      const r = await s.api('PUT', `/api/v1/sites/${site}/capacity`, tree(['CL16', 'CL201']));
      assert.strictEqual(r.status, 200, JSON.stringify(r.body));
      assert.ok(held(off), 'offline: it still holds them');
      await off.connect(() => {});
      await waitFor(() => off.cleared.length === 3, { what: 'CLOFF cleared after reconnecting' });
      assert.ok(!held(off));
      assert.deepStrictEqual(off.cleared, [{ id: 1 }, { id: 2 }, { chargingProfilePurpose: 'TxProfile', stackLevel: 1 }]);
      const log = await waitFor(async () => { const c = await clears('CLOFF'); return c.length === 3 ? c : false; }, { what: 'the clears in the station log' });
      assert.ok(log.every((e) => e.detail.outcome === 'Answered'), JSON.stringify(log));
      assert.ok(held(byId.CL16) && held(byId.CL201), 'the stations still in the tree keep theirs');
      assert.deepStrictEqual(byId.CL16.cleared, []);
    });

    await t.test('deleting the tree clears what ampgrid set on each of its stations', async () => {
      const d = await s.api('DELETE', `/api/v1/sites/${site}/capacity`);
      assert.strictEqual(d.status, 204, JSON.stringify(d.body));
      await waitFor(() => byId.CL16.cleared.length === 3 && byId.CL201.cleared.length === 3, { what: 'profiles cleared' });
      assert.ok(!held(byId.CL16) && !held(byId.CL201));
      assert.deepStrictEqual(byId.CL16.cleared, [{ id: 1 }, { id: 2 }, { chargingProfilePurpose: 'TxProfile', stackLevel: 1 }]);
      assert.deepStrictEqual(byId.CL201.cleared, [{ chargingProfileId: 1 }, { chargingProfileId: 2 }, { chargingProfileCriteria: { chargingProfilePurpose: 'TxProfile', stackLevel: 1 } }]);
      for (const id of ['CL16', 'CL201']) {
        const log = await waitFor(async () => { const c = await clears(id); return c.length === 3 ? c : false; }, { what: `the clears of ${id} in its log` });
        assert.ok(log.every((e) => e.detail.outcome === 'Answered' && e.detail.response.status === 'Accepted'), JSON.stringify(log));
      }
      const audit = await s.api('GET', '/api/v1/audit-log?limit=100');
      assert.ok(audit.body.items.some((i) => i.action === 'site_capacity.delete'));
    });
  } finally {
    for (const x of sims) if (x.cp) await x.cp.close().catch(() => {});
    await s.stop();
    s.cleanup?.();
  }
});
