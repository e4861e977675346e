// ampgrid benchmark (`make bench`): drives a fresh release server with the C
// station simulator (build/ampgrid-sim) at several network sizes and prints
// one table; the full figures go to bench/results/<time>.json.
//
// Per size N (default 1000, 5000, 19000):
//   register    the simulator creates N stations (Basic auth, argon2id) and
//               their id tokens through the API
//   connect     N stations connect and boot at once, then hold with
//               heartbeats: connect rate, server RSS per connection, idle CPU.
//               The hold is measured after --hold-warmup S (default 30: the
//               boots' status reports and their writes) for --hold S (default
//               65: longer than the 60 s heartbeat interval, so every station's
//               heartbeat and any WebSocket ping fall inside it)
//   storm       all N drop and reconnect at once: recovery time
//   throughput  once the server has settled after the storm (under 5 % CPU),
//               MeterValues back to back (1 in flight per station, each
//               committed before its answer): messages/s, latency, server
//               CPU seconds per 10,000 messages
//   mixed       a network day, 30 % charging, 60 s meter values: server CPU.
//               --mixed-day S sets how long the simulated day is (default
//               86400: real time, what issue 5's target means); a smaller
//               value compresses arrivals and network blips into the run
// Server CPU and memory come from /proc/PID/stat and /proc/PID/status, read
// at the start and end of each measured phase (the simulator prints its phase).
//
// Usage: node bench/run.js [--sizes 1000,5000,19000] [--hold S] [--hold-warmup S] [--throughput S]
//                          [--mixed S] [--mixed-day S] [--mixed-warmup S]
//                          [--sources 127.0.0.2-127.0.0.9]
//                          [--throughput-stations N] [--tls] [--cert ecdsa|rsa]
//                          [--no-resume] [--storms K] [--max-connecting N] [--verbose]
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Server, BIN } = require('../tests/e2e/lib/harness');

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const SIZES = opt('sizes', '1000,5000,19000').split(',').map(Number);
const HOLD = Number(opt('hold', 65));
const HOLD_WARMUP = Number(opt('hold-warmup', 30));
const THROUGHPUT_S = Number(opt('throughput', 30));
const MIXED_S = Number(opt('mixed', 60));
const MIXED_DAY = Number(opt('mixed-day', 86400));
// The mixed run starts with 30 % of the connectors beginning a session within a
// minute; --mixed-warmup S (default 60) runs that out before measuring.
const MIXED_WARMUP = Number(opt('mixed-warmup', 60));
const SOURCES = opt('sources', '127.0.0.2-127.0.0.9');
// Throughput runs on this many of the stations, one MeterValues in flight each:
// with every station of a 19k run in flight, latency would only measure the
// queue (Little's law), not the server. 100 is where the server is saturated on
// the 2-core machine of docs/performance.md: 50 in flight gave 20.6k/s, 75 21.8k,
// 100 22.9k, 150 and 200 no more (20.6k, 21.3k) at p99 15.8 and 18.8 ms instead of 11
// (the curve is in docs/performance.md, session 7).
const THROUGHPUT_STATIONS = Number(opt('throughput-stations', 100));
// --storms K: run the storm K times and report the median CPU per reconnect.
const STORMS = Math.max(1, Number(opt('storms', 1)));
// --tls: stations connect with wss://. --cert ecdsa (default: a P-256 certificate, what an
// operator should deploy: its signature is ~10x cheaper for the server than RSA-2048's)
// or --cert rsa (RSA-2048), made for the run. --no-resume: the simulated stations do a
// full handshake on every reconnect instead of resuming their TLS session.
const TLS = argv.includes('--tls');
const CERT = opt('cert', 'ecdsa');
if (!['ecdsa', 'rsa'].includes(CERT)) throw new Error('--cert is ecdsa or rsa');
const RESUME = !argv.includes('--no-resume');
// --max-connecting N: the simulator's connection attempts in progress at once (its default
// when not given).
const MAX_CONNECTING = opt('max-connecting', null);
// --verbose: pass the simulator's progress lines through (where a long run is).
const VERBOSE = argv.includes('--verbose');
const SIM = path.join(path.dirname(BIN), 'ampgrid-sim');
const PASSWORD = 'bench-password-0123456789';
const TICK = 100; // USER_HZ: /proc/PID/stat counts CPU time in 1/100 s

