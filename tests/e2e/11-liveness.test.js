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

// A station that sends a frame at least every ping_interval seconds (its heartbeat
// at the same interval) is never pinged: a ping would only repeat what its heartbeat
// proves. A silent one is pinged and, answering, stays connected.
test('pings go to silent stations only, not to those heartbeating within it', async () => {
  const s = await new Server({ config: '[ocpp]\nping_interval = 2\nping_timeout = 5\n' }).start();
  const pings = async () => {
    const m = await (await fetch(`${s.httpUrl}/metrics`)).text();
    return Number(/^ampgrid_ws_pings_sent_total (\d+)/m.exec(m)[1]);
  };
  try {
    await s.createStation('BUSY-1');
    await s.createStation('QUIET-1');
    const busy = await s.bootedStation('BUSY-1');
    let ticks = 0;
    // 1.9 s: every beat inside ping_interval even with the timers' jitter
    const beat = setInterval(() => { ticks++; busy.call('Heartbeat', {}).catch(() => {}); }, 1900);
    try {
      await sleep(9000);
    } finally {
      clearInterval(beat);
    }
    assert.ok(ticks >= 4, `the station heartbeated ${ticks} times`);
    assert.strictEqual(await pings(), 0, 'a station heartbeating within ping_interval was pinged');

    const quiet = s.raw('QUIET-1');
    await quiet.opened;
    let pinged = 0;
    quiet.on('ping', () => pinged++);
    await waitFor(async () => (await pings()) >= 1, { timeout: 8000, what: 'a ping to the silent station' });
    await waitFor(async () => pinged >= 1, { timeout: 3000, what: 'the silent station to see the ping' });
    // it answered (ws answers pings by itself), so it is still connected
    await sleep(1000);
    assert.strictEqual((await s.api('GET', '/api/v1/stations/QUIET-1')).body.connected, true);
    await busy.close();
    quiet.close();
  } finally {
    const st = await s.stop();
    s.cleanup();
    assert.strictEqual(st.code, 0, s.stderr);
  }
});
