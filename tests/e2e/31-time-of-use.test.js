// Time of use in the live allocation (issue 7): with a price schedule, a
// session whose departure and energy need are known charges in the cheapest
// hours that still meet its need. Real ocpp-rpc stations (strict mode), 1.6
// and 2.0.1, on one site behind a 40 A connection; a price schedule through
// the API, expensive now and cheap from a 15-minute boundary at least half an
// hour ahead. A 1.6 session whose need fits in the cheap hours is paused
// (TxProfile 0 A) and the allocation says why; the session without a
// departure takes what it leaves; the site setting turns it off and on; a
// session whose need does not fit in the cheap hours alone charges now; a
// 2.0.1 car's NotifyEVChargingNeeds is answered with a schedule that starts
// at 0 A and charges from the cheap period on; when the schedule changes so
// that now is cheap, the paused car gets current again; the default price
// schedule (no site) counts for a site without its own. After every profile
// a station receives, the TxProfiles in force must fit the connection.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { Server, waitFor, sleep } = require('./lib/harness');

const SITE = 'tou-depot';
const GRID_A = 40;
const SLOT_S = 900;
const EPS = 0.051;
const HOUR_S = 3600;

const iso = (s) => new Date(s * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
const nowS = () => Math.floor(Date.now() / 1000);

function tree(extra = {}) {
  return {
    policy: 'equal', voltage_v: 230, ...extra,
    nodes: [
      { id: 'grid', kind: 'grid_connection', limit_a: GRID_A, phases: 'L1L2L3' },
      { id: 'A', kind: 'station', parent: 'grid', station_id: 'TOU-A' },
      { id: 'A1', kind: 'evse', parent: 'A', evse_id: 1 },
      { id: 'A2', kind: 'evse', parent: 'A', evse_id: 2 },
      { id: 'B', kind: 'station', parent: 'grid', station_id: 'TOU-B' },
      { id: 'B1', kind: 'evse', parent: 'B', evse_id: 1 },
      { id: 'C', kind: 'station', parent: 'grid', station_id: 'TOU-C' },
      { id: 'C1', kind: 'evse', parent: 'C', evse_id: 1 },
    ],
  };
}

function problem(r, status, re) {
  assert.strictEqual(r.status, status, JSON.stringify(r.body));
  assert.match(String(r.headers.get('content-type')), /^application\/problem\+json/);
  if (re) assert.match(r.body.detail, re);
}

// A station that keeps the TxProfile of each EVSE (the limit in force now,
// and the periods of a schedule) and checks the site after each one.
class Station {
  constructor(s, id, proto, onProfile) {
    Object.assign(this, { s, id, proto, onProfile, tx: {}, periods: {}, txId: {}, profiles: [] });
  }

  async connect() {
    const v16 = this.proto === 'ocpp1.6';
    this.cp = this.s.station(this.id, { protocols: [this.proto] });
    this.cp.handle('SetChargingProfile', ({ params }) => {
      const p = v16 ? params.csChargingProfiles : params.chargingProfile;
      const sched = v16 ? p.chargingSchedule : p.chargingSchedule[0];
      assert.strictEqual(sched.chargingRateUnit, 'A');
      if (p.chargingProfilePurpose === 'TxProfile') {
        const evse = v16 ? params.connectorId : params.evseId;
        this.tx[evse] = sched.chargingSchedulePeriod[0].limit;
        this.periods[evse] = sched.chargingSchedulePeriod;
        this.profiles.push({ evse, start: sched.startSchedule, periods: sched.chargingSchedulePeriod });
        this.onProfile();
      }
      return { status: 'Accepted' };
    });
    this.cp.handle('ClearChargingProfile', () => ({ status: 'Accepted' }));
    await this.cp.connect();
    const boot = v16
      ? await this.cp.call('BootNotification', { chargePointVendor: 'ampgrid-test', chargePointModel: 'tou' })
      : await this.cp.call('BootNotification', { reason: 'PowerUp', chargingStation: { vendorName: 'ampgrid-test', model: 'tou' } });
    assert.strictEqual(boot.status, 'Accepted');
  }

  async start(evse, tag) {
    if (this.proto === 'ocpp1.6') {
      const r = await this.cp.call('StartTransaction', { connectorId: evse, idTag: tag, meterStart: 0, timestamp: new Date().toISOString() });
      assert.strictEqual(r.idTagInfo.status, 'Accepted');
      this.txId[evse] = r.transactionId;
      return;
    }
    this.txId[evse] = `${this.id}-TX-${evse}`;
    const r = await this.cp.call('TransactionEvent', {
      eventType: 'Started', timestamp: new Date().toISOString(), triggerReason: 'Authorized', seqNo: 0,
      transactionInfo: { transactionId: this.txId[evse], chargingState: 'Charging' }, evse: { id: evse, connectorId: 1 },
      idToken: { idToken: tag, type: 'ISO14443' },
    });
    assert.strictEqual(r.idTokenInfo.status, 'Accepted');
  }
}

test('time of use: flexible sessions wait for the cheap hours that still meet their need', async (t) => {
  const s = await new Server({ config: '[smart]\ndebounce_ms = 50\nmax_profiles_per_second = 50\n' }).start();
  t.after(async () => { await s.stop(); s.cleanup(); });
  const violations = [];
  const stations = [];
  // every TxProfile in force now, added up on every phase (all cars draw three)
  const check = () => {
    let sum = 0;
    for (const x of stations) for (const evse of Object.keys(x.txId)) sum += x.tx[evse] ?? 0;
    if (sum > GRID_A + EPS) violations.push(`${sum.toFixed(1)} A > ${GRID_A} A`);
  };
  const A = new Station(s, 'TOU-A', 'ocpp1.6', check);
  const B = new Station(s, 'TOU-B', 'ocpp1.6', check);
  const C = new Station(s, 'TOU-C', 'ocpp2.0.1', check);
  stations.push(A, B, C);
  for (const x of stations) await s.createStation(x.id, { site: SITE });
  for (const tag of ['T1', 'T2', 'T3', 'T4']) await s.createIdToken(tag);

  const allocation = async () => {
    const r = await s.api('GET', `/api/v1/sites/${SITE}/allocation`);
    assert.strictEqual(r.status, 200, JSON.stringify(r.body));
    return r.body;
  };
  const evse = (a, st, id) => a.evses.find((e) => e.station_id === st.id && e.evse_id === id);
  // every running session holds a TxProfile equal to its grant, and `ok` holds
  const settled = async (what, ok = () => true) => {
    let last;
    await waitFor(async () => {
      last = await allocation();
      for (const e of last.evses) {
        if (!e.active) continue;
        const st = stations.find((x) => x.id === e.station_id);
        if (st.tx[e.evse_id] === undefined || Math.abs(st.tx[e.evse_id] - e.grant_a) > EPS) return false;
      }
      return ok(last);
    }, { timeout: 10000, what });
    return last;
  };
  const needs = async (st, id, energy_wh, departure) => {
    const sid = evse(await allocation(), st, id).session_id;
    const r = await s.api('PUT', `/api/v1/sessions/${sid}/charging-needs`, { energy_wh, departure: iso(departure) });
    assert.strictEqual(r.status, 200, JSON.stringify(r.body));
  };

  // the setting: a boolean, on by default, canonical in the tree
  problem(await s.api('PUT', `/api/v1/sites/${SITE}/capacity`, tree({ time_of_use: 'yes' })), 400, /time_of_use/);
  assert.strictEqual((await s.api('GET', `/api/v1/sites/${SITE}/capacity`)).status, 404, 'nothing stored');
  const put = await s.api('PUT', `/api/v1/sites/${SITE}/capacity`, tree());
  assert.strictEqual(put.status, 200, JSON.stringify(put.body));
  assert.strictEqual((await s.api('GET', `/api/v1/sites/${SITE}/capacity`)).body.time_of_use, true);

  // expensive now, cheap from a slot boundary at least 30 minutes ahead
  const cheapStart = Math.ceil((nowS() + 1800) / SLOT_S) * SLOT_S;
  const prices = await s.api('POST', '/api/v1/prices', { site: SITE, currency: 'EUR', intervals: [
    { start: iso(nowS() - 60), end: iso(cheapStart), price: 0.40 },
    { start: iso(cheapStart), end: iso(cheapStart + 6 * HOUR_S), price: 0.10 }] });
  assert.strictEqual(prices.status, 201, JSON.stringify(prices.body));

  for (const x of stations) await x.connect();
  await A.start(1, 'T1');
  await B.start(1, 'T2');
  await settled('two sessions sharing the connection', (a) => evse(a, A, 1).grant_a === 20 && evse(a, B, 1).grant_a === 20);

  await t.test('a need that fits in the cheap hours waits for them; the others take its share', async () => {
    await needs(A, 1, 10000, cheapStart + 3 * HOUR_S);
    const a = await settled('A1 deferred', (x) => evse(x, A, 1).deferred);
    const a1 = evse(a, A, 1), b1 = evse(a, B, 1);
    assert.strictEqual(A.tx[1], 0, 'the 1.6 station holds a 0 A TxProfile');
    assert.strictEqual(a1.grant_a, 0);
    assert.strictEqual(a1.paused, true);
    assert.strictEqual(a1.time_of_use, true);
    assert.strictEqual(Date.parse(a1.plan), cheapStart * 1000, 'it charges from the cheap period on');
    assert.strictEqual(a1.unsatisfied, false);
    assert.deepStrictEqual(a.unsatisfied_sessions, []);
    assert.strictEqual(b1.deferred, false);
    assert.strictEqual(b1.grant_a, 32, 'the session without a departure takes the share A1 leaves (its maximum)');
    assert.strictEqual(B.tx[1], 32);
    assert.deepStrictEqual(a.time_of_use, { enabled: true, active: true });
    // a paused car draws nothing, and says so
    await A.cp.call('MeterValues', { connectorId: 1, transactionId: A.txId[1], meterValue: [{ timestamp: new Date().toISOString(),
      sampledValue: ['L1', 'L2', 'L3'].map((phase) => ({ value: '0', measurand: 'Current.Import', phase, unit: 'A' })) }] });
  });

  await t.test('time_of_use false: the site policy decides again, true: back to the plan', async () => {
    assert.strictEqual((await s.api('PUT', `/api/v1/sites/${SITE}/capacity`, tree({ time_of_use: false }))).status, 200);
    let a = await settled('A1 charging under the policy', (x) => evse(x, A, 1).grant_a === 20);
    assert.strictEqual(evse(a, A, 1).deferred, false);
    assert.strictEqual(A.tx[1], 20);
    assert.deepStrictEqual(a.time_of_use, { enabled: false, active: false });
    assert.strictEqual((await s.api('PUT', `/api/v1/sites/${SITE}/capacity`, tree({ time_of_use: true }))).status, 200);
    a = await settled('A1 deferred again', (x) => evse(x, A, 1).deferred);
    assert.strictEqual(A.tx[1], 0);
  });

  await t.test('a need that does not fit in the cheap hours alone charges now', async () => {
    await A.start(2, 'T3');
    // due half an hour into the cheap period: a plan ending one slot early has
    // 15 cheap minutes (5.5 kWh at 32 A), not the 9 kWh asked
    await needs(A, 2, 9000, cheapStart + 1800);
    const a = await settled('A2 planned', (x) => evse(x, A, 2).time_of_use);
    const a2 = evse(a, A, 2);
    assert.strictEqual(a2.deferred, false);
    assert.ok(a2.grant_a >= 6, JSON.stringify(a2));
    assert.ok(A.tx[2] >= 6, `A2 holds ${A.tx[2]} A`);
    assert.strictEqual(a2.unsatisfied, false);
    assert.strictEqual(evse(a, A, 1).deferred, true);
    assert.strictEqual(A.tx[1], 0);
    assert.strictEqual(evse(a, B, 1).grant_a + a2.grant_a, GRID_A, 'the two charging share the whole connection');
  });

  await t.test('2.0.1: NotifyEVChargingNeeds is answered with a schedule starting in the cheap period', async () => {
    await C.start(1, 'T4');
    await settled('C1 started', (x) => evse(x, C, 1).active);
    const n0 = C.profiles.length;
    const r = await C.cp.call('NotifyEVChargingNeeds', {
      evseId: 1, chargingNeeds: { requestedEnergyTransfer: 'AC_three_phase', departureTime: iso(cheapStart + 3 * HOUR_S),
        acChargingParameters: { energyAmount: 5000, evMinCurrent: 6, evMaxCurrent: 32, evMaxVoltage: 400 } },
    });
    assert.ok(['Accepted', 'Processing'].includes(r.status), JSON.stringify(r));
    const p = await waitFor(() => C.profiles.slice(n0).find((x) => x.periods.length > 1), { what: 'a schedule' });
    assert.strictEqual(p.periods[0].startPeriod, 0);
    assert.strictEqual(p.periods[0].limit, 0, 'nothing now');
    const first = p.periods.find((q) => q.limit > 0);
    assert.ok(first, JSON.stringify(p.periods));
    // A2 and A1 leave earlier and take the first cheap slots: C1's come after
    const from = Date.parse(p.start) / 1000 + first.startPeriod;
    assert.ok(from >= cheapStart, JSON.stringify(p));
    const a = await settled('C1 deferred', (x) => evse(x, C, 1).deferred);
    assert.strictEqual(Date.parse(evse(a, C, 1).plan), from * 1000, 'the view shows the same plan');
    assert.strictEqual(evse(a, C, 1).need_wh, 5000);
  });

  await t.test('when now becomes cheap, the waiting cars get current again', async () => {
    const r = await s.api('PATCH', `/api/v1/prices/${prices.body.id}`, { intervals: [
      { start: iso(nowS() - 60), end: iso(cheapStart + 6 * HOUR_S), price: 0.10 }] });
    assert.strictEqual(r.status, 200, JSON.stringify(r.body));
    const a = await settled('A1 and C1 charging', (x) => evse(x, A, 1).grant_a > 0 && evse(x, C, 1).grant_a > 0);
    assert.strictEqual(evse(a, A, 1).deferred, false);
    assert.strictEqual(evse(a, A, 1).plan, null);
    assert.ok(A.tx[1] >= 6, `A1's profile raised to ${A.tx[1]} A`);
    assert.ok(C.tx[1] >= 6, `C1's profile raised to ${C.tx[1]} A`);
    assert.ok(B.tx[1] > 0, 'the session without a departure still charges');
    // the 0 A it drew while paused does not cap it back at the next
    // computations (one every 5 s while sessions charge)
    const raised = A.tx[1];
    await sleep(6000);
    assert.strictEqual(A.tx[1], raised, `A1 kept ${raised} A`);
  });

  await t.test('a site without a schedule of its own follows the default one', async () => {
    assert.strictEqual((await s.api('DELETE', `/api/v1/prices/${prices.body.id}`)).status, 204);
    let a = await settled('no prices: the policy alone', (x) => !x.time_of_use.active);
    assert.ok(evse(a, A, 1).grant_a > 0);
    const def = await s.api('POST', '/api/v1/prices', { site: null, currency: 'EUR', intervals: [
      { start: iso(nowS() - 60), end: iso(cheapStart), price: 0.40 },
      { start: iso(cheapStart), end: iso(cheapStart + 6 * HOUR_S), price: 0.10 }] });
    assert.strictEqual(def.status, 201, JSON.stringify(def.body));
    a = await settled('A1 deferred by the default schedule', (x) => evse(x, A, 1).deferred && x.time_of_use.active);
    assert.strictEqual(A.tx[1], 0);
    assert.ok(B.tx[1] > 0);
  });

  assert.deepStrictEqual(violations, []);
});
