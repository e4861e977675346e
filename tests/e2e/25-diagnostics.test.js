// Remote diagnostics against the real server with real stations (ocpp-rpc,
// strict mode): the API asks a 1.6 station (GetDiagnostics) and a 2.0.1
// station (GetLog) for their diagnostics; each gets an upload URL on this
// server, uploads there (PUT, and POST multipart/form-data as many stations
// do) and reports DiagnosticsStatusNotification / LogStatusNotification; the
// file downloads byte-identical through the API, whole and in ranges; the
// link works once; forged, altered and expired links are refused with
// problem+json, too large uploads with 413; a trigger's Idle does not wipe
// the final status (of firmware too, whose 2.0.1 requestId is kept);
// diagnostics.updated events reach the event stream; and
// other stations are untouched.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const crypto = require('node:crypto');
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const { Server, waitFor } = require('./lib/harness');
const { openEvents, mintTransferToken: mint, alterTransferMac } = require('./lib/helpers');

const CONFIG = '[http]\nrate_limit = 0\n[transfers]\nmax_upload_mb = 1\n';
const V201 = ['ocpp2.0.1'];
const BOOT201 = { reason: 'PowerUp', chargingStation: { vendorName: 'ampgrid-test', model: 'e2e-201' } };
const sha256 = (b) => crypto.createHash('sha256').update(b).digest('hex');

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
const json = (r) => JSON.parse(r.body.toString());

