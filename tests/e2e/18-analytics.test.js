// Analytics, CSV exports and the public availability endpoint, against
// sessions and status changes placed on a known day in the past (OCPP 1.6
// messages carry their own timestamps), with every expected number worked out
// by hand below: energy per bucket (from meter samples where there are some,
// pro rata where not), utilization fractions, CSV contents with quoting and
// formula neutralisation, what the public endpoint shows and hides, and
// hostile parameters.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { Server } = require('./lib/harness');

// The day everything happens on, and times on it.
const D0 = '2026-01-10';
const at = (hhmm, day = D0) => `${day}T${hhmm}:00.000Z`;
const D1 = '2026-01-11';
const D2 = '2026-01-12';

// A small RFC 4180 parser (quoted cells, doubled quotes, CRLF records).
function parseCsv(text) {
  const rows = [];
  let row = [], cell = '', i = 0, quoted = false;
  while (i < text.length) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { cell += '"'; i += 2; continue; }
      if (ch === '"') { quoted = false; i++; continue; }
      cell += ch; i++; continue;
    }
    if (ch === '"') { quoted = true; i++; continue; }
    if (ch === ',') { row.push(cell); cell = ''; i++; continue; }
    if (ch === '\r' && text[i + 1] === '\n') { row.push(cell); rows.push(row); row = []; cell = ''; i += 2; continue; }
    assert.notStrictEqual(ch, '\n', 'records end with CRLF, not a bare LF');
    cell += ch; i++;
  }
  assert.strictEqual(cell, '', 'the file ends with CRLF');
  assert.strictEqual(row.length, 0);
  return rows;
}

const close = (a, b, what) => assert.ok(Math.abs(a - b) < 1e-9, `${what}: ${a} != ${b}`);

