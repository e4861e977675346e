// `ampgrid smart-sim` end to end: the real binary replays a simulated day with
// every policy; its JSON must keep every promise (never above the limit, the
// demand-response window respected, no more energy than asked), time of use
// must pay less per kWh, a seed must name the day exactly, the PNG chart must
// decode, and bad arguments must be refused with exit status 2 and a message.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const zlib = require('node:zlib');
const { BIN } = require('./lib/harness');

function sim(args) {
  const r = spawnSync(BIN, ['smart-sim', ...args], { encoding: 'utf8', timeout: 120000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ampgrid-smart-sim-'));

test('every policy keeps the limits and reports consistent figures', () => {
  const png = path.join(tmp, 'day.png');
  const r = sim(['--json', '--seed', '5', '--dr', '17:00-19:00=80kW', '--png', png]);
  assert.equal(r.code, 0, r.err);
  const d = JSON.parse(r.out);
  assert.deepEqual(d.policies.map((p) => p.policy), ['equal', 'priority', 'deadline', 'tou']);
  assert.deepEqual(d.dr, { start_s: 17 * 3600, end_s: 19 * 3600, kw: 80 });
  for (const p of d.policies) {
    assert.ok(p.sessions > 40, `${p.policy}: ${p.sessions} sessions`);
    assert.ok(p.peak_kw > 0 && p.peak_kw <= p.limit_kw + 1e-6, `${p.policy} peak ${p.peak_kw}`);
    assert.equal(p.limit_kw, 150);
    assert.ok(p.peak_dr_kw <= 80 + 1e-6, `${p.policy} peak in DR ${p.peak_dr_kw}`);
    assert.ok(p.min_margin_a >= 0);
    assert.ok(p.delivered_kwh > 0 && p.delivered_kwh <= p.requested_kwh + 1e-6);
    assert.ok(p.served <= p.sessions);
    assert.ok(Math.abs(p.served_share - p.served / p.sessions) < 1e-4);
    assert.ok(p.jain > 0 && p.jain <= 1);
    assert.ok(p.cost > 0);
  }
  const perKwh = (name) => {
    const p = d.policies.find((x) => x.policy === name);
    return p.cost / p.delivered_kwh;
  };
  assert.ok(perKwh('tou') < 0.9 * perKwh('equal'), `tou ${perKwh('tou')} vs ${perKwh('equal')}`);

  // The chart: a PNG whose chunks check out and whose image data inflates to
  // width x height RGB rows.
  const buf = fs.readFileSync(png);
  assert.deepEqual([...buf.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  let at = 8;
  let width = 0;
  let height = 0;
  const idat = [];
  for (;;) {
    const len = buf.readUInt32BE(at);
    const type = buf.toString('latin1', at + 4, at + 8);
    const data = buf.subarray(at + 8, at + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      assert.equal(data[8], 8);
      assert.equal(data[9], 2);
    }
    if (type === 'IDAT') idat.push(data);
    at += 12 + len;
    if (type === 'IEND') break;
  }
  assert.equal(at, buf.length);
  assert.ok(width >= 800 && height >= 400);
  assert.equal(zlib.inflateSync(Buffer.concat(idat)).length, (width * 3 + 1) * height);
});

test('a seed names the day exactly', () => {
  const a = sim(['--json', '--policy', 'deadline', '--seed', '11']);
  const b = sim(['--json', '--policy', 'deadline', '--seed', '11']);
  const c = sim(['--json', '--policy', 'deadline', '--seed', '12']);
  assert.equal(a.code, 0, a.err);
  assert.equal(a.out, b.out);
  assert.notEqual(a.out, c.out);
});

test('the table lists every policy; a price file is read', () => {
  const csv = path.join(tmp, 'prices.csv');
  fs.writeFileSync(csv, 'time,price\n00:00,0.20\n');
  const r = sim(['--prices', csv, '--evses', '20', '--grid-kw', '40']);
  assert.equal(r.code, 0, r.err);
  for (const name of ['equal', 'priority', 'deadline', 'tou']) assert.match(r.out, new RegExp(`^${name} `, 'm'));
  assert.match(r.out, /^site: 20 EVSEs behind 40 kW/m);
  const j = JSON.parse(sim(['--prices', csv, '--json', '--policy', 'equal']).out);
  assert.ok(Math.abs(j.policies[0].cost - 0.2 * j.policies[0].delivered_kwh) < 1e-3);
});

test('bad arguments are refused with status 2 and a message', () => {
  const badCsv = path.join(tmp, 'bad.csv');
  fs.writeFileSync(badCsv, '00:00,0.1\n00:00,0.2\n');
  const cases = [
    ['--policy', 'cheapest'],
    ['--dr', '17-19'],
    ['--dr', '17:00-19:00=80MW'],
    ['--evses', 'many'],
    ['--prices', path.join(tmp, 'missing.csv')],
    ['--prices', badCsv],
    ['surplus'],
  ];
  for (const args of cases) {
    const r = sim(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.code} ${r.err}`);
    assert.match(r.err, /ampgrid smart-sim: |usage: /);
    assert.equal(r.out, '');
  }
  const r = sim(['--step', '7']);
  assert.equal(r.code, 1);
  assert.match(r.err, /divisor of 900/);
});
