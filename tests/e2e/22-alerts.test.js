// Fault detection and alerts against the real server with real OCPP stations
// (ocpp-rpc, strict mode): a Faulted connector raises an alert that resolves
// itself when the connector is Available again; a station that stays away
// longer than offline_after is offline; a reboot loop, a meter going
// backwards, a failed firmware install and a security event raise their
// alerts; acknowledging and resolving by role (a viewer is refused), with
// the audit log; the list's filters and paging; the rules and the /metrics
// gauges; alert events on the event stream and signed webhook deliveries; and
// open alerts that survive a kill -9 and still resolve by themselves after it.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const crypto = require('node:crypto');
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { chromium } = require('playwright-core');
const { Server, BIN, waitFor } = require('./lib/harness');
const { tokenCreate, openEvents } = require('./lib/helpers');

const CONFIG = '[alerts]\noffline_after = 2\nreboot_count = 3\nreboot_window = 60\n' +
  '[smart]\ndebounce_ms = 50\n' +
  '[webhooks]\nallow_private_networks = true\nretry_base = 1\n' +
  '[http]\nrate_limit = 0\n';
const SECRET = 'alerts-webhook-secret-0123456789';
const V201 = ['ocpp2.0.1'];
const BOOT201 = { reason: 'PowerUp', chargingStation: { vendorName: 'ampgrid-test', model: 'e2e-201' } };
const now = () => new Date().toISOString();
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const OUT = path.join(process.env.AMPGRID_TEST_OUT || path.join(path.dirname(path.resolve(BIN)), 'tests', 'output'), 'dashboard');

// A webhook receiver that records every request.
async function receiver() {
  const r = { requests: [] };
  r.server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      r.requests.push({ headers: req.headers, body, json: JSON.parse(body) });
      res.writeHead(200);
      res.end('ok');
    });
  });
  await new Promise((resolve) => r.server.listen(0, '127.0.0.1', resolve));
  r.url = `http://127.0.0.1:${r.server.address().port}/alerts`;
  r.close = () => new Promise((resolve) => { r.server.closeAllConnections(); r.server.close(resolve); });
  return r;
}

function problem(r, status, re) {
  assert.strictEqual(r.status, status, JSON.stringify(r.body));
  assert.match(r.headers.get('content-type'), /^application\/problem\+json/);
  if (re) assert.match(r.body.detail, re);
}

// The one alert of a rule on a station (waits for it to be stored).
async function alertOf(s, station, rule, state = 'open') {
  return waitFor(async () => {
    const r = await s.api('GET', `/api/v1/alerts?station=${station}&rule=${rule}&state=${state}`);
    assert.strictEqual(r.status, 200, JSON.stringify(r.body));
    return r.body.items.length === 1 ? r.body.items[0] : null;
  }, { what: `a ${state} ${rule} alert on ${station}`, timeout: 10000 });
}

