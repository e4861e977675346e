// The dashboard in a real browser (Debian's chromium driven by playwright-core)
// against the real server and real OCPP stations (ocpp-rpc, strict mode):
// signing in, a station appearing Available live, a session started from the
// dashboard with its power chart, a remote stop clicked in the dashboard, and
// a station whose strings carry markup shown as text. Every page is loaded at
// desktop and phone size with no console or page errors, no sideways scroll
// on the phone, and a screenshot under $AMPGRID_TEST_OUT/dashboard/.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { chromium } = require('playwright-core');
const { Server, BIN, waitFor } = require('./lib/harness');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const OUT = path.join(process.env.AMPGRID_TEST_OUT || path.join(path.dirname(path.resolve(BIN)), 'tests', 'output'), 'dashboard');
const USER = 'ops-admin';
const PASSWORD = 'a-dashboard-password-1';
const STATION = 'CP-DASH-1';
const HOSTILE = 'CP-DASH-XSS';
const MARKUP = '<img src=x onerror=alert(1)>';
const TAG = 'TAG-DASH-1';
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };
const iso = () => new Date().toISOString();

// Errors the page reports: console errors, uncaught exceptions, dialogs
// (alert() from injected script would be one).
function watch(page) {
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('dialog', (d) => {
    problems.push(`dialog: ${d.type()} ${d.message()}`);
    d.dismiss().catch(() => {});
  });
  return problems;
}

async function noHorizontalOverflow(page) {
  const { scroll, client } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth,
  }));
  assert.ok(scroll <= client, `the page scrolls sideways: ${scroll} > ${client} px`);
}

async function shot(page, name) {
  fs.mkdirSync(OUT, { recursive: true });
  await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: true });
}

