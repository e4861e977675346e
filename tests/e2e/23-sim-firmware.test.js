// ampgrid-sim's firmware updates and log uploads end to end: a real server,
// a small HTTP server in this test (serves firmware files, takes uploads by
// PUT, refuses PUT with 405 on one path to force the multipart POST), and
// two simulator processes (OCPP 1.6 and 2.0.1 stations). Commands go through
// the server's command API; the test checks what the HTTP server saw (the
// GETs, the uploaded bytes), what the server recorded (firmware and
// diagnostics status, station events, the firmware version after the
// reboot) and the simulators' JSON reports (counts, sizes, SHA-256).
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync, spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');
const os = require('node:os');
const path = require('node:path');
const { Server, BIN, sleep, waitFor } = require('./lib/harness');

const SIM = path.join(path.dirname(BIN), 'ampgrid-sim');
const PASSWORD = 'sim-fw-e2e-password-0123456789';

let server;
let files; // the HTTP server
let tmp;

// A firmware image: deterministic bytes, big enough to arrive in many reads.
const IMAGE = crypto.createHash('sha512').update('ampgrid').digest();
const FIRMWARE = Buffer.concat(Array.from({ length: 5000 }, (_, i) => Buffer.concat([IMAGE, Buffer.from([i & 255])])));
const FIRMWARE_SHA = crypto.createHash('sha256').update(FIRMWARE).digest('hex');

// A self-signed certificate for 127.0.0.1: the simulator verifies it with --ca.
function makeCert(dir) {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
    '-nodes', '-keyout', path.join(dir, 'files.key'), '-out', path.join(dir, 'files.crt'), '-days', '2',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
  return { key: fs.readFileSync(path.join(dir, 'files.key')), cert: fs.readFileSync(path.join(dir, 'files.crt')) };
}

// The same files over http and https.
async function startFiles(tls) {
  const seen = { gets: [], puts: [], posts: [], flaky: 0 };
  const handler = (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = req.url;
      if (req.method === 'GET' && url.startsWith('/fw/')) {
        seen.gets.push(url);
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.end(FIRMWARE);
      } else if (req.method === 'GET' && url.startsWith('/flaky/')) {
        seen.gets.push(url);
        if (seen.flaky++ === 0) { res.writeHead(503); res.end('busy'); return; }
        res.writeHead(200);
        res.end(FIRMWARE);
      } else if (req.method === 'PUT' && url.startsWith('/upload/')) {
        seen.puts.push({ url, body });
        res.writeHead(201);
        res.end();
      } else if (req.method === 'PUT' && url.startsWith('/form/')) {
        seen.puts.push({ url, body, refused: true });
        res.writeHead(405, { allow: 'POST' });
        res.end();
      } else if (req.method === 'POST' && url.startsWith('/form/')) {
        seen.posts.push({ url, body, type: req.headers['content-type'] || '' });
        res.writeHead(201);
        res.end();
      } else {
        res.writeHead(404);
        res.end();
      }
    });
  };
  const listen = (srv) => new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve(srv)));
  const plain = await listen(http.createServer(handler));
  const secure = await listen(https.createServer(tls, handler));
  return { servers: [plain, secure], seen, port: plain.address().port, tlsPort: secure.address().port };
}

// The file part of a multipart/form-data body: { filename, content }.
function multipartFile(body, type) {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(type);
  assert.ok(boundary, `no boundary in ${type}`);
  const b = `--${boundary[1] || boundary[2]}`;
  for (const part of body.toString('latin1').split(b)) {
    const m = /filename="([^"]*)"[\s\S]*?\r\n\r\n([\s\S]*)\r\n$/.exec(part);
    if (m) return { filename: m[1], content: Buffer.from(m[2], 'latin1') };
  }
  assert.fail('no file part in the multipart body');
}

