// Live events over Server-Sent Events: GET /api/v1/events delivers what
// happens (connections, boots, status, transactions, meter values, commands)
// with id/event/data fields, filters by type and station, and replays missed
// events after Last-Event-ID (and announces a gap when more than the retained
// 8192 were missed).
'use strict';
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert');
const { Server, sleep } = require('./lib/harness');

// ------------------------------------------------------------------ helpers

function serverSuite(name, fn, opts = {}) {
  describe(name, () => {
    const ctx = { s: null, streams: [] };
    before(async () => { ctx.s = await new Server(opts).start(); });
    fn(ctx);
    it('the server exits with code 0 on SIGTERM', async () => {
      const s = ctx.s;
      try {
        for (const st of ctx.streams) st.close();
        const st = await s.stop();
        assert.strictEqual(st.code, 0, `exit ${JSON.stringify(st)}; stderr:\n${s.stderr.slice(-4000)}`);
      } finally {
        s.cleanup();
      }
    });
    after(async () => {
      for (const st of ctx.streams) st.close();
      if (!ctx.s) return;
      try { await ctx.s.stop(); } finally { ctx.s.cleanup(); }
    });
  });
}

// Opens the event stream with fetch and parses SSE from the body as it
// arrives. Returns { status, headers, events: [{id, event, data, raw}], ... }.
async function openStream(s, query = '', { token = s.token, via = 'header', lastEventId, ctx } = {}) {
  const ac = new AbortController();
  const headers = {};
  if (token && via === 'header') headers.authorization = `Bearer ${token}`;
  if (lastEventId !== undefined) headers['last-event-id'] = String(lastEventId);
  let q = query;
  if (token && via === 'query') q += `${q.includes('?') ? '&' : '?'}access_token=${encodeURIComponent(token)}`;
  const res = await fetch(`${s.httpUrl}/api/v1/events${q}`, { headers, signal: ac.signal });
  const st = {
    status: res.status, headers: res.headers, events: [], comments: [], retry: null, ended: false, error: null,
    waiters: new Set(),
    close() { try { ac.abort(); } catch (_) { /* ignore */ } },
  };
  if (ctx) ctx.streams.push(st);
  if (res.status !== 200 || !(res.headers.get('content-type') || '').startsWith('text/event-stream')) {
    st.body = await res.text();
    st.ended = true;
    return st;
  }
  const notify = () => { for (const w of st.waiters) w(); };
  (async () => {
    const dec = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of res.body) {
        buf += dec.decode(chunk, { stream: true }).replace(/\r\n?/g, '\n');
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const ev = { id: null, event: 'message', dataLines: [], raw: block };
          let isEvent = false;
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) { st.comments.push(line); continue; }
            const c = line.indexOf(':');
            const field = c < 0 ? line : line.slice(0, c);
            let value = c < 0 ? '' : line.slice(c + 1);
            if (value.startsWith(' ')) value = value.slice(1);
            if (field === 'id') { ev.id = value; isEvent = true; }
            else if (field === 'event') { ev.event = value; isEvent = true; }
            else if (field === 'data') { ev.dataLines.push(value); isEvent = true; }
            else if (field === 'retry') st.retry = Number(value);
          }
          if (!isEvent) continue;
          const text = ev.dataLines.join('\n');
          try { ev.data = JSON.parse(text); } catch (_) { ev.data = undefined; ev.dataText = text; }
          delete ev.dataLines;
          st.events.push(ev);
        }
        notify();
      }
    } catch (e) {
      if (e.name !== 'AbortError') st.error = e;
    }
    st.ended = true;
    notify();
  })();
  // Resolves with the first event (at index >= from) matching pred.
  st.waitFor = (pred, { timeout = 5000, from = 0, what = 'event' } = {}) => new Promise((resolve, reject) => {
    const check = () => {
      for (let i = from; i < st.events.length; i++) if (pred(st.events[i])) return st.events[i];
      return null;
    };
    const hit = check();
    if (hit) return resolve(hit);
    const w = () => {
      const h = check();
      if (h) { clearTimeout(t); st.waiters.delete(w); resolve(h); } else if (st.ended) {
        clearTimeout(t); st.waiters.delete(w); reject(new Error(`stream ended before ${what}; got ${types(st)}`));
      }
    };
    const t = setTimeout(() => { st.waiters.delete(w); reject(new Error(`no ${what} within ${timeout} ms; got ${types(st)}`)); }, timeout);
    st.waiters.add(w);
  });
  st.waitType = (type, stationId, o = {}) =>
    st.waitFor((e) => e.event === type && (!stationId || (e.data && e.data.station_id === stationId)), { what: `${type} for ${stationId}`, ...o });
  return st;
}

