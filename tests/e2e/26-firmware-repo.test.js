// The firmware repository against the real server: an image of a few MB
// uploaded through the API (streamed to disk, SHA-256 computed on the way),
// listed, filtered, paged and its 2.0.1 signature set; station download links
// minted with the server's own key (the token format of file_tokens.c, as
// firmware campaigns mint them) download byte-identical, resume with Range
// and answer HEAD; hostile Range headers; forged, altered, expired,
// wrong-purpose and wrong-station links are refused with problem+json; a
// deleted image is no longer served; and a kill -9 right after the 201 loses
// neither the row nor the file.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const crypto = require('node:crypto');
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { chromium } = require('playwright-core');
const { Server, BIN } = require('./lib/harness');
const { mintTransferToken: mint, alterTransferMac } = require('./lib/helpers');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const OUT = path.join(process.env.AMPGRID_TEST_OUT || path.join(path.dirname(path.resolve(BIN)), 'tests', 'output'), 'dashboard');

const CONFIG = '[http]\nrate_limit = 0\n[transfers]\nmax_upload_mb = 8\n';
const sha256 = (b) => crypto.createHash('sha256').update(b).digest('hex');

// A raw HTTP request (fetch hides some of what these tests look at).
function request(url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    if (body) req.end(body); else req.end();
  });
}

// POST /api/v1/firmware with a binary body; the answer parsed as JSON.
async function upload(srv, query, body, token = srv.token) {
  const r = await request(`${srv.httpUrl}/api/v1/firmware${query}`, {
    method: 'POST', body, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
  });
  return { status: r.status, headers: r.headers, body: JSON.parse(r.body.toString() || 'null') };
}

