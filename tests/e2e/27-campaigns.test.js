// Firmware update campaigns against the real server with ten real OCPP
// stations (ocpp-rpc, strict mode; OCPP 1.6 and 2.0.1 mixed). The image is
// uploaded through POST /api/v1/firmware; each station, when sent
// UpdateFirmware, really downloads the image from the URL it is given,
// checks its SHA-256, reports Downloading/Downloaded/Installing/Installed
// and comes back with a BootNotification carrying the new version. The
// canary group goes first; a station charging someone is deferred; the
// server is killed mid-campaign and carries on after the restart; three
// stations fail to install and the campaign pauses itself at the failure
// threshold; a retried station and a resume complete it; force sends an
// update to a station with a running session. Also: validation, roles,
// audit, the station list, campaign events on the stream.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { chromium } = require('playwright-core');
const { Server, BIN, waitFor, sleep } = require('./lib/harness');
const { tokenCreate, openEvents } = require('./lib/helpers');

const CONFIG = '[http]\nrate_limit = 0\n[workorders]\nauto_create = campaign_paused\n';
const OLD = '1.0.0';
const NEW = '2.0.0';
const IDS = Array.from({ length: 10 }, (_, i) => `FW-${String(i).padStart(2, '0')}`);
const FAILING = new Set(['FW-07', 'FW-08', 'FW-09']);
const now = () => new Date().toISOString();
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const OUT = path.join(process.env.AMPGRID_TEST_OUT || path.join(path.dirname(path.resolve(BIN)), 'tests', 'output'), 'dashboard');

// A simulated station: answers UpdateFirmware, downloads and checks the
// image, reports its progress, "reboots" into the new version.
class FwStation {
  constructor(server, id, proto, sha) {
    this.server = server;
    this.id = id;
    this.proto = proto;
    this.sha = sha;
    this.version = OLD;
    this.fail = FAILING.has(id);
    this.updates = []; // every UpdateFirmware payload received
    this.statuses = [];
    this.downloads = 0;
  }

  async connect() {
    this.cli = this.server.station(this.id, { protocols: [this.proto] });
    this.cli.handle('UpdateFirmware', ({ params }) => {
      this.updates.push(params);
      setTimeout(() => this.install(params).catch((e) => { this.error = e; }), 20);
      return this.proto === 'ocpp1.6' ? {} : { status: 'Accepted' };
    });
    await this.cli.connect();
    const r = this.proto === 'ocpp1.6'
      ? await this.cli.call('BootNotification', { chargePointVendor: 'ampgrid-test', chargePointModel: 'fw-model', firmwareVersion: this.version })
      : await this.cli.call('BootNotification', { reason: this.rebooted ? 'FirmwareUpdate' : 'PowerUp', chargingStation: { vendorName: 'ampgrid-test', model: 'fw-model', firmwareVersion: this.version } });
    assert.strictEqual(r.status, 'Accepted');
  }

  async status(status, requestId) {
    this.statuses.push(status);
    const p = this.proto === 'ocpp1.6' ? { status } : { status, requestId };
    await this.cli.call('FirmwareStatusNotification', p);
  }

  async install(params) {
    const url = this.proto === 'ocpp1.6' ? params.location : params.firmware.location;
    const rq = params.requestId;
    if (this.stale) {
      // a late report of some other request: 2.0.1 notifications are matched by requestId
      await this.cli.call('FirmwareStatusNotification', { status: 'DownloadFailed', requestId: rq + 1000 });
      this.stale = false;
    }
    await this.status('Downloading', rq);
    const res = await fetch(url);
    const body = Buffer.from(await res.arrayBuffer());
    this.downloads++;
    const sha = crypto.createHash('sha256').update(body).digest('hex');
    if (res.status !== 200 || sha !== this.sha) {
      this.badDownload = `${res.status} ${sha}`;
      await this.status('DownloadFailed', rq);
      return;
    }
    await this.status('Downloaded', rq);
    await this.status('Installing', rq);
    if (this.fail) {
      await this.status('InstallationFailed', rq);
      return;
    }
    await this.status('Installed', rq);
    // reboot into the new image
    await this.cli.close({ force: true });
    this.version = NEW;
    this.rebooted = true;
    await this.connect();
  }

  async close() {
    if (this.cli) await this.cli.close({ force: true }).catch(() => {});
  }
}

