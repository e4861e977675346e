// Operating the binary: command line, configuration file and flags, first-start
// banner, graceful shutdown, frame tracing without secrets, and log format.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const { Server, BIN, freePort, waitFor, sleep } = require('./lib/harness');

// ------------------------------------------------------------------ helpers

function run(args, timeout = 10000) {
  const r = spawnSync(BIN, args, { encoding: 'utf8', timeout });
  return { code: r.status, signal: r.signal, stdout: r.stdout || '', stderr: r.stderr || '' };
}

// Starts `ampgrid serve` expecting it to refuse: resolves with its exit status
// and output. If it is still running after `ms` it is killed and that is
// reported (signal SIGKILL), which the caller treats as a failure.
async function serveExpectingRefusal(args, ms = 8000) {
  const p = spawn(BIN, ['serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  p.stdout.on('data', (d) => { stdout += d; });
  p.stderr.on('data', (d) => { stderr += d; });
  const t = setTimeout(() => p.kill('SIGKILL'), ms);
  const { code, signal } = await new Promise((resolve) => p.on('exit', (c, s) => resolve({ code: c, signal: s })));
  clearTimeout(t);
  return { code, signal, stdout, stderr };
}

function tmpDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'ampgrid-ops-'));
}

async function portArgs(dir) {
  return ['--data-dir', dir, '--ocpp-port', String(await freePort()), '--http-port', String(await freePort()), '--bind', '127.0.0.1'];
}

async function stopOk(s) {
  const st = await s.stop();
  assert.strictEqual(st.code, 0, `exit ${JSON.stringify(st)}; stderr:\n${s.stderr.slice(-4000)}`);
}

const LOGFMT = /^ts=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z level=(debug|info|warn|error) msg=("(?:[^"\\]|\\.)*"|\S+)( [A-Za-z_][A-Za-z0-9_.]*=("(?:[^"\\]|\\.)*"|\S*))*$/;

// --------------------------------------------------------------- commands

test('--help exits 0 and prints usage naming serve and token create', () => {
  const r = run(['--help']);
  assert.strictEqual(r.code, 0, r.stderr);
  assert.match(r.stdout, /usage/i);
  assert.match(r.stdout, /\bserve\b/);
  assert.match(r.stdout, /\btoken create\b/);
});

test('version prints "ampgrid <semver>"', () => {
  const r = run(['version']);
  assert.strictEqual(r.code, 0, r.stderr);
  assert.match(r.stdout, /^ampgrid \d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?\n$/);
});

test('an unknown command exits 2 with a message naming it', () => {
  const r = run(['frobnicate']);
  assert.strictEqual(r.code, 2);
  assert.match(r.stderr, /frobnicate/);
  assert.match(r.stderr, /unknown command/i);
});

