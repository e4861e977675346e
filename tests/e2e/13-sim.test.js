// ampgrid-sim end to end: a real server, stations registered through the API
// by the simulator itself, then every scenario briefly (a few hundred
// stations, seconds), each checked through its --json report: every station
// connected and booted, every message sent answered or counted as an error
// (the balance), and no error that the scenario does not explain. One run
// also sends the stations operator commands while they are connected, to
// check the simulator answers the server's calls.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Server, BIN, sleep, waitFor } = require('./lib/harness');

const SIM = path.join(path.dirname(BIN), 'ampgrid-sim');
const N = 300;
const PASSWORD = 'sim-e2e-password-0123456789';

let server;
let tmp;

function runSim(args, { timeoutMs = 60000 } = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(SIM, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('error', reject);
    p.on('exit', (code, signal) => {
      clearTimeout(t);
      resolve({ code, signal, out, err });
    });
  });
}

async function scenario(name, extra = [], { register = false } = {}) {
  const json = path.join(tmp, `${name}.json`);
  const args = ['--url', server.ocppUrl, '--stations', String(N), '--password', PASSWORD,
    '--scenario', name, '--json', json, '--progress', '0', '--quiet', '--seed', '7',
    '--meter-interval', '1', '--session', '3', '--charging', '0.5', '--drain', '5', ...extra];
  if (register) args.push('--api', server.httpUrl, '--token', server.token, '--register');
  const r = await runSim(args);
  assert.equal(r.code, 0, `ampgrid-sim ${name} exited ${r.code} ${r.signal || ''}: ${r.err}`);
  return JSON.parse(fs.readFileSync(json, 'utf8'));
}

// The checks every report must pass.
function consistent(rep, { lossAllowed = false, n = N } = {}) {
  const b = rep.balance;
  assert.equal(b.sent, b.answered_ok + b.errors, 'sent == answered + errors');
  assert.equal(b.unsettled, 0);
  assert.equal(b.balanced, true);
  let perAction = 0;
  for (const a of Object.values(rep.actions)) {
    const settled = a.ok + a.callerror + a.invalid + a.timeout + a.disconnected + a.abandoned;
    assert.equal(a.sent, settled, 'each action balances');
    assert.equal(a.latency_ms.count, a.ok + a.callerror + a.invalid, 'one latency per answer');
    assert.ok(a.latency_ms.p50 <= a.latency_ms.p99 && a.latency_ms.p99 <= a.latency_ms.max);
    perAction += a.sent;
  }
  assert.equal(perAction, b.sent);
  assert.equal(rep.stations.requested, n);
  assert.equal(rep.connect.all_booted, true, 'every station booted');
  assert.equal(rep.stations.booted_max, n, 'all connected at once');
  assert.equal(rep.connect.refused, 0, `no refused upgrades: ${JSON.stringify(rep.connect.refused_by_status)}`);
  assert.equal(rep.connect.failed, 0, `no failed connections: ${JSON.stringify(rep.connect.failures)}`);
  assert.deepEqual(rep.errors.callerrors, {}, 'no CALLERRORs');
  assert.deepEqual(rep.errors.invalid_answers, {}, 'every answer valid');
  assert.equal(rep.errors.malformed_frames, 0);
  assert.equal(rep.errors.unmatched_answers, 0);
  assert.equal(b.errors_by_kind.timeout, 0, 'no timeouts');
  if (!lossAllowed) {
    assert.equal(b.errors, 0, `no errors: ${JSON.stringify(b.errors_by_kind)}`);
    assert.equal(rep.connect.server_disconnects, 0, 'the server closed nothing');
  }
}

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ampgrid-sim-e2e-'));
  // registering hundreds of stations at once is what the rate limit stops; the
  // simulator waits a second and retries a 429, but this test wants the load
  server = await new Server({ config: '[security]\nauth_fail_limit = 0\n[http]\nrate_limit = 0\n' }).start();
});