async function campaign(s, id) {
  const r = await s.api('GET', `/api/v1/firmware-campaigns/${id}`);
  assert.strictEqual(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

test('firmware campaign: canary, batches, deferral, restart, threshold pause, retry, resume, force', async (t) => {
  let s = await new Server({ config: CONFIG }).start();
  const stations = new Map();
  t.after(async () => {
    for (const st of stations.values()) await st.close();
    await s.stop();
    s.cleanup();
  });

  // the image, uploaded through the repository
  const image = crypto.randomBytes(200 * 1024);
  const sha = crypto.createHash('sha256').update(image).digest('hex');
  const up = await fetch(`${s.httpUrl}/api/v1/firmware?version=${NEW}&vendor=ampgrid-test&models=fw-model&filename=fw-2.0.0.bin`,
    { method: 'POST', body: image, headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/octet-stream' } });
  const upBody = await up.json();
  assert.strictEqual(up.status, 201, JSON.stringify(upBody));
  assert.strictEqual(upBody.sha256, sha);
  const imageId = upBody.id;

  await s.createIdToken('FWTAG');
  for (const [i, id] of IDS.entries()) {
    await s.createStation(id, { security_profile: 1, labels: { ring: i < 10 ? 'fw' : 'x' } });
    const st = new FwStation(s, id, i % 2 === 0 ? 'ocpp1.6' : 'ocpp2.0.1', sha);
    await st.connect();
    stations.set(id, st);
  }
  stations.get('FW-01').stale = true;
  // FW-04 (1.6) is charging someone
  const fw04 = stations.get('FW-04');
  const tx = await fw04.cli.call('StartTransaction', { connectorId: 1, idTag: 'FWTAG', meterStart: 0, timestamp: now() });
  assert.strictEqual(tx.idTagInfo.status, 'Accepted');

  // validation: nothing is created
  let r = await s.api('POST', '/api/v1/firmware-campaigns', { name: 'x', image_id: imageId, target: { models: ['fw-model'] }, settings: { window: '25:00-01:00' } });
  assert.strictEqual(r.status, 400);
  assert.match(r.headers.get('content-type'), /problem\+json/);
  assert.match(r.body.detail, /window/);
  r = await s.api('POST', '/api/v1/firmware-campaigns', { name: 'x', image_id: 999999, target: { models: ['fw-model'] } });
  assert.strictEqual(r.status, 400);
  r = await s.api('POST', '/api/v1/firmware-campaigns', { name: 'x', image_id: imageId, target: {} });
  assert.strictEqual(r.status, 400);
  r = await s.api('GET', '/api/v1/firmware-campaigns');
  assert.strictEqual(r.body.items.length, 0);

  // a draft, changed while a draft
  r = await s.api('POST', '/api/v1/firmware-campaigns', {
    name: 'fleet 2.0.0', image_id: imageId, target: { models: ['fw-model'], firmware_versions: [OLD] },
    settings: { canary: 2, batch_size: 4, max_concurrent: 2 },
  });
  assert.strictEqual(r.status, 201, JSON.stringify(r.body));
  const cid = r.body.id;
  assert.strictEqual(r.body.state, 'draft');
  r = await s.api('PATCH', `/api/v1/firmware-campaigns/${cid}`, {
    settings: { max_concurrent: 4, failure_threshold: 20, min_attempts: 5, download_timeout: 120, install_timeout: 120 },
  });
  assert.strictEqual(r.status, 200, JSON.stringify(r.body));
  assert.strictEqual(r.body.settings.max_concurrent, 4);
  assert.strictEqual(r.body.settings.canary, 2, 'a PATCH keeps the settings it does not name');

  // roles: a viewer reads, but may not start
  const viewer = tokenCreate(s.dataDir, 'viewer', 'fw-viewer');
  r = await s.api('GET', `/api/v1/firmware-campaigns/${cid}`, undefined, { token: viewer });
  assert.strictEqual(r.status, 200);
  r = await s.api('POST', `/api/v1/firmware-campaigns/${cid}/start`, undefined, { token: viewer });
  assert.strictEqual(r.status, 403);

  const ev = await openEvents(s, 'types=campaign.');
  t.after(() => ev.close());
  r = await s.api('POST', `/api/v1/firmware-campaigns/${cid}/start`);
  assert.strictEqual(r.status, 200, JSON.stringify(r.body));
  assert.strictEqual(r.body.state, 'running');
  assert.strictEqual(r.body.stations_total, 10);
  r = await s.api('POST', `/api/v1/firmware-campaigns/${cid}/start`);
  assert.strictEqual(r.status, 409);
  r = await s.api('PATCH', `/api/v1/firmware-campaigns/${cid}`, { name: 'too late' });
  assert.strictEqual(r.status, 409);

  // the canary group (FW-00, FW-01) goes alone, and succeeds
  await waitFor(async () => (await campaign(s, cid)).progress.succeeded === 2, { timeout: 20000, what: 'canary to succeed' });
  for (const id of ['FW-00', 'FW-01']) {
    const st = stations.get(id);
    assert.strictEqual(st.downloads, 1);
    assert.strictEqual(st.version, NEW);
    assert.deepStrictEqual(st.statuses, ['Downloading', 'Downloaded', 'Installing', 'Installed']);
  }
  assert.ok('requestId' in stations.get('FW-01').updates[0], '2.0.1 UpdateFirmware has a requestId');
  assert.ok(stations.get('FW-00').updates[0].retrieveDate, '1.6 UpdateFirmware has a retrieveDate');

  // batch 1 (FW-02..FW-05): FW-04 is charging, so it is deferred and the batch waits for it
  await waitFor(async () => (await campaign(s, cid)).progress.succeeded === 5, { timeout: 20000, what: 'batch 1 without FW-04' });
  await sleep(1500);
  let c = await campaign(s, cid);
  assert.strictEqual(c.progress.succeeded, 5);
  assert.strictEqual(c.progress.pending, 5, 'FW-04 deferred and batch 2 not opened');
  assert.strictEqual(fw04.updates.length, 0, 'no UpdateFirmware during a running session');
  for (const id of ['FW-06', 'FW-07', 'FW-08', 'FW-09']) assert.strictEqual(stations.get(id).updates.length, 0);

  // kill -9 mid-campaign; a new process carries on from the store
  await s.kill9();
  for (const st of stations.values()) await st.close();
  s = await new Server(s.restartOptions()).start();
  for (const st of stations.values()) { st.server = s; await st.connect(); }
  c = await campaign(s, cid);
  assert.strictEqual(c.state, 'running');
  assert.strictEqual(c.progress.succeeded, 5);
  const ev2 = await openEvents(s, 'types=campaign.');
  t.after(() => ev2.close());

  // the session ends: FW-04 goes, then batch 2, where three stations fail
  const stop = await fw04.cli.call('StopTransaction', { transactionId: tx.transactionId, meterStop: 1000, timestamp: now() });
  assert.ok(stop);
  await waitFor(async () => {
    c = await campaign(s, cid);
    return c.state === 'paused' && (c.progress.failed || 0) === 3 && (c.progress.succeeded || 0) === 7;
  }, { timeout: 30000, what: 'the campaign to pause with 3 failures' });
  assert.match(c.paused_reason, /failure threshold/);
  assert.strictEqual(fw04.version, NEW);
  for (const id of FAILING) {
    assert.strictEqual(stations.get(id).downloads, 1, `${id} downloaded the image`);
    assert.strictEqual(stations.get(id).badDownload, undefined);
  }
  await waitFor(() => ev2.events.some((e) => e.type === 'campaign.paused' && e.data.id === cid), { what: 'campaign.paused event' });
  assert.ok(ev2.events.some((e) => e.type === 'campaign.station' && e.data.station_id === 'FW-07' && e.data.state === 'failed' && e.data.error === 'InstallationFailed'));
  // the pause raised one campaign_paused alert, about the campaign and no station
  const pausedAlert = await waitFor(async () => {
    const x = await s.api('GET', '/api/v1/alerts?rule=campaign_paused&state=open');
    assert.strictEqual(x.status, 200, JSON.stringify(x.body));
    return x.body.items.length === 1 && x.body.items[0];
  }, { what: 'a campaign_paused alert' });
  assert.strictEqual(pausedAlert.station_id, null);
  assert.strictEqual(pausedAlert.details.campaign_id, cid);
  assert.strictEqual(pausedAlert.details.reason, c.paused_reason);
  assert.ok(c.paused_reason.startsWith(`failure threshold passed: ${pausedAlert.details.failures} of ${pausedAlert.details.attempts} `), c.paused_reason);
  assert.match(pausedAlert.title, /fleet 2\.0\.0/);
  // [workorders] auto_create = campaign_paused: a ticket for it, about no station
  const ticket = await waitFor(async () => {
    const x = await s.api('GET', '/api/v1/work-orders?limit=100');
    assert.strictEqual(x.status, 200, JSON.stringify(x.body));
    return x.body.items.find((w) => w.alert_id === pausedAlert.id);
  }, { what: 'a work order for the campaign_paused alert' });
  assert.strictEqual(ticket.station_id, null);
  assert.strictEqual(ticket.source, `alert:${pausedAlert.id}`);
  assert.strictEqual(ticket.title, pausedAlert.title);

  // the station list, filtered and paged
  r = await s.api('GET', `/api/v1/firmware-campaigns/${cid}/stations?state=failed`);
  assert.strictEqual(r.status, 200, JSON.stringify(r.body));
  assert.deepStrictEqual(r.body.items.map((x) => x.station_id), ['FW-07', 'FW-08', 'FW-09']);
  assert.strictEqual(r.body.items[0].attempts, 1);
  r = await s.api('GET', `/api/v1/firmware-campaigns/${cid}/stations?limit=4`);
  assert.strictEqual(r.body.items.length, 4);
  assert.ok(r.body.next_cursor);
  const r2 = await s.api('GET', `/api/v1/firmware-campaigns/${cid}/stations?limit=10&cursor=${encodeURIComponent(r.body.next_cursor)}`);
  assert.strictEqual(r2.body.items[0].station_id, 'FW-04');
  assert.strictEqual(r2.body.items.length, 6);

  // retry one (fixed) station, then resume: it succeeds and the campaign completes
  stations.get('FW-07').fail = false;
  r = await s.api('POST', `/api/v1/firmware-campaigns/${cid}/stations/FW-00/retry`);
  assert.strictEqual(r.status, 409, 'only a failed station can be retried');
  r = await s.api('POST', `/api/v1/firmware-campaigns/${cid}/stations/FW-07/retry`);
  assert.strictEqual(r.status, 200, JSON.stringify(r.body));
  assert.strictEqual(r.body.progress.pending, 1);
  await sleep(1500);
  assert.strictEqual(stations.get('FW-07').updates.length, 1, 'nothing starts while paused');
  r = await s.api('POST', `/api/v1/firmware-campaigns/${cid}/resume`);
  assert.strictEqual(r.status, 200);
  await waitFor(async () => (await campaign(s, cid)).state === 'completed', { timeout: 20000, what: 'the campaign to complete' });
  r = await s.api('GET', `/api/v1/alerts/${pausedAlert.id}`);
  assert.strictEqual(r.body.state, 'resolved', 'resuming resolved the campaign_paused alert');
  assert.strictEqual(r.body.resolved_by, 'auto');
  await waitFor(async () => (await s.api('GET', `/api/v1/work-orders/${ticket.id}`)).body.notes.some((n) => /resolved itself/.test(n.text)),
    { what: 'the ticket told the alert resolved' });
  c = await campaign(s, cid);
  assert.strictEqual(c.progress.succeeded, 8);
  assert.strictEqual(c.progress.failed, 2);
  assert.strictEqual(stations.get('FW-07').version, NEW);
  r = await s.api('POST', `/api/v1/firmware-campaigns/${cid}/pause`);
  assert.strictEqual(r.status, 409);

  // force: a station with a running session gets its update anyway
  const fw05 = stations.get('FW-05');
  const tx2 = await fw05.cli.call('TransactionEvent', {
    eventType: 'Started', timestamp: now(), triggerReason: 'Authorized', seqNo: 0,
    transactionInfo: { transactionId: 'fw-tx-1' }, evse: { id: 1, connectorId: 1 }, idToken: { idToken: 'FWTAG', type: 'Central' },
  });
  assert.ok(tx2);
  r = await s.api('POST', '/api/v1/firmware-campaigns', { name: 'not forced', image_id: imageId, target: { station_ids: ['FW-05'] }, settings: { retries: 0 } });
  const notForced = r.body.id;
  r = await s.api('POST', `/api/v1/firmware-campaigns/${notForced}/start`);
  assert.strictEqual(r.status, 200);
  await sleep(1500);
  assert.strictEqual(fw05.updates.length, 1, 'deferred while charging');
  r = await s.api('POST', `/api/v1/firmware-campaigns/${notForced}/cancel`);
  assert.strictEqual(r.status, 200);
  assert.strictEqual(r.body.state, 'cancelled');
  assert.strictEqual(r.body.progress.cancelled, 1);
  r = await s.api('POST', '/api/v1/firmware-campaigns', { name: 'forced', image_id: imageId, target: { station_ids: ['FW-05'] }, settings: { force: true } });
  const forced = r.body.id;
  r = await s.api('POST', `/api/v1/firmware-campaigns/${forced}/start`);
  assert.strictEqual(r.status, 200);
  await waitFor(async () => (await campaign(s, forced)).state === 'completed', { timeout: 20000, what: 'the forced campaign' });
  assert.strictEqual(fw05.updates.length, 2);

  // the list, with progress; the audit log
  r = await s.api('GET', '/api/v1/firmware-campaigns?state=completed');
  assert.deepStrictEqual(r.body.items.map((x) => x.id).sort(), [cid, forced].sort());
  assert.strictEqual(r.body.items.find((x) => x.id === cid).progress.succeeded, 8);
  r = await s.api('GET', '/api/v1/audit-log?limit=100');
  const actions = r.body.items.map((x) => x.action);
  for (const a of ['firmware_campaign.create', 'firmware_campaign.update', 'firmware_campaign.start',
    'firmware_campaign.retry_station', 'firmware_campaign.resume', 'firmware_campaign.cancel'])
    assert.ok(actions.includes(a), `audit has ${a}`);
  for (const st of stations.values()) assert.strictEqual(st.error, undefined, `${st.id}: ${st.error}`);
  // the dashboard: the list with progress, a campaign started from its page and followed live
  const made = spawnSync(BIN, ['user', 'create', '--data-dir', s.dataDir, '--username', 'fw-ops', '--role', 'operator'],
    { input: 'a-dashboard-password-1\n', encoding: 'utf8', timeout: 30000 });
  assert.strictEqual(made.status, 0, made.stderr);
  r = await s.api('POST', '/api/v1/firmware-campaigns', { name: 'from the dashboard', image_id: imageId, target: { station_ids: ['FW-03'] } });
  const dash = r.body.id;
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
    await page.getByLabel('Username').fill('fw-ops');
    await page.getByLabel('Password').fill('a-dashboard-password-1');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.locator('.live.open').waitFor();
    // the resolved campaign_paused alert links its campaign
    await page.goto(`${s.httpUrl}/#/alerts?state=resolved&rule=campaign_paused`);
    await page.locator(`tr[data-alert="${pausedAlert.id}"] a[href="#/campaigns/${cid}"]`).waitFor();
    await page.locator('#nav a[href="#/campaigns"]').click();
    const row = page.locator('tr', { hasText: 'fleet 2.0.0' });
    await row.locator('progress').waitFor();
    assert.match(await row.innerText(), /8 ok · 2 failed/);
    fs.mkdirSync(OUT, { recursive: true });
    await page.screenshot({ path: path.join(OUT, 'campaigns.png'), fullPage: true });
    await page.locator(`a[href="#/campaigns/${dash}"]`).click();
    await page.getByRole('button', { name: 'Start' }).click();
    // no reload: the station's row follows the campaign.station events
    await page.locator('tr', { hasText: 'FW-03' }).locator('.badge', { hasText: 'succeeded' }).waitFor({ timeout: 20000 });
    await page.locator('.badge', { hasText: 'completed' }).waitFor();
    await page.screenshot({ path: path.join(OUT, 'campaign.png'), fullPage: true });
    assert.deepStrictEqual(problems, []);
  } finally {
    await browser.close();
  }
  // a webhook may subscribe to campaign.updated
  r = await s.api('POST', '/api/v1/webhooks', { url: 'http://127.0.0.1:9/x', event_types: ['campaign.updated'] });
  assert.strictEqual(r.status, 201, JSON.stringify(r.body));
  for (const st of stations.values()) await st.close();
  const exit = await s.stop();
  assert.strictEqual(exit.code, 0, s.stderr.slice(-4000));
});
