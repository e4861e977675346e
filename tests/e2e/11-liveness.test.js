// Ping supervision: the server pings quiet connections and closes those that
// stop answering, while stations that answer stay connected.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { Server, waitFor, sleep } = require('./lib/harness');

test('a station that stops answering pings is disconnected; a live one stays', async () => {
  const s = await new Server({ config: '[ocpp]\nping_interval = 1\nping_timeout = 1\n' }).start();
  try {
    await s.createStation('LIVE-1');
    await s.createStation('DEAD-1');
    const live = await s.bootedStation('LIVE-1');
    const dead = s.raw('DEAD-1');
    await dead.opened;
    dead.send(JSON.stringify([2, 'b1', 'BootNotification', { chargePointVendor: 'v', chargePointModel: 'm' }]));
    assert.strictEqual((await dead.next())[2].status, 'Accepted');
    // Stop reading: the client no longer sees pings, so it never answers them.
    dead._socket.pause();
    await waitFor(async () => (await s.api('GET', '/api/v1/stations/DEAD-1')).body.connected === false,
      { timeout: 8000, what: 'the silent station to be disconnected' });
    await sleep(1500);
    assert.strictEqual((await s.api('GET', '/api/v1/stations/LIVE-1')).body.connected, true);
    const hb = await live.call('Heartbeat', {});
    assert.ok(hb.currentTime);
    const m = await (await fetch(`${s.httpUrl}/metrics`)).text();
    assert.match(m, /^ampgrid_ws_ping_timeouts_total [1-9]/m);
    await live.close();
    dead.terminate();
  } finally {
    const st = await s.stop();
    s.cleanup();
    assert.strictEqual(st.code, 0, s.stderr);
  }
});