after(async () => {
  if (server) {
    await server.stop();
    server.cleanup();
  }
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('the simulator is built beside the server', () => {
  assert.ok(fs.existsSync(SIM), `${SIM} missing`);
});

test('connect: registers through the API, ramps to N, holds', async () => {
  const rep = await scenario('connect', ['--duration', '2', '--ramp', '1000'], { register: true });
  consistent(rep);
  assert.equal(rep.register.stations, N);
  assert.equal(rep.register.errors, 0);
  assert.ok(rep.connect.rate_per_s > 0);
  assert.equal(rep.actions.BootNotification.ok, N);
  const list = await server.api('GET', '/api/v1/stations?connected=false');
  assert.ok(list.body.total >= N, 'the stations exist on the server');
});

test('storm: every station drops and boots again', async () => {
  const rep = await scenario('storm', ['--duration', '20']);
  consistent(rep, { lossAllowed: true });
  assert.equal(rep.storm.dropped, N);
  assert.equal(rep.storm.recovered, N);
  assert.equal(rep.storm.complete, true);
  assert.ok(rep.storm.recovery_s > 0);
  assert.equal(rep.actions.BootNotification.ok, 2 * N);
  assert.equal(rep.connect.drops, N);
});

test('sessions: authorize, start, meter values, stop', async () => {
  const rep = await scenario('sessions', ['--duration', '4']);
  consistent(rep);
  const a = rep.actions;
  assert.ok(rep.sessions.started > 0);
  assert.equal(rep.sessions.stopped, rep.sessions.started, 'every session stopped at the end');
  assert.equal(rep.sessions.auth_rejected, 0);
  assert.ok(a.Authorize.ok > 0 && a.StartTransaction.ok > 0 && a.MeterValues.ok > 0);
  assert.equal(a.StopTransaction.ok, rep.sessions.stopped);
});

test('throughput: MeterValues back to back, each awaited', async () => {
  const rep = await scenario('throughput', ['--duration', '3', '--inflight', '2']);
  consistent(rep);
  assert.ok(rep.run.meter_values_per_s > 0);
  assert.ok(rep.run.meter_values_ok > 0);
  assert.equal(rep.sessions.stopped, rep.sessions.started);
});

test('mixed: a compressed day with link blips', async () => {
  const rep = await scenario('mixed', ['--duration', '4']);
  // blips drop links on purpose: calls in flight then count as disconnected
  consistent(rep, { lossAllowed: true });
  assert.equal(rep.balance.errors_by_kind.callerror, 0);
  assert.equal(rep.balance.errors_by_kind.invalid, 0);
  assert.ok(rep.actions.StatusNotification.ok > 0);
});

test('answers the server\'s calls: configuration, remote start, trigger, reset', async () => {
  const json = path.join(tmp, 'commands.json');
  const run = runSim(['--url', server.ocppUrl, '--stations', '5', '--password', PASSWORD,
    '--scenario', 'connect', '--duration', '8', '--json', json, '--progress', '0', '--quiet',
    '--connectors', '2']);
  const id = 'SIM-1';
  await waitFor(async () => (await server.api('GET', `/api/v1/stations/${id}`)).body.connected,
    { what: 'SIM-1 connected' });
  await sleep(300);
  const cmd = (action, body) => server.api('POST', `/api/v1/stations/${id}/commands/${action}`, body);
  let r = await cmd('GetConfiguration', { key: ['HeartbeatInterval', 'NoSuchKey'] });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.configurationKey[0].key, 'HeartbeatInterval');
  assert.deepEqual(r.body.unknownKey, ['NoSuchKey']);
  r = await cmd('ChangeConfiguration', { key: 'HeartbeatInterval', value: '120' });
  assert.equal(r.body.status, 'Accepted');
  r = await cmd('RemoteStartTransaction', { connectorId: 2, idTag: 'T1-2' });
  assert.equal(r.body.status, 'Accepted');
  r = await cmd('TriggerMessage', { requestedMessage: 'Heartbeat' });
  assert.equal(r.body.status, 'Accepted');
  r = await cmd('UnlockConnector', { connectorId: 1 });
  assert.equal(r.body.status, 'Unlocked');
  r = await cmd('Reset', { type: 'Soft' });
  assert.equal(r.body.status, 'Accepted');
  const done = await run;
  assert.equal(done.code, 0, done.err);
  const rep = JSON.parse(fs.readFileSync(json, 'utf8'));
  const calls = rep.server_calls;
  assert.equal(calls.answered, 6);
  assert.equal(calls.refused, 0);
  assert.equal(calls.received.Reset, 1);
  assert.ok(rep.actions.BootNotification.ok >= 6, 'the reset station booted again');
  assert.equal(rep.balance.balanced, true);
});

// OCPP 2.0.1 stations: the same scenarios over ocpp2.0.1, sessions as
// TransactionEvent Started/Updated/Ended (the report keeps the 1.6 kind
// names: StartTransaction = Started, MeterValues = Updated, StopTransaction =
// Ended). A few dozen stations of their own (prefix SIMV-, tags V...).
const N201 = 30;

async function scenario201(name, extra = [], { register = false } = {}) {
  const json = path.join(tmp, `v201-${name}.json`);
  const args = ['--url', server.ocppUrl, '--protocol', 'ocpp2.0.1', '--stations', String(N201),
    '--prefix', 'SIMV-', '--tag-prefix', 'V', '--password', PASSWORD, '--scenario', name,
    '--json', json, '--progress', '0', '--quiet', '--seed', '11', '--meter-interval', '1',
    '--session', '2', '--charging', '0.5', '--drain', '5', ...extra];
  if (register) args.push('--api', server.httpUrl, '--token', server.token, '--register');
  const r = await runSim(args);
  assert.equal(r.code, 0, `ampgrid-sim 2.0.1 ${name} exited ${r.code} ${r.signal || ''}: ${r.err}`);
  return JSON.parse(fs.readFileSync(json, 'utf8'));
}

test('2.0.1 sessions: TransactionEvent Started/Updated/Ended, sessions on the server', async () => {
  const rep = await scenario201('sessions', ['--duration', '4'], { register: true });
  consistent(rep, { n: N201 });
  const a = rep.actions;
  assert.ok(rep.sessions.started > 0, JSON.stringify(rep.sessions));
  assert.equal(rep.sessions.stopped, rep.sessions.started, 'every session stopped at the end');
  assert.equal(rep.sessions.auth_rejected, 0);
  assert.ok(a.Authorize.ok > 0 && a.StartTransaction.ok > 0 && a.MeterValues.ok > 0);
  assert.equal(a.StopTransaction.ok, rep.sessions.stopped);
  const st = await server.api('GET', '/api/v1/stations/SIMV-1');
  assert.equal(st.status, 200);
  let total = 0;
  for (let i = 1; i <= N201; i++) {
    const list = await server.api('GET', `/api/v1/sessions?station=SIMV-${i}&limit=1000`);
    assert.equal(list.status, 200);
    total += list.body.items.length;
  }
  assert.ok(total >= rep.sessions.started, `${total} sessions on the server, ${rep.sessions.started} started`);
});

test('2.0.1 throughput: TransactionEvent Updated back to back, each awaited', async () => {
  const rep = await scenario201('throughput', ['--duration', '2']);
  consistent(rep, { n: N201 });
  assert.ok(rep.run.meter_values_ok > 0);
  assert.equal(rep.sessions.stopped, rep.sessions.started);
});

test('2.0.1 storm and mixed: stations reconnect and boot again', async () => {
  let rep = await scenario201('storm', ['--duration', '20']);
  consistent(rep, { n: N201, lossAllowed: true });
  assert.equal(rep.storm.recovered, N201);
  assert.equal(rep.actions.BootNotification.ok, 2 * N201);
  rep = await scenario201('mixed', ['--duration', '3']);
  consistent(rep, { n: N201, lossAllowed: true });
  assert.equal(rep.balance.errors_by_kind.callerror, 0);
  assert.equal(rep.balance.errors_by_kind.invalid, 0);
});

// wss: a station resumes its TLS session when it reconnects (a ticket instead of
// a full handshake), and the report counts both kinds; --no-tls-resume turns it off.
test('wss storm: stations resume their TLS sessions, and the report counts them', async () => {
  const { execFileSync } = require('node:child_process');
  const { freePort } = require('./lib/harness');
  const n = 40;
  const certDir = fs.mkdtempSync(path.join(tmp, 'tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
    '-nodes', '-keyout', path.join(certDir, 'ec.key'), '-out', path.join(certDir, 'ec.crt'), '-days', '2',
    '-subj', '/CN=localhost'], { stdio: 'ignore' });
  const tlsPort = await freePort();
  const s = await new Server({ config: `[security]\nauth_fail_limit = 0\n[http]\nrate_limit = 0\n` +
    `[server]\ntls_port = ${tlsPort}\n[tls]\ncert_ecdsa = ${certDir}/ec.crt\nkey_ecdsa = ${certDir}/ec.key\n` }).start();
  try {
    const storm = async (extra) => {
      const json = path.join(tmp, 'wss-storm.json');
      const r = await runSim(['--url', `wss://127.0.0.1:${tlsPort}/ocpp`, '--insecure', '--stations', String(n),
        '--password', PASSWORD, '--scenario', 'storm', '--duration', '20', '--json', json, '--progress', '0',
        '--quiet', '--api', s.httpUrl, '--token', s.token, '--register', ...extra]);
      assert.equal(r.code, 0, r.err);
      return JSON.parse(fs.readFileSync(json, 'utf8'));
    };
    let rep = await storm([]);
    consistent(rep, { n, lossAllowed: true });
    assert.equal(rep.storm.recovered, n);
    assert.equal(rep.tls.resume, true);
    assert.equal(rep.tls.full, n, 'the first connection of each station is a full handshake');
    assert.ok(rep.tls.resumed >= n, `every reconnect resumed: ${JSON.stringify(rep.tls)}`);
    rep = await storm(['--no-tls-resume']);
    consistent(rep, { n, lossAllowed: true });
    assert.equal(rep.tls.resume, false);
    assert.equal(rep.tls.resumed, 0);
    assert.ok(rep.tls.full >= 2 * n, JSON.stringify(rep.tls));
  } finally {
    await s.stop();
    s.cleanup();
  }
});