test('an unknown serve flag exits non-zero with a message', async () => {
  const dir = tmpDir();
  try {
    const r = await serveExpectingRefusal(['--data-dir', dir, '--frobnicate']);
    assert.ok(r.code !== 0 && r.signal === null, `expected a refusal, got ${JSON.stringify({ code: r.code, signal: r.signal })}`);
    assert.match(r.stderr, /frobnicate/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a non-numeric port flag is refused instead of silently turning the listener off', async () => {
  const dir = tmpDir();
  try {
    const r = await serveExpectingRefusal(['--data-dir', dir, '--ocpp-port', String(await freePort()), '--http-port', 'eighty', '--bind', '127.0.0.1'], 4000);
    assert.ok(r.code !== 0 && r.signal === null,
      `serve --http-port eighty was not refused (still running after 4 s, stdout:\n${r.stdout})`);
    assert.match(r.stderr, /http-port|http_port|port/i);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('token create without its required flags exits 2 with a message', () => {
  const r = run(['token', 'create', '--role', 'viewer']);
  assert.strictEqual(r.code, 2);
  assert.match(r.stderr, /data-dir/);
  assert.strictEqual(r.stdout, '');
});

// ------------------------------------------------------------ configuration

test('serve --config /nonexistent exits non-zero with a clear message', async () => {
  const dir = tmpDir();
  try {
    const r = await serveExpectingRefusal(['--config', '/nonexistent/ampgrid.ini', ...(await portArgs(dir))]);
    assert.ok(r.code !== 0 && r.signal === null, JSON.stringify({ code: r.code, signal: r.signal }));
    assert.match(r.stderr, /\/nonexistent\/ampgrid\.ini/);
    assert.match(r.stderr, /cannot open|no such file|not found/i);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a config file with an unknown option stops the server, naming the line and option', async () => {
  const dir = tmpDir();
  try {
    const cfg = path.join(dir, 'a.ini');
    fs.writeFileSync(cfg, '[ocpp]\nheartbeat_interval = 60\n\nheartbeat_colour = blue\n');
    const r = await serveExpectingRefusal(['--config', cfg, ...(await portArgs(dir))]);
    assert.ok(r.code !== 0 && r.signal === null, JSON.stringify({ code: r.code, signal: r.signal }));
    assert.match(r.stderr, /heartbeat_colour/);
    assert.match(r.stderr, /line 4\b/);
    assert.ok(r.stderr.includes(cfg), `file not named: ${r.stderr}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a config file with an unknown section stops the server, naming it', async () => {
  const dir = tmpDir();
  try {
    const cfg = path.join(dir, 'a.ini');
    fs.writeFileSync(cfg, '[ocpp]\nheartbeat_interval = 60\n[extras]\nfoo = 1\n');
    const r = await serveExpectingRefusal(['--config', cfg, ...(await portArgs(dir))]);
    assert.ok(r.code !== 0 && r.signal === null, JSON.stringify({ code: r.code, signal: r.signal }));
    assert.match(r.stderr, /extras/);
    assert.match(r.stderr, /line 4\b/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a config value that does not parse stops the server, naming the line and option', async () => {
  const dir = tmpDir();
  try {
    const cfg = path.join(dir, 'b.ini');
    fs.writeFileSync(cfg, '; comment\n[ocpp]\nheartbeat_interval = often\n');
    const r = await serveExpectingRefusal(['--config', cfg, ...(await portArgs(dir))]);
    assert.ok(r.code !== 0 && r.signal === null, JSON.stringify({ code: r.code, signal: r.signal }));
    assert.match(r.stderr, /heartbeat_interval/);
    assert.match(r.stderr, /line 3\b/);
    assert.match(r.stderr, /often/);
    // a boolean too
    fs.writeFileSync(cfg, '[ocpp]\nauto_register = perhaps\n');
    const b = await serveExpectingRefusal(['--config', cfg, ...(await portArgs(dir))]);
    assert.ok(b.code !== 0 && b.signal === null);
    assert.match(b.stderr, /auto_register/);
    assert.match(b.stderr, /line 2\b/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('an out-of-range config value stops the server, naming the option', async () => {
  const dir = tmpDir();
  try {
    const cfg = path.join(dir, 'c.ini');
    const cases = [
      ['[ocpp]\nheartbeat_interval = 0\n', 'heartbeat_interval'],
      ['[ocpp]\nmax_message_size = 10\n', 'max_message_size'],
      ['[log]\nlevel = chatty\n', 'level'],
      ['[server]\nhttp_port = 70000\n', 'http_port'],
    ];
    const failures = [];
    for (const [text, option] of cases) {
      fs.writeFileSync(cfg, text);
      // http_port comes from the file in the last case, so no --http-port flag here
      const args = ['--config', cfg, '--data-dir', dir, '--ocpp-port', String(await freePort()), '--bind', '127.0.0.1'];
      if (option !== 'http_port') args.push('--http-port', String(await freePort()));
      const r = await serveExpectingRefusal(args);
      if (r.code === 0 || r.signal !== null) failures.push(`${option}: not refused`);
      else if (!r.stderr.includes(option)) failures.push(`${option}: message does not name it: ${r.stderr.trim()}`);
    }
    assert.deepStrictEqual(failures, []);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('config file values apply: [ocpp] heartbeat_interval = 123 is sent in the BootNotification answer', async () => {
  const s = await new Server({ config: '[ocpp]\nheartbeat_interval = 123\npending_interval = 17\n' }).start();
  try {
    await s.createStation('CFG-1');
    await s.createStation('CFG-2', { registration_status: 'Pending' });
    const cp = s.station('CFG-1');
    await cp.connect();
    const r = await cp.call('BootNotification', { chargePointVendor: 'v', chargePointModel: 'm' });
    assert.strictEqual(r.status, 'Accepted');
    assert.strictEqual(r.interval, 123);
    await cp.close();
    const p = s.station('CFG-2');
    await p.connect();
    const rp = await p.call('BootNotification', { chargePointVendor: 'v', chargePointModel: 'm' });
    assert.strictEqual(rp.status, 'Pending');
    assert.strictEqual(rp.interval, 17);
    await p.close();
  } finally {
    await stopOk(s).finally(() => s.cleanup());
  }
});

test('command-line flags override the config file', async () => {
  const filePort = await freePort();
  // The file asks for warn-level logs, trace off and an HTTP port; the flags
  // (the harness passes --http-port, we add --log-level and --trace) win.
  const s = new Server({
    config: `[server]\nhttp_port = ${filePort}\n[log]\nlevel = error\n[ocpp]\ntrace = false\n`,
    args: ['--log-level', 'info', '--trace'],
  });
  await s.start();
  try {
    assert.notStrictEqual(s.httpPort, filePort);
    const h = await fetch(`${s.httpUrl}/healthz`);
    assert.strictEqual(h.status, 200, 'flag port not serving');
    assert.match(s.stderr, new RegExp(`msg="listening" .*http_port=${s.httpPort}\\b`), 'the --http-port flag did not win');
    assert.match(s.stderr, /level=info msg="listening"/, '--log-level info did not override [log] level = error');
    await s.createStation('FLAG-1');
    const cp = await s.bootedStation('FLAG-1');
    await cp.close();
    await waitFor(() => /msg="ocpp frame"/.test(s.stderr), { what: 'a traced frame (--trace overrides trace = false)' });
  } finally {
    await stopOk(s).finally(() => s.cleanup());
  }
});

// ------------------------------------------------------------ first start

test('the first start prints an admin token and the ws:// and http:// addresses', async () => {
  const s = await new Server().start();
  try {
    assert.match(s.stdout, /agt_[0-9a-f]{64}/);
    assert.ok(s.stdout.includes(`ws://127.0.0.1:${s.ocppPort}/ocpp`), s.stdout);
    assert.ok(s.stdout.includes(`http://127.0.0.1:${s.httpPort}`), s.stdout);
    // and the printed token is an admin token
    const r = await s.api('POST', '/api/v1/stations', { id: 'FIRST-1' });
    assert.strictEqual(r.status, 201);
  } finally {
    await stopOk(s).finally(() => s.cleanup());
  }
});

test('a second start on the same data dir prints no new token, and the first one still works', async () => {
  const a = await new Server().start();
  let b;
  try {
    await stopOk(a);
    b = await new Server(a.restartOptions()).start();
    assert.ok(!/agt_[0-9a-f]{16,}/.test(b.stdout), `a token was printed again:\n${b.stdout}`);
    assert.ok(b.stdout.includes(`http://127.0.0.1:${b.httpPort}`));
    const r = await b.api('GET', '/api/v1/stations');
    assert.strictEqual(r.status, 200);
  } finally {
    if (b) await stopOk(b);
    a.cleanup();
  }
});

// --------------------------------------------------------------- shutdown

test('SIGTERM with connected stations and an open event stream exits 0 within a few seconds; stations see a close', async () => {
  const s = await new Server().start();
  const stations = [];
  let sse;
  try {
    for (let i = 0; i < 5; i++) {
      await s.createStation(`TERM-${i}`);
      const cp = await s.bootedStation(`TERM-${i}`);
      cp.closed = new Promise((resolve) => cp.once('close', resolve));
      stations.push(cp);
    }
    const ac = new AbortController();
    const res = await fetch(`${s.httpUrl}/api/v1/events`, { headers: { authorization: `Bearer ${s.token}` }, signal: ac.signal });
    assert.strictEqual(res.status, 200);
    sse = { ac, ended: (async () => { try { for await (const _ of res.body) { /* drain */ } return 'ended'; } catch (e) { return `error: ${e.message}`; } })() };
    const t0 = Date.now();
    s.proc.kill('SIGTERM');
    const killer = setTimeout(() => s.proc.kill('SIGKILL'), 10000);
    const st = await s.exited;
    clearTimeout(killer);
    const took = Date.now() - t0;
    assert.strictEqual(st.signal, null, `killed: ${JSON.stringify(st)}\n${s.stderr.slice(-3000)}`);
    assert.strictEqual(st.code, 0, s.stderr.slice(-3000));
    assert.ok(took < 6000, `took ${took} ms to exit`);
    const closes = await Promise.race([Promise.all(stations.map((c) => c.closed)), sleep(3000).then(() => null)]);
    assert.ok(closes, 'not every station saw its connection close');
    const how = await Promise.race([sse.ended, sleep(3000).then(() => 'still open')]);
    assert.notStrictEqual(how, 'still open', 'the event stream did not end');
  } finally {
    if (sse) sse.ac.abort();
    await s.stop();
    s.cleanup();
  }
});

// ------------------------------------------------------------ logs, trace

test('--trace logs OCPP frames as logfmt lines with msg="ocpp frame"', async () => {
  const s = await new Server({ args: ['--trace'] }).start();
  try {
    await s.createStation('TRACE-1');
    const cp = await s.bootedStation('TRACE-1');
    await cp.call('Heartbeat', {});
    await cp.close();
    await waitFor(() => /msg="ocpp frame".*Heartbeat/.test(s.stderr), { what: 'traced Heartbeat' });
    const frames = s.stderr.split('\n').filter((l) => l.includes('msg="ocpp frame"'));
    assert.ok(frames.some((l) => /dir=in/.test(l) && /BootNotification/.test(l)), frames.join('\n'));
    assert.ok(frames.some((l) => /dir=out/.test(l)), 'no outgoing frame traced');
    for (const l of frames) {
      assert.match(l, LOGFMT, `not logfmt: ${l}`);
      assert.match(l, /station=TRACE-1/);
    }
  } finally {
    await stopOk(s).finally(() => s.cleanup());
  }
});

test('--trace never logs a station password, not even during a password rotation', async () => {
  const s = await new Server({ args: ['--trace', '--log-level', 'debug'] }).start();
  const initial = 'initial-Station-Pw-0042';
  try {
    await s.createStation('TRACE-PW', { password: initial });
    let newPassword = null;
    const cp = s.station('TRACE-PW', { password: initial });
    cp.handle('ChangeConfiguration', ({ params }) => {
      if (params.key === 'AuthorizationKey') newPassword = params.value;
      return { status: 'Accepted' };
    });
    await cp.connect();
    await cp.call('BootNotification', { chargePointVendor: 'v', chargePointModel: 'm' });
    const r = await s.api('POST', '/api/v1/stations/TRACE-PW/rotate-password');
    assert.strictEqual(r.status, 200, JSON.stringify(r.body));
    assert.ok(newPassword && newPassword.length >= 16, 'the station did not receive a new password');
    await cp.close();
    // reconnect with the new password (the Basic auth header carries it)
    const cp2 = s.station('TRACE-PW', { password: newPassword });
    await cp2.connect();
    await cp2.call('Heartbeat', {});
    await cp2.close();
    await sleep(200);
    assert.match(s.stderr, /msg="ocpp frame"/, 'tracing is not on');
    assert.ok(!s.stderr.includes(newPassword), 'the new AuthorizationKey value appears in the log');
    assert.ok(!s.stderr.includes(initial), 'the initial password appears in the log');
    const b64 = Buffer.from(`TRACE-PW:${newPassword}`).toString('base64');
    assert.ok(!s.stderr.includes(b64), 'the Basic credentials appear in the log');
    assert.ok(!s.stdout.includes(newPassword), 'the new password appears on stdout');
  } finally {
    await stopOk(s).finally(() => s.cleanup());
  }
});

test('every log line on stderr is logfmt (ts=, level=, msg=) in normal operation', async () => {
  const s = await new Server({ args: ['--trace', '--log-level', 'debug'] }).start();
  try {
    await s.createStation('LOG-1');
    await s.createIdToken('LOG-TAG');
    const cp = await s.bootedStation('LOG-1');
    const start = await cp.call('StartTransaction', { connectorId: 1, idTag: 'LOG-TAG', meterStart: 0, timestamp: new Date().toISOString() });
    await cp.call('StopTransaction', { transactionId: start.transactionId, meterStop: 10, timestamp: new Date().toISOString() });
    await cp.call('StopTransaction', { transactionId: 999999, meterStop: 10, timestamp: new Date().toISOString() });
    await cp.call('DataTransfer', { vendorId: 'acme "quoted"\nnext line', data: 'x=1 y="2"' });
    const bad = s.station('LOG-1', { password: 'wrong-password-1234' });
    await assert.rejects(bad.connect());
    await cp.close();
  } finally {
    await stopOk(s).finally(() => s.cleanup());
  }
  const lines = s.stderr.split('\n').filter((l) => l.length > 0);
  assert.ok(lines.length >= 5);
  assert.deepStrictEqual(lines.filter((l) => !LOGFMT.test(l)), [], 'lines that are not logfmt');
});

test('station-controlled text cannot break or forge log lines (message ids, malformed frames)', async () => {
  const s = await new Server().start();
  try {
    await s.createStation('LOG-2');
    const ws = s.raw('LOG-2');
    await ws.opened;
    ws.send(JSON.stringify([2, 'b1', 'BootNotification', { chargePointVendor: 'v', chargePointModel: 'm' }]));
    await ws.next();
    // an answer to a call that was never made, whose id carries a quote and a newline
    ws.send(JSON.stringify([3, 'a"b\nlevel=error msg=forged', {}]));
    // broken JSON with a quote in the part the parser quotes back
    ws.send('["x\\"y near');
    await sleep(200);
    ws.close();
  } finally {
    await stopOk(s).finally(() => s.cleanup());
  }
  const lines = s.stderr.split('\n').filter((l) => l.length > 0);
  assert.ok(!lines.some((l) => /^level=error msg=forged/.test(l)), 'a station forged a log line');
  assert.deepStrictEqual(lines.filter((l) => !LOGFMT.test(l)), [], 'lines that are not logfmt');
});

test('errors from the network library are logged as logfmt too', async () => {
  const s = await new Server().start();
  try {
    // an oversized header makes the HTTP parser give up and complain
    await new Promise((resolve) => {
      const c = require('node:net').connect(s.httpPort, '127.0.0.1');
      c.on('connect', () => c.write(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(10000)}\r\n\r\n`));
      c.on('close', resolve);
      c.on('error', resolve);
      c.resume();
    });
    await sleep(100);
    assert.strictEqual((await fetch(`${s.httpUrl}/healthz`)).status, 200);
  } finally {
    await stopOk(s).finally(() => s.cleanup());
  }
  const lines = s.stderr.split('\n').filter((l) => l.length > 0);
  assert.deepStrictEqual(lines.filter((l) => !LOGFMT.test(l)), [], 'lines that are not logfmt');
});