function types(st) {
  return JSON.stringify(st.events.map((e) => `${e.id}:${e.event}:${e.data && e.data.station_id}`).slice(-30));
}

const now = () => new Date().toISOString();

// Runs one station through a whole session and a command; returns the transaction id.
async function runScenario(s, id, tag) {
  const cp = s.station(id);
  cp.handle('Reset', () => ({ status: 'Accepted' }));
  await cp.connect();
  const boot = await cp.call('BootNotification', { chargePointVendor: 'ACME', chargePointModel: 'SSE' });
  assert.strictEqual(boot.status, 'Accepted');
  await cp.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Preparing', timestamp: now() });
  const start = await cp.call('StartTransaction', { connectorId: 1, idTag: tag, meterStart: 100, timestamp: now() });
  await cp.call('MeterValues', { connectorId: 1, transactionId: start.transactionId, meterValue: [{ timestamp: now(), sampledValue: [{ value: '150' }] }] });
  await cp.call('StopTransaction', { transactionId: start.transactionId, meterStop: 200, timestamp: now() });
  const cmd = await s.api('POST', `/api/v1/stations/${id}/commands/Reset`, { type: 'Soft' });
  assert.strictEqual(cmd.status, 200, JSON.stringify(cmd.body));
  await cp.close();
  return start.transactionId;
}

// ------------------------------------------------------------ access rules

serverSuite('event stream access', (ctx) => {
  it('without a token the stream is refused with 401', async () => {
    const st = await openStream(ctx.s, '', { token: null, ctx });
    assert.strictEqual(st.status, 401, st.body);
    assert.match(st.headers.get('content-type') || '', /^application\/problem\+json/);
  });

  it('a wrong token is refused with 401 (header and ?access_token=)', async () => {
    const a = await openStream(ctx.s, '', { token: 'agt_' + 'f'.repeat(64), ctx });
    assert.strictEqual(a.status, 401);
    const b = await openStream(ctx.s, '', { token: 'agt_' + 'f'.repeat(64), via: 'query', ctx });
    assert.strictEqual(b.status, 401);
  });

  it('a Bearer header opens a text/event-stream', async () => {
    const st = await openStream(ctx.s, '', { ctx });
    assert.strictEqual(st.status, 200);
    assert.match(st.headers.get('content-type'), /^text\/event-stream/);
    await ctx.s.createStation('ACCESS-1');
    const e = await st.waitType('station.created', 'ACCESS-1');
    assert.ok(e.id);
    st.close();
  });

  it('?access_token= opens the stream too (for EventSource)', async () => {
    const st = await openStream(ctx.s, '', { via: 'query', ctx });
    assert.strictEqual(st.status, 200, st.body);
    assert.match(st.headers.get('content-type'), /^text\/event-stream/);
    await ctx.s.createStation('ACCESS-2');
    await st.waitType('station.created', 'ACCESS-2');
    st.close();
  });

  it('?access_token= is not accepted on other endpoints', async () => {
    const r = await fetch(`${ctx.s.httpUrl}/api/v1/stations?access_token=${ctx.s.token}`);
    assert.strictEqual(r.status, 401);
  });
});

// -------------------------------------------------------------- live events