// A 1.6 station that answers remote start/stop like a real one: accept, then
// start (or stop) the transaction and report status and meter values.
function chargingStation(server) {
  const cp = server.station(STATION);
  cp.tx = null;
  cp.handle('RemoteStartTransaction', ({ params }) => {
    setTimeout(async () => {
      await cp.call('StatusNotification', { connectorId: params.connectorId, errorCode: 'NoError', status: 'Preparing' });
      const auth = await cp.call('Authorize', { idTag: params.idTag });
      if (auth.idTagInfo.status !== 'Accepted') return;
      const r = await cp.call('StartTransaction', { connectorId: params.connectorId, idTag: params.idTag, meterStart: 1000, timestamp: iso() });
      cp.tx = r.transactionId;
      await cp.call('StatusNotification', { connectorId: params.connectorId, errorCode: 'NoError', status: 'Charging' });
      await cp.call('MeterValues', {
        connectorId: params.connectorId, transactionId: cp.tx,
        meterValue: [{ timestamp: iso(), sampledValue: [
          { value: '7400', measurand: 'Power.Active.Import', unit: 'W' },
          { value: '1500', measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] }],
      });
    }, 50);
    return { status: 'Accepted' };
  });
  cp.handle('RemoteStopTransaction', ({ params }) => {
    setTimeout(async () => {
      await cp.call('StopTransaction', { transactionId: params.transactionId, meterStop: 2600, timestamp: iso(), reason: 'Remote' });
      await cp.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available' });
    }, 50);
    return { status: 'Accepted' };
  });
  cp.handle('GetConfiguration', () => ({ configurationKey: [{ key: 'HeartbeatInterval', readonly: false, value: '300' }] }));
  cp.handle('TriggerMessage', () => ({ status: 'Accepted' }));
  return cp;
}

test('the dashboard', { timeout: 240000 }, async (t) => {
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: run scripts/install-deps.sh --test (Debian package chromium)`);
  const server = await new Server().start();
  let browser, cp, bad;
  t.after(async () => {
    if (cp) await cp.close({ force: true }).catch(() => {});
    if (bad) await bad.close({ force: true }).catch(() => {});
    if (browser) await browser.close().catch(() => {});
    await server.stop();
    server.cleanup();
  });

  // The sign-in user, made the way an operator would: `ampgrid user create`.
  const made = spawnSync(BIN, ['user', 'create', '--data-dir', server.dataDir, '--username', USER, '--role', 'admin'],
    { input: `${PASSWORD}\n`, encoding: 'utf8', timeout: 30000 });
  assert.strictEqual(made.status, 0, `ampgrid user create failed: ${made.stderr}`);
  await server.createStation(STATION);
  await server.createStation(HOSTILE, { password: undefined, security_profile: 0 });
  await server.createIdToken(TAG);

  browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
  });
  const context = await browser.newContext({ viewport: DESKTOP });
  context.setDefaultTimeout(10000);
  const page = await context.newPage();
  const problems = watch(page);
  const clean = (where) => assert.deepStrictEqual(problems.splice(0), [], `errors on ${where}`);

  await t.test('the server sends the dashboard with a strict Content-Security-Policy', async () => {
    const r = await fetch(`${server.httpUrl}/`);
    assert.strictEqual(r.status, 200);
    assert.match(r.headers.get('content-type'), /^text\/html/);
    assert.match(r.headers.get('content-security-policy'), /script-src 'self';/);
    assert.strictEqual(r.headers.get('x-content-type-options'), 'nosniff');
    const again = await fetch(`${server.httpUrl}/`, { headers: { 'if-none-match': r.headers.get('etag') } });
    assert.strictEqual(again.status, 304);
    assert.strictEqual((await fetch(`${server.httpUrl}/no-such-file`)).status, 404);
    assert.strictEqual((await fetch(`${server.httpUrl}/`, { method: 'POST' })).status, 405);
    const head = await fetch(`${server.httpUrl}/app/main.js`, { method: 'HEAD' });
    assert.strictEqual(head.status, 200);
    assert.match(head.headers.get('content-type'), /^text\/javascript/);
    assert.strictEqual(head.headers.get('cache-control'), 'no-cache');
    const html = await r.text();
    const css = html.match(/href="(\/vendor\/[^"]+\.css)"/)[1];
    const vendor = await fetch(server.httpUrl + css);
    assert.strictEqual(vendor.status, 200);
    assert.match(vendor.headers.get('cache-control'), /max-age=31536000/);
    assert.doesNotMatch(html, /<script>|<script [^>]*>[^<]/, 'no inline script');
  });

  await t.test('an operator signs in with a username and password', async () => {
    await page.goto(server.httpUrl + '/');
    await page.getByLabel('Username').fill(USER);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.locator('.live.open').waitFor({ timeout: 5000 });
    await page.locator(`[data-station="${STATION}"]`).waitFor();
    clean('sign-in');
  });

  await t.test('a station that connects appears Available within a second of its StatusNotification', async () => {
    cp = chargingStation(server);
    await cp.connect();
    await cp.call('BootNotification', { chargePointVendor: 'ampgrid-test', chargePointModel: 'dash' });
    await page.locator(`[data-station="${STATION}"] .badge.ok`, { hasText: 'Online' }).waitFor({ timeout: 2000 });
    await cp.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available' });
    const t0 = Date.now();
    await page.locator(`[data-station="${STATION}"] [data-connector="1/1"]`, { hasText: 'Available' }).waitFor({ timeout: 1000 });
    assert.ok(Date.now() - t0 <= 1000);
    await shot(page, 'overview');
    clean('the overview');
  });

  let sessionId;
  await t.test('a session started from the dashboard shows its power in the live chart', async () => {
    await page.locator(`a[href="#/stations/${STATION}"]`).click();
    await page.getByRole('heading', { name: STATION, level: 1 }).waitFor();
    await page.getByLabel('Id token').fill(TAG);
    await page.getByRole('button', { name: 'Start charging' }).click();
    await page.locator('.cmd-result .result.ok', { hasText: 'Accepted' }).waitFor({ timeout: 5000 });
    const chart = page.locator('[data-testid="live-chart"][data-power="7400"]');
    await chart.waitFor({ timeout: 5000 });
    assert.match(await chart.locator('figcaption').textContent(), /power 7\.40 kW, energy 500 Wh/);
    // uPlot is made in an effect, which preact runs after the paint that set data-power
    await chart.locator('canvas').first().waitFor({ timeout: 5000 });
    assert.strictEqual(await chart.locator('canvas').count(), 1, 'uPlot draws the chart');
    await page.locator('[data-connector="1/1"]', { hasText: 'Charging' }).waitFor();
    const s = await server.api('GET', `/api/v1/sessions?station=${STATION}&active=true`);
    sessionId = s.body.items[0].id;
    await shot(page, 'station-charging');
    clean('the station page');
  });

  await t.test('a remote stop clicked in the dashboard ends the session', async () => {
    await page.getByRole('button', { name: `Stop session ${sessionId}` }).click();
    await page.locator('.result.ok', { hasText: 'Accepted' }).first().waitFor();
    await page.locator('[data-connector="1/1"]', { hasText: 'Available' }).waitFor({ timeout: 5000 });
    await page.getByText('No session is running.').first().waitFor({ timeout: 5000 });
    const s = await server.api('GET', `/api/v1/sessions/${sessionId}`);
    assert.strictEqual(s.body.active, false);
    assert.strictEqual(s.body.stop_reason, 'Remote');
    clean('the remote stop');
  });

  await t.test('the station page shows configuration, status history and the event log', async () => {
    await page.getByRole('button', { name: 'Get configuration from the station' }).click();
    await page.getByRole('cell', { name: 'HeartbeatInterval', exact: true }).waitFor();
    await page.getByRole('region', { name: 'Status history' }).getByText('Charging').first().waitFor();
    await page.getByRole('region', { name: 'Event log' }).getByText('RemoteStopTransaction').first().waitFor();
    await shot(page, 'station');
    clean('the station page');
  });

  await t.test('a station whose vendor string is markup shows it as text and runs no script', async () => {
    bad = server.station(HOSTILE, { protocols: ['ocpp2.0.1'], password: undefined });
    await bad.connect();
    await bad.call('BootNotification', { reason: 'PowerUp', chargingStation: { model: '<b>bold</b>', vendorName: MARKUP } });
    await bad.call('StatusNotification', { timestamp: iso(), connectorStatus: 'Available', evseId: 1, connectorId: 1 });
    await bad.call('DataTransfer', { vendorId: 'x', data: '<script>alert(2)</script>' }).catch(() => {});
    await page.goto(server.httpUrl + '/#/');
    const card = page.locator(`[data-station="${HOSTILE}"]`);
    await card.getByText(MARKUP, { exact: false }).waitFor({ timeout: 5000 });
    assert.strictEqual(await card.locator('img, b').count(), 0, 'markup from the station became elements');
    await page.goto(`${server.httpUrl}/#/stations/${HOSTILE}`);
    const vendor = page.locator('[data-testid="boot-info"] dd[data-field="Vendor"]');
    await vendor.waitFor();
    assert.strictEqual(await vendor.textContent(), MARKUP);
    await page.getByRole('region', { name: 'Event log' }).getByText('<script>alert(2)</script>', { exact: false }).waitFor();
    assert.strictEqual(await page.locator('main img, main script').count(), 0);
    await shot(page, 'station-hostile');
    clean('the hostile station'); /* includes: no alert() dialog */
  });

  await t.test('the sessions table and the overview sort through the API, with accessible headers', async () => {
    const ids = [];
    for (const wh of [500, 5000]) {
      const r = await cp.call('StartTransaction', { connectorId: 2, idTag: TAG, meterStart: 0, timestamp: iso() });
      await cp.call('StopTransaction', { transactionId: r.transactionId, meterStop: wh, timestamp: iso(), reason: 'Local' });
      ids.push(r.transactionId);
    }
    await page.goto(`${server.httpUrl}/#/sessions?station=${STATION}`);
    await page.getByRole('link', { name: `#${ids[1]}` }).waitFor();
    const rows = () => page.locator('tr[data-session]').evaluateAll((trs) => trs.map((tr) => Number(tr.dataset.session)));
    const apiOrder = async (sort) => (await server.api('GET', `/api/v1/sessions?station=${STATION}&sort=${sort}`)).body.items.map((x) => x.id);
    const th = (name) => page.locator('th', { has: page.getByRole('button', { name }) });
    assert.strictEqual(await th('Session').getAttribute('aria-sort'), 'descending', 'newest first by default');
    assert.strictEqual(await th('Energy').getAttribute('aria-sort'), 'none');
    assert.strictEqual(await page.locator('th:has-text("Id token") button').count(), 0, 'only sortable columns have a button');
    // the first click on Energy sorts the largest first, the second the smallest
    await page.getByRole('button', { name: /^Energy/ }).click();
    await page.locator('th[aria-sort="descending"]', { hasText: 'Energy' }).waitFor();
    await waitFor(async () => (await rows())[0] === ids[1], { what: 'the 5 kWh session first' });
    assert.deepStrictEqual(await rows(), await apiOrder('-energy_wh'));
    assert.match(page.url(), /sort=-energy_wh/, 'the sort is in the URL');
    assert.strictEqual(await th('Session').getAttribute('aria-sort'), 'none');
    await page.getByRole('button', { name: /^Energy/ }).click();
    await page.locator('th[aria-sort="ascending"]', { hasText: 'Energy' }).waitFor();
    await waitFor(async () => (await rows())[0] === ids[0], { what: 'the 500 Wh session first' });
    assert.deepStrictEqual(await rows(), await apiOrder('energy_wh'));
    // by keyboard too: the header button takes focus and Enter
    await page.getByRole('button', { name: /^Station/ }).focus();
    await page.keyboard.press('Enter');
    await page.locator('th[aria-sort="ascending"]', { hasText: 'Station' }).waitFor();
    const byStation = await apiOrder('station_id');
    await waitFor(async () => JSON.stringify(await rows()) === JSON.stringify(byStation), { what: `sessions in the order ${byStation}` });
    await shot(page, 'sessions-sorted');
    // the overview: station cards in the order the API gives for the chosen sort
    await page.goto(`${server.httpUrl}/#/`);
    await page.locator(`[data-station="${STATION}"]`).waitFor();
    await page.getByLabel('Sort stations').selectOption('-connected');
    const want = (await server.api('GET', '/api/v1/stations?sort=-connected')).body.items.map((x) => x.id);
    await waitFor(async () => JSON.stringify(await page.locator('li[data-station]').evaluateAll((li) => li.map((x) => x.dataset.station))) === JSON.stringify(want),
      { what: `station cards in the order ${want}` });
    clean('sorting');
  });

  await t.test('sessions, a session with its meter chart, id tokens, users, audit log and analytics load', async () => {
    await page.goto(`${server.httpUrl}/#/sessions?station=${STATION}`);
    await page.getByRole('link', { name: `#${sessionId}` }).waitFor();
    await shot(page, 'sessions');
    await page.getByRole('link', { name: `#${sessionId}` }).click();
    await page.locator('[data-testid="session-chart"][data-samples="1"]').waitFor();
    await shot(page, 'session');

    await page.goto(`${server.httpUrl}/#/id-tokens`);
    await page.getByLabel('Id token', { exact: true }).fill('TAG-NEW-1');
    await page.getByRole('button', { name: 'Add id token' }).click();
    await page.locator('tr[data-token="TAG-NEW-1"]').waitFor();
    await page.getByRole('button', { name: 'Block TAG-NEW-1' }).click();
    await page.locator('tr[data-token="TAG-NEW-1"]', { hasText: 'Blocked' }).waitFor();
    await page.getByRole('button', { name: 'Expire TAG-NEW-1' }).click();
    await page.locator('tr[data-token="TAG-NEW-1"]', { hasText: 'Expired' }).waitFor();
    assert.strictEqual((await server.api('GET', '/api/v1/id-tokens/TAG-NEW-1')).body.status, 'Expired');
    await shot(page, 'id-tokens');

    await page.goto(`${server.httpUrl}/#/users`);
    await page.getByRole('cell', { name: USER, exact: true }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('billing-sync');
    await page.getByRole('button', { name: 'Create API token' }).click();
    const secret = await page.locator('pre.secret').textContent();
    assert.match(secret, /^agt_/);
    assert.strictEqual((await server.api('GET', '/api/v1/stations', undefined, { token: secret })).status, 200);
    await shot(page, 'users');

    await page.goto(`${server.httpUrl}/#/audit`);
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    await page.getByRole('region', { name: 'Audit log' }).waitFor();
    await shot(page, 'audit');

    await page.goto(`${server.httpUrl}/#/analytics`);
    await page.getByRole('heading', { name: 'Analytics' }).waitFor();
    await page.locator('.chart, .note').first().waitFor();
    await shot(page, 'analytics');
    clean('the other pages');
  });

  await t.test('every page fits a phone screen without sideways scrolling', async () => {
    const phone = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
    phone.setDefaultTimeout(10000);
    const p = await phone.newPage();
    const errs = watch(p);
    await p.goto(server.httpUrl + '/');
    await noHorizontalOverflow(p);
    await shot(p, 'phone-login');
    await p.getByLabel('Username').fill(USER);
    await p.getByLabel('Password').fill(PASSWORD);
    await p.getByRole('button', { name: 'Sign in', exact: true }).click();
    await p.getByRole('heading', { name: 'Overview' }).waitFor();
    const pages = [['overview', '#/', `[data-station="${STATION}"]`], ['station', `#/stations/${STATION}`, '[data-testid="boot-info"]'],
      ['sessions', '#/sessions', 'table'], ['session', `#/sessions/${sessionId}`, '[data-testid="session-chart"] canvas'],
      ['id-tokens', '#/id-tokens', 'tr[data-token]'], ['users', '#/users', 'table'], ['audit', '#/audit', 'h1'],
      ['analytics', '#/analytics', 'h1']];
    for (const [name, hash, ready] of pages) {
      await p.goto(`${server.httpUrl}/${hash}`);
      await p.locator(ready).first().waitFor();
      await waitFor(() => p.evaluate(() => !document.querySelector('[aria-live="polite"].muted')), { timeout: 5000, what: `${name} to load` }).catch(() => {});
      await noHorizontalOverflow(p).catch((e) => { throw new Error(`${name}: ${e.message}`); });
      await shot(p, `phone-${name}`);
    }
    await p.getByRole('button', { name: 'Menu' }).click();
    await p.getByRole('link', { name: 'Sessions' }).waitFor();
    assert.deepStrictEqual(errs, [], 'errors on the phone');
    await phone.close();
  });

  await t.test('a user changes their password and signs in with the new one', async () => {
    await page.goto(`${server.httpUrl}/#/`);
    await page.getByRole('link', { name: `${USER} (admin)` }).click();
    await page.getByLabel('Current password').fill(PASSWORD);
    await page.getByLabel('New password (10+ characters)').fill(`${PASSWORD}-new`);
    await page.getByLabel('New password again').fill(`${PASSWORD}-new`);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('Your password has changed').waitFor();
    await page.getByLabel('Username').fill(USER);
    await page.getByLabel('Password').fill(`${PASSWORD}-new`);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    clean('the password change');
  });

  await t.test('signing out returns to the sign-in form', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
    await page.reload();
    await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
    clean('signing out');
  });
});