async function stateOf(s, id) {
  const r = await s.api('GET', `/api/v1/alerts/${id}`);
  assert.strictEqual(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

test('alerts', async (t) => {
  const rx = await receiver();
  let s = await new Server({ config: CONFIG }).start();
  const open = [];
  let stream;
  try {
    stream = await openEvents(s, 'types=alert.');
    const hook = await s.api('POST', '/api/v1/webhooks', { url: rx.url, event_types: ['alert.raised', 'alert.resolved'], secret: SECRET });
    assert.strictEqual(hook.status, 201, JSON.stringify(hook.body));
    for (const id of ['AL-FAULT', 'AL-OFF', 'AL-BOOT', 'AL-METER', 'AL-201', 'AL-KILL']) await s.createStation(id);
    await s.createStation('AL-LM', { site: 'AL-SITE' });
    await s.createIdToken('AL-TAG');

    let faultId;
    await t.test('a Faulted connector raises an alert with its codes; Available resolves it by itself', async () => {
      const cp = await s.bootedStation('AL-FAULT');
      open.push(cp);
      await cp.call('StatusNotification', { connectorId: 1, errorCode: 'GroundFailure', vendorErrorCode: 'E-17', info: 'RCD tripped', status: 'Faulted', timestamp: now() });
      const al = await alertOf(s, 'AL-FAULT', 'connector_faulted');
      faultId = al.id;
      assert.strictEqual(al.state, 'active');
      assert.strictEqual(al.severity, 'major');
      assert.deepStrictEqual(al.connector, { evse_id: 1, connector_id: 1 });
      assert.deepStrictEqual(al.details, { error_code: 'GroundFailure', vendor_error_code: 'E-17', info: 'RCD tripped' });
      assert.match(al.title, /GroundFailure/);
      assert.strictEqual(al.count, 1);
      // the same fault again is the same alert, counted
      await cp.call('StatusNotification', { connectorId: 1, errorCode: 'GroundFailure', status: 'Faulted', timestamp: now() });
      await waitFor(async () => (await stateOf(s, faultId)).count === 2, { what: 'the repeat counted' });
      await cp.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available', timestamp: now() });
      const done = await waitFor(async () => { const a = await stateOf(s, faultId); return a.state === 'resolved' && a; }, { what: 'auto resolution' });
      assert.strictEqual(done.resolved_by, 'auto');
      assert.ok(Date.parse(done.resolved_at) >= Date.parse(done.first_seen));
    });

    await t.test('the event stream carries alert.raised, alert.updated and alert.resolved', async () => {
      await waitFor(() => ['alert.raised', 'alert.updated', 'alert.resolved'].every((ty) =>
        stream.events.some((e) => e.type === ty && e.data.id === faultId)), { what: 'alert events on the stream' });
      const raised = stream.events.find((e) => e.type === 'alert.raised' && e.data.id === faultId);
      assert.strictEqual(raised.data.station_id, 'AL-FAULT');
      assert.strictEqual(raised.data.rule, 'connector_faulted');
      const order = stream.events.filter((e) => e.data.id === faultId).map((e) => e.type);
      assert.deepStrictEqual(order, ['alert.raised', 'alert.updated', 'alert.resolved']);
    });

    await t.test('the webhook gets alert.raised and alert.resolved, signed', async () => {
      await waitFor(() => rx.requests.filter((r) => r.json.data.id === faultId).length >= 2, { what: 'two deliveries', timeout: 15000 });
      // (deliveries may overtake each other: order by type)
      const mine = rx.requests.filter((r) => r.json.data.id === faultId).sort((a, b) => a.json.type.localeCompare(b.json.type));
      assert.deepStrictEqual(mine.map((r) => r.json.type), ['alert.raised', 'alert.resolved']);
      for (const req of mine) {
        const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(req.headers['x-ampgrid-signature'] || '');
        assert.ok(m, `signature header: ${req.headers['x-ampgrid-signature']}`);
        const want = crypto.createHmac('sha256', SECRET).update(`${m[1]}.${req.body}`).digest('hex');
        assert.strictEqual(m[2], want, 'signature matches the body');
        assert.strictEqual(req.headers['x-ampgrid-event'], req.json.type);
      }
      assert.strictEqual(mine[0].json.data.state, 'active');
      assert.strictEqual(mine[1].json.data.state, 'resolved');
      // the update was not subscribed to
      assert.ok(!rx.requests.some((r) => r.json.type === 'alert.updated'));
    });

    await t.test('a station away longer than offline_after is offline; reconnecting resolves it', async () => {
      let cp = await s.bootedStation('AL-OFF');
      await cp.close();
      const al = await alertOf(s, 'AL-OFF', 'station_offline');
      assert.strictEqual(al.details.reason, 'disconnected');
      assert.strictEqual(al.connector, null);
      cp = await s.bootedStation('AL-OFF');
      open.push(cp);
      await waitFor(async () => (await stateOf(s, al.id)).state === 'resolved', { what: 'offline resolved on reconnect' });
    });

    await t.test('a station that reboots reboot_count times within reboot_window is in a reboot loop', async () => {
      const cp = await s.bootedStation('AL-BOOT');
      open.push(cp);
      await cp.call('BootNotification', { chargePointVendor: 'ampgrid-test', chargePointModel: 'e2e' });
      let r = await s.api('GET', '/api/v1/alerts?station=AL-BOOT&rule=reboot_loop');
      assert.deepStrictEqual(r.body.items, [], 'two boots are not a loop');
      await cp.call('BootNotification', { chargePointVendor: 'ampgrid-test', chargePointModel: 'e2e' });
      const al = await alertOf(s, 'AL-BOOT', 'reboot_loop');
      assert.strictEqual(al.details.boots, 3);
    });

    await t.test('an energy register going backwards in a session raises meter_backwards', async () => {
      const cp = await s.bootedStation('AL-METER');
      open.push(cp);
      const t0 = Date.now() - 120000;
      const tx = await cp.call('StartTransaction', { connectorId: 1, idTag: 'AL-TAG', meterStart: 10000, timestamp: new Date(t0).toISOString() });
      const mv = (wh, at) => cp.call('MeterValues', { connectorId: 1, transactionId: tx.transactionId, meterValue: [{ timestamp: new Date(at).toISOString(), sampledValue: [{ value: String(wh), measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] }] });
      await mv(12000, t0 + 60000);
      await mv(11000, t0 + 90000);
      const al = await alertOf(s, 'AL-METER', 'meter_backwards');
      assert.strictEqual(al.details.previous_wh, 12000);
      assert.strictEqual(al.details.reading_wh, 11000);
      assert.strictEqual(al.details.session_id, tx.transactionId);
      assert.strictEqual(al.severity, 'minor');
    });

    await t.test('2.0.1: a failed firmware install and a security event raise alerts; Installed clears the first', async () => {
      const cp = s.station('AL-201', { protocols: V201 });
      await cp.connect();
      open.push(cp);
      assert.strictEqual((await cp.call('BootNotification', BOOT201)).status, 'Accepted');
      await cp.call('FirmwareStatusNotification', { status: 'Downloading', requestId: 1 });
      await cp.call('FirmwareStatusNotification', { status: 'InstallationFailed', requestId: 1 });
      const fw = await alertOf(s, 'AL-201', 'firmware_failed');
      assert.strictEqual(fw.details.status, 'InstallationFailed');
      await cp.call('SecurityEventNotification', { type: 'TamperDetectionActivated', timestamp: now(), techInfo: 'door opened' });
      const sec = await alertOf(s, 'AL-201', 'security_event');
      assert.strictEqual(sec.severity, 'critical');
      assert.strictEqual(sec.details.tech_info, 'door opened');
      await cp.call('SecurityEventNotification', { type: 'StartupOfTheDevice', timestamp: now() });
      await cp.call('FirmwareStatusNotification', { status: 'Installed', requestId: 2 });
      await waitFor(async () => (await stateOf(s, fw.id)).state === 'resolved', { what: 'firmware alert resolved' });
      assert.strictEqual((await stateOf(s, sec.id)).count, 1, 'an ignored type leaves the alert alone');
    });

    await t.test('a station refusing load management\'s charging profiles raises profiles_refused; accepting one resolves it', async () => {
      let reject = true;
      const answers = [];
      const cp = s.station('AL-LM');
      cp.handle('SetChargingProfile', () => {
        answers.push(reject ? 'Rejected' : 'Accepted');
        return { status: reject ? 'Rejected' : 'Accepted' };
      });
      await cp.connect();
      open.push(cp);
      assert.strictEqual((await cp.call('BootNotification', { chargePointVendor: 'ampgrid-test', chargePointModel: 'e2e' })).status, 'Accepted');
      const tree = {
        policy: 'equal', voltage_v: 230,
        nodes: [
          { id: 'grid', kind: 'grid_connection', limit_a: 32, phases: 'L1L2L3' },
          { id: 'S', kind: 'station', parent: 'grid', station_id: 'AL-LM' },
          { id: 'S1', kind: 'evse', parent: 'S', evse_id: 1 },
        ],
      };
      const put = await s.api('PUT', '/api/v1/sites/AL-SITE/capacity', tree);
      assert.strictEqual(put.status, 200, JSON.stringify(put.body));
      const al = await alertOf(s, 'AL-LM', 'profiles_refused');
      assert.ok(answers.includes('Rejected'));
      assert.strictEqual(al.connector, null);
      assert.strictEqual(al.severity, 'major');
      assert.strictEqual(al.details.site, 'AL-SITE');
      assert.match(al.details.reason, /Rejected/);
      const alloc = await s.api('GET', '/api/v1/sites/AL-SITE/allocation');
      assert.strictEqual(alloc.body.stations.find((x) => x.station_id === 'AL-LM').flagged, true);
      // the station takes profiles again: the engine's next one is accepted
      reject = false;
      const done = await waitFor(async () => { const a = await stateOf(s, al.id); return a.state === 'resolved' && a; },
        { what: 'profiles_refused resolved', timeout: 15000 });
      assert.strictEqual(done.resolved_by, 'auto');
      assert.ok(answers.includes('Accepted'));
    });

    let tech;
    await t.test('acknowledging: a viewer is refused, a technician may, once; it is audited', async () => {
      const viewer = tokenCreate(s.dataDir, 'viewer', 'alerts-viewer');
      tech = tokenCreate(s.dataDir, 'technician', 'alerts-tech');
      const al = await alertOf(s, 'AL-METER', 'meter_backwards');
      problem(await s.api('POST', `/api/v1/alerts/${al.id}/acknowledge`, {}, { token: viewer }), 403, /technician, operator or admin/);
      assert.strictEqual((await s.api('GET', `/api/v1/alerts/${al.id}`, undefined, { token: viewer })).status, 200, 'a viewer may read');
      problem(await s.api('POST', `/api/v1/alerts/${al.id}/acknowledge`, { note: 42 }, { token: tech }), 400, /note/);
      problem(await s.api('POST', `/api/v1/alerts/${al.id}/acknowledge`, { colour: 'red' }, { token: tech }), 400, /unknown field 'colour'/);
      problem(await s.api('POST', `/api/v1/alerts/${al.id}/acknowledge`, { note: 'x'.repeat(501) }, { token: tech }), 400, /note/);
      problem(await s.api('POST', '/api/v1/alerts/999999/acknowledge', {}, { token: tech }), 404);
      problem(await s.api('POST', '/api/v1/alerts/abc/acknowledge', {}, { token: tech }), 404);
      assert.strictEqual((await stateOf(s, al.id)).state, 'active', 'the refused requests changed nothing');
      const r = await s.api('POST', `/api/v1/alerts/${al.id}/acknowledge`, { note: 'checking the meter' }, { token: tech });
      assert.strictEqual(r.status, 200, JSON.stringify(r.body));
      assert.strictEqual(r.body.state, 'acknowledged');
      assert.strictEqual(r.body.acknowledged_by, 'alerts-tech');
      assert.strictEqual(r.body.ack_note, 'checking the meter');
      assert.deepStrictEqual(await stateOf(s, al.id), r.body, 'the answer is what the store holds');
      problem(await s.api('POST', `/api/v1/alerts/${al.id}/acknowledge`, {}, { token: tech }), 409, /acknowledged by alerts-tech/);
      const audit = await s.api('GET', `/api/v1/audit-log?action=alert.acknowledge&target_id=${al.id}`);
      assert.strictEqual(audit.body.items.length, 1, JSON.stringify(audit.body));
      assert.strictEqual(audit.body.items[0].actor, 'alerts-tech');
      assert.strictEqual(audit.body.items[0].before.state, 'active');
      assert.strictEqual(audit.body.items[0].after.state, 'acknowledged');
      await waitFor(() => stream.events.some((e) => e.type === 'alert.acknowledged' && e.data.id === al.id), { what: 'alert.acknowledged on the stream' });
    });

    await t.test('resolving by hand records who; a resolved alert cannot change again', async () => {
      const al = await alertOf(s, 'AL-METER', 'meter_backwards');
      const r = await s.api('POST', `/api/v1/alerts/${al.id}/resolve`, { note: 'meter swapped' }, { token: tech });
      assert.strictEqual(r.status, 200, JSON.stringify(r.body));
      assert.strictEqual(r.body.state, 'resolved');
      assert.strictEqual(r.body.resolved_by, 'alerts-tech');
      assert.strictEqual(r.body.resolve_note, 'meter swapped');
      problem(await s.api('POST', `/api/v1/alerts/${al.id}/resolve`, {}, { token: tech }), 409, /resolved/);
      problem(await s.api('POST', `/api/v1/alerts/${faultId}/acknowledge`, {}, { token: tech }), 409, /resolved automatically/);
      const audit = await s.api('GET', `/api/v1/audit-log?action=alert.resolve&target_id=${al.id}`);
      assert.strictEqual(audit.body.items.length, 1);
    });

    await t.test('the list filters by state, severity, rule, station, site and since, newest first, paged', async () => {
      const all = (await s.api('GET', '/api/v1/alerts?limit=500')).body.items;
      assert.ok(all.length >= 6, JSON.stringify(all));
      const ids = all.map((a) => a.id);
      assert.deepStrictEqual(ids, [...ids].sort((a, b) => b - a), 'newest first');
      const openOnes = (await s.api('GET', '/api/v1/alerts?state=open')).body.items;
      assert.ok(openOnes.length > 0 && openOnes.every((a) => a.state === 'active' || a.state === 'acknowledged'));
      const resolved = (await s.api('GET', '/api/v1/alerts?state=resolved')).body.items;
      assert.ok(resolved.some((a) => a.id === faultId) && resolved.every((a) => a.state === 'resolved'));
      const crit = (await s.api('GET', '/api/v1/alerts?severity=critical,minor')).body.items;
      assert.ok(crit.length >= 2 && crit.every((a) => ['critical', 'minor'].includes(a.severity)));
      assert.deepStrictEqual((await s.api('GET', '/api/v1/alerts?station=NOPE')).body.items, []);
      await s.api('PATCH', '/api/v1/stations/AL-201', { site: 'Depot 7' });
      const site = (await s.api('GET', '/api/v1/alerts?site=Depot%207')).body.items;
      assert.ok(site.length === 2 && site.every((a) => a.station_id === 'AL-201'), JSON.stringify(site));
      const future = (await s.api('GET', `/api/v1/alerts?since=${encodeURIComponent(new Date(Date.now() + 60000).toISOString())}`)).body.items;
      assert.deepStrictEqual(future, []);
      // pages of one, following next_cursor, give the same list
      const seen = [];
      let cursor = null;
      do {
        const r = await s.api('GET', `/api/v1/alerts?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        assert.strictEqual(r.status, 200, JSON.stringify(r.body));
        seen.push(...r.body.items.map((a) => a.id));
        cursor = r.body.next_cursor;
      } while (cursor);
      assert.deepStrictEqual(seen, ids);
      problem(await s.api('GET', '/api/v1/alerts?state=broken'), 400, /state must be/);
      problem(await s.api('GET', '/api/v1/alerts?severity=dire'), 400, /severity must be/);
      problem(await s.api('GET', '/api/v1/alerts?rule=nope'), 400, /rule/);
      problem(await s.api('GET', '/api/v1/alerts?since=yesterday'), 400, /since/);
      problem(await s.api('GET', '/api/v1/alerts?cursor=garbage'), 400, /cursor/);
      problem(await s.api('GET', '/api/v1/alerts/999999'), 404);
    });

    await t.test('the rules are listed with their thresholds, and /metrics counts open alerts', async () => {
      const r = await s.api('GET', '/api/v1/alert-rules');
      assert.strictEqual(r.status, 200);
      assert.strictEqual(r.body.enabled, true);
      const off = r.body.rules.find((x) => x.rule === 'station_offline');
      assert.strictEqual(off.thresholds.offline_after, 2);
      assert.strictEqual(r.body.rules.length, 13);
      const openOnes = (await s.api('GET', '/api/v1/alerts?state=active&limit=500')).body.items;
      const text = await (await fetch(`${s.httpUrl}/metrics`)).text();
      for (const sev of ['critical', 'major', 'minor', 'warning', 'info']) {
        const m = new RegExp(`^ampgrid_alerts_open\\{state="active",severity="${sev}"\\} (\\d+)$`, 'm').exec(text);
        assert.ok(m, `metric for ${sev} missing:\n${text.slice(0, 2000)}`);
        assert.strictEqual(Number(m[1]), openOnes.filter((a) => a.severity === sev).length, `active ${sev}`);
      }
    });

    await t.test('the dashboard lists alerts live, counts them in the navigation and acknowledges', async () => {
      const made = spawnSync(BIN, ['user', 'create', '--data-dir', s.dataDir, '--username', 'alerts-ops', '--role', 'technician'],
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
        await page.goto(s.httpUrl + '/');
        await page.getByLabel('Username').fill('alerts-ops');
        await page.getByLabel('Password').fill('a-dashboard-password-1');
        await page.getByRole('button', { name: 'Sign in', exact: true }).click();
        await page.locator('.live.open').waitFor();
        const active = (await s.api('GET', '/api/v1/alerts?state=active&limit=500')).body.items;
        await page.locator('#nav a[href="#/alerts"] .nav-count', { hasText: String(active.length) }).waitFor();
        await page.locator('#nav a[href="#/alerts"]').click();
        await page.getByRole('heading', { name: 'Alerts', level: 1 }).waitFor();
        const sec = active.find((a) => a.rule === 'security_event');
        const row = page.locator(`tr[data-alert="${sec.id}"]`);
        await row.getByText('Security event: TamperDetectionActivated').waitFor();
        // a new alert appears without reloading the page
        const cp = open.find((c) => c.identity === 'AL-FAULT');
        await cp.call('StatusNotification', { connectorId: 2, errorCode: 'OverVoltage', status: 'Faulted', timestamp: now() });
        const fresh = await alertOf(s, 'AL-FAULT', 'connector_faulted');
        await page.locator(`tr[data-alert="${fresh.id}"]`, { hasText: 'OverVoltage' }).waitFor({ timeout: 5000 });
        await page.locator('#nav a[href="#/alerts"] .nav-count', { hasText: String(active.length + 1) }).waitFor();
        await row.getByRole('button', { name: 'Acknowledge' }).click();
        await row.getByLabel('Note').fill('door checked');
        await row.getByRole('button', { name: 'Acknowledge' }).click();
        await row.getByText('ack: alerts-ops — door checked').waitFor();
        const after = await stateOf(s, sec.id);
        assert.strictEqual(after.state, 'acknowledged');
        assert.strictEqual(after.acknowledged_by, 'alerts-ops');
        fs.mkdirSync(OUT, { recursive: true });
        await page.screenshot({ path: path.join(OUT, 'alerts.png'), fullPage: true });
        // the station's page shows its open alerts
        await page.goto(`${s.httpUrl}/#/stations/AL-201`);
        await page.locator(`tr[data-alert="${sec.id}"]`, { hasText: 'acknowledged' }).waitFor();
        // its "Request diagnostics" button opens the Diagnostics page for it
        await page.getByRole('button', { name: 'Request diagnostics' }).click();
        await page.getByRole('heading', { name: 'Diagnostics', level: 1 }).waitFor();
        assert.strictEqual(await page.locator('form[aria-label="Request diagnostics"]').getByLabel('Station').inputValue(), 'AL-201');
        assert.deepStrictEqual(problems, [], 'no errors in the page');
      } finally {
        await browser.close();
      }
      // the fault raised for the browser clears again
      await open.find((c) => c.identity === 'AL-FAULT').call('StatusNotification', { connectorId: 2, errorCode: 'NoError', status: 'Available', timestamp: now() });
    });

    await t.test('open alerts survive kill -9 and still resolve by themselves after it', async () => {
      const cp = await s.bootedStation('AL-KILL');
      await cp.call('StatusNotification', { connectorId: 2, errorCode: 'HighTemperature', status: 'Faulted', timestamp: now() });
      const al = await alertOf(s, 'AL-KILL', 'connector_faulted');
      const maxBefore = Math.max(...(await s.api('GET', '/api/v1/alerts?limit=500')).body.items.map((a) => a.id));
      await cp.close().catch(() => {});
      assert.strictEqual((await s.kill9()).signal, 'SIGKILL');
      stream.close();
      s = await new Server(s.restartOptions()).start();
      const after = await stateOf(s, al.id);
      assert.strictEqual(after.state, 'active');
      assert.strictEqual(after.details.error_code, 'HighTemperature');
      const again = await s.bootedStation('AL-KILL');
      open.push(again);
      // the restarted engine knows the alert: the same fault again counts on it
      await again.call('StatusNotification', { connectorId: 2, errorCode: 'HighTemperature', status: 'Faulted', timestamp: now() });
      await waitFor(async () => (await stateOf(s, al.id)).count === 2, { what: 'the restored alert counted' });
      await again.call('StatusNotification', { connectorId: 2, errorCode: 'NoError', status: 'Available', timestamp: now() });
      const done = await waitFor(async () => { const a = await stateOf(s, al.id); return a.state === 'resolved' && a; }, { what: 'resolved after the restart' });
      assert.strictEqual(done.resolved_by, 'auto');
      // new alerts get new ids
      await again.call('StatusNotification', { connectorId: 1, errorCode: 'GroundFailure', status: 'Faulted', timestamp: now() });
      const fresh = await alertOf(s, 'AL-KILL', 'connector_faulted');
      assert.ok(fresh.id > maxBefore, `${fresh.id} > ${maxBefore}`);
    });
  } finally {
    if (stream) stream.close();
    for (const c of open) await c.close().catch(() => {});
    await rx.close();
    const st = await s.stop();
    s.cleanup();
    assert.deepStrictEqual(st, { code: 0, signal: null },
      `server did not exit cleanly on SIGTERM: ${JSON.stringify(st)}\n--- stderr (tail) ---\n${s.stderr.slice(-6000)}`);
  }
});