serverSuite('live events', (ctx) => {
  const ID = 'SSE-CP-1';
  let st;
  let txId;
  before(async () => {
    await ctx.s.createStation(ID);
    await ctx.s.createIdToken('SSE-TAG');
    st = await openStream(ctx.s, '', { ctx });
    assert.strictEqual(st.status, 200);
    txId = await runScenario(ctx.s, ID, 'SSE-TAG');
    await st.waitType('station.disconnected', ID);
  });

  const expected = [
    ['station.connected', (d) => assert.strictEqual(d.protocol, 'ocpp1.6')],
    ['station.boot', (d) => { assert.strictEqual(d.status, 'Accepted'); assert.strictEqual(d.vendor, 'ACME'); }],
    ['connector.status', (d) => { assert.strictEqual(d.status, 'Preparing'); assert.strictEqual(d.evse_id, 1); }],
    ['transaction.started', (d) => { assert.strictEqual(d.session_id, txId); assert.strictEqual(d.id_token, 'SSE-TAG'); assert.strictEqual(d.meter_start_wh, 100); }],
    ['meter.values', (d) => { assert.strictEqual(d.session_id, txId); assert.strictEqual(d.samples[0].value, '150'); }],
    ['transaction.ended', (d) => { assert.strictEqual(d.session_id, txId); assert.strictEqual(d.meter_stop_wh, 200); assert.strictEqual(d.energy_wh, 100); }],
    ['command.sent', (d) => { assert.strictEqual(d.action, 'Reset'); }],
    ['command.result', (d) => { assert.strictEqual(d.action, 'Reset'); assert.deepStrictEqual(d.response, { status: 'Accepted' }); }],
    ['station.disconnected', () => {}],
  ];
  for (const [type, check] of expected) {
    it(`delivers ${type} with id:, event: and JSON data: naming the station`, async () => {
      const e = await st.waitType(type, ID);
      assert.match(e.id, /^\d+$/, `id: ${e.id}`);
      assert.strictEqual(e.event, type);
      assert.ok(e.data && typeof e.data === 'object', `data is not JSON: ${e.raw}`);
      assert.strictEqual(e.data.station_id, ID);
      check(e.data);
    });
  }

  it('delivers the events in the order they happened, with increasing ids', async () => {
    const mine = st.events.filter((e) => e.data && e.data.station_id === ID && expected.some(([t]) => t === e.event));
    const order = mine.map((e) => e.event);
    const want = expected.map(([t]) => t);
    assert.deepStrictEqual(order.filter((t, i) => order.indexOf(t) === i), want);
    const ids = st.events.map((e) => Number(e.id));
    for (let i = 1; i < ids.length; i++) assert.ok(ids[i] > ids[i - 1], `ids not increasing: ${ids}`);
  });

  it('the stream stays open while idle', async () => {
    await sleep(300);
    assert.strictEqual(st.ended, false, 'the stream ended');
    await ctx.s.createStation('SSE-LATER');
    await st.waitType('station.created', 'SSE-LATER');
  });
});

// ----------------------------------------------------------------- filters

serverSuite('event filters', (ctx) => {
  let all;
  let prefix;
  let exact;
  let multi;
  let byStation;
  let bare;
  before(async () => {
    await ctx.s.createStation('FLT-A');
    await ctx.s.createStation('FLT-B');
    await ctx.s.createIdToken('FLT-TAG-A');
    await ctx.s.createIdToken('FLT-TAG-B');
    all = await openStream(ctx.s, '', { ctx });
    prefix = await openStream(ctx.s, '?types=transaction.', { ctx });
    exact = await openStream(ctx.s, '?types=connector.status', { ctx });
    multi = await openStream(ctx.s, '?types=station.boot,transaction.ended', { ctx });
    byStation = await openStream(ctx.s, '?station=FLT-B', { ctx });
    bare = await openStream(ctx.s, '?types=transaction', { ctx });
    await runScenario(ctx.s, 'FLT-A', 'FLT-TAG-A');
    await runScenario(ctx.s, 'FLT-B', 'FLT-TAG-B');
    await all.waitType('station.disconnected', 'FLT-B');
    await sleep(200); // let the filtered streams catch up
  });

  it('?types=transaction. (a prefix) delivers only transaction.* events', async () => {
    const t = prefix.events.map((e) => e.event);
    assert.ok(t.length > 0, 'nothing delivered');
    assert.ok(t.every((x) => x.startsWith('transaction.')), JSON.stringify(t));
    assert.strictEqual(t.filter((x) => x === 'transaction.started').length, 2);
    assert.strictEqual(t.filter((x) => x === 'transaction.ended').length, 2);
  });

  it('?types=connector.status (exact) delivers only connector.status events', async () => {
    const t = exact.events.map((e) => e.event);
    assert.deepStrictEqual(t, ['connector.status', 'connector.status']);
  });

  it('?types= takes a comma-separated list', async () => {
    const t = multi.events.map((e) => `${e.event}/${e.data.station_id}`);
    assert.deepStrictEqual(t, ['station.boot/FLT-A', 'transaction.ended/FLT-A', 'station.boot/FLT-B', 'transaction.ended/FLT-B']);
  });

  it('?types=transaction (no trailing dot) is an exact type and matches nothing here', async () => {
    assert.deepStrictEqual(bare.events.map((e) => e.event), []);
  });

  it('?station=ID delivers only that station\'s events', async () => {
    assert.ok(byStation.events.length >= 9, types(byStation));
    assert.ok(byStation.events.every((e) => e.data.station_id === 'FLT-B'), types(byStation));
    assert.ok(byStation.events.some((e) => e.event === 'transaction.started'));
  });

  it('the unfiltered stream got both stations\' events', async () => {
    const ids = new Set(all.events.map((e) => e.data && e.data.station_id));
    assert.ok(ids.has('FLT-A') && ids.has('FLT-B'));
  });
});