function procCpu(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) / TICK; // utime + stime, seconds
}
// Resident memory in KiB: all of it, and the private (anonymous) part: the rest
// is mapped files, mostly SQLite's memory-mapped database (page cache the kernel
// shares, which grows with what the store has read, not with connections).
function procRss(pid) {
  const st = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (k) => Number((st.match(new RegExp(`${k}:\\s+(\\d+)`)) || [0, 0])[1]);
  return { rss: kib('VmRSS'), anon: kib('RssAnon') };
}
const sample = (pid) => {
  const m = procRss(pid);
  return { t: Date.now() / 1000, cpu: procCpu(pid), rss: m.rss, anon: m.anon };
};

// The store's commit and operation counters from /metrics: how many
// transactions (each one fsync) a phase cost, and how many writes.
async function storeCounters(server) {
  try {
    const m = await (await fetch(`${server.httpUrl}/metrics`)).text();
    const get = (k) => Number((m.match(new RegExp(`^${k} (\\d+)`, 'm')) || [0, NaN])[1]);
    return { commits: get('ampgrid_store_commits_total'), ops: get('ampgrid_store_ops_total') };
  } catch (_) {
    return null;
  }
}

// Runs the simulator; calls onPhase(phase) when its progress line shows a new
// phase, so the caller can sample the server at phase boundaries.
function sim(args, onPhase = () => {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(SIM, [...args, '--progress', '1', '--quiet'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    let phase = '';
    let cpu = 0;
    p.stderr.on('data', (d) => {
      err += d;
      if (VERBOSE) process.stderr.write(d);
      for (const m of String(d).matchAll(/phase=(\w+)/g)) {
        if (m[1] !== phase) { phase = m[1]; onPhase(phase, p.pid); }
      }
      try { cpu = procCpu(p.pid); } catch (_) { /* exited */ }
    });
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve({ cpu }) : reject(new Error(`ampgrid-sim exited ${code}: ${err.slice(-2000)}`))));
  });
}

async function runScenario(server, n, name, extra, measure = 'run') {
  const json = path.join(os.tmpdir(), `ampgrid-bench-${process.pid}-${name}.json`);
  const pid = server.proc.pid;
  let from = null;
  let to = null;
  let simFrom = null;
  let simTo = null;
  let storeFrom = null;
  let storeTo = null;
  const url = TLS ? `wss://127.0.0.1:${server.tlsPort}/ocpp` : server.ocppUrl;
  const tlsArgs = TLS ? ['--insecure', ...(RESUME ? [] : ['--no-tls-resume'])] : [];
  if (MAX_CONNECTING !== null) tlsArgs.push('--max-connecting', MAX_CONNECTING);
  const r = await sim(['--url', url, ...tlsArgs, '--stations', String(n), '--password', PASSWORD,
    '--source-ips', SOURCES, '--scenario', name, '--json', json, ...extra], (phase, simPid) => {
    const simCpu = () => { try { return procCpu(simPid); } catch (_) { return null; } };
    if (phase === measure && !from) { from = sample(pid); simFrom = simCpu(); storeFrom = storeCounters(server); }
    if (from && !to && phase !== measure) { to = sample(pid); simTo = simCpu(); storeTo = storeCounters(server); }
  });
  const rep = JSON.parse(fs.readFileSync(json, 'utf8'));
  fs.rmSync(json, { force: true });
  const [sf, st] = [await storeFrom, await storeTo];
  rep.store = sf && st ? { commits: st.commits - sf.commits, ops: st.ops - sf.ops } : null;
  rep.server = from && to ? { seconds: to.t - from.t, cpu_s: to.cpu - from.cpu, rss_kib: to.rss,
    anon_kib: to.anon } : null;
  rep.sim_cpu_s = r.cpu;
  // the simulator's CPU during the measured phase (sampled as its phase lines arrive)
  rep.sim_phase_cpu_s = simFrom !== null && simTo !== null ? simTo - simFrom : null;
  return rep;
}

// Ports below the ephemeral range: tens of thousands of connections in
// TIME_WAIT make a port that was free a moment ago collide with a listener.
async function startServer(opts) {
  for (let attempt = 0; ; attempt++) {
    const ocppPort = 20000 + Math.floor(Math.random() * 5000);
    try {
      const config = opts.config && opts.config.replace('TLSPORT', String(ocppPort + 10000));
      const s = await new Server({ ...opts, config, ocppPort, httpPort: ocppPort + 5000 }).start();
      s.tlsPort = ocppPort + 10000;
      return s;
    } catch (e) {
      if (attempt >= 4) throw e;
    }
  }
}