function runSim(args) {
  const p = spawn(SIM, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const run = { proc: p, out: '', err: '' };
  p.stdout.on('data', (d) => { run.out += d; });
  p.stderr.on('data', (d) => { run.err += d; });
  run.exited = new Promise((resolve) => p.on('exit', (code, signal) => resolve({ code, signal })));
  return run;
}

// Stops a run the way a user would (SIGINT: stop, drain, report) and reads its report.
async function finish(run, json) {
  run.proc.kill('SIGINT');
  const t = setTimeout(() => run.proc.kill('SIGKILL'), 20000);
  const r = await run.exited;
  clearTimeout(t);
  assert.equal(r.code, 0, `ampgrid-sim exited ${r.code} ${r.signal || ''}: ${run.err}`);
  assert.doesNotMatch(run.err, /invalid answer/, 'every answer the simulator built was valid');
  return JSON.parse(fs.readFileSync(json, 'utf8'));
}

const cmd = (id, action, body) => server.api('POST', `/api/v1/stations/${id}/commands/${action}`, body);
const station = async (id) => (await server.api('GET', `/api/v1/stations/${id}`)).body;
const events = async (id) => (await server.api('GET', `/api/v1/stations/${id}/events?limit=200`)).body.items;

async function connected(prefix, n) {
  for (let i = 1; i <= n; i++) {
    await waitFor(async () => (await station(`${prefix}${i}`)).connected, { what: `${prefix}${i} connected`, timeout: 15000 });
  }
  await sleep(300); // the boot's status notifications
}

function simArgs(json, extra) {
  return ['--url', server.ocppUrl, '--password', PASSWORD, '--scenario', 'connect', '--duration', '120',
    '--json', json, '--progress', '0', '--connectors', '1', '--api', server.httpUrl,
    '--token', server.token, '--register', '--drain', '2', ...extra];
}

function consistent(rep) {
  assert.equal(rep.balance.balanced, true);
  assert.deepEqual(rep.errors.callerrors, {}, 'no CALLERRORs');
  assert.deepEqual(rep.errors.invalid_answers, {}, 'every answer valid');
  assert.equal(rep.server_calls.refused, 0, 'every server call answered');
}

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ampgrid-sim-fw-'));
  server = await new Server({ config: '[security]\nauth_fail_limit = 0\n[http]\nrate_limit = 0\n' }).start();
  files = await startFiles(makeCert(tmp));
});