test('analytics, exports and public locations', async (t) => {
  const s = await new Server().start();
  const open = [];
  const get = async (p, opts) => s.api('GET', p, undefined, opts);
  const ok = async (p) => {
    const r = await get(p);
    assert.strictEqual(r.status, 200, `${p}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const bad = async (p, status = 400, re) => {
    const r = await get(p);
    assert.strictEqual(r.status, status, `${p}: expected ${status}, got ${r.status} ${JSON.stringify(r.body)}`);
    assert.match(r.headers.get('content-type'), /application\/problem\+json/);
    assert.ok(r.body.detail && r.body.detail.length > 10, `${p}: a detail a person understands`);
    if (re) assert.match(r.body.detail, re, p);
    return r.body;
  };
  const q = encodeURIComponent;
  try {
    const loc = (name) => ({ name, address: '1 Main St', city: 'Utrecht', postal_code: '3511 AA', country: 'NL', latitude: 52.09, longitude: 5.12 });
    await s.createStation('AN-1', { site: 'North', location: loc('North depot'), description: 'secret description', labels: { owner: 'acme' } });
    await s.createStation('AN-2', { site: 'South', location: loc('Hidden'), labels: { public: 'false' } });
    await s.createStation('=AN3', { site: 'East, "Dock"', location: loc('East') });
    await s.createStation('AN-4', { location: { name: 'Offline' } });
    await s.createStation('AN-5');
    await s.createStation('AN-6', { location: loc('Pending'), registration_status: 'Pending' });
    for (const tag of ['TAG-A1', '@SUM(A1)', 'T,"Q"']) await s.createIdToken(tag);

    const cp1 = await s.bootedStation('AN-1');
    open.push(cp1);
    await cp1.call('BootNotification', {
      chargePointVendor: 'acme', chargePointModel: 'x', chargePointSerialNumber: 'SERIAL-SECRET-1',
      chargeBoxSerialNumber: 'BOX-SECRET-1', iccid: 'ICCID-SECRET-1', imsi: 'IMSI-SECRET-1',
    });
    const cp3 = await s.bootedStation('=AN3');
    open.push(cp3);
    const cp2 = await s.bootedStation('AN-2');
    open.push(cp2);

    // Status history of AN-1 (hand-computed utilization below):
    //   connector 1: Available 09:00, Charging 10:00, Finishing 12:30, Available 13:00
    //   connector 2: (unknown) Charging 10:30, Available 12:30
    const status = (cp, connectorId, st, ts) => cp.call('StatusNotification', { connectorId, errorCode: 'NoError', status: st, timestamp: ts });
    await status(cp1, 1, 'Available', at('09:00'));
    await status(cp1, 1, 'Charging', at('10:00'));
    await status(cp1, 2, 'Charging', at('10:30'));
    await status(cp1, 1, 'Finishing', at('12:30'));
    await status(cp1, 2, 'Available', at('12:30'));
    await status(cp1, 1, 'Available', at('13:00'));

    // Sessions:
    //   S1 AN-1/1 TAG-A1   10:00-12:30, 1000 -> 5500 Wh, register samples 4000 @11:00, 5000 @12:00
    //      hours: 10-11 3000, 11-12 1000, 12-13 500 (from the samples)
    //   S2 AN-1/2 @SUM(A1) 10:30-12:30, 0 -> 2000 Wh, no samples: pro rata 500, 1000, 500
    //   S3 =AN3/1 T,"Q"    23:00-01:00 next day, 0 -> 1200 Wh: 600 on each day
    const s1 = await cp1.call('StartTransaction', { connectorId: 1, idTag: 'TAG-A1', meterStart: 1000, timestamp: at('10:00') });
    const s2 = await cp1.call('StartTransaction', { connectorId: 2, idTag: '@SUM(A1)', meterStart: 0, timestamp: at('10:30') });
    const s3 = await cp3.call('StartTransaction', { connectorId: 1, idTag: 'T,"Q"', meterStart: 0, timestamp: at('23:00') });
    for (const r of [s1, s2, s3]) assert.strictEqual(r.idTagInfo.status, 'Accepted');
    const energy = (value) => ({ value, measurand: 'Energy.Active.Import.Register', unit: 'Wh', context: 'Sample.Periodic' });
    await cp1.call('MeterValues', {
      connectorId: 1, transactionId: s1.transactionId,
      meterValue: [{ timestamp: at('11:00'), sampledValue: [energy('4000'), { value: '=1+2', measurand: 'Voltage', unit: 'V', phase: 'L1-N' }, { value: '-1.5', measurand: 'Current.Import', unit: 'A', phase: 'L1' }] }],
    });
    await cp1.call('MeterValues', { connectorId: 1, transactionId: s1.transactionId, meterValue: [{ timestamp: at('12:00'), sampledValue: [energy('5.0')].map((v) => ({ ...v, unit: 'kWh' })) }] });
    await cp1.call('StopTransaction', { transactionId: s1.transactionId, meterStop: 5500, timestamp: at('12:30'), reason: 'Local' });
    await cp1.call('StopTransaction', { transactionId: s2.transactionId, meterStop: 2000, timestamp: at('12:30'), reason: 'EVDisconnected' });
    await cp3.call('StopTransaction', { transactionId: s3.transactionId, meterStop: 1200, timestamp: at('01:00', D1), reason: 'Remote' });
    // live state for the public endpoint
    await status(cp3, 1, 'Charging', new Date().toISOString());
    await status(cp2, 1, 'Available', new Date().toISOString());

    await t.test('energy per day: samples and pro rata, sessions and average length in the bucket of their start', async () => {
      const r = await ok(`/api/v1/analytics/energy?from=${at('00:00')}&to=${at('00:00', D2)}&bucket=day`);
      assert.strictEqual(r.bucket, 'day');
      assert.strictEqual(r.utc_offset, 'Z');
      assert.strictEqual(r.from, `${D0}T00:00:00Z`);
      assert.ok(/samples/.test(r.energy_method) && /pro rata/.test(r.energy_method), r.energy_method);
      assert.deepStrictEqual(r.series, [
        { start: `${D0}T00:00:00Z`, end: `${D1}T00:00:00Z`, energy_wh: 4500 + 2000 + 600, sessions: 3, completed_sessions: 3, avg_session_s: (9000 + 7200 + 7200) / 3 },
        { start: `${D1}T00:00:00Z`, end: `${D2}T00:00:00Z`, energy_wh: 600, sessions: 0, completed_sessions: 0, avg_session_s: null },
      ]);
      assert.deepStrictEqual(r.totals, { energy_wh: 7700, sessions: 3, completed_sessions: 3, avg_session_s: 7800 });
    });

    await t.test('energy per hour of one station follows the register samples', async () => {
      const r = await ok(`/api/v1/analytics/energy?from=${at('10:00')}&to=${at('13:00')}&bucket=hour&station=AN-1`);
      assert.strictEqual(r.station, 'AN-1');
      assert.deepStrictEqual(r.series.map((b) => [b.start, b.energy_wh, b.sessions, b.avg_session_s]), [
        [`${D0}T10:00:00Z`, 3000 + 500, 2, 8100],
        [`${D0}T11:00:00Z`, 1000 + 1000, 0, null],
        [`${D0}T12:00:00Z`, 500 + 500, 0, null],
      ]);
      assert.strictEqual(r.totals.energy_wh, 6500);
    });

    await t.test('a range that cuts through buckets counts only what lies inside it', async () => {
      // 10:30-11:30: S1 2500->4000 and 4000->4500 (interpolated), S2 500 + 500
      const r = await ok(`/api/v1/analytics/energy?from=${at('10:30')}&to=${at('11:30')}&bucket=hour&station=AN-1`);
      assert.deepStrictEqual(r.series.map((b) => [b.start, b.end, b.energy_wh, b.sessions]), [
        [`${D0}T10:00:00Z`, `${D0}T11:00:00Z`, 1500 + 500, 1],
        [`${D0}T11:00:00Z`, `${D0}T12:00:00Z`, 500 + 500, 0],
      ]);
    });

    await t.test('utc_offset cuts days in local time and writes times with the offset', async () => {
      const r = await ok(`/api/v1/analytics/energy?from=${q(`${D0}T00:00:00+02:00`)}&to=${q(`${D2}T00:00:00+02:00`)}&bucket=day&utc_offset=${q('+02:00')}`);
      assert.strictEqual(r.utc_offset, '+02:00');
      // local day 10 = [09 22:00Z, 10 22:00Z): S1 + S2; S3 (23:00Z = 01:00 local on the 11th)
      assert.deepStrictEqual(r.series.map((b) => [b.start, b.energy_wh, b.sessions]), [
        [`${D0}T00:00:00+02:00`, 6500, 2],
        [`${D1}T00:00:00+02:00`, 1200, 1],
      ]);
      // a '+' that arrived as a space (unencoded) is read as '+'
      const r2 = await ok(`/api/v1/analytics/energy?from=${D0}T00:00:00+02:00&to=${D2}T00:00:00+02:00&bucket=day&utc_offset=+02:00`);
      assert.deepStrictEqual(r2.series, r.series);
    });

    await t.test('site filters by the station\'s site', async () => {
      const r = await ok(`/api/v1/analytics/energy?from=${at('00:00')}&to=${at('00:00', D2)}&bucket=month&site=North`);
      assert.strictEqual(r.totals.energy_wh, 6500);
      assert.strictEqual(r.series.length, 1);
      assert.strictEqual(r.series[0].start, '2026-01-01T00:00:00Z');
      // without a bucket: days, or months when more than 1000 days would be needed
      const long = await ok('/api/v1/analytics/energy?from=2024-01-01T00:00:00Z&to=2026-12-01T00:00:00Z&site=North');
      assert.strictEqual(long.bucket, 'month');
      assert.strictEqual(long.series.length, 35);
      assert.strictEqual(long.series[24].energy_wh, 6500);
      const none = await ok(`/api/v1/analytics/energy?from=${at('00:00')}&to=${at('00:00', D2)}&site=${q("' OR 1=1 --")}`);
      assert.strictEqual(none.totals.energy_wh, 0);
      assert.strictEqual(none.totals.sessions, 0);
    });

    await t.test('utilization per connector from status intervals clipped to the range', async () => {
      const r = await ok(`/api/v1/analytics/utilization?from=${at('08:00')}&to=${at('14:00')}&station=AN-1&group_by=connector`);
      assert.strictEqual(r.group_by, 'connector');
      assert.strictEqual(r.observed_until, `${D0}T14:00:00Z`);
      assert.strictEqual(r.groups.length, 2);
      const [c1, c2] = r.groups;
      assert.deepStrictEqual(c1.group, { station_id: 'AN-1', site: 'North', evse_id: 1, connector_id: 1 });
      assert.strictEqual(c1.connectors, 1);
      // connector 1: unknown 08-09, available 09-10 and 13-14, charging 10-12:30, finishing 12:30-13
      assert.deepStrictEqual(c1.totals, {
        period_s: 21600, charging_s: 9000, occupied_s: 10800, available_s: 7200, reserved_s: 0,
        unavailable_s: 0, faulted_s: 0, unknown_s: 3600, charging_share: 9000 / 21600, occupied_share: 0.5,
      });
      // connector 2: unknown 08-10:30, charging 10:30-12:30, available 12:30-14
      assert.strictEqual(c2.totals.unknown_s, 9000);
      assert.strictEqual(c2.totals.charging_s, 7200);
      assert.strictEqual(c2.totals.available_s, 5400);
      close(c2.totals.charging_share, 1 / 3, 'connector 2 charging share');
      assert.strictEqual(c1.series, undefined, 'no series without bucket');
    });

    await t.test('utilization per station and per hour bucket', async () => {
      const r = await ok(`/api/v1/analytics/utilization?from=${at('08:00')}&to=${at('14:00')}&station=AN-1&group_by=station&bucket=hour`);
      const [g] = r.groups;
      assert.deepStrictEqual(g.group, { station_id: 'AN-1', site: 'North' });
      assert.strictEqual(g.connectors, 2);
      assert.strictEqual(g.totals.period_s, 43200);
      assert.strictEqual(g.totals.charging_s, 16200);
      assert.strictEqual(g.totals.charging_share, 0.375);
      close(g.totals.occupied_share, 18000 / 43200, 'occupied share');
      assert.strictEqual(g.series.length, 6);
      const h10 = g.series[2], h12 = g.series[4];
      assert.strictEqual(h10.start, `${D0}T10:00:00Z`);
      assert.deepStrictEqual([h10.period_s, h10.charging_s, h10.unknown_s], [7200, 3600 + 1800, 1800]);
      // 12:00-13:00: c1 charging 30 min then finishing 30 min; c2 charging 30 min then available
      assert.deepStrictEqual([h12.charging_s, h12.occupied_s, h12.available_s], [3600, 5400, 1800]);
    });

    await t.test('utilization never counts time after now', async () => {
      const future = new Date(Date.now() + 3600e3).toISOString();
      const from = new Date(Date.now() - 3600e3).toISOString();
      const r = await ok(`/api/v1/analytics/utilization?from=${q(from)}&to=${q(future)}&station=AN-1`);
      assert.ok(r.groups[0].totals.period_s <= 2 * 3600 + 5, JSON.stringify(r.groups[0].totals));
      assert.ok(Date.parse(r.observed_until) < Date.parse(future));
    });

    await t.test('sessions by hour of day, in UTC and at an offset', async () => {
      const range = `from=${at('00:00')}&to=${at('00:00', D2)}`;
      const r = await ok(`/api/v1/analytics/sessions-by-hour?${range}`);
      assert.strictEqual(r.hours.length, 24);
      assert.deepStrictEqual(r.hours[10], { hour: 10, energy_wh: 6500, sessions: 2, completed_sessions: 2, avg_session_s: 8100 });
      assert.deepStrictEqual(r.hours[23], { hour: 23, energy_wh: 1200, sessions: 1, completed_sessions: 1, avg_session_s: 7200 });
      assert.strictEqual(r.hours.reduce((n, h) => n + h.sessions, 0), 3);
      const l = await ok(`/api/v1/analytics/sessions-by-hour?${range}&utc_offset=-05:00`);
      assert.strictEqual(l.hours[5].sessions, 2);
      assert.strictEqual(l.hours[18].sessions, 1);
    });

    await t.test('summary per site: energy, sessions, length, stations, connectors, utilization', async () => {
      const r = await ok(`/api/v1/analytics/summary?from=${at('00:00')}&to=${at('00:00', D2)}&group_by=site`);
      const by = Object.fromEntries(r.groups.map((g) => [g.group.site, g]));
      assert.deepStrictEqual(Object.keys(by).sort(), ['East, "Dock"', 'North', 'South', 'null'].sort());
      const n = by.North;
      assert.strictEqual(n.stations, 1);
      assert.strictEqual(n.connectors, 2);
      assert.strictEqual(n.energy_wh, 6500);
      assert.strictEqual(n.sessions, 2);
      assert.strictEqual(n.avg_session_s, 8100);
      // two connectors over two days: 16200 s charging of 345600
      assert.strictEqual(n.charging_share, 16200 / 345600);
      close(n.occupied_share, 18000 / 345600, 'occupied share');
      assert.strictEqual(by['East, "Dock"'].energy_wh, 1200);
      assert.strictEqual(by.null.stations, 3); // AN-4, AN-5, AN-6 have no site
      const net = await ok(`/api/v1/analytics/summary?from=${at('00:00')}&to=${at('00:00', D2)}`);
      assert.strictEqual(net.groups.length, 1);
      assert.deepStrictEqual(net.groups[0].group, {});
      assert.strictEqual(net.groups[0].energy_wh, 7700);
      assert.strictEqual(net.groups[0].stations, 6);
    });

    let csvRows;
    await t.test('sessions CSV: header, rows oldest first, RFC 4180 quoting, formulas neutralised', async () => {
      const r = await get(`/api/v1/exports/sessions.csv?from=${at('00:00')}&to=${at('00:00', D2)}`);
      assert.strictEqual(r.status, 200);
      assert.match(r.headers.get('content-type'), /^text\/csv; charset=utf-8$/);
      assert.match(r.headers.get('content-disposition'), /^attachment; filename="sessions\.csv"$/);
      const text = r.body;
      assert.strictEqual(typeof text, 'string');
      csvRows = parseCsv(text);
      assert.deepStrictEqual(csvRows[0], ['session_id', 'transaction_id', 'station_id', 'site', 'evse_id', 'connector_id', 'id_token',
        'id_token_type', 'auth_status', 'started_at', 'stopped_at', 'duration_s', 'meter_start_wh', 'meter_stop_wh', 'energy_wh', 'stop_reason']);
      assert.strictEqual(csvRows.length, 4);
      const col = (row, name) => row[csvRows[0].indexOf(name)];
      const [, r1, r2, r3] = csvRows;
      assert.deepStrictEqual([col(r1, 'session_id'), col(r1, 'station_id'), col(r1, 'site'), col(r1, 'id_token'), col(r1, 'started_at'),
        col(r1, 'stopped_at'), col(r1, 'duration_s'), col(r1, 'meter_start_wh'), col(r1, 'meter_stop_wh'), col(r1, 'energy_wh'), col(r1, 'stop_reason')],
      [String(s1.transactionId), 'AN-1', 'North', 'TAG-A1', `${D0}T10:00:00Z`, `${D0}T12:30:00Z`, '9000.000', '1000', '5500', '4500', 'Local']);
      assert.strictEqual(col(r2, 'id_token'), "'@SUM(A1)", 'a tag starting with @ is neutralised');
      assert.strictEqual(col(r3, 'station_id'), "'=AN3", 'a station id starting with = is neutralised');
      assert.strictEqual(col(r3, 'id_token'), 'T,"Q"');
      assert.strictEqual(col(r3, 'site'), 'East, "Dock"');
      assert.ok(text.includes(`,"East, ""Dock""",`), 'quotes doubled inside a quoted cell');
      assert.ok(text.includes(',"T,""Q""",'), 'an id token with a comma and quotes is quoted');
      assert.ok(!/(^|,)[=+@]/m.test(text.replace(/"[^"]*"/g, '')), 'no unquoted cell starts with = + or @');
    });

    await t.test('sessions CSV filters by station and site, and an empty export is just the header', async () => {
      const st = parseCsv((await get(`/api/v1/exports/sessions.csv?station=${q('=AN3')}`)).body);
      assert.strictEqual(st.length, 2);
      const r = await get('/api/v1/exports/sessions.csv?site=North');
      assert.match(r.headers.get('content-disposition'), /filename="sessions\.csv"/);
      assert.strictEqual(parseCsv(r.body).length, 3);
      const e = await get(`/api/v1/exports/sessions.csv?from=${at('00:00', '2020-01-01')}&to=${at('00:00', '2020-01-02')}`);
      assert.strictEqual(e.status, 200);
      assert.strictEqual(parseCsv(e.body).length, 1);
      const f = await get('/api/v1/exports/sessions.csv?station=AN-1');
      assert.match(f.headers.get('content-disposition'), /filename="sessions-AN-1\.csv"/);
    });

    await t.test('meter values CSV of a session and of a station', async () => {
      const r = await get(`/api/v1/exports/meter-values.csv?session=${s1.transactionId}`);
      assert.strictEqual(r.status, 200);
      assert.match(r.headers.get('content-disposition'), new RegExp(`filename="meter-values-session-${s1.transactionId}\\.csv"`));
      const rows = parseCsv(r.body);
      assert.deepStrictEqual(rows[0], ['session_id', 'station_id', 'evse_id', 'connector_id', 'timestamp', 'measurand', 'phase', 'location', 'context', 'value', 'unit', 'format']);
      const body = rows.slice(1).map((x) => [x[4], x[5], x[9], x[10]]);
      assert.deepStrictEqual(body, [
        [`${D0}T11:00:00Z`, 'Energy.Active.Import.Register', '4000', 'Wh'],
        [`${D0}T11:00:00Z`, 'Voltage', "'=1+2", 'V'],
        [`${D0}T11:00:00Z`, 'Current.Import', '-1.5', 'A'],
        [`${D0}T12:00:00Z`, 'Energy.Active.Import.Register', '5.0', 'kWh'],
      ]);
      const st = await get(`/api/v1/exports/meter-values.csv?station=AN-1&from=${at('11:30')}&to=${at('13:00')}`);
      assert.strictEqual(parseCsv(st.body).length, 2);
      const none = await get(`/api/v1/exports/meter-values.csv?session=${s2.transactionId}`);
      assert.strictEqual(parseCsv(none.body).length, 1);
    });

    await t.test('an export larger than one chunk (2000 rows) comes out whole, in order, without repeats', async () => {
      // 6 x 450 = 2700 samples outside any session on the next day but one;
      // several share a timestamp, so the order within one is the arrival order
      const expected = [];
      for (let i = 0; i < 6; i++) {
        const sampledValue = [];
        for (let j = 0; j < 450; j++) {
          sampledValue.push({ value: String(i * 1000 + j), measurand: 'Voltage', unit: 'V' });
          expected.push(String(i * 1000 + j));
        }
        await cp1.call('MeterValues', { connectorId: 1, meterValue: [{ timestamp: at(`0${i}:00`, D2), sampledValue }] });
      }
      const r = await get(`/api/v1/exports/meter-values.csv?station=AN-1&from=${at('00:00', D2)}&to=${at('00:00', '2026-01-13')}`);
      assert.strictEqual(r.status, 200);
      const rows = parseCsv(r.body).slice(1);
      assert.strictEqual(rows.length, 2700);
      assert.deepStrictEqual(rows.map((x) => x[9]), expected);
      assert.ok(rows.every((x) => x[0] === ''), 'session_id is empty outside a session');
    });

    await t.test('public locations: no token, CORS, live availability, nothing private, hidden stations', async () => {
      const r = await s.api('GET', '/api/v1/public/locations', undefined, { token: null });
      assert.strictEqual(r.status, 200);
      assert.strictEqual(r.headers.get('access-control-allow-origin'), '*');
      const ids = r.body.locations.map((l) => l.id);
      assert.deepStrictEqual(ids, ['=AN3', 'AN-1', 'AN-4'], 'AN-2 is labelled non-public, AN-5 has no location, AN-6 is Pending');
      const [an3, an1, an4] = r.body.locations;
      assert.deepStrictEqual(Object.keys(an1).sort(), ['address', 'city', 'coordinates', 'country', 'evses', 'id', 'last_updated', 'name',
        'online', 'postal_code', 'site', 'state', 'status'].sort());
      assert.deepStrictEqual(an1.coordinates, { latitude: 52.09, longitude: 5.12 });
      assert.strictEqual(an1.online, true);
      assert.strictEqual(an1.status, 'Available');
      assert.deepStrictEqual(an1.evses.map((e) => [e.uid, e.status, e.connectors.map((c) => c.status)]),
        [['AN-1*1', 'Available', ['Available']], ['AN-1*2', 'Available', ['Available']]]);
      assert.strictEqual(an1.last_updated, `${D0}T13:00:00.000Z`);
      assert.strictEqual(an3.status, 'Charging');
      assert.strictEqual(an3.evses[0].status, 'Charging');
      assert.strictEqual(an4.online, false);
      assert.strictEqual(an4.status, 'Unknown');
      assert.strictEqual(an4.coordinates, null);
      const text = JSON.stringify(r.body);
      for (const secret of ['SERIAL-SECRET', 'BOX-SECRET', 'ICCID-SECRET', 'IMSI-SECRET', 'secret description', 'acme', 'correct-horse',
        'TAG-A1', 'T,\\"Q\\"', 'password', 'id_token', 'session', 'Hidden', 'Pending', 'owner']) {
        assert.ok(!text.includes(secret), `public answer leaks ${secret}: ${text}`);
      }
    });

    await t.test('public locations: a disconnected station shows Unknown, and a relabelled one disappears', async () => {
      await cp3.close();
      open.splice(open.indexOf(cp3), 1);
      const r = await s.api('GET', '/api/v1/public/locations', undefined, { token: null });
      const an3 = r.body.locations.find((l) => l.id === '=AN3');
      assert.strictEqual(an3.online, false);
      assert.deepStrictEqual(an3.evses[0].connectors.map((c) => c.status), ['Unknown']);
      const p = await s.api('PATCH', `/api/v1/stations/${q('=AN3')}`, { labels: { public: 'false' } });
      assert.strictEqual(p.status, 200, JSON.stringify(p.body));
      const r2 = await s.api('GET', '/api/v1/public/locations', undefined, { token: null });
      assert.ok(!r2.body.locations.some((l) => l.id === '=AN3'));
    });

    await t.test('hostile and wrong parameters are 400 (or 404) with a message a person understands', async () => {
      const E = '/api/v1/analytics/energy';
      await bad(`${E}?from=yesterday`, 400, /from must be an RFC 3339 date-time/);
      await bad(`${E}?to=2026-13-01T00:00:00Z`, 400, /to must be/);
      await bad(`${E}?from=${at('10:00')}&to=${at('09:00')}`, 400, /from must be before to/);
      await bad(`${E}?from=${at('10:00')}&to=${at('10:00')}`, 400, /before/);
      await bad(`${E}?bucket=week`, 400, /bucket must be hour, day or month/);
      await bad(`${E}?bucket=hour&from=2024-01-01T00:00:00Z&to=2026-01-01T00:00:00Z`, 400, /more than 1000 hour buckets/);
      await bad(`${E}?from=1990-01-01T00:00:00Z&to=2026-01-01T00:00:00Z&bucket=month`, 400, /3660 days/);
      await bad(`${E}?utc_offset=%2B15:00`, 400, /utc_offset/);
      await bad(`${E}?utc_offset=Europe/Paris`, 400, /utc_offset/);
      await bad(`${E}?station=NO-SUCH`, 404, /no station/);
      await bad(`${E}?site=`, 400, /site/);
      await bad(`${E}?from=${'9'.repeat(300)}`, 400);
      await bad('/api/v1/analytics/utilization?group_by=planet', 400, /group_by must be network, site, station or connector/);
      await bad('/api/v1/analytics/summary?group_by=connector', 400, /group_by must be network, site or station/);
      await bad('/api/v1/analytics/summary?bucket=day', 400, /no bucket/);
      await bad('/api/v1/analytics/sessions-by-hour?bucket=hour', 400, /no bucket/);
      await bad('/api/v1/exports/sessions.csv?from=x', 400, /from must be/);
      await bad(`/api/v1/exports/sessions.csv?from=${at('10:00')}&to=${at('09:00')}`, 400, /before/);
      await bad('/api/v1/exports/sessions.csv?station=NO-SUCH', 404);
      await bad('/api/v1/exports/meter-values.csv', 400, /session=.*station=/);
      await bad(`/api/v1/exports/meter-values.csv?session=${s1.transactionId}&station=AN-1`, 400, /not both/);
      await bad('/api/v1/exports/meter-values.csv?session=abc', 400, /positive integer/);
      await bad('/api/v1/exports/meter-values.csv?session=-1', 400, /positive integer/);
      await bad('/api/v1/exports/meter-values.csv?session=99999999999999999999999', 400, /positive integer/);
      await bad('/api/v1/exports/meter-values.csv?session=999999', 404, /no session 999999/);
      await bad('/api/v1/exports/meter-values.csv?station=NO-SUCH', 404);
      await bad('/api/v1/exports/meter-values.csv?station=AN-1&site=North', 400, /per site/);
      // the analytics need a token; the public endpoint does not
      for (const p of ['/api/v1/analytics/energy', '/api/v1/analytics/utilization', '/api/v1/analytics/summary',
        '/api/v1/analytics/sessions-by-hour', '/api/v1/exports/sessions.csv', '/api/v1/exports/meter-values.csv?session=1']) {
        assert.strictEqual((await get(p, { token: null })).status, 401, p);
      }
    });

    await t.test('hourly series per connector over a month: one entry per hour for every connector', async () => {
      const r = await ok(`/api/v1/analytics/utilization?from=${at('00:00')}&to=${at('00:00', '2026-02-10')}&bucket=hour&group_by=connector`);
      assert.ok(r.groups.length >= 2);
      for (const g of r.groups) assert.strictEqual(g.series.length, 31 * 24);
    });
  } finally {
    for (const c of open) await c.close().catch(() => {});
    const st = await s.stop();
    s.cleanup();
    assert.deepStrictEqual(st, { code: 0, signal: null },
      `server did not exit cleanly on SIGTERM: ${JSON.stringify(st)}\n--- stderr (tail) ---\n${s.stderr.slice(-6000)}`);
  }
});

// OCPP 2.0.1 stations report a connector as Occupied for the whole session;
// whether energy flows is the transaction's chargingState (TransactionEvent).
// Utilization counts the Occupied time during which the session said
// Charging as charging time.
test('utilization of an OCPP 2.0.1 station takes charging time from the transaction\'s chargingState', async (t) => {
  const s = await new Server().start();
  let cp;
  const ok = async (p) => {
    const r = await s.api('GET', p);
    assert.strictEqual(r.status, 200, `${p}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  try {
    await s.createStation('V2-AN', { site: 'Depot' });
    await s.createIdToken('V2-AN-TAG');
    cp = s.station('V2-AN', { protocols: ['ocpp2.0.1'] });
    await cp.connect();
    const boot = await cp.call('BootNotification', { reason: 'PowerUp', chargingStation: { vendorName: 'acme', model: 'x201' } });
    assert.strictEqual(boot.status, 'Accepted');
    const status = (evseId, st, ts) => cp.call('StatusNotification', { timestamp: ts, connectorStatus: st, evseId, connectorId: 1 });
    let seq = 0;
    const tx = (eventType, transactionId, ts, chargingState, extra = {}) => cp.call('TransactionEvent', {
      eventType, timestamp: ts, seqNo: seq++, triggerReason: eventType === 'Started' ? 'Authorized' : eventType === 'Ended' ? 'StopAuthorized' : 'ChargingStateChanged',
      transactionInfo: { transactionId, ...(chargingState ? { chargingState } : {}), ...(eventType === 'Ended' ? { stoppedReason: 'Local' } : {}) },
      ...extra,
    });
    // EVSE 1: Available 09:00; Occupied 10:00-12:30 with a session that
    // charges 10:15-11:00 and 11:30-12:00 (EVConnected, then SuspendedEV in
    // between, and an event without chargingState that changes nothing).
    await status(1, 'Available', at('09:00'));
    await status(1, 'Occupied', at('10:00'));
    const started = await tx('Started', 'V2-T1', at('10:00'), 'EVConnected', { evse: { id: 1, connectorId: 1 }, idToken: { idToken: 'V2-AN-TAG', type: 'ISO14443' } });
    assert.strictEqual(started.idTokenInfo.status, 'Accepted');
    await tx('Updated', 'V2-T1', at('10:15'), 'Charging');
    await tx('Updated', 'V2-T1', at('10:40'), null, { triggerReason: 'MeterValuePeriodic' });
    await tx('Updated', 'V2-T1', at('11:00'), 'SuspendedEV');
    await tx('Updated', 'V2-T1', at('11:30'), 'Charging');
    await tx('Ended', 'V2-T1', at('12:00'), 'EVConnected');
    await status(1, 'Available', at('12:30'));
    // EVSE 2: Occupied from 13:00 with a session charging from its start and still running.
    await status(2, 'Occupied', at('13:00'));
    await tx('Started', 'V2-T2', at('13:00'), 'Charging', { evse: { id: 2, connectorId: 1 }, idToken: { idToken: 'V2-AN-TAG', type: 'ISO14443' } });

    const range = `from=${at('09:00')}&to=${at('14:00')}`;
    await t.test('per connector: the charging part of Occupied counts as charging', async () => {
      const r = await ok(`/api/v1/analytics/utilization?${range}&station=V2-AN&group_by=connector`);
      const [c1, c2] = r.groups;
      assert.deepStrictEqual(c1.group, { station_id: 'V2-AN', site: 'Depot', evse_id: 1, connector_id: 1 });
      // 10:15-11:00 and 11:30-12:00 charging (75 min) inside 2.5 h Occupied; 2.5 h Available
      assert.deepStrictEqual(c1.totals, {
        period_s: 18000, charging_s: 4500, occupied_s: 9000, available_s: 9000, reserved_s: 0,
        unavailable_s: 0, faulted_s: 0, unknown_s: 0, charging_share: 0.25, occupied_share: 0.5,
      });
      // unknown until 13:00, then Occupied and charging until the end of the range
      assert.strictEqual(c2.group.evse_id, 2);
      assert.deepStrictEqual([c2.totals.unknown_s, c2.totals.occupied_s, c2.totals.charging_s], [14400, 3600, 3600]);
    });

    await t.test('per hour: each bucket gets the charging time inside it', async () => {
      const r = await ok(`/api/v1/analytics/utilization?${range}&station=V2-AN&group_by=connector&bucket=hour`);
      const c1 = r.groups[0].series.map((b) => [b.start.slice(11, 16), b.charging_s, b.occupied_s]);
      assert.deepStrictEqual(c1, [['09:00', 0, 0], ['10:00', 2700, 3600], ['11:00', 1800, 3600], ['12:00', 0, 1800], ['13:00', 0, 0]]);
    });

    await t.test('the summary shows the station\'s charging share', async () => {
      const r = await ok(`/api/v1/analytics/summary?${range}&station=V2-AN&group_by=station`);
      const [g] = r.groups;
      assert.strictEqual(g.connectors, 2);
      assert.strictEqual(g.charging_share, (4500 + 3600) / 36000);
      assert.strictEqual(g.occupied_share, (9000 + 3600) / 36000);
    });
  } finally {
    if (cp) await cp.close().catch(() => {});
    const st = await s.stop();
    s.cleanup();
    assert.deepStrictEqual(st, { code: 0, signal: null },
      `server did not exit cleanly on SIGTERM: ${JSON.stringify(st)}\n--- stderr (tail) ---\n${s.stderr.slice(-6000)}`);
  }
});
