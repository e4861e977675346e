// ampgrid benchmark: starts a release build on free loopback ports and measures
//   storm:  N stations (Basic auth, argon2id) connect and boot at once
//   meter:  C stations send MeterValues back to back, each awaited (durable)
//   memory: server RSS per idle connected station
// Usage: node bench/run.js [--stations N] [--concurrency C] [--seconds S]
// The load generator is Node.js with raw WebSockets (no schema validation on the
// client side), so it, not the server, may be the limit: see docs/performance.md.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Server, sleep } = require('../tests/e2e/lib/harness');
const WebSocket = require('../tests/node_modules/ws');

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const N = arg('stations', 2000);
const C = arg('concurrency', 100);
const SECONDS = arg('seconds', 10);
const PASSWORD = 'bench-password-0123456789';

const pct = (arr, p) => {
  const s = [...arr].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : NaN;
};
const rssKiB = (pid) => {
  const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/);
  return Number(m[1]);
};

function connect(s, id) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${s.ocppUrl}/${id}`, ['ocpp1.6'], {
      headers: { authorization: 'Basic ' + Buffer.from(`${id}:${PASSWORD}`).toString('base64') },
      perMessageDeflate: false,
    });
    ws.pending = new Map();
    ws.seq = 0;
    ws.on('message', (d) => {
      const m = JSON.parse(d);
      const p = ws.pending.get(m[1]);
      if (p) { ws.pending.delete(m[1]); p(m); }
    });
    ws.call = (action, payload) => new Promise((res) => {
      const id2 = String(++ws.seq);
      ws.pending.set(id2, res);
      ws.send(JSON.stringify([2, id2, action, payload]));
    });
    ws.on('open', () => resolve(ws));
    ws.on('error', reject);
    ws.on('unexpected-response', (q, r) => reject(new Error(`HTTP ${r.statusCode}`)));
  });
}

async function main() {
  const s = await new Server({ config: '[security]\nauth_fail_limit = 0\n[ocpp]\nping_interval = 0\n' }).start();
  const report = [];
  try {
    // Register stations (parallel, batched).
    for (let i = 0; i < N; i += 200) {
      await Promise.all(Array.from({ length: Math.min(200, N - i) }, (_, k) =>
        s.api('POST', '/api/v1/stations', { id: `B${i + k}`, password: PASSWORD })));
    }
    await s.createIdToken('BENCHTAG');
    const rss0 = rssKiB(s.proc.pid);

    // storm: everyone connects and boots at once.
    const t0 = process.hrtime.bigint();
    const lat = [];
    const socks = await Promise.all(Array.from({ length: N }, async (_, i) => {
      const a = process.hrtime.bigint();
      const ws = await connect(s, `B${i}`);
      const r = await ws.call('BootNotification', { chargePointVendor: 'bench', chargePointModel: 'b' });
      if (r[0] !== 3 || r[2].status !== 'Accepted') throw new Error('boot failed ' + JSON.stringify(r));
      lat.push(Number(process.hrtime.bigint() - a) / 1e6);
      return ws;
    }));
    const stormMs = Number(process.hrtime.bigint() - t0) / 1e6;
    report.push(`storm: ${N} stations connected and booted in ${(stormMs / 1000).toFixed(2)} s ` +
      `(p50 ${pct(lat, 50).toFixed(0)} ms, p99 ${pct(lat, 99).toFixed(0)} ms per station)`);
    await sleep(500);
    const rss1 = rssKiB(s.proc.pid);
    report.push(`memory: ${((rss1 - rss0) / N).toFixed(1)} KiB RSS per connected station (${N} stations)`);

    // meter: C stations, each with an open transaction, send MeterValues back to back.
    const senders = socks.slice(0, C);
    const txs = [];
    for (let i = 0; i < senders.length; i++) {
      const r = await senders[i].call('StartTransaction', { connectorId: 1, idTag: 'BENCHTAG', meterStart: 0, timestamp: new Date().toISOString() });
      txs.push(r[2].transactionId);
    }
    let count = 0;
    const mlat = [];
    const end = Date.now() + SECONDS * 1000;
    await Promise.all(senders.map(async (ws, i) => {
      let wh = 0;
      while (Date.now() < end) {
        wh += 10;
        const a = process.hrtime.bigint();
        const ts = new Date().toISOString();
        const r = await ws.call('MeterValues', {
          connectorId: 1, transactionId: txs[i],
          meterValue: [{ timestamp: ts, sampledValue: [
            { value: String(wh), measurand: 'Energy.Active.Import.Register', unit: 'Wh' },
            { value: '7200', measurand: 'Power.Active.Import', unit: 'W' },
            { value: '16.1', measurand: 'Current.Import', phase: 'L1', unit: 'A' },
            { value: '230.2', measurand: 'Voltage', phase: 'L1-N', unit: 'V' },
          ] }],
        });
        if (r[0] !== 3) throw new Error('meter failed ' + JSON.stringify(r));
        mlat.push(Number(process.hrtime.bigint() - a) / 1e6);
        count++;
      }
    }));
    report.push(`meter: ${(count / SECONDS).toFixed(0)} MeterValues/s (4 samples each, durable before answer) ` +
      `from ${C} stations, latency p50 ${pct(mlat, 50).toFixed(2)} ms, p99 ${pct(mlat, 99).toFixed(2)} ms`);
    const m = await (await fetch(`${s.httpUrl}/metrics`)).text();
    const commits = Number((m.match(/^ampgrid_store_commits_total (\S+)/m) || [])[1]);
    const ops = Number((m.match(/^ampgrid_store_ops_total (\S+)/m) || [])[1]);
    report.push(`group commit: ${ops} store operations in ${commits} commits (${(ops / commits).toFixed(1)} per commit)`);
    for (const ws of socks) ws.terminate();
  } finally {
    await s.stop();
    s.cleanup();
  }
  console.log(`ampgrid benchmark on ${os.cpus().length} cores (${os.cpus()[0].model})`);
  for (const line of report) console.log('  ' + line);
}

main().catch((e) => { console.error(e); process.exit(1); });