test('remote diagnostics over OCPP 1.6 and 2.0.1', async (t) => {
  const srv = await new Server({ config: CONFIG }).start();
  t.after(() => srv.stop());
  for (const id of ['DG-16', 'DG-201', 'DG-OTHER']) await srv.createStation(id);
  const stream = await openEvents(srv);
  t.after(() => stream.close());

  const s16 = await srv.bootedStation('DG-16');
  t.after(() => s16.close({ force: true }));
  const got16 = [];
  s16.handle('GetDiagnostics', ({ params }) => { got16.push(params); return { fileName: 'diag-16.tar.gz' }; });

  const s201 = srv.station('DG-201', { protocols: V201 });
  await s201.connect();
  t.after(() => s201.close({ force: true }));
  assert.strictEqual((await s201.call('BootNotification', BOOT201)).status, 'Accepted');
  const got201 = [];
  s201.handle('GetLog', ({ params }) => { got201.push(params); return { status: 'Accepted', filename: 'log-201.txt' }; });

  const other = await srv.bootedStation('DG-OTHER');
  t.after(() => other.close({ force: true }));

  const file16 = crypto.randomBytes(200 * 1024 + 7);
  let req16, url16;

  await t.test('1.6: GetDiagnostics carries our upload URL and the time window', async () => {
    const r = await srv.api('POST', '/api/v1/stations/DG-16/diagnostics',
      { start_time: '2026-01-01T00:00:00Z', stop_time: '2026-01-02T00:00:00Z', retries: 2 });
    assert.strictEqual(r.status, 201, JSON.stringify(r.body));
    req16 = r.body;
    assert.strictEqual(req16.station_id, 'DG-16');
    assert.strictEqual(req16.status, 'accepted');
    assert.strictEqual(req16.file_received, false);
    assert.strictEqual(got16.length, 1);
    url16 = got16[0].location;
    assert.match(url16, new RegExp(`^${srv.httpUrl}/transfers/diagnostics/[A-Za-z0-9_-]+$`));
    assert.strictEqual(got16[0].startTime, '2026-01-01T00:00:00.000Z');
    assert.strictEqual(got16[0].retries, 2);
    const audit = await srv.api('GET', '/api/v1/audit-log?action=diagnostics.request');
    assert.strictEqual(audit.body.items[0].target_id, String(req16.id));
  });

  await t.test('1.6: the station PUTs the file and reports; it downloads byte-identical', async () => {
    await s16.call('DiagnosticsStatusNotification', { status: 'Uploading' });
    let r = await srv.api('GET', `/api/v1/diagnostics/${req16.id}`);
    assert.strictEqual(r.body.status, 'uploading');
    const put = await request(`${url16}/diag-16.tar.gz`, { method: 'PUT', body: file16 });
    assert.strictEqual(put.status, 201, put.body.toString());
    assert.strictEqual(json(put).sha256, sha256(file16));
    await s16.call('DiagnosticsStatusNotification', { status: 'Uploaded' });
    r = await waitFor(async () => {
      const x = await srv.api('GET', `/api/v1/diagnostics/${req16.id}`);
      return x.body.status === 'uploaded' && x;
    }, { what: 'the request to be uploaded' });
    assert.strictEqual(r.body.file_name, 'diag-16.tar.gz');
    assert.strictEqual(r.body.size, file16.length);
    assert.strictEqual(r.body.sha256, sha256(file16));
    assert.ok(r.body.completed_at);
    const auth = { authorization: `Bearer ${srv.token}` };
    const whole = await request(`${srv.httpUrl}/api/v1/diagnostics/${req16.id}/file`, { headers: auth });
    assert.strictEqual(whole.status, 200);
    assert.ok(whole.body.equals(file16));
    const part = await request(`${srv.httpUrl}/api/v1/diagnostics/${req16.id}/file`, { headers: { ...auth, range: 'bytes=100-199' } });
    assert.strictEqual(part.status, 206);
    assert.ok(part.body.equals(file16.subarray(100, 200)));
    assert.strictEqual(part.headers['content-range'], `bytes 100-199/${file16.length}`);
  });

  await t.test('the upload link works once', async () => {
    const again = await request(`${url16}/diag-16.tar.gz`, { method: 'PUT', body: Buffer.from('replaced') });
    assert.strictEqual(again.status, 403);
    assert.match(again.headers['content-type'], /problem\+json/);
    assert.match(json(again).detail, /used already/);
    const r = await srv.api('GET', `/api/v1/diagnostics/${req16.id}`);
    assert.strictEqual(r.body.sha256, sha256(file16));
  });

  await t.test('an Idle from a trigger does not wipe the final status', async () => {
    await s16.call('DiagnosticsStatusNotification', { status: 'Idle' });
    const st = await srv.api('GET', '/api/v1/stations/DG-16');
    assert.strictEqual(st.body.diagnostics_status, 'Uploaded');
    const r = await srv.api('GET', `/api/v1/diagnostics/${req16.id}`);
    assert.strictEqual(r.body.status, 'uploaded');
  });

  const file201 = Buffer.from(`2.0.1 log\n${crypto.randomBytes(5000).toString('hex')}\n`);
  let req201;
  await t.test('2.0.1: GetLog with remoteLocation; a multipart POST; LogStatusNotification by requestId', async () => {
    const r = await srv.api('POST', '/api/v1/stations/DG-201/diagnostics', {});
    assert.strictEqual(r.status, 201, JSON.stringify(r.body));
    req201 = r.body;
    assert.strictEqual(got201.length, 1);
    assert.strictEqual(got201[0].logType, 'DiagnosticsLog');
    assert.strictEqual(got201[0].requestId, req201.id);
    const loc = got201[0].log.remoteLocation;
    assert.match(loc, /\/transfers\/diagnostics\//);
    await s201.call('LogStatusNotification', { status: 'Uploading', requestId: req201.id });
    const boundary = '----ampgrid' + crypto.randomBytes(8).toString('hex');
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n`),
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="log-201.txt"\r\nContent-Type: text/plain\r\n\r\n`),
      file201,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const post = await request(loc, { method: 'POST', body, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } });
    assert.strictEqual(post.status, 201, post.body.toString());
    await s201.call('LogStatusNotification', { status: 'Uploaded', requestId: req201.id });
    const done = await waitFor(async () => {
      const x = await srv.api('GET', `/api/v1/diagnostics/${req201.id}`);
      return x.body.status === 'uploaded' && x;
    }, { what: 'the 2.0.1 request to be uploaded' });
    assert.strictEqual(done.body.file_name, 'log-201.txt');
    assert.strictEqual(done.body.sha256, sha256(file201));
    const f = await request(`${srv.httpUrl}/api/v1/diagnostics/${req201.id}/file`, { headers: { authorization: `Bearer ${srv.token}` } });
    assert.ok(f.body.equals(file201));
    const st = await srv.api('GET', '/api/v1/stations/DG-201');
    assert.strictEqual(st.body.diagnostics_status, 'Uploaded');
  });

  await t.test('2.0.1 firmware status: the requestId is kept, a trigger\'s Idle keeps the final status', async () => {
    await s201.call('FirmwareStatusNotification', { status: 'Installing', requestId: 77 });
    await s201.call('FirmwareStatusNotification', { status: 'Installed', requestId: 77 });
    await s201.call('FirmwareStatusNotification', { status: 'Idle' });
    const st = await srv.api('GET', '/api/v1/stations/DG-201');
    assert.strictEqual(st.body.firmware_status, 'Installed');
    const ev = (await srv.api('GET', '/api/v1/stations/DG-201/events?limit=100')).body.items
      .filter((e) => e.kind === 'firmware_status').map((e) => [e.detail.status, e.detail.request_id ?? null]).reverse();
    assert.deepStrictEqual(ev, [['Installing', 77], ['Installed', 77], ['Idle', null]]);
  });

  await t.test('forged, altered, expired and oversize uploads are refused', async () => {
    const key = fs.readFileSync(path.join(srv.dataDir, 'transfer.key'));
    const r = await srv.api('POST', '/api/v1/stations/DG-16/diagnostics', {});
    assert.strictEqual(r.status, 201);
    const loc = got16[got16.length - 1].location;
    const tok = loc.slice(loc.lastIndexOf('/') + 1);
    const exp = Math.floor(Date.now() / 1000) + 600;
    const base = `${srv.httpUrl}/transfers/diagnostics/`;
    const cases = [
      [mint(crypto.randomBytes(32), 2, r.body.id, 'DG-16', exp), 403],
      [alterTransferMac(tok), 403],
      [mint(key, 2, r.body.id, 'DG-16', Math.floor(Date.now() / 1000) - 1), 403],
      [mint(key, 1, r.body.id, 'DG-16', exp), 403], // a firmware token
      [mint(key, 2, r.body.id, 'DG-OTHER', exp), 403], // another station's
      ['not-a-token', 404],
    ];
    for (const [t2, want] of cases) {
      const x = await request(base + t2, { method: 'PUT', body: Buffer.from('forged') });
      assert.strictEqual(x.status, want, t2);
      assert.match(x.headers['content-type'], /application\/problem\+json/);
    }
    const big = await new Promise((resolve, reject) => {
      const q = http.request(loc, { method: 'PUT', headers: { 'content-length': String(2 * 1024 * 1024) } }, (res) => {
        const chunks = [];
        res.on('data', (d) => chunks.push(d));
        res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
      });
      q.on('error', reject);
      q.flushHeaders();
    });
    assert.strictEqual(big.status, 413);
    // the genuine link still works after all that
    const ok = await request(loc, { method: 'PUT', body: Buffer.from('real') });
    assert.strictEqual(ok.status, 201);
    const get = await request(`${srv.httpUrl}/transfers/diagnostics/${tok}`);
    assert.strictEqual(get.status, 405);
  });

  await t.test('lists, filters, events; other stations untouched', async () => {
    let r = await srv.api('GET', '/api/v1/diagnostics?station=DG-16');
    assert.strictEqual(r.status, 200);
    assert.strictEqual(r.body.items.length, 2);
    assert.ok(r.body.items.every((i) => i.station_id === 'DG-16'));
    r = await srv.api('GET', '/api/v1/diagnostics?status=uploaded');
    assert.deepStrictEqual(r.body.items.map((i) => i.id).sort(), [req16.id, req201.id].sort());
    r = await srv.api('GET', '/api/v1/diagnostics?limit=1');
    assert.strictEqual(r.body.items.length, 1);
    assert.ok(r.body.next_cursor);
    r = await srv.api('GET', '/api/v1/diagnostics?status=bogus');
    assert.strictEqual(r.status, 400);
    r = await srv.api('GET', '/api/v1/diagnostics?station=DG-OTHER');
    assert.deepStrictEqual(r.body.items, []);
    const st = await srv.api('GET', '/api/v1/stations/DG-OTHER');
    assert.strictEqual(st.body.diagnostics_status ?? null, null);
    r = await srv.api('GET', '/api/v1/diagnostics/999999');
    assert.strictEqual(r.status, 404);
    r = await srv.api('POST', '/api/v1/stations/NOPE/diagnostics', {});
    assert.strictEqual(r.status, 404);
    r = await srv.api('POST', '/api/v1/stations/DG-16/diagnostics', { bogus: 1 });
    assert.strictEqual(r.status, 400);
    await waitFor(() => stream.events.some((e) => e.type === 'diagnostics.updated' && e.data.id === req201.id && e.data.status === 'uploaded'),
      { what: 'diagnostics.updated on the event stream' });
  });
});