after(async () => {
  if (files) files.servers.forEach((srv) => srv.close());
  if (server) {
    await server.stop();
    server.cleanup();
  }
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('OCPP 1.6: UpdateFirmware downloads, retries, installs and reboots; GetDiagnostics uploads', async () => {
  const json = path.join(tmp, 'v16.json');
  const run = runSim(simArgs(json, ['--stations', '3', '--prefix', 'FW16-', '--tag-prefix', 'F']));
  const base = `http://127.0.0.1:${files.port}`;
  let fileName;
  let formName;
  try {
    await connected('FW16-', 3);
    const now = new Date().toISOString();
    let r = await cmd('FW16-1', 'UpdateFirmware', { location: `${base}/fw/ampgrid-fw-2.1.0.bin`, retrieveDate: now });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body, {});
    r = await cmd('FW16-2', 'UpdateFirmware', { location: `${base}/flaky/ampgrid-fw-2.2.0.bin`, retrieveDate: now, retries: 2, retryInterval: 1 });
    assert.equal(r.status, 200);
    r = await cmd('FW16-3', 'UpdateFirmware', { location: 'http://192.0.2.10/fw/evil.bin', retrieveDate: now });
    assert.equal(r.status, 200);
    r = await cmd('FW16-1', 'GetDiagnostics', { location: `${base}/upload/` });
    assert.equal(r.status, 200);
    fileName = r.body.fileName;
    assert.match(fileName, /^FW16-1-diagnostics-\d{8}T\d{6}Z\.log$/);
    r = await cmd('FW16-3', 'GetDiagnostics', { location: `${base}/form/` });
    formName = r.body.fileName;

    for (const [id, version] of [['FW16-1', 'ampgrid-fw-2.1.0'], ['FW16-2', 'ampgrid-fw-2.2.0']]) {
      await waitFor(async () => {
        const s = await station(id);
        return s.firmware_status === 'Installed' && s.boot.firmware_version === version && s.connected;
      }, { what: `${id} installed ${version}`, timeout: 15000 });
    }
    await waitFor(async () => (await station('FW16-3')).firmware_status === 'DownloadFailed', { what: 'FW16-3 refused' });
    await waitFor(async () => (await station('FW16-1')).diagnostics_status === 'Uploaded', { what: 'FW16-1 uploaded' });
    await waitFor(async () => (await station('FW16-3')).diagnostics_status === 'Uploaded', { what: 'FW16-3 uploaded' });

    // the station's own story, oldest first
    const fw = (await events('FW16-1')).filter((e) => e.kind === 'firmware_status').map((e) => e.detail.status).reverse();
    assert.deepEqual(fw, ['Downloading', 'Downloaded', 'Installing', 'Installed']);
    const fw2 = (await events('FW16-2')).filter((e) => e.kind === 'firmware_status').map((e) => e.detail.status).reverse();
    assert.deepEqual(fw2, ['Downloading', 'Downloading', 'Downloaded', 'Installing', 'Installed'], 'one retry');
    const diag = (await events('FW16-1')).filter((e) => e.kind === 'diagnostics_status').map((e) => e.detail.status).reverse();
    assert.deepEqual(diag, ['Uploading', 'Uploaded']);
  } catch (e) {
    run.proc.kill('SIGKILL');
    throw new Error(`${e.message}\nampgrid-sim: ${run.err}`, { cause: e });
  }
  const rep = await finish(run, json);
  consistent(rep);
  const seen = files.seen;
  const gets16 = seen.gets.filter((u) => /2\.[12]\.0/.test(u));
  assert.equal(gets16.length, 3, `GETs: ${JSON.stringify(seen.gets)}`);
  assert.equal(rep.firmware.requests, 3);
  assert.equal(rep.firmware.attempts, gets16.length, 'one GET per attempt');
  assert.equal(rep.firmware.ok, 2);
  assert.equal(rep.firmware.failed, 1);
  assert.equal(rep.firmware.refused, 1, 'the non-loopback URL was never fetched');
  assert.equal(rep.firmware.bytes, 2 * FIRMWARE.length);
  assert.equal(rep.firmware.installed, 2);
  const one = rep.firmware.stations.find((s) => s.id === 'FW16-1');
  assert.equal(one.version, 'ampgrid-fw-2.1.0');
  assert.equal(one.bytes, FIRMWARE.length);
  assert.equal(one.sha256, FIRMWARE_SHA);
  assert.equal(rep.actions.BootNotification.ok, 3 + 2, 'the two updated stations booted again');

  const put = seen.puts.find((p) => p.url === `/upload/${fileName}`);
  assert.ok(put, `PUT of ${fileName}: ${JSON.stringify(seen.puts.map((p) => p.url))}`);
  assert.match(put.body.toString(), /station FW16-1/);
  const refused = seen.puts.find((p) => p.refused);
  assert.equal(refused.url, `/form/${formName}`);
  assert.equal(seen.posts.length, 1, 'the 405 was followed by one multipart POST');
  const form = multipartFile(seen.posts[0].body, seen.posts[0].type);
  assert.equal(form.filename, formName);
  assert.match(form.content.toString(), /station FW16-3/);
  assert.equal(rep.logs.requests, 2);
  assert.equal(rep.logs.ok, 2);
  assert.equal(rep.logs.failed, 0);
  assert.equal(rep.logs.bytes, put.body.length + form.content.length, 'every byte arrived');
  // the text report says the same
  assert.match(run.out, /firmware +3 updates: 3 downloads tried, 2 ok, 1 failed, 1 refused/);
  assert.match(run.out, new RegExp(`FW16-1 +ampgrid-fw-2\\.1\\.0 +Installed +${FIRMWARE.length} bytes +sha256 ${FIRMWARE_SHA}`));
  assert.match(run.out, /logs +2 requests: 2 uploads tried, 2 ok, 0 failed/);
});

test('OCPP 2.0.1: signed UpdateFirmware over https with a request id, GetLog', async () => {
  const json = path.join(tmp, 'v201.json');
  const run = runSim(simArgs(json, ['--ocpp', '2.0.1', '--stations', '2', '--prefix', 'FW201-', '--tag-prefix', 'G',
    '--firmware-version-from', 'version', '--ca', path.join(tmp, 'files.crt')]));
  const base = `http://127.0.0.1:${files.port}`;
  const secure = `https://127.0.0.1:${files.tlsPort}`;
  const getsBefore = files.seen.gets.length;
  try {
    await connected('FW201-', 2);
    let r = await cmd('FW201-1', 'UpdateFirmware', {
      requestId: 101, retries: 1, retryInterval: 1,
      firmware: { location: `${secure}/fw/acme-ac22-4.7.1.img`, retrieveDateTime: new Date().toISOString(), signature: 'c2lnbmF0dXJl', signingCertificate: 'cert' },
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.status, 'Accepted');
    r = await cmd('FW201-2', 'GetLog', { logType: 'DiagnosticsLog', requestId: 202, log: { remoteLocation: `${base}/upload/` } });
    assert.equal(r.body.status, 'Accepted');
    assert.match(r.body.filename, /^FW201-2-diagnostics-.*\.log$/);
    const logName = r.body.filename;

    await waitFor(async () => {
      const s = await station('FW201-1');
      return s.firmware_status === 'Installed' && s.boot.firmware_version === '4.7.1' && s.connected;
    }, { what: 'FW201-1 installed 4.7.1', timeout: 15000 });
    const fw = (await events('FW201-1')).filter((e) => e.kind === 'firmware_status').map((e) => e.detail.status).reverse();
    assert.deepEqual(fw, ['Downloading', 'Downloaded', 'SignatureVerified', 'Installing', 'InstallRebooting', 'Installed']);

    await waitFor(async () => (await events('FW201-2')).some((e) => e.kind === 'log_status' && e.detail.status === 'Uploaded'),
      { what: 'FW201-2 log uploaded' });
    const logs = (await events('FW201-2')).filter((e) => e.kind === 'log_status').reverse();
    assert.deepEqual(logs.map((e) => [e.detail.status, e.detail.requestId]), [['Uploading', 202], ['Uploaded', 202]]);
    assert.ok(files.seen.puts.some((p) => p.url === `/upload/${logName}`), 'the log arrived');

    // nothing in progress any more: a triggered status says Idle
    r = await cmd('FW201-1', 'TriggerMessage', { requestedMessage: 'FirmwareStatusNotification' });
    assert.equal(r.body.status, 'Accepted');
    // the Idle is recorded, but the station record keeps how the install ended
    await waitFor(async () => (await events('FW201-1')).some((e) => e.kind === 'firmware_status' && e.detail.status === 'Idle'),
      { what: 'Idle' });
    assert.equal((await station('FW201-1')).firmware_status, 'Installed');
  } catch (e) {
    run.proc.kill('SIGKILL');
    throw new Error(`${e.message}\nampgrid-sim: ${run.err}`, { cause: e });
  }
  const rep = await finish(run, json);
  consistent(rep);
  assert.equal(files.seen.gets.length - getsBefore, 1);
  assert.equal(rep.firmware.attempts, 1);
  assert.equal(rep.firmware.installed, 1);
  assert.equal(rep.firmware.stations[0].sha256, FIRMWARE_SHA);
  assert.equal(rep.firmware.stations[0].version, '4.7.1');
  assert.equal(rep.logs.ok, 1);
  assert.equal(rep.actions.FirmwareStatusNotification.callerror, 0);
});
