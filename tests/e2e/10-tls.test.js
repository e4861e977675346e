// Security profile 2: TLS (wss) with RSA and ECDSA certificates at once,
// TLS 1.2 as the floor, and the four cipher suites OCPP requires.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const tls = require('node:tls');
const { execFileSync } = require('node:child_process');
const { Server, freePort, upgradeStatus } = require('./lib/harness');

function makeCerts(dir) {
  fs.mkdirSync(dir, { recursive: true });
  const run = (args) => execFileSync('openssl', args, { stdio: 'ignore' });
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'rsa.key'),
    '-out', path.join(dir, 'rsa.crt'), '-days', '2', '-subj', '/CN=localhost']);
  run(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', path.join(dir, 'ec.key'), '-out', path.join(dir, 'ec.crt'), '-days', '2', '-subj', '/CN=localhost']);
}

function handshake(port, opts) {
  return new Promise((resolve) => {
    const sock = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...opts }, () => {
      const r = { ok: true, cipher: sock.getCipher().standardName || sock.getCipher().name, protocol: sock.getProtocol() };
      sock.end();
      resolve(r);
    });
    sock.on('error', (e) => resolve({ ok: false, error: e.code || e.message }));
  });
}

let s;
let tlsPort;
let certDir;

test.before(async () => {
  certDir = fs.mkdtempSync('/tmp/ampgrid-tls-');
  makeCerts(certDir);
  tlsPort = await freePort();
  s = await new Server({
    config: `[server]\ntls_port = ${tlsPort}\n[tls]\ncert_rsa = ${certDir}/rsa.crt\nkey_rsa = ${certDir}/rsa.key\n` +
      `cert_ecdsa = ${certDir}/ec.crt\nkey_ecdsa = ${certDir}/ec.key\n`,
  }).start();
  await s.createStation('TLS-P2', { security_profile: 2 });
  await s.createStation('TLS-P1', { security_profile: 1 });
});

test.after(async () => {
  const st = await s.stop();
  s.cleanup();
  fs.rmSync(certDir, { recursive: true, force: true });
  assert.strictEqual(st.code, 0, s.stderr);
});

for (const cipher of ['ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES256-GCM-SHA384']) {
  test(`TLS 1.2 offers ${cipher}`, async () => {
    const r = await handshake(tlsPort, { ciphers: cipher, maxVersion: 'TLSv1.2' });
    assert.ok(r.ok, r.error);
    assert.strictEqual(r.protocol, 'TLSv1.2');
  });
}

// Resumption: a station reconnecting after a network blip or a server-side
// close offers the session it was given; the server takes it back (no
// signature, no certificate to check), which is what keeps a TLS reconnect
// storm cheap. `session` arrives after the handshake (TLS 1.3: the ticket).
function firstSession(port, opts) {
  return new Promise((resolve) => {
    const sock = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...opts });
    sock.once('session', (session) => { sock.end(); resolve({ session, reused: sock.isSessionReused() }); });
    sock.on('error', (e) => resolve({ error: e.code || e.message }));
  });
}

for (const maxVersion of ['TLSv1.3', 'TLSv1.2']) {
  test(`a ${maxVersion} session is resumed on reconnect`, async () => {
    const first = await firstSession(tlsPort, { maxVersion });
    assert.ok(first.session, first.error);
    assert.strictEqual(first.reused, false);
    const again = await new Promise((resolve) => {
      const sock = tls.connect({ host: '127.0.0.1', port: tlsPort, rejectUnauthorized: false, maxVersion,
        session: first.session }, () => {
        const r = { reused: sock.isSessionReused(), protocol: sock.getProtocol() };
        sock.end();
        resolve(r);
      });
      sock.on('error', (e) => resolve({ error: e.code || e.message }));
    });
    assert.strictEqual(again.protocol, maxVersion, again.error);
    assert.strictEqual(again.reused, true);
    // a damaged session costs a full handshake, not a failure
    const other = await firstSession(tlsPort, { maxVersion, session: Buffer.from(first.session).fill(7, 40) });
    assert.strictEqual(other.reused, false, other.error);
  });
}

test('TLS 1.1 is refused', async () => {
  const r = await handshake(tlsPort, { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' });
  assert.strictEqual(r.ok, false);
});

test('a profile 2 station boots over wss', async () => {
  const cp = s.station('TLS-P2', { endpoint: `wss://127.0.0.1:${tlsPort}/ocpp`, wsOpts: { rejectUnauthorized: false } });
  await cp.connect();
  const r = await cp.call('BootNotification', { chargePointVendor: 'v', chargePointModel: 'm' });
  assert.strictEqual(r.status, 'Accepted');
  const st = await s.api('GET', '/api/v1/stations/TLS-P2');
  assert.strictEqual(st.body.connected, true);
  await cp.close();
});

test('a profile 2 station is refused over plain ws with 403', async () => {
  const r = await upgradeStatus(s, 'TLS-P2');
  assert.strictEqual(r.status, 403);
  assert.match(r.body, /TLS/);
});

test('a profile 1 station may also use wss', async () => {
  const cp = s.station('TLS-P1', { endpoint: `wss://127.0.0.1:${tlsPort}/ocpp`, wsOpts: { rejectUnauthorized: false } });
  await cp.connect();
  const r = await cp.call('BootNotification', { chargePointVendor: 'v', chargePointModel: 'm' });
  assert.strictEqual(r.status, 'Accepted');
  await cp.close();
});

test('wrong password over wss is refused with 401', async () => {
  const cp = s.station('TLS-P2', { password: 'wrong-password-123', endpoint: `wss://127.0.0.1:${tlsPort}/ocpp`, wsOpts: { rejectUnauthorized: false } });
  await assert.rejects(cp.connect(), /Unauthorized|401/);
});
