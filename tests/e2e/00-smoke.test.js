// Smoke: the binary starts, prints an admin token, serves /healthz, and a
// station can boot and run a session end to end.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { Server } = require('./lib/harness');

test('a station boots and completes a session visible through the API', async () => {
  const s = await new Server().start();
  try {
    assert.match(s.token, /^agt_[0-9a-f]{64}$/);
    await s.createStation('SMOKE-1');
    await s.createIdToken('TAG-SMOKE');
    const cp = await s.bootedStation('SMOKE-1');
    const start = await cp.call('StartTransaction', { connectorId: 1, idTag: 'TAG-SMOKE', meterStart: 100, timestamp: new Date().toISOString() });
    assert.strictEqual(start.idTagInfo.status, 'Accepted');
    await cp.call('StopTransaction', { transactionId: start.transactionId, meterStop: 1100, timestamp: new Date().toISOString() });
    const r = await s.api('GET', `/api/v1/sessions/${start.transactionId}`);
    assert.strictEqual(r.status, 200);
    assert.strictEqual(r.body.energy_wh, 1000);
    assert.strictEqual(r.body.active, false);
    await cp.close();
  } finally {
    const st = await s.stop();
    assert.strictEqual(st.code, 0, s.stderr);
    s.cleanup();
  }
});