// Waits (at most 60 s) until the server uses under 5 % of a core over a second;
// returns the seconds waited.
async function settle(pid) {
  const t0 = Date.now();
  for (;;) {
    const a = procCpu(pid);
    await new Promise((r) => setTimeout(r, 1000));
    if (procCpu(pid) - a < 0.05 || Date.now() - t0 > 60000) return (Date.now() - t0) / 1000;
  }
}

const lat = (rep, action) => (rep.actions[action] || {}).latency_ms || {};
const fmt = (x, d = 1) => (x === undefined || x === null || Number.isNaN(x) ? '-' : Number(x).toFixed(d));

function makeCert() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ampgrid-bench-tls-'));
  const key = CERT === 'rsa' ? ['rsa:2048'] : ['ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];
  require('node:child_process').execFileSync('openssl', ['req', '-x509', '-newkey', ...key,
    '-nodes', '-keyout', path.join(dir, `${CERT}.key`), '-out', path.join(dir, `${CERT}.crt`),
    '-days', '2', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  return dir;
}

async function benchSize(n) {
  const certDir = TLS ? makeCert() : null;
  const tlsConfig = TLS ? `[server]\ntls_port = TLSPORT\n[tls]\ncert_${CERT} = ${certDir}/${CERT}.crt\n` +
    `key_${CERT} = ${certDir}/${CERT}.key\n` : '';
  // No API rate limit: registering 19,500 stations and their id tokens is ~45,000 requests
  // from one token, which the default 50 requests/s would spread over a quarter of an hour.
  const config = '[security]\nauth_fail_limit = 0\n[ocpp]\nheartbeat_interval = 60\n' +
    '[http]\nrate_limit = 0\n' + tlsConfig;
  let server = await startServer({ config });
  const out = { stations: n };
  try {
    const t0 = Date.now();
    // register (a 1-second connect run: the registration is the point)
    await runScenario(server, n, 'connect', ['--api', server.httpUrl, '--token', server.token,
      '--register', '--register-concurrency', '32', '--duration', '1']);
    out.register_s = (Date.now() - t0) / 1000;
    // The idle baseline: a fresh process with the N stations loaded, none connected.
    await server.stop();
    server = await startServer({ ...server.restartOptions(), config }); // the port placeholder again
    await new Promise((r) => setTimeout(r, 2000));
    const idle = sample(server.proc.pid);
    out.rss_idle_kib = idle.rss;
    out.anon_idle_kib = idle.anon;

    const c = await runScenario(server, n, 'connect', ['--warmup', String(HOLD_WARMUP),
      '--duration', String(HOLD)]);
    out.connect = { all_booted: c.connect.all_booted, booted: c.stations.booted_max,
      seconds: c.connect.all_booted_s, rate_per_s: c.connect.rate_per_s,
      refused: c.connect.refused, boot_p99_ms: lat(c, 'BootNotification').p99,
      balanced: c.balance.balanced, errors: c.balance.errors };
    if (c.server) {
      out.hold = { seconds: c.server.seconds, server_cpu_pct: (100 * c.server.cpu_s) / c.server.seconds,
        rss_kib: c.server.rss_kib,
        rss_per_conn_kib: (c.server.rss_kib - idle.rss) / Math.max(1, c.stations.booted_max),
        anon_per_conn_kib: (c.server.anon_kib - idle.anon) / Math.max(1, c.stations.booted_max) };
    }

    // --storms K: K storms, the figures of the one with the median server CPU (CPU per
    // reconnect varies by +-15 % from run to run on a machine others use too)
    const storms = [];
    for (let k = 0; k < STORMS; k++) {
      const s = await runScenario(server, n, 'storm', ['--duration', '120'], 'storm');
      storms.push({ dropped: s.storm.dropped, recovered: s.storm.recovered, recovery_s: s.storm.recovery_s,
        refused: s.connect.refused, refused_by_status: s.connect.refused_by_status,
        boot_p99_ms: lat(s, 'BootNotification').p99, server_cpu_s: s.server && s.server.cpu_s,
        sim_cpu_s: s.sim_phase_cpu_s, tls: s.tls || null, store: s.store,
        // CPU milliseconds per reconnect (+ boot): robust on a shared machine, where wall time is not
        server_cpu_ms_per_reconnect: s.server ? (1000 * s.server.cpu_s) / Math.max(1, s.storm.recovered) : null,
        sim_cpu_ms_per_reconnect: s.sim_phase_cpu_s !== null ?
          (1000 * s.sim_phase_cpu_s) / Math.max(1, s.storm.recovered) : null });
    }
    const median = (key) => storms.map((x) => x[key]).sort((a, b) => a - b)[(storms.length - 1) >> 1];
    out.storm = { ...storms.find((x) => x.server_cpu_ms_per_reconnect === median('server_cpu_ms_per_reconnect')),
      sim_cpu_ms_per_reconnect: median('sim_cpu_ms_per_reconnect'), runs: storms };

    // The storm's simulator has just exited: the server is still taking N disconnects
    // (uptime records, events, logs). Throughput is measured on a settled server.
    const settled = await settle(server.proc.pid);
    const t = await runScenario(server, Math.min(n, THROUGHPUT_STATIONS), 'throughput',
      ['--duration', String(THROUGHPUT_S), '--inflight', '1']);
    const ml = lat(t, 'MeterValues');
    out.throughput = { settle_s: settled, seconds: t.run.seconds, meter_values_per_s: t.run.meter_values_per_s,
      messages: t.run.meter_values_ok, p50_ms: ml.p50, p90_ms: ml.p90, p99_ms: ml.p99,
      p999_ms: ml['p99.9'], max_ms: ml.max, errors: t.balance.errors, balanced: t.balance.balanced,
      server_cpu_s: t.server && t.server.cpu_s, sim_cpu_s: t.sim_cpu_s, store: t.store,
      server_cpu_s_per_10k: t.server ? (10000 * t.server.cpu_s) / Math.max(1, t.run.messages_sent) : null };

    const m = await runScenario(server, n, 'mixed', ['--duration', String(MIXED_S), '--charging', '0.3',
      '--meter-interval', '60', '--session', '600', '--day', String(MIXED_DAY),
      '--warmup', String(MIXED_WARMUP)]);
    out.mixed = { seconds: m.run.seconds, messages_per_s: m.run.messages_per_s,
      server_cpu_pct: m.server ? (100 * m.server.cpu_s) / m.server.seconds : null,
      errors: m.balance.errors, errors_by_kind: m.balance.errors_by_kind, balanced: m.balance.balanced,
      meter_p99_ms: lat(m, 'MeterValues').p99, store: m.store,
      server_cpu_s_per_10k: m.server ? (10000 * m.server.cpu_s) / Math.max(1, m.run.messages_sent) : null };
  } finally {
    await server.stop();
    server.cleanup();
    if (certDir) fs.rmSync(certDir, { recursive: true, force: true });
  }
  return out;
}

function table(results) {
  const rows = [
    ['stations held (booted at once)', (r) => `${r.connect.booted}`],
    ['connect + boot, all at once', (r) => `${fmt(r.connect.seconds, 2)} s (${fmt(r.connect.rate_per_s, 0)}/s)`],
    ['boot p99 during connect', (r) => `${fmt(r.connect.boot_p99_ms)} ms`],
    ['server RSS per connection', (r) => r.hold ? `${fmt(r.hold.rss_per_conn_kib, 2)} KiB` : '-'],
    ['  of which private (heap, not mapped files)', (r) => r.hold ? `${fmt(r.hold.anon_per_conn_kib, 2)} KiB` : '-'],
    ['server CPU idle with heartbeats', (r) => r.hold ? `${fmt(r.hold.server_cpu_pct, 2)} %` : '-'],
    ['storm recovery (all reconnect+boot)', (r) => `${fmt(r.storm.recovery_s, 2)} s (${r.storm.recovered}/${r.storm.dropped})`],
    ['storm CPU ms per reconnect: server / sim', (r) => `${fmt(r.storm.server_cpu_ms_per_reconnect, 2)} / ${fmt(r.storm.sim_cpu_ms_per_reconnect, 2)}`],
    ['storm store commits / writes per reconnect', (r) => r.storm.store ? `${fmt(r.storm.store.commits / Math.max(1, r.storm.recovered), 2)} / ${fmt(r.storm.store.ops / Math.max(1, r.storm.recovered), 2)}` : '-'],
    ...(TLS ? [['TLS handshakes: full (first connect) / resumed', (r) => r.storm.tls ? `${r.storm.tls.full} / ${r.storm.tls.resumed}` : '-']] : []),
    [`durable MeterValues/s (${THROUGHPUT_STATIONS} stations, 1 in flight each)`, (r) => fmt(r.throughput.meter_values_per_s, 0)],
    ['MeterValues p50 / p99 / p99.9', (r) => `${fmt(r.throughput.p50_ms)} / ${fmt(r.throughput.p99_ms)} / ${fmt(r.throughput.p999_ms)} ms`],
    ['server CPU s per 10k MeterValues', (r) => fmt(r.throughput.server_cpu_s_per_10k, 3)],
    // the group commit's batch: how many MeterValues share one fsync
    ['MeterValues store writes per commit', (r) => r.throughput.store && r.throughput.store.commits ?
      fmt(r.throughput.store.ops / r.throughput.store.commits, 1) : '-'],
    [`mixed day (${MIXED_DAY} s day): server CPU`, (r) => `${fmt(r.mixed.server_cpu_pct, 1)} % (${fmt(r.mixed.messages_per_s, 0)} msg/s)`],
    ['mixed day store commits / writes per message', (r) => r.mixed.store && r.mixed.messages_per_s ? `${fmt(r.mixed.store.commits / (r.mixed.messages_per_s * r.mixed.seconds), 2)} / ${fmt(r.mixed.store.ops / (r.mixed.messages_per_s * r.mixed.seconds), 2)}` : '-'],
    ['errors (connect/storm/throughput/mixed)', (r) => `${r.connect.errors}/${r.storm.refused}/${r.throughput.errors}/${r.mixed.errors}`],
  ];
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const cols = results.map((r) => rows.map((row) => row[1](r)));
  const w = results.map((_, i) => Math.max(String(results[i].stations).length, ...cols[i].map((c) => c.length)));
  const line = (label, cells) => `  ${label.padEnd(w0)}  ${cells.map((c, i) => c.padStart(w[i])).join('  ')}`;
  const outl = [line('stations', results.map((r) => String(r.stations)))];
  rows.forEach((row, j) => outl.push(line(row[0], cols.map((c) => c[j]))));
  return outl.join('\n');
}

// The host's speed moves by a third from hour to hour on a shared VM (docs/performance.md,
// session 8), which moves every figure here: a short AES-GCM run on 16-byte blocks (the
// size of OCPP answers' TLS records) at the start and the end says at which speed a run was
// made, so that only runs at similar speeds are compared. null without the openssl tool.
function hostSpeed() {
  const r = spawnSync('openssl', ['speed', '-seconds', '1', '-bytes', '16', '-evp', 'aes-128-gcm'],
    { encoding: 'utf8' });
  const m = r.status === 0 && /AES-128-GCM\s+([\d.]+)k/.exec(r.stdout || '');
  return m ? Math.round(Number(m[1]) / 100) / 10 : null; // MB/s, one decimal
}

async function main() {
  if (!fs.existsSync(SIM)) throw new Error(`${SIM} is missing: build first (make build)`);
  const speed = { start: hostSpeed(), end: null };
  const results = [];
  const machine = `${os.cpus().length} cores (${os.cpus()[0].model}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.release()}`;
  const dir = path.join(__dirname, 'results');
  fs.mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const file = path.join(dir, `${stamp}.json`);
  for (const n of SIZES) {
    process.stderr.write(`bench: ${n} stations...\n`);
    results.push(await benchSize(n));
    speed.end = hostSpeed();
    // after every size, so a long run that is stopped keeps what it measured
    fs.writeFileSync(file, JSON.stringify({ machine, host_aes_gcm_16b_mb_s: speed,
      date: new Date().toISOString(), sizes: SIZES,
      hold_s: HOLD, throughput_s: THROUGHPUT_S, throughput_stations: THROUGHPUT_STATIONS, tls: TLS,
      tls_cert: TLS ? CERT : null, tls_resume: TLS ? RESUME : null,
      mixed_s: MIXED_S, mixed_day_s: MIXED_DAY, mixed_warmup_s: MIXED_WARMUP, results }, null, 2));
  }
  console.log(`ampgrid benchmark on ${machine}${TLS ? `, stations over TLS (wss, ${CERT} certificate` +
    `${RESUME ? '' : ', no session resumption'})` : ''}`);
  console.log(table(results));
  if (speed.start !== null) {
    console.log(`  host speed, openssl AES-128-GCM on 16-byte blocks: ${fmt(speed.start, 1)} MB/s at the ` +
      `start, ${fmt(speed.end, 1)} at the end (compare runs made at similar speeds)`);
  }
  console.log(`  (written to ${path.relative(process.cwd(), file)})`);
}

main().catch((e) => { console.error(e); process.exit(1); });
