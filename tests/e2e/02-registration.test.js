// Registration and station-level reports: BootNotification and the operator's
// registration status (Accepted / Pending / Rejected), auto-registration,
// what a boot stores, Heartbeat, StatusNotification per connector with its
// history, DataTransfer and firmware / diagnostics notifications.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { Server } = require('./lib/harness');

const PASSWORD = 'correct-horse-battery';
const BOOT = { chargePointVendor: 'ampgrid-test', chargePointModel: 'e2e' };

async function stopAndCheck(s) {
  const st = await s.stop();
  s.cleanup();
  assert.deepStrictEqual(st, { code: 0, signal: null },
    `server did not exit cleanly on SIGTERM: ${JSON.stringify(st)}\n--- stderr (tail) ---\n${s.stderr.slice(-6000)}`);
}

function rejectsWith(code) {
  return (err) => {
    assert.strictEqual(err.rpcErrorCode, code, `expected CALLERROR ${code}, got ${err.rpcErrorCode}: ${err.message}`);
    assert.ok(err.message && err.message.length > 0, 'the CALLERROR has a description');
    return true;
  };
}

async function getStation(s, id) {
  const r = await s.api('GET', `/api/v1/stations/${id}`);
  assert.strictEqual(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

async function patchStation(s, id, body) {
  const r = await s.api('PATCH', `/api/v1/stations/${id}`, body);
  assert.strictEqual(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

function assertNear(iso, ms, slack, what) {
  const t = Date.parse(iso);
  assert.ok(Number.isFinite(t), `${what}: ${iso} is a date-time`);
  assert.ok(Math.abs(t - ms) <= slack, `${what}: ${iso} is within ${slack} ms of ${new Date(ms).toISOString()}`);
}

test('registration and station reports', async (t) => {
  // auto_register is on; other settings are the defaults
  // (heartbeat_interval 300, pending_interval 30).
  const s = await new Server({ config: '[ocpp]\nauto_register = true\n' }).start();
  const open = [];
  const connect = async (id, opts) => {
    const cp = s.station(id, opts);
    await cp.connect();
    open.push(cp);
    return cp;
  };
  try {
    await t.test('an Accepted station is answered Accepted with interval = heartbeat_interval and the current time', async () => {
      await s.createStation('REG-ACC');
      const cp = await connect('REG-ACC');
      const before = Date.now();
      const boot = await cp.call('BootNotification', BOOT);
      assert.strictEqual(boot.status, 'Accepted');
      assert.strictEqual(boot.interval, 300);
      assertNear(boot.currentTime, before, 5000, 'currentTime');
    });

    await t.test('requests before any BootNotification are answered SecurityError', async () => {
      await s.createStation('REG-NOBOOT');
      const cp = await connect('REG-NOBOOT');
      await assert.rejects(cp.call('Heartbeat', {}), rejectsWith('SecurityError'));
      await assert.rejects(cp.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available' }),
        rejectsWith('SecurityError'));
      // ...and the connection stays usable: booting now works.
      assert.strictEqual((await cp.call('BootNotification', BOOT)).status, 'Accepted');
      await cp.call('Heartbeat', {});
    });

    await t.test('a Pending station is answered Pending with interval = pending_interval', async () => {
      await s.createStation('REG-PEND');
      await patchStation(s, 'REG-PEND', { registration_status: 'Pending' });
      const cp = await connect('REG-PEND');
      const boot = await cp.call('BootNotification', BOOT);
      assert.strictEqual(boot.status, 'Pending');
      assert.strictEqual(boot.interval, 30);
    });

    await t.test('a Pending station\'s other requests get CALLERROR SecurityError', async () => {
      const cp = open.find((c) => c.identity === 'REG-PEND');
      await assert.rejects(cp.call('Heartbeat', {}), rejectsWith('SecurityError'));
      await assert.rejects(cp.call('StatusNotification', { connectorId: 0, errorCode: 'NoError', status: 'Available' }),
        rejectsWith('SecurityError'));
      await assert.rejects(cp.call('Authorize', { idTag: 'ANY' }), rejectsWith('SecurityError'));
      await assert.rejects(cp.call('StartTransaction', { connectorId: 1, idTag: 'ANY', meterStart: 0, timestamp: new Date().toISOString() }),
        rejectsWith('SecurityError'));
      await assert.rejects(cp.call('DataTransfer', { vendorId: 'x' }), rejectsWith('SecurityError'));
      // Nothing was recorded for the refused StatusNotification.
      const st = await getStation(s, 'REG-PEND');
      assert.deepStrictEqual(st.connectors, []);
    });

    await t.test('a Pending station can still receive commands from the server', async () => {
      const cp = open.find((c) => c.identity === 'REG-PEND');
      const seen = [];
      cp.handle('GetConfiguration', ({ params }) => {
        seen.push(params);
        return { configurationKey: [{ key: 'HeartbeatInterval', readonly: false, value: '300' }], unknownKey: ['Nope'] };
      });
      const r = await s.api('POST', '/api/v1/stations/REG-PEND/commands/GetConfiguration', { key: ['HeartbeatInterval', 'Nope'] });
      assert.strictEqual(r.status, 200, JSON.stringify(r.body));
      assert.deepStrictEqual(r.body, { configurationKey: [{ key: 'HeartbeatInterval', readonly: false, value: '300' }], unknownKey: ['Nope'] });
      assert.deepStrictEqual(seen, [{ key: ['HeartbeatInterval', 'Nope'] }]);
    });

    await t.test('once the operator accepts a Pending station and it boots again, its requests are served', async () => {
      const cp = open.find((c) => c.identity === 'REG-PEND');
      await patchStation(s, 'REG-PEND', { registration_status: 'Accepted' });
      const boot = await cp.call('BootNotification', BOOT);
      assert.strictEqual(boot.status, 'Accepted');
      assert.strictEqual(boot.interval, 300);
      await cp.call('Heartbeat', {});
    });

    await t.test('a Rejected station is answered Rejected with interval = pending_interval and its requests get SecurityError', async () => {
      await s.createStation('REG-REJ');
      await patchStation(s, 'REG-REJ', { registration_status: 'Rejected' });
      const cp = await connect('REG-REJ');
      const boot = await cp.call('BootNotification', BOOT);
      assert.strictEqual(boot.status, 'Rejected');
      assert.strictEqual(boot.interval, 30);
      await assert.rejects(cp.call('Heartbeat', {}), rejectsWith('SecurityError'));
      await assert.rejects(cp.call('MeterValues', { connectorId: 1, meterValue: [] }), rejectsWith('SecurityError'));
    });

    await t.test('a registration status other than Accepted, Pending or Rejected is refused with 400', async () => {
      for (const registration_status of ['accepted', 'Blocked', '', 42]) {
        const r = await s.api('PATCH', '/api/v1/stations/REG-REJ', { registration_status });
        assert.strictEqual(r.status, 400, `registration_status ${JSON.stringify(registration_status)}`);
        assert.match(r.body.detail, /registration_status/);
      }
      assert.strictEqual((await getStation(s, 'REG-REJ')).registration_status, 'Rejected');
    });

    await t.test('an unknown station is auto-registered as Pending when auto_register is on', async () => {
      const cp = await connect('AUTO-1');
      const st = await getStation(s, 'AUTO-1');
      assert.strictEqual(st.registration_status, 'Pending');
      assert.strictEqual(st.auto_registered, true);
      assert.strictEqual(st.connected, true);
      const boot = await cp.call('BootNotification', BOOT);
      assert.strictEqual(boot.status, 'Pending');
      assert.strictEqual(boot.interval, 30);
      await assert.rejects(cp.call('Heartbeat', {}), rejectsWith('SecurityError'));
    });

    await t.test('an auto-registered station stays refused until the operator accepts it and it boots again', async () => {
      const cp = open.find((c) => c.identity === 'AUTO-1');
      await patchStation(s, 'AUTO-1', { registration_status: 'Accepted' });
      // Accepted by the operator, but not yet booted as Accepted.
      await assert.rejects(cp.call('Heartbeat', {}), rejectsWith('SecurityError'));
      const boot = await cp.call('BootNotification', BOOT);
      assert.strictEqual(boot.status, 'Accepted');
      assert.strictEqual(boot.interval, 300);
      const hb = await cp.call('Heartbeat', {});
      assert.ok(hb.currentTime);
    });

    await t.test('an auto-registered station keeps the password it first connected with', async () => {
      const wrong = s.station('AUTO-1', { password: 'a-different-password-123' });
      await assert.rejects(wrong.connect(), (e) => e.code === 401 || /401/.test(String(e.message)));
      const again = s.station('AUTO-1');
      await again.connect();
      open.push(again);
      await again.call('Heartbeat', {});
    });

    await t.test('BootNotification stores every identification field, visible under "boot" with last_boot_at', async () => {
      await s.createStation('REG-INFO');
      const cp = await connect('REG-INFO');
      const before = Date.now();
      await cp.call('BootNotification', {
        chargePointVendor: 'Acme Charging', chargePointModel: 'WallBox 22',
        chargePointSerialNumber: 'CP-SN-0001', chargeBoxSerialNumber: 'CB-SN-0002',
        firmwareVersion: '1.2.3-rc.4', iccid: '8944500102198304826', imsi: '234150999999999',
        meterType: 'Eastron SDM630', meterSerialNumber: 'MTR-778899',
      });
      const st = await getStation(s, 'REG-INFO');
      assert.deepStrictEqual(st.boot, {
        vendor: 'Acme Charging', model: 'WallBox 22', serial_number: 'CP-SN-0001',
        charge_box_serial_number: 'CB-SN-0002', firmware_version: '1.2.3-rc.4',
        iccid: '8944500102198304826', imsi: '234150999999999',
        meter_type: 'Eastron SDM630', meter_serial_number: 'MTR-778899',
      });
      assertNear(st.last_boot_at, before, 5000, 'last_boot_at');
    });

    await t.test('Heartbeat answers the current time and updates last_heartbeat_at', async () => {
      const cp = open.find((c) => c.identity === 'REG-INFO');
      const before = Date.now();
      const hb = await cp.call('Heartbeat', {});
      assertNear(hb.currentTime, before, 5000, 'currentTime');
      const st = await getStation(s, 'REG-INFO');
      assert.ok(Date.parse(st.last_heartbeat_at) >= Date.parse(st.last_boot_at));
      assertNear(st.last_heartbeat_at, before, 5000, 'last_heartbeat_at');
    });

    await t.test('StatusNotification is tracked per connector, connector 0 being the station', async () => {
      await s.createStation('REG-STATUS');
      const cp = await s.bootedStation('REG-STATUS');
      open.push(cp);
      const t0 = '2030-01-01T10:00:00.000Z';
      const t1 = '2030-01-01T10:00:01.000Z';
      const t2 = '2030-01-01T10:00:02.000Z';
      assert.deepStrictEqual(await cp.call('StatusNotification', { connectorId: 0, errorCode: 'NoError', status: 'Available', timestamp: t0 }), {});
      assert.deepStrictEqual(await cp.call('StatusNotification', {
        connectorId: 1, errorCode: 'NoError', status: 'Charging', info: 'car connected', timestamp: t1,
      }), {});
      assert.deepStrictEqual(await cp.call('StatusNotification', {
        connectorId: 2, errorCode: 'GroundFailure', status: 'Faulted', info: 'RCD tripped',
        vendorId: 'com.acme', vendorErrorCode: 'E-042', timestamp: t2,
      }), {});
      const st = await getStation(s, 'REG-STATUS');
      const byEvse = Object.fromEntries(st.connectors.map((c) => [c.evse_id, c]));
      assert.strictEqual(st.connectors.length, 3);
      assert.deepStrictEqual(
        (({ evse_id, connector_id, status, error_code, timestamp }) => ({ evse_id, connector_id, status, error_code, timestamp }))(byEvse[0]),
        { evse_id: 0, connector_id: 0, status: 'Available', error_code: 'NoError', timestamp: t0 });
      assert.strictEqual(byEvse[1].connector_id, 1);
      assert.strictEqual(byEvse[1].status, 'Charging');
      assert.strictEqual(byEvse[1].info, 'car connected');
      assert.strictEqual(Date.parse(byEvse[1].timestamp), Date.parse(t1));
      assert.strictEqual(byEvse[2].connector_id, 1);
      assert.strictEqual(byEvse[2].status, 'Faulted');
      assert.strictEqual(byEvse[2].error_code, 'GroundFailure');
      assert.strictEqual(byEvse[2].info, 'RCD tripped');
      assert.strictEqual(byEvse[2].vendor_error_code, 'E-042');
      assert.strictEqual(Date.parse(byEvse[2].timestamp), Date.parse(t2));
    });

    await t.test('status history lists every report, newest first', async () => {
      const cp = open.find((c) => c.identity === 'REG-STATUS');
      for (const [i, status] of ['Preparing', 'Charging', 'SuspendedEV', 'Finishing'].entries()) {
        await cp.call('StatusNotification', { connectorId: 3, errorCode: 'NoError', status, timestamp: `2030-01-01T11:00:0${i}.000Z` });
      }
      const r = await s.api('GET', '/api/v1/stations/REG-STATUS/status-history');
      assert.strictEqual(r.status, 200, JSON.stringify(r.body));
      const c3 = r.body.items.filter((h) => h.evse_id === 3);
      assert.deepStrictEqual(c3.map((h) => h.status), ['Finishing', 'SuspendedEV', 'Charging', 'Preparing']);
      assert.strictEqual(Date.parse(c3[0].timestamp), Date.parse('2030-01-01T11:00:03.000Z'));
      assert.strictEqual(c3[0].connector_id, 1);
      assert.strictEqual(c3[0].error_code, 'NoError');
      // Earlier reports of other connectors are there too, after the newer ones.
      assert.strictEqual(r.body.items.length, 7);
      assert.strictEqual(r.body.items[r.body.items.length - 1].evse_id, 0);
    });

    await t.test('a late StatusNotification with an older timestamp is accepted but does not overwrite the live status', async () => {
      const cp = open.find((c) => c.identity === 'REG-STATUS');
      const res = await cp.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available', timestamp: '2030-01-01T09:59:00.000Z' });
      assert.deepStrictEqual(res, {});
      const st = await getStation(s, 'REG-STATUS');
      const c1 = st.connectors.find((c) => c.evse_id === 1);
      assert.strictEqual(c1.status, 'Charging');
      assert.strictEqual(c1.info, 'car connected');
      assert.strictEqual(Date.parse(c1.timestamp), Date.parse('2030-01-01T10:00:01.000Z'));
    });

    await t.test('DataTransfer from a station is answered UnknownVendorId and kept in the station\'s events', async () => {
      const cp = open.find((c) => c.identity === 'REG-STATUS');
      const payload = { vendorId: 'com.acme.wallbox', messageId: 'Diag', data: '{"temp":41.5,"fan":"on"}' };
      const res = await cp.call('DataTransfer', payload);
      assert.deepStrictEqual(res, { status: 'UnknownVendorId' });
      const r = await s.api('GET', '/api/v1/stations/REG-STATUS/events');
      assert.strictEqual(r.status, 200, JSON.stringify(r.body));
      const dt = r.body.items.filter((e) => e.kind === 'data_transfer');
      assert.strictEqual(dt.length, 1);
      assert.deepStrictEqual(dt[0].detail, payload);
      assert.ok(Date.parse(dt[0].created_at));
    });

    await t.test('FirmwareStatusNotification is answered {} and shown as the station\'s firmware_status', async () => {
      const cp = open.find((c) => c.identity === 'REG-STATUS');
      assert.deepStrictEqual(await cp.call('FirmwareStatusNotification', { status: 'Downloading' }), {});
      assert.strictEqual((await getStation(s, 'REG-STATUS')).firmware_status, 'Downloading');
      assert.deepStrictEqual(await cp.call('FirmwareStatusNotification', { status: 'Installed' }), {});
      assert.strictEqual((await getStation(s, 'REG-STATUS')).firmware_status, 'Installed');
    });

    await t.test('DiagnosticsStatusNotification is answered {} and shown as the station\'s diagnostics_status', async () => {
      const cp = open.find((c) => c.identity === 'REG-STATUS');
      assert.deepStrictEqual(await cp.call('DiagnosticsStatusNotification', { status: 'Uploading' }), {});
      assert.strictEqual((await getStation(s, 'REG-STATUS')).diagnostics_status, 'Uploading');
      assert.deepStrictEqual(await cp.call('DiagnosticsStatusNotification', { status: 'Uploaded' }), {});
      assert.strictEqual((await getStation(s, 'REG-STATUS')).diagnostics_status, 'Uploaded');
    });
  } finally {
    await Promise.allSettled(open.map((c) => c.close()));
    await stopAndCheck(s);
  }
});

test('the configured heartbeat and pending intervals are the ones sent to stations', async () => {
  const s = await new Server({ config: '[ocpp]\nheartbeat_interval = 120\npending_interval = 17\n' }).start();
  try {
    await s.createStation('INT-ACC');
    await s.createStation('INT-PEND', { registration_status: 'Pending' });
    const a = s.station('INT-ACC');
    const p = s.station('INT-PEND');
    await a.connect();
    await p.connect();
    try {
      assert.deepStrictEqual((({ status, interval }) => ({ status, interval }))(await a.call('BootNotification', BOOT)),
        { status: 'Accepted', interval: 120 });
      assert.deepStrictEqual((({ status, interval }) => ({ status, interval }))(await p.call('BootNotification', BOOT)),
        { status: 'Pending', interval: 17 });
    } finally {
      await a.close();
      await p.close();
    }
  } finally {
    await stopAndCheck(s);
  }
});