// ------------------------------------------------------------------ replay

serverSuite('Last-Event-ID replay', (ctx) => {
  it('reconnecting with Last-Event-ID replays exactly the missed events, in order', async () => {
    const s = ctx.s;
    await s.createIdToken('RPL-TAG');
    const first = await openStream(s, '', { ctx });
    await s.createStation('RPL-1');
    const seen = await first.waitType('station.created', 'RPL-1');
    first.close();
    await sleep(100);
    // what happens while nobody listens
    await s.createStation('RPL-2');
    await s.createStation('RPL-3');
    await runScenario(s, 'RPL-3', 'RPL-TAG');
    // a witness stream that was connected all along tells us what was missed
    const second = await openStream(s, '', { lastEventId: seen.id, ctx });
    assert.strictEqual(second.status, 200);
    await second.waitType('station.disconnected', 'RPL-3');
    const replayed = second.events.map((e) => Number(e.id));
    assert.ok(replayed.length > 0);
    assert.strictEqual(replayed[0], Number(seen.id) + 1, `replay should start right after ${seen.id}: ${types(second)}`);
    for (let i = 1; i < replayed.length; i++) assert.strictEqual(replayed[i], replayed[i - 1] + 1, `gap or duplicate: ${replayed}`);
    const t = second.events.map((e) => `${e.event}/${e.data.station_id}`);
    assert.ok(!t.includes('station.created/RPL-1'), 'an already seen event was replayed');
    for (const want of ['station.created/RPL-2', 'station.created/RPL-3', 'station.connected/RPL-3', 'transaction.started/RPL-3', 'meter.values/RPL-3', 'transaction.ended/RPL-3']) {
      assert.ok(t.includes(want), `${want} not replayed: ${t}`);
    }
    // meter.values is kept as it came in while nobody listens; its replay has the full event
    const started = second.events.find((e) => e.event === 'transaction.started');
    const mv = second.events.find((e) => e.event === 'meter.values');
    assert.strictEqual(mv.data.session_id, started.data.session_id);
    assert.strictEqual(mv.data.evse_id, 1);
    assert.strictEqual(mv.data.samples.length, 1);
    assert.strictEqual(mv.data.samples[0].value, '150');
    assert.match(mv.data.samples[0].timestamp, /^\d{4}-\d\d-\d\dT/);
    assert.match(mv.data.time, /^\d{4}-\d\d-\d\dT/);
    // and it is live afterwards
    await s.createStation('RPL-4');
    await second.waitType('station.created', 'RPL-4');
    second.close();
  });

  it('a replay honours the stream\'s filters', async () => {
    const s = ctx.s;
    const first = await openStream(s, '', { ctx });
    await s.createStation('RPLF-1');
    const seen = await first.waitType('station.created', 'RPLF-1');
    first.close();
    await s.createStation('RPLF-2');
    await s.createIdToken('RPLF-TAG');
    await runScenario(s, 'RPLF-2', 'RPLF-TAG');
    const st = await openStream(s, '?types=transaction.&station=RPLF-2', { lastEventId: seen.id, ctx });
    await st.waitType('transaction.ended', 'RPLF-2');
    await sleep(100);
    assert.deepStrictEqual(st.events.map((e) => `${e.event}/${e.data.station_id}`), ['transaction.started/RPLF-2', 'transaction.ended/RPLF-2']);
    st.close();
  });
});

// ---------------------------------------------------- beyond the retention

// The server keeps the last 8192 events (src/api/events.c). A client that
// comes back after more than that many gets a stream.gap event naming where
// the replay resumes, then exactly the retained events, in order.
const RETAINED = 8192;