test('firmware repository: upload, list, station download with Range, tokens, durability', async (t) => {
  let srv = await new Server({ config: CONFIG }).start();
  t.after(() => srv.stop());
  await srv.createStation('FW-1');
  await srv.createStation('FW-2');
  const image = crypto.randomBytes(3 * 1024 * 1024 + 12345);
  const digest = sha256(image);

  await t.test('upload needs a version and credentials, and is refused when too large', async () => {
    let r = await upload(srv, '', image.subarray(0, 100));
    assert.strictEqual(r.status, 400);
    assert.match(r.body.detail, /version/);
    r = await request(srv.httpUrl + '/api/v1/firmware?version=1', { method: 'POST', body: Buffer.alloc(10) });
    assert.strictEqual(r.status, 401);
    assert.strictEqual(JSON.parse(r.body).status, 401);
    // the answer comes on the headers alone, before any of the body is sent
    const big = await new Promise((resolve, reject) => {
      const req = http.request(srv.httpUrl + '/api/v1/firmware?version=9', {
        method: 'POST',
        headers: { authorization: `Bearer ${srv.token}`, 'content-length': String(9 * 1024 * 1024) },
      }, (res) => {
        const chunks = [];
        res.on('data', (d) => chunks.push(d));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      });
      req.on('error', reject);
      req.flushHeaders();
    });
    {
      assert.strictEqual(big.status, 413);
      assert.match(JSON.parse(big.body).detail, /8388608/);
      assert.match(big.headers['content-type'], /problem\+json/);
    }
  });

  let img;
  await t.test('upload an image: 201 with its SHA-256, audited', async () => {
    const r = await upload(srv, '?version=2.4.1&vendor=Acme&models=AC22,DC50&filename=acme-2.4.1.bin', image);
    assert.strictEqual(r.status, 201, JSON.stringify(r.body));
    img = r.body;
    assert.strictEqual(img.sha256, digest);
    assert.strictEqual(img.size, image.length);
    assert.strictEqual(img.version, '2.4.1');
    assert.deepStrictEqual(img.models, ['AC22', 'DC50']);
    assert.strictEqual(img.filename, 'acme-2.4.1.bin');
    const audit = await srv.api('GET', '/api/v1/audit-log?action=firmware.create');
    assert.strictEqual(audit.body.items[0].target_id, String(img.id));
  });

  await t.test('kill -9 after the 201: the image and its file survive', async () => {
    await srv.kill9();
    srv = await new Server(srv.restartOptions({ config: CONFIG })).start();
    const r = await srv.api('GET', `/api/v1/firmware/${img.id}`);
    assert.strictEqual(r.status, 200);
    assert.strictEqual(r.body.sha256, digest);
    const f = await request(srv.httpUrl + `/api/v1/firmware/${img.id}/file`, { headers: { authorization: `Bearer ${srv.token}` } });
    assert.strictEqual(f.status, 200);
    assert.strictEqual(sha256(f.body), digest);
  });

  await t.test('list and filters; PATCH the 2.0.1 signature', async () => {
    const second = await upload(srv, '?version=3.0.0&vendor=Other', Buffer.from('tiny image'));
    assert.strictEqual(second.status, 201);
    let r = await srv.api('GET', '/api/v1/firmware');
    assert.strictEqual(r.status, 200);
    assert.deepStrictEqual(r.body.items.map((i) => i.id), [second.body.id, img.id]);
    r = await srv.api('GET', '/api/v1/firmware?vendor=Acme');
    assert.deepStrictEqual(r.body.items.map((i) => i.id), [img.id]);
    r = await srv.api('GET', '/api/v1/firmware?model=DC50');
    assert.deepStrictEqual(r.body.items.map((i) => i.id), [img.id]);
    r = await srv.api('GET', '/api/v1/firmware?limit=1');
    assert.strictEqual(r.body.items.length, 1);
    assert.ok(r.body.next_cursor);
    r = await srv.api('PATCH', `/api/v1/firmware/${img.id}`, { signing_certificate: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----', signature: 'c2lnbmF0dXJl' });
    assert.strictEqual(r.status, 200, JSON.stringify(r.body));
    assert.strictEqual(r.body.signature, 'c2lnbmF0dXJl');
    r = await srv.api('PATCH', `/api/v1/firmware/${img.id}`, { size: 3 });
    assert.strictEqual(r.status, 400);
    r = await srv.api('DELETE', `/api/v1/firmware/${second.body.id}`);
    assert.strictEqual(r.status, 204);
    r = await srv.api('GET', `/api/v1/firmware/${second.body.id}`);
    assert.strictEqual(r.status, 404);
  });

  const key = fs.readFileSync(path.join(srv.dataDir, 'transfer.key'));
  const exp = Math.floor(Date.now() / 1000) + 3600;
  const url = (tok, name = 'acme-2.4.1.bin') => `${srv.httpUrl}/transfers/firmware/${tok}/${name}`;
  const good = mint(key, 1, img.id, 'FW-1', exp);

  await t.test('a station downloads byte-identical, resumes with Range, HEAD', async () => {
    let r = await request(url(good));
    assert.strictEqual(r.status, 200);
    assert.strictEqual(sha256(r.body), digest);
    assert.strictEqual(r.headers['accept-ranges'], 'bytes');
    assert.strictEqual(r.headers.etag, `"${digest}"`);
    assert.strictEqual(Number(r.headers['content-length']), image.length);
    // resume: the first MB, then the rest
    const a = await request(url(good), { headers: { range: 'bytes=0-1048575' } });
    assert.strictEqual(a.status, 206);
    assert.strictEqual(a.headers['content-range'], `bytes 0-1048575/${image.length}`);
    const b = await request(url(good), { headers: { range: 'bytes=1048576-' } });
    assert.strictEqual(b.status, 206);
    assert.strictEqual(sha256(Buffer.concat([a.body, b.body])), digest);
    const tail = await request(url(good), { headers: { range: 'bytes=-100' } });
    assert.strictEqual(tail.status, 206);
    assert.ok(tail.body.equals(image.subarray(image.length - 100)));
    const h = await request(url(good), { method: 'HEAD' });
    assert.strictEqual(h.status, 200);
    assert.strictEqual(Number(h.headers['content-length']), image.length);
    assert.strictEqual(h.body.length, 0);
    // the same station naming itself with Basic auth is fine
    r = await request(url(good), { headers: { range: 'bytes=0-9', authorization: 'Basic ' + Buffer.from('FW-1:x').toString('base64') } });
    assert.strictEqual(r.status, 206);
  });

  await t.test('hostile Range headers', async () => {
    const cases = [
      ['bytes=99999999-', 416], [`bytes=${image.length}-`, 416], ['bytes=-0', 416],
      ['bytes=5-1', 200], ['bytes=abc', 200], ['bytes=0-1,5-6', 200], ['items=0-5', 200],
      ['bytes=', 200], ['bytes=-', 200], ['bytes=18446744073709551616-', 416],
      ['bytes=0-18446744073709551616', 206], ['bytes= 0-0', 206],
    ];
    for (const [range, want] of cases) {
      const r = await request(url(good), { headers: { range } });
      assert.strictEqual(r.status, want, `Range: ${range}`);
      if (want === 416) {
        assert.strictEqual(r.headers['content-range'], `bytes */${image.length}`);
        assert.strictEqual(JSON.parse(r.body).status, 416);
      }
      if (want === 200) assert.strictEqual(r.body.length, image.length);
    }
    const changed = await request(url(good), { headers: { range: 'bytes=0-9', 'if-range': '"other"' } });
    assert.strictEqual(changed.status, 200);
  });

  await t.test('forged, expired, wrong-purpose and wrong-station links are refused', async () => {
    const bad = [
      [mint(crypto.randomBytes(32), 1, img.id, 'FW-1', exp), 403], // another server's key
      [alterTransferMac(good), 403], // MAC altered
      [mint(key, 1, img.id, 'FW-1', Math.floor(Date.now() / 1000) - 5), 403], // expired
      [mint(key, 2, img.id, 'FW-1', exp), 403], // a diagnostics upload token
      [mint(key, 1, img.id, 'NO-SUCH-STATION', exp), 403],
      ['not-a-token!', 404],
      [mint(key, 1, 999999, 'FW-1', exp), 404], // no such image
    ];
    for (const [tok, want] of bad) {
      const r = await request(url(tok));
      assert.strictEqual(r.status, want, tok);
      assert.match(r.headers['content-type'], /application\/problem\+json/);
    }
    // another station naming itself with the link of FW-1
    const r = await request(url(good), { headers: { authorization: 'Basic ' + Buffer.from('FW-2:pw').toString('base64') } });
    assert.strictEqual(r.status, 403);
    const put = await request(url(good), { method: 'PUT', body: 'x' });
    assert.strictEqual(put.status, 405);
  });

  await t.test('the dashboard uploads an image and lists it; the diagnostics page loads', async () => {
    const made = spawnSync(BIN, ['user', 'create', '--data-dir', srv.dataDir, '--username', 'fw-ops', '--role', 'operator'],
      { input: 'a-dashboard-password-1\n', encoding: 'utf8', timeout: 30000 });
    assert.strictEqual(made.status, 0, made.stderr);
    const browser = await chromium.launch({
      executablePath: CHROMIUM, headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
        '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      page.setDefaultTimeout(10000);
      const problems = [];
      page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
      page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
      await page.goto(srv.httpUrl + '/');
      await page.getByLabel('Username').fill('fw-ops');
      await page.getByLabel('Password').fill('a-dashboard-password-1');
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.locator('#nav a[href="#/firmware"]').click();
      await page.getByRole('heading', { name: 'Firmware', level: 1 }).waitFor();
      const bytes = crypto.randomBytes(300000);
      await page.locator('input[type="file"]').setInputFiles({ name: 'dash-image.bin', mimeType: 'application/octet-stream', buffer: bytes });
      await page.getByLabel('Version').fill('9.9.9-dash');
      await page.getByLabel('Models').fill('DashModel');
      await page.getByRole('button', { name: 'Upload' }).click();
      await page.getByText(`SHA-256 ${sha256(bytes)}`).waitFor();
      await page.getByRole('region', { name: 'Firmware images' }).getByText('9.9.9-dash').waitFor();
      const listed = (await srv.api('GET', '/api/v1/firmware?version=9.9.9-dash')).body.items;
      assert.strictEqual(listed.length, 1);
      assert.strictEqual(listed[0].sha256, sha256(bytes));
      assert.strictEqual(listed[0].filename, 'dash-image.bin');
      assert.deepStrictEqual(listed[0].models, ['DashModel']);
      assert.strictEqual(listed[0].created_by, 'fw-ops');
      fs.mkdirSync(OUT, { recursive: true });
      await page.screenshot({ path: path.join(OUT, 'firmware.png'), fullPage: true });
      await page.locator('#nav a[href="#/diagnostics"]').click();
      await page.getByRole('heading', { name: 'Diagnostics', level: 1 }).waitFor();
      await page.getByText('No diagnostics requested yet.').waitFor();
      await page.screenshot({ path: path.join(OUT, 'diagnostics.png'), fullPage: true });
      assert.deepStrictEqual(problems, [], 'no errors in the page');
    } finally {
      await browser.close();
    }
  });

  await t.test('an image a firmware campaign uses cannot be deleted', async () => {
    const other = await upload(srv, '?version=in-use-1', Buffer.from('image a campaign uses'));
    assert.strictEqual(other.status, 201);
    const c = await srv.api('POST', '/api/v1/firmware-campaigns',
      { name: 'uses the image', image_id: other.body.id, target: { station_ids: ['FW-1'] } });
    assert.strictEqual(c.status, 201, JSON.stringify(c.body));
    const r = await srv.api('DELETE', `/api/v1/firmware/${other.body.id}`);
    assert.strictEqual(r.status, 409);
    assert.match(r.body.detail, /campaign/);
    assert.strictEqual((await srv.api('GET', `/api/v1/firmware/${other.body.id}`)).status, 200);
  });

  await t.test('a deleted image is no longer served', async () => {
    const r = await srv.api('DELETE', `/api/v1/firmware/${img.id}`);
    assert.strictEqual(r.status, 204);
    const d = await request(url(good));
    assert.strictEqual(d.status, 404);
    const audit = await srv.api('GET', '/api/v1/audit-log?action=firmware.delete');
    assert.strictEqual(audit.body.items[0].target_id, String(img.id));
  });
});

test('stations download over https from the OCPP TLS port, and over plain http from the OCPP port', async (t) => {
  const { execFileSync } = require('node:child_process');
  const https = require('node:https');
  const { freePort } = require('./lib/harness');
  const os = require('node:os');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ampgrid-fw-tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'k.pem'),
    '-out', path.join(dir, 'c.pem'), '-days', '2', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  const tlsPort = await freePort();
  const srv = await new Server({
    config: `${CONFIG}[server]\ntls_port = ${tlsPort}\n[tls]\ncert_rsa = ${dir}/c.pem\nkey_rsa = ${dir}/k.pem\n` +
      `[transfers]\nbase_url = https://127.0.0.1:${tlsPort}\n`,
  }).start().catch((e) => { throw new Error(`${e.message}`); });
  t.after(() => srv.stop());
  await srv.createStation('FW-TLS');
  const image = crypto.randomBytes(700000);
  const r = await upload(srv, '?version=tls-1', image);
  assert.strictEqual(r.status, 201);
  const key = fs.readFileSync(path.join(srv.dataDir, 'transfer.key'));
  const tok = mint(key, 1, r.body.id, 'FW-TLS', Math.floor(Date.now() / 1000) + 600);
  const get = (range) => new Promise((resolve, reject) => {
    https.get(`https://127.0.0.1:${tlsPort}/transfers/firmware/${tok}/fw.bin`,
      { rejectUnauthorized: false, headers: range ? { range } : {} }, (res) => {
        const chunks = [];
        res.on('data', (d) => chunks.push(d));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      }).on('error', reject);
  });
  const whole = await get();
  assert.strictEqual(whole.status, 200);
  assert.strictEqual(sha256(whole.body), sha256(image));
  const part = await get('bytes=500000-');
  assert.strictEqual(part.status, 206);
  assert.ok(part.body.equals(image.subarray(500000)));
  // the plain OCPP port serves /transfers/ too, and nothing else over HTTP
  const plain = await request(`http://127.0.0.1:${srv.ocppPort}/transfers/firmware/${tok}/fw.bin`, { headers: { range: 'bytes=0-99' } });
  assert.strictEqual(plain.status, 206);
  assert.ok(plain.body.equals(image.subarray(0, 100)));
  const other = await request(`http://127.0.0.1:${srv.ocppPort}/api/v1/firmware`);
  assert.strictEqual(other.status, 426);
  fs.rmSync(dir, { recursive: true, force: true });
});