test('a diagnostics request that hears nothing for diagnostics_timeout times out', async (t) => {
  const srv = await new Server({ config: '[http]\nrate_limit = 0\n[transfers]\ndiagnostics_timeout = 2\n' }).start();
  t.after(() => srv.stop());
  await srv.createStation('DG-TO');
  const stream = await openEvents(srv);
  t.after(() => stream.close());
  const cp = await srv.bootedStation('DG-TO');
  t.after(() => cp.close({ force: true }));
  const got = [];
  cp.handle('GetDiagnostics', ({ params }) => { got.push(params); return { fileName: 'diag.tgz' }; });
  const ask = async () => {
    const r = await srv.api('POST', '/api/v1/stations/DG-TO/diagnostics', {});
    assert.strictEqual(r.status, 201, JSON.stringify(r.body));
    return { id: r.body.id, url: got[got.length - 1].location };
  };
  const get = async (id) => (await srv.api('GET', `/api/v1/diagnostics/${id}`)).body;

  // silence: timed_out, durable, announced, and its link refused from then on
  const a = await ask();
  const t0 = Date.now();
  const out = await waitFor(async () => { const x = await get(a.id); return x.status === 'timed_out' && x; },
    { what: 'the request to time out', timeout: 10000 });
  assert.ok(Date.now() - t0 >= 1500, 'not before its time');
  assert.ok(out.completed_at);
  assert.match(out.detail, /in time/);
  assert.strictEqual(out.file_received, false);
  await waitFor(() => stream.events.some((e) => e.type === 'diagnostics.updated' && e.data.id === a.id && e.data.status === 'timed_out'),
    { what: 'diagnostics.updated timed_out on the stream' });
  const late = await request(`${a.url}/diag.tgz`, { method: 'PUT', body: Buffer.from('too late') });
  assert.strictEqual(late.status, 410);
  assert.match(late.headers['content-type'], /application\/problem\+json/);
  assert.match(json(late).detail, /timed out/);
  // a late status report does not revive it
  await cp.call('DiagnosticsStatusNotification', { status: 'Uploaded' });
  assert.strictEqual((await get(a.id)).status, 'timed_out');
  let r = await srv.api('GET', '/api/v1/diagnostics?status=timed_out');
  assert.deepStrictEqual(r.body.items.map((x) => x.id), [a.id]);

  // a status report restarts the clock
  const b = await ask();
  await new Promise((res) => setTimeout(res, 1200));
  await cp.call('DiagnosticsStatusNotification', { status: 'Uploading' });
  await new Promise((res) => setTimeout(res, 1200));
  assert.strictEqual((await get(b.id)).status, 'uploading', 'within 2 s of its last status');
  // the file came but the station never said Uploaded: uploaded, not timed out
  const put = await request(`${b.url}/diag.tgz`, { method: 'PUT', body: Buffer.from('the diagnostics') });
  assert.strictEqual(put.status, 201, put.body.toString());
  const done = await waitFor(async () => { const x = await get(b.id); return x.status !== 'uploading' && x; },
    { what: 'the silent upload to end', timeout: 10000 });
  assert.strictEqual(done.status, 'uploaded');
  assert.strictEqual(done.file_received, true);
  assert.match(done.detail, /never reported Uploaded/);
});