serverSuite('Last-Event-ID older than the retention', (ctx) => {
  it('resuming after more than 8192 events gives stream.gap, then the retained events in order', { timeout: 120000 }, async () => {
    const s = ctx.s;
    const first = await openStream(s, '', { ctx });
    await s.createStation('GAP-OLD');
    const seen = await first.waitType('station.created', 'GAP-OLD');
    first.close();
    // a witness follows everything from here on
    const witness = await openStream(s, '', { ctx });
    // Many stations send status changes at once: each is one connector.status
    // event, and the store commits them in groups.
    const STATIONS = 16;
    const PER = Math.ceil((RETAINED + 400) / STATIONS);
    const cps = [];
    for (let i = 0; i < STATIONS; i++) {
      await s.createStation(`GAP-${i}`);
      cps.push(await s.bootedStation(`GAP-${i}`));
    }
    const statuses = ['Available', 'Preparing', 'Charging', 'SuspendedEV', 'Finishing'];
    await Promise.all(cps.map(async (cp) => {
      for (let n = 0; n < PER; n++) {
        await cp.call('StatusNotification', { connectorId: 1 + (n % 2), errorCode: 'NoError', status: statuses[n % statuses.length] });
      }
      await cp.close();
    }));
    const gone = () => witness.events.filter((x) => x.event === 'station.disconnected').length;
    await witness.waitFor(() => gone() === STATIONS, { timeout: 30000, what: 'every station.disconnected' });
    const lastId = Math.max(...witness.events.map((e) => Number(e.id)));
    assert.ok(lastId - Number(seen.id) > RETAINED + 100, `only ${lastId - Number(seen.id)} events since the old id`);

    const back = await openStream(s, '', { lastEventId: seen.id, ctx });
    assert.strictEqual(back.status, 200);
    await back.waitFor((e) => Number(e.id) === lastId, { timeout: 30000, what: `the replay up to ${lastId}` });
    const [gap, ...replayed] = back.events;
    assert.strictEqual(gap.event, 'stream.gap', `the replay starts with stream.gap, got ${gap.event}`);
    assert.strictEqual(gap.id, null, 'the gap event has no id of its own (a resume must not skip past it)');
    assert.strictEqual(gap.data.last_event_id, seen.id);
    const from = Number(gap.data.resumed_from);
    assert.strictEqual(from, lastId - RETAINED + 1, 'the replay resumes at the oldest retained event');
    const ids = replayed.map((e) => Number(e.id));
    assert.strictEqual(ids.length, RETAINED, 'every retained event, once');
    ids.forEach((id, i) => assert.strictEqual(id, from + i, `replayed event ${i} has id ${id}`));
    // the same events the witness saw live, with the same type and data
    const live = new Map(witness.events.map((e) => [e.id, e]));
    for (const e of replayed) {
      const w = live.get(e.id);
      assert.ok(w, `event ${e.id} was replayed but never sent live`);
      assert.strictEqual(e.event, w.event);
      assert.deepStrictEqual(e.data, w.data);
    }
    assert.ok(replayed.filter((e) => e.event === 'connector.status').length > RETAINED - 100);
    // and the stream is live afterwards
    await s.createStation('GAP-LATER');
    await back.waitType('station.created', 'GAP-LATER');
    back.close();
    witness.close();
  });
}, { config: '[http]\nrate_limit = 0\n' });

// ---------------------------------------------------------- across restarts

describe('event ids across a restart', () => {
  const ctx = { streams: [] };
  after(async () => {
    for (const st of ctx.streams) st.close();
    for (const s of [ctx.a, ctx.b]) if (s) await s.stop();
    if (ctx.a) ctx.a.cleanup();
  });

  it('a Last-Event-ID from before a restart does not make a client skip events of the new instance', async () => {
    ctx.a = await new Server().start();
    const first = await openStream(ctx.a, '', { ctx });
    for (let i = 0; i < 5; i++) await ctx.a.createStation(`OLD-${i}`);
    const last = await first.waitType('station.created', 'OLD-4');
    first.close();
    const stA = await ctx.a.stop();
    assert.strictEqual(stA.code, 0, ctx.a.stderr);

    ctx.b = await new Server(ctx.a.restartOptions()).start();
    for (let i = 0; i < 8; i++) await ctx.b.createStation(`NEW-${i}`);
    // the client comes back with the last id it saw, as EventSource does
    const again = await openStream(ctx.b, '?types=station.created', { lastEventId: last.id, ctx });
    await ctx.b.createStation('NEW-LIVE');
    await again.waitType('station.created', 'NEW-LIVE');
    const got = again.events.map((e) => e.data.station_id);
    const missed = Array.from({ length: 8 }, (_, i) => `NEW-${i}`).filter((x) => !got.includes(x));
    assert.deepStrictEqual(missed, [], `events of the new instance silently skipped (Last-Event-ID ${last.id}); got ${JSON.stringify(got)}`);
    again.close();
  });

  it('the restarted server exits with code 0 on SIGTERM', async () => {
    assert.ok(ctx.b, 'no second server');
    for (const st of ctx.streams) st.close();
    const st = await ctx.b.stop();
    assert.strictEqual(st.code, 0, ctx.b.stderr.slice(-3000));
  });
});
