// The OpenAPI document (docs/openapi.json) against the real server: traffic
// that reaches every operation and most documented status codes, with every
// response checked against the document (status code documented for the
// operation, content type, body schema, documented headers). Also: the
// document and the server's route table list the same endpoints, roles and
// body-taking routes agree with the document's security and 403/413/415
// answers, the command action enum is the set of OCPP 1.6 actions a CSMS can
// send, and the server serves this very document at /api/v1/openapi.json.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const Ajv2020 = require('ajv/dist/2020');
const addFormats = require('ajv-formats');
const { createRPCError } = require('ocpp-rpc');
const { Server, BIN, waitFor } = require('./lib/harness');

const ROOT = path.resolve(__dirname, '../..');
const DOC = JSON.parse(fs.readFileSync(path.join(ROOT, 'docs/openapi.json'), 'utf8'));
const DOC_ID = 'https://ampgrid.test/openapi.json';
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const PW = 'correct-horse-battery';
const MAX_BODY = 8192;

// ------------------------------------------------------- the document in ajv

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema({ ...DOC, $id: DOC_ID });

// JSON pointer from path segments, e.g. ptr('paths', '/healthz', 'get').
const ptr = (...segs) => segs.map((s) => '/' + String(s).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
const fragment = (p) => p.split('/').map(encodeURIComponent).join('/');
const at = (p) => p.split('/').slice(1).reduce((o, s) => o && o[s.replace(/~1/g, '/').replace(/~0/g, '~')], DOC);

const validators = new Map();
function validator(pointer) {
  if (!validators.has(pointer)) validators.set(pointer, ajv.compile({ $ref: `${DOC_ID}#${fragment(pointer)}` }));
  return validators.get(pointer);
}

function operations() {
  const ops = [];
  for (const [tpl, item] of Object.entries(DOC.paths)) {
    for (const m of METHODS) if (item[m]) ops.push({ tpl, method: m.toUpperCase(), op: item[m], key: `${m.toUpperCase()} ${tpl}` });
  }
  return ops;
}

const PATHS = Object.keys(DOC.paths).map((tpl) => {
  const re = new RegExp('^' + tpl.split(/\{[^}]+\}/).map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[^/]+') + '/?$');
  return { tpl, re, item: DOC.paths[tpl] };
});

function matchPath(url) {
  const p = url.split('?')[0];
  return PATHS.find((x) => x.re.test(p));
}

// ------------------------------------------------------------------- checks

const exercised = new Map(); // "METHOD /tpl" -> Set of statuses seen

// ajv errors, one per line, naming the place, the rule and its parameters
// (e.g. the additional property's name).
const ajvErrors = (errors) => (errors || []).map((e) =>
  `  at ${e.instancePath || '(root)'}: ${e.message} ${JSON.stringify(e.params)} [schema ${e.schemaPath}]`).join('\n');

function mediaMatches(key, ctype) {
  const norm = (s) => s.toLowerCase().replace(/\s+/g, '');
  if (key.includes(';')) return norm(key) === norm(ctype);
  return norm(ctype.split(';')[0]) === norm(key);
}

// Checks one real response against the document. `text` is the body as
// received (for a stream, what arrived so far). Throws with the method, the
// path, the status and ajv's errors when something does not match.
function checkResponse({ method, url, status, headers, text, sent }) {
  const where = `${method} ${url} -> ${status}`;
  const m = matchPath(url);
  let pointer;
  if (!m) {
    assert.strictEqual(status, 404, `${where}: the path is not in the document, so the server should not know it either (expected 404); body: ${text.slice(0, 300)}`);
    pointer = ptr('components', 'responses', 'NotFound');
  } else if (!m.item[method.toLowerCase()]) {
    assert.strictEqual(status, 405, `${where}: the document has ${m.tpl} but no ${method} on it, so 405 was expected; body: ${text.slice(0, 300)}`);
    pointer = ptr('components', 'responses', 'MethodNotAllowed');
  } else {
    const op = m.item[method.toLowerCase()];
    const key = `${method} ${m.tpl}`;
    if (!exercised.has(key)) exercised.set(key, new Set());
    exercised.get(key).add(status);
    assert.ok(op.responses[String(status)],
      `${where}: status ${status} is not documented for ${key} (documented: ${Object.keys(op.responses).join(', ')}); body: ${text.slice(0, 300)}`);
    pointer = ptr('paths', m.tpl, method.toLowerCase(), 'responses', String(status));
  }
  let resp = at(pointer);
  while (resp.$ref) {
    pointer = resp.$ref.replace(/^#/, '');
    resp = at(pointer);
  }
  for (const h of Object.keys(resp.headers || {})) {
    assert.ok(headers.get(h) !== null, `${where}: documented header ${h} is missing`);
  }
  if (!resp.content) {
    assert.strictEqual(text, '', `${where}: documented without a body, got ${JSON.stringify(text.slice(0, 200))}`);
    return;
  }
  const ctype = headers.get('content-type') || '';
  const mt = Object.keys(resp.content).find((k) => mediaMatches(k, ctype));
  assert.ok(mt, `${where}: content type "${ctype}" is not documented (documented: ${Object.keys(resp.content).join(', ')})`);
  let value = text;
  if (/[/+]json$/.test(mt.split(';')[0])) {
    try {
      value = JSON.parse(text);
    } catch (e) {
      assert.fail(`${where}: ${mt} body is not JSON (${e.message}): ${text.slice(0, 200)}`);
    }
  }
  const sp = `${pointer}/content/${mt.replace(/~/g, '~0').replace(/\//g, '~1')}/schema`;
  const v = validator(sp);
  if (!v(value)) {
    assert.fail(`${where}: body does not match the documented schema (${mt}):\n${ajvErrors(v.errors)}\nbody: ${text.slice(0, 1500)}`);
  }
  // A body the server accepted must be one the document accepts, and an
  // unknown field the server refused must be refused by the document too.
  const op = m && m.item[method.toLowerCase()];
  if (op && op.requestBody && op.requestBody.content['application/json'] && sent && typeof sent === 'object') {
    const rp = ptr('paths', m.tpl, method.toLowerCase(), 'requestBody', 'content', 'application/json', 'schema');
    const rv = validator(rp);
    if (status >= 200 && status < 300) {
      assert.ok(rv(sent), `${method} ${url} -> ${status}: the server accepted a body the document's request schema refuses:\n` +
        `${ajvErrors(rv.errors)}\nbody: ${JSON.stringify(sent)}`);
    } else if (status === 400 && value && /unknown field|cannot be changed/.test(value.detail || '')) {
      assert.ok(!rv(sent), `${method} ${url} -> 400 (${value.detail}): the document's request schema accepts this body: ${JSON.stringify(sent)}`);
    }
  }
}

// ------------------------------------------------------------------- client

function client(s) {
  const send = async (method, url, { body, token = s.token, headers = {} } = {}) => {
    const h = { ...headers };
    if (token) h.authorization = `Bearer ${token}`;
    let payload;
    if (body !== undefined) {
      payload = typeof body === 'string' ? body : JSON.stringify(body);
      if (!h['content-type']) h['content-type'] = 'application/json';
    }
    return { res: await fetch(s.httpUrl + url, { method, headers: h, body: payload }), sent: body };
  };

  // A request whose response is read whole and checked against the document.
  const call = async (method, url, opts = {}) => {
    const { res, sent } = await send(method, url, opts);
    const text = await res.text();
    let body = text;
    try { body = text ? JSON.parse(text) : null; } catch (_) { /* not JSON */ }
    const r = { method, url, status: res.status, headers: res.headers, text, body, sent };
    checkResponse(r);
    if (opts.expect !== undefined) {
      assert.strictEqual(r.status, opts.expect, `${method} ${url}: expected ${opts.expect}, got ${r.status}: ${text.slice(0, 300)}`);
    }
    return r;
  };

  // GET /api/v1/events: checks the response once the stream's preamble has
  // arrived, then keeps collecting events until close().
  const stream = async (url, opts = {}) => {
    const ac = new AbortController();
    const h = { ...(opts.headers || {}) };
    if (opts.token !== null) h.authorization = `Bearer ${opts.token || s.token}`;
    const res = await fetch(s.httpUrl + url, { headers: h, signal: ac.signal });
    if (!(res.headers.get('content-type') || '').startsWith('text/event-stream')) {
      const text = await res.text();
      checkResponse({ method: 'GET', url, status: res.status, headers: res.headers, text });
      return { status: res.status, text, events: [], close: () => {} };
    }
    const st = { status: res.status, text: '', events: [], close: async () => { ac.abort(); await st.done; } };
    let seenPreamble;
    const preamble = new Promise((resolve) => { seenPreamble = resolve; });
    st.done = (async () => {
      const dec = new TextDecoder();
      let buf = '';
      try {
        for await (const chunk of res.body) {
          const t = dec.decode(chunk, { stream: true });
          st.text += t;
          buf += t;
          let i;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const ev = {};
            for (const line of block.split('\n')) {
              if (line.startsWith('id: ')) ev.id = line.slice(4);
              else if (line.startsWith('event: ')) ev.type = line.slice(7);
              else if (line.startsWith('data: ')) ev.data = line.slice(6);
            }
            if (ev.type) st.events.push(ev);
            else seenPreamble();
          }
        }
      } catch (_) { /* aborted */ }
      seenPreamble();
    })();
    await Promise.race([preamble, new Promise((r) => setTimeout(r, 5000))]);
    assert.match(st.text, /^: ampgrid event stream\n/, `GET ${url}: stream preamble missing: ${JSON.stringify(st.text.slice(0, 100))}`);
    checkResponse({ method: 'GET', url, status: res.status, headers: res.headers, text: st.text });
    return st;
  };

  return { call, stream };
}

function tokenCreate(dataDir, role, name) {
  const r = spawnSync(BIN, ['token', 'create', '--data-dir', dataDir, '--role', role, '--name', name],
    { encoding: 'utf8', timeout: 20000 });
  assert.strictEqual(r.status, 0, `token create: ${r.stderr}`);
  return r.stdout.trim();
}

// Concrete URL for an operation, with placeholder path parameters.
function concrete(tpl) {
  const values = { stationId: 'NO-SUCH-STATION', idToken: 'NO-SUCH-TOKEN', sessionId: '999999', action: 'Reset', webhookId: '999999', deliveryId: '999999' };
  return tpl.replace(/\{([^}]+)\}/g, (_, n) => encodeURIComponent(values[n] || 'x'));
}

// The server's route table, from src/api/api.c.
function routeTable() {
  const src = fs.readFileSync(path.join(ROOT, 'src/api/api.c'), 'utf8');
  const block = src.match(/api_routes\[\]\s*=\s*\{([\s\S]*?)\n\};/);
  assert.ok(block, 'api_routes[] not found in src/api/api.c');
  const routes = [...block[1].matchAll(/\{\s*"([A-Z]+)",\s*"([^"]+)",\s*(\w+),\s*(ALLOW_\w+),\s*(true|false)\s*\}/g)]
    .map(([, method, pattern, fn, role, jsonBody]) => ({ method, pattern, fn, role, jsonBody: jsonBody === 'true' }));
  assert.ok(routes.length > 10, `only ${routes.length} routes parsed from api_routes[]`);
  return routes;
}

const norm = (tpl) => tpl.replace(/\{[^}]+\}/g, '{}');

// The route table's access classes (src/api/api_internal.h) as role sets.
const ALLOW = {
  ALLOW_PUBLIC: [],
  ALLOW_READ: ['viewer', 'integration', 'technician', 'operator', 'admin'],
  ALLOW_READ_PRIVATE: ['viewer', 'technician', 'operator', 'admin'],
  ALLOW_STATIONS: ['technician', 'operator', 'admin'],
  ALLOW_MAINTENANCE: ['technician', 'operator', 'admin'],
  ALLOW_OPERATE: ['operator', 'admin'],
  ALLOW_WEBHOOKS: ['integration', 'admin'],
  ALLOW_ADMIN: ['admin'],
  ALLOW_METER: ['integration', 'operator', 'admin'],
};

// ---------------------------------------------------------------------- test

test('the OpenAPI document describes the server exactly', async (t) => {
  const s = await new Server({
    config: `[ocpp]\ncall_timeout = 2\n[http]\nmax_body = ${MAX_BODY}\nrate_limit = 0\n[security]\nauth_fail_limit = 1000\n`,
  }).start();
  const { call, stream } = client(s);
  const streams = [];
  const stations = [];
  try {
    await t.test('the document is OpenAPI 3.1 with the expected basics', () => {
      assert.strictEqual(DOC.openapi, '3.1.0');
      assert.strictEqual(DOC.info.title, 'ampgrid');
      assert.strictEqual(DOC.info.version, '0.1.0');
      assert.deepStrictEqual(DOC.security, [{ bearer: [] }, { session: [] }]);
      assert.deepStrictEqual(DOC.components.securitySchemes.session, { ...DOC.components.securitySchemes.session, type: 'apiKey', in: 'cookie', name: 'ampgrid_session' });
      assert.deepStrictEqual(DOC.components.securitySchemes.bearer, { ...DOC.components.securitySchemes.bearer, type: 'http', scheme: 'bearer' });
      for (const name of ['Station', 'Connector', 'BootInfo', 'StationCreate', 'StationPatch', 'IdToken', 'IdTokenCreate',
        'IdTokenPatch', 'Session', 'SessionWithMeterValues', 'MeterValue', 'StatusHistoryEntry', 'StationEvent', 'Problem']) {
        assert.ok(DOC.components.schemas[name], `components.schemas.${name} missing`);
      }
      // every $ref resolves
      const walk = (o, where) => {
        if (!o || typeof o !== 'object') return;
        if (typeof o.$ref === 'string') assert.ok(at(o.$ref.replace(/^#/, '')), `${where}: $ref ${o.$ref} does not resolve`);
        for (const [k, v] of Object.entries(o)) walk(v, `${where}/${k}`);
      };
      walk(DOC, '#');
    });

    await t.test('the server serves this document at /api/v1/openapi.json without a token', async () => {
      const r = await call('GET', '/api/v1/openapi.json', { token: null, expect: 200 });
      assert.deepStrictEqual(r.body, DOC, 'the served document differs from docs/openapi.json (rebuild the server?)');
    });

    await t.test('health and metrics need no token', async () => {
      await call('GET', '/healthz', { token: null, expect: 200 });
      await call('GET', '/metrics', { token: null, expect: 200 });
    });

    await t.test('a path that is not in the document is 404, a method it does not list is 405', async () => {
      await call('GET', '/api/v1/no-such-thing', { expect: 404 });
      await call('GET', '/nope', { token: null, expect: 404 });
      await call('PUT', '/api/v1/stations', { body: { id: 'X' }, expect: 405 });
      await call('DELETE', '/api/v1/sessions', { expect: 405 });
      await call('OPTIONS', '/healthz', { token: null, expect: 405 });
      await call('GET', '/api/v1/stations/X/commands/Reset', { expect: 405 });
    });

    await t.test('every secured operation answers 401 without a token, or with a wrong one', async () => {
      for (const { tpl, method, op } of operations()) {
        if (op.security && op.security.length === 0) continue;
        const url = concrete(tpl);
        const body = op.requestBody ? {} : undefined;
        const r = await call(method, url, { token: null, body, expect: 401 });
        assert.match(r.headers.get('www-authenticate') || '', /^Bearer\b/);
        await call(method, url, { token: 'agt_' + '0'.repeat(64), body, expect: 401 });
      }
      await call('GET', '/api/v1/events?access_token=agt_wrong', { token: null, expect: 401 });
    });

    let viewer;
    await t.test('each role gets 403 on every operation its x-roles leaves out, and a viewer may read', async () => {
      viewer = tokenCreate(s.dataDir, 'viewer', 'openapi-viewer');
      for (const role of ALLOW.ALLOW_READ) {
        const tok = role === 'viewer' ? viewer : tokenCreate(s.dataDir, role, `openapi-${role}`);
        for (const { tpl, method, op } of operations()) {
          if (!op['x-roles'] || op['x-roles'].includes(role)) continue;
          const r = await call(method, concrete(tpl), { token: tok, body: op.requestBody ? {} : undefined, expect: 403 });
          assert.match(r.body.detail, new RegExp(`has the ${role} role`), `${method} ${tpl}: ${r.body.detail}`);
        }
      }
      await call('GET', '/api/v1/stations', { token: viewer, expect: 200 });
      await call('GET', '/api/v1/id-tokens', { token: viewer, expect: 200 });
    });

    // Event streams open from the start, so they see what follows.
    await t.test('GET /api/v1/events streams with a bearer header, or ?access_token= with filters', async () => {
      const all = await stream('/api/v1/events');
      streams.push(all);
      assert.strictEqual(all.status, 200);
      const filtered = await stream(`/api/v1/events?types=station.,command.&station=OA-1&access_token=${viewer}`, { token: null });
      streams.push(filtered);
      assert.strictEqual(filtered.status, 200);
      await call('GET', '/api/v1/events', { token: null, expect: 401 });
    });

    await t.test('stations: create, list, get, change, and their errors', async () => {
      await call('POST', '/api/v1/stations', { body: { id: 'OA-1', password: PW, description: 'OpenAPI test' }, expect: 201 });
      await call('POST', '/api/v1/stations', { body: { id: 'OA-OFF', security_profile: 0, registration_status: 'Pending', description: null }, expect: 201 });
      await call('POST', '/api/v1/stations', { body: { id: 'OA-DEL', password: PW }, expect: 201 });
      await call('POST', '/api/v1/stations', { body: { id: 'OA-1', password: PW }, expect: 409 });
      await call('POST', '/api/v1/stations', { body: { id: 'OA-X', password: PW, colour: 'red' }, expect: 400 });
      await call('POST', '/api/v1/stations', { body: { id: 'OA:bad', password: PW }, expect: 400 });
      await call('POST', '/api/v1/stations', { body: '{"id": ', expect: 400 });
      await call('POST', '/api/v1/stations', { body: '[]', expect: 400 });
      await call('POST', '/api/v1/stations', { body: 'id=OA-X', headers: { 'content-type': 'application/x-www-form-urlencoded' }, expect: 415 });
      await call('POST', '/api/v1/stations', { body: { id: 'OA-BIG', password: PW, description: 'x'.repeat(MAX_BODY) }, expect: 413 });
      await call('GET', '/api/v1/stations', { expect: 200 });
      await call('GET', '/api/v1/stations?connected=false', { expect: 200 });
      await call('GET', '/api/v1/stations/OA-1', { expect: 200 });
      await call('GET', '/api/v1/stations/NO-SUCH-STATION', { expect: 404 });
      await call('PATCH', '/api/v1/stations/OA-OFF', { body: { description: 'changed', registration_status: 'Accepted' }, expect: 200 });
      await call('PATCH', '/api/v1/stations/OA-OFF', { expect: 200 });
      await call('PATCH', '/api/v1/stations/OA-OFF', { body: { id: 'OTHER' }, expect: 400 });
      await call('PATCH', '/api/v1/stations/OA-OFF', { body: { security_profile: 1 }, expect: 400 });
      await call('PATCH', '/api/v1/stations/NO-SUCH-STATION', { body: { description: 'x' }, expect: 404 });
      await call('PATCH', '/api/v1/stations/OA-OFF', { body: 'x', headers: { 'content-type': 'text/plain' }, expect: 415 });
      await call('PATCH', '/api/v1/stations/OA-OFF', { body: { description: 'y'.repeat(MAX_BODY) }, expect: 413 });
      await call('DELETE', '/api/v1/stations/OA-DEL', { expect: 204 });
      await call('DELETE', '/api/v1/stations/OA-DEL', { expect: 404 });
    });

    await t.test('id tokens: create, list, get, change, delete, and their errors', async () => {
      await call('POST', '/api/v1/id-tokens', { body: { id_token: 'OA-GROUP' }, expect: 201 });
      await call('POST', '/api/v1/id-tokens', {
        body: { id_token: 'OA-TAG-1', type: 'ISO14443', status: 'Accepted', expiry: '2031-01-01T00:00:00Z', parent_id_token: 'OA-GROUP' }, expect: 201,
      });
      await call('POST', '/api/v1/id-tokens', { body: { id_token: 'OA-TAG-2', type: null, status: null, expiry: null, parent_id_token: null }, expect: 201 });
      await call('POST', '/api/v1/id-tokens', { body: { id_token: 'OA-TAG-DEL', status: 'Blocked' }, expect: 201 });
      await call('POST', '/api/v1/id-tokens', { body: { id_token: 'OA-TAG-1' }, expect: 409 });
      await call('POST', '/api/v1/id-tokens', { body: { id_token: 'OA-BAD', colour: 'red' }, expect: 400 });
      await call('POST', '/api/v1/id-tokens', { body: { id_token: 'OA-BAD', expiry: 'tomorrow' }, expect: 400 });
      await call('POST', '/api/v1/id-tokens', { body: { status: 'Accepted' }, expect: 400 });
      await call('POST', '/api/v1/id-tokens', { body: 'x', headers: { 'content-type': 'text/plain' }, expect: 415 });
      await call('POST', '/api/v1/id-tokens', { body: { id_token: 'OA-BIG', parent_id_token: 'z'.repeat(MAX_BODY) }, expect: 413 });
      const all = await call('GET', '/api/v1/id-tokens', { expect: 200 });
      assert.ok(all.body.items.length >= 4);
      await call('GET', '/api/v1/id-tokens?status=Blocked', { expect: 200 });
      await call('GET', '/api/v1/id-tokens/OA-TAG-1', { expect: 200 });
      await call('GET', '/api/v1/id-tokens/NO-SUCH-TOKEN', { expect: 404 });
      await call('PATCH', '/api/v1/id-tokens/OA-TAG-2', { body: { status: 'Blocked', expiry: '2030-06-01T12:00:00+02:00', parent_id_token: 'OA-GROUP' }, expect: 200 });
      await call('PATCH', '/api/v1/id-tokens/OA-TAG-2', { body: { status: 'Accepted', expiry: null, parent_id_token: null }, expect: 200 });
      await call('PATCH', '/api/v1/id-tokens/OA-TAG-2', { body: { id_token: 'OTHER' }, expect: 400 });
      await call('PATCH', '/api/v1/id-tokens/OA-TAG-2', { body: { type: 'Barcode' }, expect: 400 });
      await call('PATCH', '/api/v1/id-tokens/NO-SUCH-TOKEN', { body: { status: 'Blocked' }, expect: 404 });
      await call('PATCH', '/api/v1/id-tokens/OA-TAG-2', { body: 'x', headers: { 'content-type': 'text/plain' }, expect: 415 });
      await call('PATCH', '/api/v1/id-tokens/OA-TAG-2', { body: { parent_id_token: 'p'.repeat(MAX_BODY) }, expect: 413 });
      await call('DELETE', '/api/v1/id-tokens/OA-TAG-DEL', { expect: 204 });
      await call('DELETE', '/api/v1/id-tokens/OA-TAG-DEL', { expect: 404 });
    });

    // A connected station (ocpp-rpc, strict mode) whose answers tests choose.
    let cp;
    let behaviour;
    const defaults = {
      ClearCache: () => ({ status: 'Accepted' }),
      GetConfiguration: () => ({ configurationKey: [{ key: 'HeartbeatInterval', readonly: false, value: '300' }], unknownKey: [] }),
      ChangeConfiguration: () => ({ status: 'Accepted' }),
      Reset: () => ({ status: 'Accepted' }),
    };
    let sessionId;
    await t.test('a connected station: live state, status history, event log and sessions with meter values', async () => {
      cp = await s.bootedStation('OA-1');
      stations.push(cp);
      behaviour = { ...defaults };
      cp.handle(({ method, params }) => {
        const b = behaviour[method];
        if (!b) throw createRPCError('NotImplemented', `no behaviour for ${method}`);
        return b(params);
      });
      const now = () => new Date().toISOString();
      await cp.call('StatusNotification', { connectorId: 0, errorCode: 'NoError', status: 'Available', timestamp: now() });
      await cp.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Preparing', timestamp: now() });
      await cp.call('StatusNotification', { connectorId: 2, errorCode: 'GroundFailure', status: 'Faulted', info: 'rcd', vendorId: 'acme', vendorErrorCode: 'E7' });
      await cp.call('Heartbeat', {});
      await cp.call('DataTransfer', { vendorId: 'com.example', messageId: 'hello', data: 'world' });
      const start = await cp.call('StartTransaction', { connectorId: 1, idTag: 'OA-TAG-1', meterStart: 1000, timestamp: now() });
      assert.strictEqual(start.idTagInfo.status, 'Accepted');
      sessionId = start.transactionId;
      await cp.call('MeterValues', {
        connectorId: 1, transactionId: sessionId, meterValue: [{
          timestamp: now(), sampledValue: [
            { value: '1500', measurand: 'Energy.Active.Import.Register', unit: 'Wh', context: 'Sample.Periodic', location: 'Outlet', format: 'Raw' },
            { value: '41', measurand: 'SoC', unit: 'Percent' },
            { value: '230.1', measurand: 'Voltage', unit: 'V', phase: 'L1-N' },
          ],
        }],
      });
      await cp.call('StopTransaction', {
        transactionId: sessionId, meterStop: 2500, timestamp: now(), reason: 'Local', idTag: 'OA-TAG-1',
        transactionData: [{ timestamp: now(), sampledValue: [{ value: '2500', measurand: 'Energy.Active.Import.Register', unit: 'Wh', context: 'Transaction.End' }] }],
      });
      const active = await cp.call('StartTransaction', { connectorId: 2, idTag: 'OA-TAG-2', meterStart: 0, timestamp: now() });
      assert.strictEqual(active.idTagInfo.status, 'Accepted');

      const st = await call('GET', '/api/v1/stations/OA-1', { expect: 200 });
      assert.strictEqual(st.body.connected, true);
      assert.ok(st.body.connectors.length >= 3, JSON.stringify(st.body.connectors));
      await call('GET', '/api/v1/stations?connected=true', { expect: 200 });
      const hist = await call('GET', '/api/v1/stations/OA-1/status-history?limit=10', { expect: 200 });
      assert.ok(hist.body.items.length >= 3);
      await call('GET', '/api/v1/stations/OA-1/status-history', { token: viewer, expect: 200 });
      await call('GET', '/api/v1/stations/NO-SUCH-STATION/status-history', { expect: 404 });
      const evs = await call('GET', '/api/v1/stations/OA-1/events', { expect: 200 });
      assert.ok(evs.body.items.some((e) => e.kind === 'data_transfer'), JSON.stringify(evs.body.items));
      await call('GET', '/api/v1/stations/NO-SUCH-STATION/events?limit=5', { expect: 404 });
      await call('GET', '/api/v1/stations/OA-1/variables', { expect: 200 });
      await call('GET', '/api/v1/stations/OA-1/variables?component=X&variable=Y', { token: viewer, expect: 200 });
      await call('GET', '/api/v1/stations/NO-SUCH-STATION/variables', { expect: 404 });
      const set = await call('POST', '/api/v1/stations/OA-1/variables', { body: { variable: 'HeartbeatInterval', value: '120' }, expect: 200 });
      assert.strictEqual(set.body.status, 'Accepted');
      const vars = await call('GET', '/api/v1/stations/OA-1/variables?variable=HeartbeatInterval', { expect: 200 });
      assert.strictEqual(vars.body.items[0].value, '120');
      await call('POST', '/api/v1/stations/OA-1/variables', { body: { value: '1' }, expect: 400 });
      await call('POST', '/api/v1/stations/OA-1/variables', { body: { variable: 'a', value: 1 }, expect: 400 });
      await call('POST', '/api/v1/stations/NO-SUCH-STATION/variables', { body: { variable: 'a', value: '1' }, expect: 404 });

      const list = await call('GET', '/api/v1/sessions', { expect: 200 });
      assert.ok(list.body.items.length >= 2);
      const from = encodeURIComponent(new Date(Date.now() - 3600e3).toISOString());
      const to = encodeURIComponent(new Date(Date.now() + 3600e3).toISOString());
      await call('GET', `/api/v1/sessions?station=OA-1&id_token=OA-TAG-1&active=false&from=${from}&to=${to}&limit=10&offset=0`, { expect: 200 });
      const act = await call('GET', '/api/v1/sessions?active=true&limit=1&offset=0', { expect: 200 });
      assert.strictEqual(act.body.items.length, 1);
      await call('GET', '/api/v1/sessions?limit=0', { expect: 400 });
      await call('GET', '/api/v1/sessions?offset=-1', { expect: 400 });
      await call('GET', '/api/v1/sessions?active=maybe', { expect: 400 });
      await call('GET', '/api/v1/sessions?from=yesterday', { expect: 400 });
      const one = await call('GET', `/api/v1/sessions/${sessionId}`, { expect: 200 });
      assert.ok(one.body.meter_values.length >= 4, JSON.stringify(one.body.meter_values));
      assert.strictEqual(one.body.energy_wh, 1500);
      await call('GET', `/api/v1/sessions/${active.transactionId}`, { token: viewer, expect: 200 });
      await call('GET', '/api/v1/sessions/999999', { expect: 404 });
      await call('GET', '/api/v1/sessions/abc', { expect: 404 });
    });

    const cmd = (station, action, opts) => call('POST', `/api/v1/stations/${station}/commands/${action}`, opts);
    await t.test('commands: the station\'s answer, and every way a command fails', async () => {
      const ok = await cmd('OA-1', 'ClearCache', { body: {}, expect: 200 });
      assert.deepStrictEqual(ok.body, { status: 'Accepted' });
      await cmd('OA-1', 'GetConfiguration', { expect: 200 }); // no body: the empty payload
      await cmd('OA-1', 'Reset', { body: { type: 'Medium' }, expect: 400 });
      await cmd('OA-1', 'NoSuchAction', { body: {}, expect: 400 });
      await cmd('OA-1', 'BootNotification', { body: {}, expect: 400 });
      await cmd('OA-1', 'Reset', { body: '"Soft"', expect: 400 });
      await cmd('OA-1', 'Reset', { body: 'type=Soft', headers: { 'content-type': 'text/plain' }, expect: 415 });
      await cmd('OA-1', 'DataTransfer', { body: { vendorId: 'x', data: 'd'.repeat(MAX_BODY) }, expect: 413 });
      await cmd('NO-SUCH-STATION', 'Reset', { body: { type: 'Soft' }, expect: 404 });
      await cmd('OA-OFF', 'Reset', { body: { type: 'Soft' }, expect: 409 });
      behaviour.Reset = () => { throw createRPCError('NotSupported', 'resets are disabled'); };
      await cmd('OA-1', 'Reset', { body: { type: 'Hard' }, expect: 502 });
      behaviour.Reset = () => new Promise(() => {}); // never answers
      await cmd('OA-1', 'Reset', { body: { type: 'Soft' }, expect: 504 });
      behaviour = { ...defaults };
    });

    await t.test('rotate-password: accepted, already running, rejected, offline, unknown', async () => {
      const r = await call('POST', '/api/v1/stations/OA-1/rotate-password', { expect: 200 });
      assert.deepStrictEqual(r.body, { station_id: 'OA-1', outcome: 'Accepted' });
      let release;
      behaviour.ChangeConfiguration = () => new Promise((resolve) => { release = resolve; });
      const first = call('POST', '/api/v1/stations/OA-1/rotate-password');
      await waitFor(() => release, { what: 'the station to receive the new password', timeout: 5000 });
      await call('POST', '/api/v1/stations/OA-1/rotate-password', { expect: 409 });
      release({ status: 'Rejected' });
      const f = await first;
      assert.strictEqual(f.status, 502, f.text);
      behaviour = { ...defaults };
      await call('POST', '/api/v1/stations/OA-OFF/rotate-password', { expect: 409 });
      await call('POST', '/api/v1/stations/NO-SUCH-STATION/rotate-password', { expect: 404 });
      await call('GET', '/api/v1/stations/OA-1', { expect: 200 }); // password_rotation filled in
      await call('GET', '/api/v1/stations/OA-1/events?limit=100', { expect: 200 }); // command outcomes
    });

    await t.test('the event streams delivered events of documented types with JSON object data', async () => {
      const [all, filtered] = streams;
      await waitFor(() => all.events.some((e) => e.type === 'command.result') && filtered.events.some((e) => e.type === 'command.result'),
        { what: 'command.result events on both streams', timeout: 5000 });
      const typeV = validator(ptr('components', 'schemas', 'EventType'));
      for (const ev of all.events) {
        assert.ok(typeV(ev.type), `event type ${ev.type} is not in components.schemas.EventType`);
        const d = JSON.parse(ev.data);
        assert.strictEqual(typeof d, 'object');
        assert.strictEqual(typeof d.station_id, 'string', ev.data);
        assert.ok(!Number.isNaN(Date.parse(d.time)), ev.data);
      }
      for (const ev of filtered.events) {
        assert.ok(/^(station|command)\./.test(ev.type), ev.type);
        assert.strictEqual(JSON.parse(ev.data).station_id, 'OA-1');
      }
      // Last-Event-ID replays
      const replay = await stream('/api/v1/events?types=station.created', { headers: { 'last-event-id': '0' } });
      streams.push(replay);
      await waitFor(() => replay.events.length > 0, { what: 'replayed events', timeout: 5000 });
    });

    await t.test('deleting a connected station', async () => {
      await call('DELETE', '/api/v1/stations/OA-1', { expect: 204 });
      await call('GET', '/api/v1/stations/OA-1', { expect: 404 });
    });

    await t.test('users, login sessions, API tokens and the audit log', async () => {
      // a login session: cookie + CSRF token
      const pw = 'openapi-password-1';
      await call('POST', '/api/v1/users', { body: { username: 'oa-user', password: pw, role: 'admin' }, expect: 201 });
      await call('POST', '/api/v1/users', { body: { username: 'oa-user', password: pw, role: 'admin' }, expect: 409 });
      await call('POST', '/api/v1/users', { body: { username: 'bad name', password: pw, role: 'admin' }, expect: 400 });
      await call('POST', '/api/v1/auth/login', { token: null, body: { username: 'oa-user', password: 'wrong-password' }, expect: 401 });
      const login = await call('POST', '/api/v1/auth/login', { token: null, body: { username: 'oa-user', password: pw }, expect: 200 });
      const cookie = login.headers.get('set-cookie').split(';')[0];
      const csrf = login.body.csrf_token;
      const as = (extra = {}) => ({ token: null, headers: { cookie, ...extra } });
      const me = await call('GET', '/api/v1/auth/me', { ...as(), expect: 200 });
      assert.strictEqual(me.body.kind, 'user');
      await call('GET', '/api/v1/auth/me', { expect: 200 });
      await call('GET', '/api/v1/users', { ...as(), expect: 200 });
      await call('GET', '/api/v1/users/oa-user', { ...as(), expect: 200 });
      await call('GET', '/api/v1/users/nobody', { ...as(), expect: 404 });
      await call('PATCH', '/api/v1/users/oa-user', { ...as(), body: { role: 'viewer' }, expect: 403 }); // no CSRF token
      await call('PATCH', '/api/v1/users/oa-user', { ...as({ 'x-csrf-token': csrf }), body: { role: 'viewer' }, expect: 409 }); // yourself
      await call('POST', '/api/v1/users', { body: { username: 'oa-other', password: pw, role: 'viewer' }, expect: 201 });
      await call('PATCH', '/api/v1/users/oa-other', { ...as({ 'x-csrf-token': csrf }), body: { role: 'technician' }, expect: 200 });
      await call('PATCH', '/api/v1/users/oa-other', { body: { nope: 1 }, expect: 400 });
      await call('PATCH', '/api/v1/users/nobody', { body: { disabled: true }, expect: 404 });
      await call('DELETE', '/api/v1/users/oa-other', { ...as({ 'x-csrf-token': csrf }), expect: 204 });
      await call('DELETE', '/api/v1/users/oa-other', { expect: 404 });
      await call('DELETE', '/api/v1/users/oa-user', { ...as({ 'x-csrf-token': csrf }), expect: 409 });
      await call('POST', '/api/v1/auth/password', { ...as({ 'x-csrf-token': csrf }), body: { current_password: pw, new_password: 'short' }, expect: 400 });
      await call('POST', '/api/v1/auth/password', { body: { current_password: pw, new_password: 'another-password-2' }, expect: 400 }); // a token has no password
      // API tokens
      const created = await call('POST', '/api/v1/api-tokens', { body: { name: 'oa-token', role: 'viewer', expires_at: '2099-01-01T00:00:00Z' }, expect: 201 });
      assert.match(created.body.token, /^agt_[0-9a-f]{64}$/);
      await call('POST', '/api/v1/api-tokens', { body: { name: 'oa-token', role: 'boss' }, expect: 400 });
      await call('GET', '/api/v1/stations', { token: created.body.token, expect: 200 });
      const list = await call('GET', '/api/v1/api-tokens', { expect: 200 });
      assert.ok(list.body.items.some((x) => x.id === created.body.id && !('token' in x)));
      await call('DELETE', `/api/v1/api-tokens/${created.body.id}`, { expect: 204 });
      await call('GET', '/api/v1/stations', { token: created.body.token, expect: 401 });
      await call('DELETE', '/api/v1/api-tokens/999999', { expect: 404 });
      // the audit log, paged
      const page1 = await call('GET', '/api/v1/audit-log?limit=2', { expect: 200 });
      assert.strictEqual(page1.body.items.length, 2);
      assert.ok(page1.body.next_cursor);
      const page2 = await call('GET', `/api/v1/audit-log?limit=2&cursor=${page1.body.next_cursor}`, { expect: 200 });
      assert.ok(page2.body.items[0].id < page1.body.items[1].id);
      await call('GET', '/api/v1/audit-log?action=user.*&target_type=user', { expect: 200 });
      await call('GET', '/api/v1/audit-log?cursor=garbage', { expect: 400 });
      // sessions, stations and id tokens page with cursors too
      await call('GET', '/api/v1/sessions?limit=1&site=nowhere', { expect: 200 });
      await call('GET', '/api/v1/id-tokens?limit=1&q=a', { expect: 200 });
      await call('GET', '/api/v1/stations?limit=0', { expect: 400 });
      // and sort; users and API tokens page too
      await call('GET', '/api/v1/sessions?sort=-energy_wh&limit=1', { expect: 200 });
      await call('GET', '/api/v1/stations?sort=-last_heartbeat_at', { expect: 200 });
      await call('GET', '/api/v1/users?sort=-last_login_at&limit=1', { expect: 200 });
      await call('GET', '/api/v1/users?sort=password_hash', { expect: 400 });
      await call('GET', '/api/v1/api-tokens?sort=expires_at&limit=1', { expect: 200 });
      await call('GET', '/api/v1/api-tokens?limit=0', { expect: 400 });
      // logging out ends the session
      await call('POST', '/api/v1/auth/logout', { ...as({ 'x-csrf-token': csrf }), expect: 204 });
      await call('GET', '/api/v1/auth/me', { ...as(), expect: 401 });
      await call('POST', '/api/v1/auth/logout', { expect: 400 });
      const relog = await call('POST', '/api/v1/auth/login', { token: null, body: { username: 'oa-user', password: pw }, expect: 200 });
      const c2 = relog.headers.get('set-cookie').split(';')[0];
      await call('POST', '/api/v1/auth/password', { token: null, headers: { cookie: c2, 'x-csrf-token': relog.body.csrf_token }, body: { current_password: pw, new_password: 'another-password-2' }, expect: 204 });
      await call('GET', '/api/v1/auth/me', { token: null, headers: { cookie: c2 }, expect: 401 });
    });

    await t.test('webhooks: create, list, get, change, rotate, test, deliveries, redeliver, delete', async () => {
      const hook = await call('POST', '/api/v1/webhooks', { body: { url: 'https://example.com/hook', event_types: ['session.started', 'connector.fault'], description: 'OpenAPI test' }, expect: 201 });
      const id = hook.body.id;
      await call('POST', '/api/v1/webhooks', { body: { url: 'http://example.com/all', event_types: ['*'], enabled: false, description: null, secret: 'an-own-secret-0123456789' }, expect: 201 });
      await call('POST', '/api/v1/webhooks', { body: { url: 'file:///etc/passwd', event_types: ['*'] }, expect: 400 });
      await call('POST', '/api/v1/webhooks', { body: { url: 'https://example.com/', event_types: ['*'], colour: 'red' }, expect: 400 });
      await call('POST', '/api/v1/webhooks', { body: 'url=x', headers: { 'content-type': 'text/plain' }, expect: 415 });
      await call('POST', '/api/v1/webhooks', { body: { url: 'https://example.com/', event_types: ['*'], description: 'd'.repeat(MAX_BODY) }, expect: 413 });
      await call('GET', '/api/v1/webhooks', { expect: 200 });
      await call('GET', `/api/v1/webhooks/${id}`, { expect: 200 });
      await call('GET', '/api/v1/webhooks/999999', { expect: 404 });
      await call('PATCH', `/api/v1/webhooks/${id}`, { body: { enabled: false, event_types: ['*'], description: null, url: 'https://example.com/other' }, expect: 200 });
      await call('PATCH', `/api/v1/webhooks/${id}`, { body: { secret: 'x'.repeat(20) }, expect: 400 });
      await call('PATCH', '/api/v1/webhooks/999999', { body: { enabled: true }, expect: 404 });
      await call('PATCH', `/api/v1/webhooks/${id}`, { body: 'x', headers: { 'content-type': 'text/plain' }, expect: 415 });
      await call('PATCH', `/api/v1/webhooks/${id}`, { body: { description: 'y'.repeat(MAX_BODY) }, expect: 413 });
      await call('POST', `/api/v1/webhooks/${id}/rotate-secret`, { expect: 200 });
      await call('POST', '/api/v1/webhooks/999999/rotate-secret', { expect: 404 });
      const ping = await call('POST', `/api/v1/webhooks/${id}/test`, { expect: 202 });
      await call('POST', '/api/v1/webhooks/999999/test', { expect: 404 });
      const page = await call('GET', `/api/v1/webhooks/${id}/deliveries?state=pending&limit=1`, { expect: 200 });
      assert.strictEqual(page.body.items[0].event_type, 'ping');
      await call('GET', `/api/v1/webhooks/${id}/deliveries`, { expect: 200 });
      await call('GET', `/api/v1/webhooks/${id}/deliveries?limit=1000`, { expect: 400 });
      await call('GET', '/api/v1/webhooks/999999/deliveries', { expect: 404 });
      await call('GET', `/api/v1/webhooks/${id}/deliveries?sort=-attempts&limit=1`, { expect: 200 });
      await call('GET', `/api/v1/webhooks/${id}/deliveries/${ping.body.id}`, { expect: 200 });
      await call('GET', `/api/v1/webhooks/${id}/deliveries/999999`, { expect: 404 });
      await call('POST', `/api/v1/webhooks/${id}/deliveries/${ping.body.id}/redeliver`, { expect: 202 });
      await call('POST', `/api/v1/webhooks/${id}/deliveries/999999/redeliver`, { expect: 404 });
      await call('DELETE', `/api/v1/webhooks/${id}`, { expect: 204 });
      await call('DELETE', `/api/v1/webhooks/${id}`, { expect: 404 });
    });

    await t.test('analytics, exports and public locations: reports, CSV and the open availability list', async () => {
      await call('POST', '/api/v1/stations', { body: { id: 'OA-AN', password: PW, site: 'OA site', location: { name: 'OA', city: 'Utrecht', country: 'NL', latitude: 52.1, longitude: 5.1 } }, expect: 201 });
      await call('POST', '/api/v1/id-tokens', { body: { id_token: 'OA-AN-TAG' }, expect: 201 });
      const an = await s.bootedStation('OA-AN');
      stations.push(an);
      await an.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Charging', timestamp: '2026-01-10T10:00:00Z' });
      const tx = await an.call('StartTransaction', { connectorId: 1, idTag: 'OA-AN-TAG', meterStart: 0, timestamp: '2026-01-10T10:00:00Z' });
      await an.call('MeterValues', { connectorId: 1, transactionId: tx.transactionId, meterValue: [{ timestamp: '2026-01-10T11:00:00Z', sampledValue: [{ value: '=1', measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] }] });
      await an.call('StopTransaction', { transactionId: tx.transactionId, meterStop: 3000, timestamp: '2026-01-10T12:00:00Z' });
      const range = 'from=2026-01-10T00:00:00Z&to=2026-01-11T00:00:00Z';
      const e = await call('GET', `/api/v1/analytics/energy?${range}&bucket=hour&station=OA-AN&utc_offset=%2B01:00`, { token: viewer, expect: 200 });
      assert.strictEqual(e.body.totals.energy_wh, 3000);
      await call('GET', '/api/v1/analytics/energy', { expect: 200 });
      await call('GET', '/api/v1/analytics/energy?bucket=fortnight', { expect: 400 });
      await call('GET', '/api/v1/analytics/energy?station=NO-SUCH-STATION', { expect: 404 });
      await call('GET', `/api/v1/analytics/utilization?${range}&group_by=connector&bucket=day&site=OA%20site`, { expect: 200 });
      await call('GET', `/api/v1/analytics/utilization?${range}`, { expect: 200 });
      await call('GET', '/api/v1/analytics/utilization?group_by=evse', { expect: 400 });
      await call('GET', '/api/v1/analytics/utilization?station=NO-SUCH-STATION', { expect: 404 });
      await call('GET', `/api/v1/analytics/sessions-by-hour?${range}`, { expect: 200 });
      await call('GET', '/api/v1/analytics/sessions-by-hour?utc_offset=nope', { expect: 400 });
      await call('GET', '/api/v1/analytics/sessions-by-hour?station=NO-SUCH-STATION', { expect: 404 });
      for (const g of ['network', 'site', 'station']) await call('GET', `/api/v1/analytics/summary?${range}&group_by=${g}`, { expect: 200 });
      await call('GET', '/api/v1/analytics/summary?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z', { expect: 400 });
      await call('GET', '/api/v1/analytics/summary?station=NO-SUCH-STATION', { expect: 404 });
      const csv = await call('GET', `/api/v1/exports/sessions.csv?${range}&station=OA-AN`, { token: viewer, expect: 200 });
      assert.match(csv.text, /^session_id,/);
      await call('GET', '/api/v1/exports/sessions.csv?site=OA%20site', { expect: 200 });
      await call('GET', '/api/v1/exports/sessions.csv?from=nope', { expect: 400 });
      await call('GET', '/api/v1/exports/sessions.csv?station=NO-SUCH-STATION', { expect: 404 });
      const mv = await call('GET', `/api/v1/exports/meter-values.csv?session=${tx.transactionId}`, { expect: 200 });
      assert.ok(mv.text.includes(",'=1,"), mv.text);
      await call('GET', `/api/v1/exports/meter-values.csv?station=OA-AN&${range}`, { expect: 200 });
      await call('GET', '/api/v1/exports/meter-values.csv', { expect: 400 });
      await call('GET', '/api/v1/exports/meter-values.csv?session=999999', { expect: 404 });
      const pub = await call('GET', '/api/v1/public/locations', { token: null, expect: 200 });
      assert.ok(pub.body.locations.some((l) => l.id === 'OA-AN'));
    });

    await t.test('alerts: list, get, acknowledge, resolve, rules', async () => {
      await call('POST', '/api/v1/stations', { body: { id: 'OA-AL', password: PW }, expect: 201 });
      const al = await s.bootedStation('OA-AL');
      stations.push(al);
      await al.call('StatusNotification', { connectorId: 1, errorCode: 'GroundFailure', vendorErrorCode: 'E1', status: 'Faulted', timestamp: new Date().toISOString() });
      const found = await waitFor(async () => {
        const r = await call('GET', '/api/v1/alerts?station=OA-AL&state=open&rule=connector_faulted', { expect: 200 });
        return r.body.items[0];
      }, { what: 'the connector_faulted alert' });
      await call('GET', '/api/v1/alerts', { token: viewer, expect: 200 });
      await call('GET', `/api/v1/alerts?severity=major,minor&site=nowhere&since=2026-01-01T00:00:00Z&sort=-last_seen&limit=1`, { expect: 200 });
      await call('GET', '/api/v1/alerts?state=sideways', { expect: 400 });
      await call('GET', `/api/v1/alerts/${found.id}`, { expect: 200 });
      await call('GET', '/api/v1/alerts/999999', { expect: 404 });
      await call('POST', `/api/v1/alerts/${found.id}/acknowledge`, { body: { colour: 'red' }, expect: 400 });
      await call('POST', `/api/v1/alerts/${found.id}/acknowledge`, { body: 'x', headers: { 'content-type': 'text/plain' }, expect: 415 });
      await call('POST', `/api/v1/alerts/${found.id}/acknowledge`, { body: { note: 'n'.repeat(MAX_BODY) }, expect: 413 });
      await call('POST', '/api/v1/alerts/999999/acknowledge', { body: {}, expect: 404 });
      await call('POST', `/api/v1/alerts/${found.id}/acknowledge`, { body: { note: 'on it' }, expect: 200 });
      await call('POST', `/api/v1/alerts/${found.id}/acknowledge`, { body: {}, expect: 409 });
      await call('POST', `/api/v1/alerts/${found.id}/resolve`, { body: { note: null, colour: 1 }, expect: 400 });
      await call('POST', `/api/v1/alerts/${found.id}/resolve`, { body: 'x', headers: { 'content-type': 'text/plain' }, expect: 415 });
      await call('POST', `/api/v1/alerts/${found.id}/resolve`, { body: { note: 'r'.repeat(MAX_BODY) }, expect: 413 });
      await call('POST', '/api/v1/alerts/999999/resolve', { body: {}, expect: 404 });
      await call('POST', `/api/v1/alerts/${found.id}/resolve`, { body: { note: 'fixed' }, expect: 200 });
      await call('POST', `/api/v1/alerts/${found.id}/resolve`, { expect: 409 });
      await call('GET', '/api/v1/alert-rules', { token: viewer, expect: 200 });
    });

    await t.test('maintenance: work orders, parts, depots, stock, plans, windows', async () => {
      await call('POST', '/api/v1/stations', { body: { id: 'OA-WO', password: PW, site: 'OA wo site' }, expect: 201 });
      await call('POST', '/api/v1/users', { body: { username: 'oa-tech', password: 'a-long-passphrase-9', role: 'technician' }, expect: 201 });
      const wo = (await call('POST', '/api/v1/work-orders', { body: { title: 'Replace RCD', station_id: 'OA-WO', connector: { evse_id: 1, connector_id: 1 }, priority: 'high', description: null }, expect: 201 })).body;
      await call('POST', '/api/v1/work-orders', { body: { title: 'x', colour: 'red' }, expect: 400 });
      await call('POST', '/api/v1/work-orders', { body: 'x', headers: { 'content-type': 'text/plain' }, expect: 415 });
      await call('POST', '/api/v1/work-orders', { body: { title: 't'.repeat(MAX_BODY) }, expect: 413 });
      await call('GET', '/api/v1/work-orders', { token: viewer, expect: 200 });
      await call('GET', '/api/v1/work-orders?assignee=me&state=open,assigned&priority=high&station=OA-WO&site=OA%20wo%20site&since=2026-01-01T00:00:00Z&sort=-priority&limit=1', { expect: 200 });
      await call('GET', '/api/v1/work-orders?state=sideways', { expect: 400 });
      await call('GET', `/api/v1/work-orders/${wo.id}`, { expect: 200 });
      await call('GET', '/api/v1/work-orders/999999', { expect: 404 });
      await call('PATCH', `/api/v1/work-orders/${wo.id}`, { body: { assignee: 'oa-tech' }, expect: 200 });
      await call('PATCH', `/api/v1/work-orders/${wo.id}`, { body: { state: 'closed' }, expect: 409 });
      await call('PATCH', `/api/v1/work-orders/${wo.id}`, { body: { colour: 'red' }, expect: 400 });
      await call('PATCH', '/api/v1/work-orders/999999', { body: { state: 'open' }, expect: 404 });
      await call('POST', `/api/v1/work-orders/${wo.id}/notes`, { body: { text: 'on my way' }, expect: 201 });
      await call('POST', '/api/v1/work-orders/999999/notes', { body: { text: 'x' }, expect: 404 });
      await call('POST', `/api/v1/work-orders/${wo.id}/time`, { body: { minutes: 30, note: null }, expect: 201 });
      await call('POST', `/api/v1/work-orders/${wo.id}/time`, { body: { minutes: 0 }, expect: 400 });
      const part = (await call('POST', '/api/v1/parts', { body: { sku: 'OA-RCD', name: 'RCD', models: ['oa'], unit: 'piece', description: null }, expect: 201 })).body;
      await call('POST', '/api/v1/parts', { body: { sku: 'OA-RCD', name: 'again' }, expect: 409 });
      await call('GET', '/api/v1/parts?model=oa&sort=-name&limit=5', { token: viewer, expect: 200 });
      await call('GET', `/api/v1/parts/${part.id}`, { expect: 200 });
      await call('GET', '/api/v1/parts/999999', { expect: 404 });
      await call('PATCH', `/api/v1/parts/${part.id}`, { body: { name: 'RCD 30 mA' }, expect: 200 });
      await call('PATCH', '/api/v1/parts/999999', { body: { name: 'x' }, expect: 404 });
      const depot = (await call('POST', '/api/v1/depots', { body: { name: 'OA depot', location: null }, expect: 201 })).body;
      await call('GET', '/api/v1/depots?sort=id', { expect: 200 });
      await call('GET', `/api/v1/depots/${depot.id}`, { expect: 200 });
      await call('PATCH', `/api/v1/depots/${depot.id}`, { body: { location: 'Dock 2' }, expect: 200 });
      await call('GET', '/api/v1/depots/999999', { expect: 404 });
      await call('POST', '/api/v1/stock/adjustments', { body: { part_id: part.id, depot_id: depot.id, kind: 'receive', quantity: 3, low_threshold: 1, note: null }, expect: 200 });
      await call('POST', '/api/v1/stock/adjustments', { body: { part_id: 999999, depot_id: depot.id, kind: 'receive', quantity: 3 }, expect: 404 });
      await call('POST', '/api/v1/stock/adjustments', { body: { part_id: part.id, depot_id: depot.id, kind: 'sideways', quantity: 3 }, expect: 400 });
      await call('GET', `/api/v1/stock?part=${part.id}&depot=${depot.id}&low=false`, { expect: 200 });
      await call('GET', '/api/v1/stock?part=x', { expect: 400 });
      await call('POST', `/api/v1/work-orders/${wo.id}/parts`, { body: { part_id: part.id, depot_id: depot.id, quantity: 1 }, expect: 201 });
      await call('POST', `/api/v1/work-orders/${wo.id}/parts`, { body: { part_id: part.id, depot_id: depot.id, quantity: 5 }, expect: 409 });
      const att = (await call('POST', `/api/v1/work-orders/${wo.id}/attachments?name=report.txt`, { body: 'all good', headers: { 'content-type': 'text/plain' }, expect: 201 })).body;
      await call('POST', `/api/v1/work-orders/${wo.id}/attachments?name=..%2Fx`, { body: 'x', headers: { 'content-type': 'text/plain' }, expect: 400 });
      await call('POST', '/api/v1/work-orders/999999/attachments?name=a.txt', { body: 'x', headers: { 'content-type': 'text/plain' }, expect: 404 });
      const dl = await call('GET', `/api/v1/work-orders/${wo.id}/attachments/${att.id}`, { expect: 200 });
      assert.strictEqual(dl.text, 'all good');
      await call('GET', `/api/v1/work-orders/${wo.id}/attachments/999999`, { expect: 404 });
      const plan = (await call('POST', '/api/v1/maintenance-plans', { body: { name: 'Yearly calibration', interval_days: 365, task: 'Calibrate the meter', scope: { kind: 'station', value: 'OA-WO' }, priority: 'low', next_due: '2030-01-01T00:00:00Z', enabled: true }, expect: 201 })).body;
      await call('POST', '/api/v1/maintenance-plans', { body: { name: 'x', interval_days: 0, task: 'x', scope: { kind: 'station', value: 'OA-WO' } }, expect: 400 });
      await call('GET', '/api/v1/maintenance-plans?sort=-next_due', { expect: 200 });
      await call('GET', `/api/v1/maintenance-plans/${plan.id}`, { expect: 200 });
      await call('GET', '/api/v1/maintenance-plans/999999', { expect: 404 });
      await call('PATCH', `/api/v1/maintenance-plans/${plan.id}`, { body: { enabled: false }, expect: 200 });
      await call('PATCH', '/api/v1/maintenance-plans/999999', { body: { enabled: false }, expect: 404 });
      await call('DELETE', `/api/v1/maintenance-plans/${plan.id}`, { expect: 204 });
      await call('DELETE', `/api/v1/maintenance-plans/${plan.id}`, { expect: 404 });
      const win = (await call('POST', '/api/v1/maintenance-windows', { body: { site: 'OA wo site', from: '2030-02-01T08:00:00Z', to: '2030-02-01T12:00:00Z', reason: 'RCD swap', work_order_id: wo.id }, expect: 201 })).body;
      await call('POST', '/api/v1/maintenance-windows', { body: { station_id: 'NO-SUCH-STATION', from: '2030-02-01T08:00:00Z', to: '2030-02-01T12:00:00Z', reason: 'x' }, expect: 400 });
      await call('GET', '/api/v1/maintenance-windows?station=OA-WO&sort=id', { expect: 200 });
      await call('GET', `/api/v1/maintenance-windows/${win.id}`, { expect: 200 });
      await call('GET', '/api/v1/maintenance-windows/999999', { expect: 404 });
      await call('DELETE', `/api/v1/maintenance-windows/${win.id}`, { expect: 204 });
      await call('DELETE', `/api/v1/maintenance-windows/${win.id}`, { expect: 404 });
    });

    await t.test('uptime: reports, outages, exclusions and the quarterly NEVI report', async () => {
      await call('POST', '/api/v1/stations', { body: { id: 'OA-UP', password: PW, site: 'OA site' }, expect: 201 });
      const up = await s.bootedStation('OA-UP');
      stations.push(up);
      const st = (status, errorCode, timestamp) => up.call('StatusNotification', { connectorId: 1, errorCode, status, timestamp });
      await st('Available', 'NoError', '2026-01-10T00:00:00Z');
      await st('Faulted', 'GroundFailure', '2026-01-10T10:00:00Z');
      await st('Available', 'NoError', '2026-01-10T11:00:00Z');
      const range = 'from=2026-01-10T00:00:00Z&to=2026-01-11T00:00:00Z';
      const win = { from: '2026-01-10T10:00:00Z', to: '2026-01-10T10:30:00Z' };
      const ex = await call('POST', '/api/v1/uptime/exclusions', { body: { station_id: 'OA-UP', evse_id: 1, reason: 'grid_outage', ...win, note: 'feeder trip' }, expect: 201 });
      await call('POST', '/api/v1/uptime/exclusions', { body: { station_id: 'NO-SUCH-STATION', reason: 'vandalism', ...win }, expect: 400 });
      await call('POST', '/api/v1/uptime/exclusions', { body: { station_id: 'OA-UP', reason: 'vandalism', ...win, colour: 'red' }, expect: 400 });
      await call('POST', '/api/v1/uptime/exclusions', { body: 'x', headers: { 'content-type': 'text/plain' }, expect: 415 });
      await call('POST', '/api/v1/uptime/exclusions', { body: { station_id: 'OA-UP', note: 'n'.repeat(MAX_BODY) }, expect: 413 });
      const r = await call('GET', `/api/v1/uptime?${range}&site=OA%20site`, { token: viewer, expect: 200 });
      assert.strictEqual(r.body.ports.find((x) => x.station_id === 'OA-UP').counted_outage_minutes, 30);
      await call('GET', '/api/v1/uptime', { expect: 200 });
      await call('GET', '/api/v1/uptime?period=2026-Q5', { expect: 400 });
      await call('GET', `/api/v1/uptime/outages?${range}&station=OA-UP&evse_id=1`, { expect: 200 });
      await call('GET', '/api/v1/uptime/outages?station=NO-SUCH-STATION', { expect: 400 });
      await call('GET', '/api/v1/uptime/exclusions?station=OA-UP', { expect: 200 });
      await call('GET', '/api/v1/uptime/exclusions?sort=colour', { expect: 400 });
      await call('GET', `/api/v1/uptime/exclusions/${ex.body.id}`, { expect: 200 });
      await call('GET', '/api/v1/uptime/exclusions/999999', { expect: 404 });
      await call('PATCH', `/api/v1/uptime/exclusions/${ex.body.id}`, { body: { note: null, to: '2026-01-10T10:45:00Z' }, expect: 200 });
      await call('PATCH', `/api/v1/uptime/exclusions/${ex.body.id}`, { body: { station_id: 'OTHER' }, expect: 400 });
      await call('PATCH', '/api/v1/uptime/exclusions/999999', { body: { note: 'x' }, expect: 404 });
      await call('PATCH', `/api/v1/uptime/exclusions/${ex.body.id}`, { body: 'x', headers: { 'content-type': 'text/plain' }, expect: 415 });
      await call('PATCH', `/api/v1/uptime/exclusions/${ex.body.id}`, { body: { note: 'n'.repeat(MAX_BODY) }, expect: 413 });
      await call('GET', '/api/v1/reports/nevi-quarterly?quarter=2026-Q1&station=OA-UP', { expect: 200 });
      await call('GET', '/api/v1/reports/nevi-quarterly?quarter=2026-Q1&format=csv', { expect: 200 });
      await call('GET', '/api/v1/reports/nevi-quarterly', { expect: 400 });
      const csv = await call('GET', '/api/v1/reports/nevi-quarterly.csv?quarter=2026-Q1&site=OA%20site', { token: viewer, expect: 200 });
      assert.match(csv.text, /^station_id,site,port,/);
      await call('GET', '/api/v1/reports/nevi-quarterly.csv?quarter=nope', { expect: 400 });
      await call('DELETE', `/api/v1/uptime/exclusions/${ex.body.id}`, { expect: 204 });
      await call('DELETE', `/api/v1/uptime/exclusions/${ex.body.id}`, { expect: 404 });
    });

    await t.test('firmware repository and diagnostics: upload, list, get, change, file, delete', async () => {
      const image = Buffer.from('openapi repository image\n'.repeat(40));
      const up = await fetch(`${s.httpUrl}/api/v1/firmware?version=oa-repo-1&vendor=OA&models=M1,M2`,
        { method: 'POST', body: image, headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/octet-stream' } });
      const upText = await up.text();
      checkResponse({ method: 'POST', url: '/api/v1/firmware', status: up.status, headers: up.headers, text: upText });
      assert.strictEqual(up.status, 201, upText);
      const img = JSON.parse(upText);
      const noVersion = await fetch(`${s.httpUrl}/api/v1/firmware`,
        { method: 'POST', body: image, headers: { authorization: `Bearer ${s.token}` } });
      checkResponse({ method: 'POST', url: '/api/v1/firmware', status: noVersion.status, headers: noVersion.headers, text: await noVersion.text() });
      assert.strictEqual(noVersion.status, 400);
      await call('GET', '/api/v1/firmware?vendor=OA&model=M2&sort=-created_at&limit=5', { expect: 200 });
      await call('GET', '/api/v1/firmware?sort=colour', { expect: 400 });
      await call('GET', `/api/v1/firmware/${img.id}`, { expect: 200 });
      await call('GET', '/api/v1/firmware/999999', { expect: 404 });
      await call('PATCH', `/api/v1/firmware/${img.id}`, { body: { signature: 'c2ln', models: ['M3'] }, expect: 200 });
      await call('PATCH', `/api/v1/firmware/${img.id}`, { body: { size: 1 }, expect: 400 });
      await call('PATCH', `/api/v1/firmware/${img.id}`, { body: 'x', headers: { 'content-type': 'text/plain' }, expect: 415 });
      await call('PATCH', `/api/v1/firmware/${img.id}`, { body: { signature: 's'.repeat(MAX_BODY) }, expect: 413 });
      await call('PATCH', '/api/v1/firmware/999999', { body: { version: 'x' }, expect: 404 });
      await call('GET', `/api/v1/firmware/${img.id}/file`, { expect: 200 });
      await call('GET', `/api/v1/firmware/${img.id}/file`, { headers: { range: 'bytes=0-9' }, expect: 206 });
      await call('GET', `/api/v1/firmware/${img.id}/file`, { headers: { range: 'bytes=99999-' }, expect: 416 });
      await call('GET', '/api/v1/firmware/999999/file', { expect: 404 });
      await call('DELETE', `/api/v1/firmware/${img.id}`, { expect: 204 });
      await call('DELETE', `/api/v1/firmware/${img.id}`, { expect: 404 });
      // diagnostics: a connected 1.6 station that accepts
      await call('POST', '/api/v1/stations', { body: { id: 'OA-DIAG', password: PW }, expect: 201 });
      const dg = s.station('OA-DIAG');
      let location;
      dg.handle('GetDiagnostics', ({ params }) => { location = params.location; return { fileName: 'oa.log' }; });
      await dg.connect();
      stations.push(dg);
      await dg.call('BootNotification', { chargePointVendor: 'oa', chargePointModel: 'oa' });
      const req = await call('POST', '/api/v1/stations/OA-DIAG/diagnostics', { body: { retries: 1 }, expect: 201 });
      await call('POST', '/api/v1/stations/OA-DIAG/diagnostics', { body: { colour: 1 }, expect: 400 });
      await call('POST', '/api/v1/stations/OA-DIAG/diagnostics', { body: 'x', headers: { 'content-type': 'text/plain' }, expect: 415 });
      await call('POST', '/api/v1/stations/OA-DIAG/diagnostics', { body: { start_time: 's'.repeat(MAX_BODY) }, expect: 413 });
      await call('POST', '/api/v1/stations/NO-SUCH/diagnostics', { body: {}, expect: 404 });
      await call('POST', '/api/v1/stations', { body: { id: 'OA-DIAG-OFF', password: PW }, expect: 201 });
      await call('POST', '/api/v1/stations/OA-DIAG-OFF/diagnostics', { body: {}, expect: 409 });
      await call('GET', '/api/v1/diagnostics?station=OA-DIAG&status=accepted&sort=-requested_at&limit=5', { expect: 200 });
      await call('GET', '/api/v1/diagnostics?status=sideways', { expect: 400 });
      await call('GET', `/api/v1/diagnostics/${req.body.id}`, { expect: 200 });
      await call('GET', '/api/v1/diagnostics/999999', { expect: 404 });
      await call('GET', `/api/v1/diagnostics/${req.body.id}/file`, { expect: 404 });
      const put = await fetch(`${location}/oa.log`, { method: 'PUT', body: 'openapi diagnostics log\n' });
      assert.strictEqual(put.status, 201);
      await call('GET', `/api/v1/diagnostics/${req.body.id}/file`, { expect: 200 });
      await call('GET', `/api/v1/diagnostics/${req.body.id}/file`, { headers: { range: 'bytes=-4' }, expect: 206 });
      await call('GET', `/api/v1/diagnostics/${req.body.id}/file`, { headers: { range: 'bytes=1000-' }, expect: 416 });
    });

    await t.test('firmware campaigns: create, change, start, pause, promote, resume, retry, cancel', async () => {
      const image = Buffer.from('openapi firmware image '.repeat(100));
      const up = await fetch(`${s.httpUrl}/api/v1/firmware?version=oa-2.0&filename=oa.bin`,
        { method: 'POST', body: image, headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/octet-stream' } });
      assert.strictEqual(up.status, 201);
      const imageId = (await up.json()).id;
      // a 1.6 station that fails every install
      const fw = s.station('OA-FW');
      await call('POST', '/api/v1/stations', { body: { id: 'OA-FW', password: PW }, expect: 201 });
      fw.handle('UpdateFirmware', () => {
        setTimeout(() => fw.call('FirmwareStatusNotification', { status: 'InstallationFailed' }).catch(() => {}), 20);
        return {};
      });
      await fw.connect();
      stations.push(fw);
      await fw.call('BootNotification', { chargePointVendor: 'oa', chargePointModel: 'oa-fw', firmwareVersion: '1.0' });
      const base = '/api/v1/firmware-campaigns';
      await call('POST', base, { body: { name: 'x', image_id: imageId, target: { station_ids: ['OA-FW'] }, colour: 1 }, expect: 400 });
      await call('POST', base, { body: { name: 'x', image_id: imageId, target: { station_ids: ['OA-FW'] }, settings: { max_concurrent: 0 } }, expect: 400 });
      await call('POST', base, { body: { name: 'x', image_id: 999999, target: { station_ids: ['OA-FW'] } }, expect: 400 });
      await call('POST', base, { body: 'x', headers: { 'content-type': 'text/plain' }, expect: 415 });
      await call('POST', base, { body: { name: 'n'.repeat(MAX_BODY), image_id: imageId, target: {} }, expect: 413 });
      const c = await call('POST', base, { body: { name: 'oa', image_id: imageId, target: { station_ids: ['OA-FW', 'OA-OFF'] }, settings: { canary: 1 } }, expect: 201 });
      const id = c.body.id;
      await call('GET', base, { expect: 200 });
      await call('GET', `${base}?state=draft&sort=-updated_at&limit=1`, { token: viewer, expect: 200 });
      await call('GET', `${base}?state=sideways`, { expect: 400 });
      await call('GET', `${base}/${id}`, { expect: 200 });
      await call('GET', `${base}/999999`, { expect: 404 });
      await call('PATCH', `${base}/${id}`, { body: { name: 'oa campaign', settings: { window: '00:00-00:00', window_utc_offset: 60 } }, expect: 200 });
      await call('PATCH', `${base}/${id}`, { body: { settings: { window: 'noon' } }, expect: 400 });
      await call('PATCH', `${base}/${id}`, { body: 'x', headers: { 'content-type': 'text/plain' }, expect: 415 });
      await call('PATCH', `${base}/${id}`, { body: { name: 'n'.repeat(MAX_BODY) }, expect: 413 });
      await call('PATCH', `${base}/999999`, { body: { name: 'x' }, expect: 404 });
      await call('GET', `${base}/${id}/stations`, { expect: 200 });
      await call('GET', `${base}/${id}/stations?state=nope`, { expect: 400 });
      await call('GET', `${base}/999999/stations`, { expect: 404 });
      await call('POST', `${base}/${id}/pause`, { expect: 409 });
      await call('POST', `${base}/${id}/start`, { expect: 200 });
      await call('POST', `${base}/${id}/start`, { expect: 409 });
      await call('POST', `${base}/999999/start`, { expect: 404 });
      await call('PATCH', `${base}/${id}`, { body: { name: 'late' }, expect: 409 });
      await call('POST', `${base}/${id}/pause`, { expect: 200 });
      await call('POST', `${base}/${id}/promote`, { expect: 200 });
      await call('POST', `${base}/${id}/promote`, { expect: 409 });
      await call('POST', `${base}/${id}/resume`, { expect: 200 });
      await call('POST', `${base}/${id}/resume`, { expect: 409 });
      await waitFor(async () => (await call('GET', `${base}/${id}/stations?state=failed`, { expect: 200 })).body.items.length === 1,
        { timeout: 10000, what: 'OA-FW to fail' });
      await call('POST', `${base}/${id}/stations/OA-OFF/retry`, { expect: 409 });
      await call('POST', `${base}/${id}/stations/NOPE/retry`, { expect: 404 });
      await call('POST', `${base}/${id}/stations/OA-FW/retry`, { expect: 200 });
      await call('POST', `${base}/${id}/cancel`, { expect: 200 });
      await call('POST', `${base}/${id}/cancel`, { expect: 409 });
    });

    await t.test('demand response and prices: create, list, get, change, delete, and their errors', async () => {
      await call('POST', '/api/v1/stations', { body: { id: 'OA-DR', password: PW, site: 'OA dr site' }, expect: 201 });
      const soon = new Date(Date.now() + 3600e3).toISOString(), later = new Date(Date.now() + 7200e3).toISOString();
      const ev = (await call('POST', '/api/v1/demand-response/events', { body: { site: 'OA dr site', start: soon, end: later, limit_kw: 40, phase_limits_a: [32, 32, 32], reason: 'grid peak' }, expect: 201 })).body;
      await call('POST', '/api/v1/demand-response/events', { body: { site: 'OA dr site', start: later, end: soon, limit_kw: 40 }, expect: 400 });
      await call('POST', '/api/v1/demand-response/events', { body: { site: 'NO SUCH SITE', start: soon, end: later, limit_kw: 40 }, expect: 422 });
      await call('POST', '/api/v1/demand-response/events', { body: 'x', headers: { 'content-type': 'text/plain' }, expect: 415 });
      await call('POST', '/api/v1/demand-response/events', { body: { site: 'OA dr site', reason: 'n'.repeat(MAX_BODY) }, expect: 413 });
      await call('GET', '/api/v1/demand-response/events?site=OA%20dr%20site&status=scheduled', { token: viewer, expect: 200 });
      await call('GET', '/api/v1/demand-response/events?status=soon', { expect: 400 });
      await call('GET', `/api/v1/demand-response/events/${ev.id}`, { expect: 200 });
      await call('GET', '/api/v1/demand-response/events/999999', { expect: 404 });
      await call('PATCH', `/api/v1/demand-response/events/${ev.id}`, { body: { limit_kw: 35, phase_limits_a: null }, expect: 200 });
      await call('PATCH', `/api/v1/demand-response/events/${ev.id}`, { body: { limit_kw: -1 }, expect: 400 });
      await call('PATCH', `/api/v1/demand-response/events/${ev.id}`, { body: { site: 'NO SUCH SITE' }, expect: 422 });
      await call('PATCH', '/api/v1/demand-response/events/999999', { body: { limit_kw: 1 }, expect: 404 });
      await call('PATCH', `/api/v1/demand-response/events/${ev.id}`, { body: 'x', headers: { 'content-type': 'text/plain' }, expect: 415 });
      await call('PATCH', `/api/v1/demand-response/events/${ev.id}`, { body: { reason: 'n'.repeat(MAX_BODY) }, expect: 413 });
      await call('DELETE', `/api/v1/demand-response/events/${ev.id}`, { expect: 204 });
      await call('DELETE', `/api/v1/demand-response/events/${ev.id}`, { expect: 404 });
      const tou = (await call('POST', '/api/v1/prices', { body: { site: null, currency: 'EUR', time_of_use: { utc_offset: '+01:00', weekday: [{ from: '07:00', price: 0.3 }, { from: '22:00', price: 0.1 }], weekend: null } }, expect: 201 })).body;
      const pr = (await call('POST', '/api/v1/prices', { body: { site: 'OA dr site', currency: 'EUR', intervals: [{ start: soon, end: later, price: 0.21 }] }, expect: 201 })).body;
      await call('POST', '/api/v1/prices', { body: { site: 'OA dr site', currency: 'EUR', intervals: [{ start: soon, end: later, price: 0.2 }, { start: soon, end: later, price: 0.3 }] }, expect: 400 });
      await call('POST', '/api/v1/prices', { body: { site: 'NO SUCH SITE', currency: 'EUR', intervals: [{ start: soon, end: later, price: 0.2 }] }, expect: 422 });
      await call('POST', '/api/v1/prices', { body: 'x', headers: { 'content-type': 'text/plain' }, expect: 415 });
      await call('POST', '/api/v1/prices', { body: { currency: 'n'.repeat(MAX_BODY) }, expect: 413 });
      await call('GET', '/api/v1/prices', { token: viewer, expect: 200 });
      await call('GET', '/api/v1/prices?site=OA%20dr%20site', { expect: 200 });
      await call('GET', `/api/v1/prices/${pr.id}`, { expect: 200 });
      await call('GET', `/api/v1/prices/${tou.id}`, { expect: 200 });
      await call('GET', '/api/v1/prices/999999', { expect: 404 });
      await call('PATCH', `/api/v1/prices/${pr.id}`, { body: { currency: 'USD' }, expect: 200 });
      await call('PATCH', `/api/v1/prices/${pr.id}`, { body: { currency: 'dollars' }, expect: 400 });
      await call('PATCH', `/api/v1/prices/${pr.id}`, { body: { site: 'NO SUCH SITE' }, expect: 422 });
      await call('PATCH', '/api/v1/prices/999999', { body: { currency: 'USD' }, expect: 404 });
      await call('PATCH', `/api/v1/prices/${pr.id}`, { body: 'x', headers: { 'content-type': 'text/plain' }, expect: 415 });
      await call('PATCH', `/api/v1/prices/${pr.id}`, { body: { currency: 'n'.repeat(MAX_BODY) }, expect: 413 });
      await call('DELETE', `/api/v1/prices/${pr.id}`, { expect: 204 });
      await call('DELETE', `/api/v1/prices/${tou.id}`, { expect: 204 });
      await call('DELETE', `/api/v1/prices/${pr.id}`, { expect: 404 });
    });

    await t.test('load management: capacity trees, allocation, history, meters, verify, charging needs', async () => {
      await call('POST', '/api/v1/stations', { body: { id: 'OA-LM-1', password: 'correct-horse-battery', site: 'OA-SITE' }, expect: 201 });
      await call('POST', '/api/v1/id-tokens', { body: { id_token: 'OA-LM-TAG' }, expect: 201 });
      const lm = await s.bootedStation('OA-LM-1');
      stations.push(lm);
      const tx = await lm.call('StartTransaction', { connectorId: 1, idTag: 'OA-LM-TAG', meterStart: 0, timestamp: new Date().toISOString() });
      const tree = { policy: 'equal', nodes: [
        { id: 'grid', kind: 'grid_connection', limit_a: 32, live_meter: true },
        { id: 'cp', kind: 'station', parent: 'grid', station_id: 'OA-LM-1', rotation: 'L1L2L3' },
        { id: 'cp-1', kind: 'evse', parent: 'cp', evse_id: 1 }] };
      await call('GET', '/api/v1/sites/OA-SITE/capacity', { expect: 404 });
      await call('PUT', '/api/v1/sites/OA-SITE/capacity', { body: tree, expect: 200 });
      await call('PUT', '/api/v1/sites/OA-SITE/capacity', { body: { nodes: 'x' }, expect: 400 });
      await call('PUT', '/api/v1/sites/OA-SITE/capacity', { body: { nodes: [{ id: 'g', kind: 'grid_connection', limit_a: -1 }] }, expect: 422 });
      await call('PUT', '/api/v1/sites/OA-SITE/capacity', { body: 'x', headers: { 'content-type': 'text/plain' }, expect: 415 });
      await call('PUT', '/api/v1/sites/OA-SITE/capacity', { body: { nodes: 'n'.repeat(MAX_BODY) }, expect: 413 });
      await call('GET', '/api/v1/sites/OA-SITE/capacity', { token: viewer, expect: 200 });
      await call('GET', '/api/v1/sites', { expect: 200 });
      await call('GET', '/api/v1/sites/OA-SITE/allocation', { expect: 200 });
      await call('GET', '/api/v1/sites/NOPE/allocation', { expect: 404 });
      await call('GET', '/api/v1/sites/OA-SITE/allocation/history', { expect: 200 });
      await call('GET', '/api/v1/sites/NOPE/allocation/history', { expect: 404 });
      await call('PUT', '/api/v1/sites/OA-SITE/nodes/grid/load', { body: { current_a: [5, 5, 5] }, expect: 204 });
      await call('PUT', '/api/v1/sites/OA-SITE/nodes/cp/load', { body: { current_a: [5, 5, 5] }, expect: 422 });
      await call('PUT', '/api/v1/sites/OA-SITE/nodes/grid/load', { body: { current_a: 5 }, expect: 400 });
      await call('PUT', '/api/v1/sites/OA-SITE/nodes/nope/load', { body: { current_a: [1, 1, 1] }, expect: 404 });
      await call('PUT', '/api/v1/sites/OA-SITE/nodes/grid/load', { body: 'x', headers: { 'content-type': 'text/plain' }, expect: 415 });
      await call('PUT', '/api/v1/sites/OA-SITE/nodes/grid/load', { body: { current_a: 'n'.repeat(MAX_BODY) }, expect: 413 });
      await call('POST', '/api/v1/sites/OA-SITE/verify', { expect: 202 });
      await call('POST', '/api/v1/sites/NOPE/verify', { expect: 404 });
      await call('GET', `/api/v1/sessions/${tx.transactionId}/charging-needs`, { expect: 404 });
      await call('PUT', `/api/v1/sessions/${tx.transactionId}/charging-needs`, { body: { energy_wh: 12000, departure: new Date(Date.now() + 3600e3).toISOString(), priority: 1 }, expect: 200 });
      await call('GET', `/api/v1/sessions/${tx.transactionId}/charging-needs`, { token: viewer, expect: 200 });
      await call('PUT', `/api/v1/sessions/${tx.transactionId}/charging-needs`, { body: { energy_wh: 'lots' }, expect: 400 });
      await call('PUT', '/api/v1/sessions/999999/charging-needs', { body: { energy_wh: 1 }, expect: 404 });
      await call('PUT', `/api/v1/sessions/${tx.transactionId}/charging-needs`, { body: 'x', headers: { 'content-type': 'text/plain' }, expect: 415 });
      await call('PUT', `/api/v1/sessions/${tx.transactionId}/charging-needs`, { body: { energy_wh: 'n'.repeat(MAX_BODY) }, expect: 413 });
      await call('DELETE', '/api/v1/sites/OA-SITE/capacity', { expect: 204 });
      await call('DELETE', '/api/v1/sites/OA-SITE/capacity', { expect: 404 });
    });

    await t.test('every operation in the document was exercised', (tt) => {
      // Exercised = answered with a 2xx at least once: an endpoint that does
      // not exist can produce 401s and 404s, never a success.
      const ok = (key) => [...(exercised.get(key) || [])].some((c) => c >= 200 && c < 300);
      const missing = operations().filter(({ key }) => !ok(key)).map(({ key }) => key);
      assert.deepStrictEqual(missing, [], `operations never answered with a 2xx (does the server have them?): ${missing.join(', ')}`);
      const untested = [];
      for (const { key, op } of operations()) {
        for (const code of Object.keys(op.responses)) if (!exercised.get(key).has(Number(code))) untested.push(`${key} ${code}`);
      }
      tt.diagnostic(`documented responses not produced by this test: ${untested.join('; ') || 'none'}`);
    });
  } finally {
    for (const st of streams) await st.close();
    for (const c of stations) await c.close().catch(() => {});
    const st = await s.stop();
    s.cleanup();
    assert.deepStrictEqual(st, { code: 0, signal: null },
      `server did not exit cleanly on SIGTERM: ${JSON.stringify(st)}\n--- stderr (tail) ---\n${s.stderr.slice(-4000)}`);
  }
});

test('every route in src/api/api.c is in the document, with matching roles and bodies', () => {
  const routes = routeTable();
  const docOps = new Map(operations().map((o) => [`${o.method} ${norm(o.tpl)}`, o]));
  const routeKeys = new Set(routes.map((r) => `${r.method} ${r.pattern}`));
  const undocumented = [...routeKeys].filter((k) => !docOps.has(k));
  assert.deepStrictEqual(undocumented, [], `routes missing from docs/openapi.json: ${undocumented.join(', ')}`);
  const extra = [...docOps.keys()].filter((k) => !routeKeys.has(k));
  assert.deepStrictEqual(extra, [], `operations in docs/openapi.json that the server does not route: ${extra.join(', ')}`);
  for (const r of routes) {
    const { op } = docOps.get(`${r.method} ${r.pattern}`);
    const key = `${r.method} ${r.pattern}`;
    const pub = Array.isArray(op.security) && op.security.length === 0;
    assert.ok(ALLOW[r.role], `${key}: unknown access class ${r.role}`);
    assert.strictEqual(pub, r.role === 'ALLOW_PUBLIC', `${key}: security in the document disagrees with ${r.role}`);
    // (a public route may still answer 401 for credentials in its body: the login)
    if (!pub) assert.ok(op.responses['401'], `${key}: 401 documented for a route that needs a token`);
    else if (op.responses['401']) assert.ok(op.requestBody, `${key}: a public route documents 401 only for credentials it is sent`);
    assert.deepStrictEqual([...(op['x-roles'] || [])].sort(), [...ALLOW[r.role]].sort(), `${key}: x-roles in the document disagrees with ${r.role}`);
    const needsMore = ALLOW[r.role].length > 0 && ALLOW[r.role].length < ALLOW.ALLOW_READ.length;
    // a change made with a login session and no CSRF token is refused with 403 too
    const csrf = !pub && r.method !== 'GET';
    assert.strictEqual(Boolean(op.responses['403']), needsMore || csrf, `${key}: 403 documented iff some role is refused (${r.role}) or it is a change (CSRF)`);
    // a binary upload (application/octet-stream, streamed to disk) has a body and a 413 but no 415
    const upload = Boolean(op.requestBody && op.requestBody.content['application/octet-stream']);
    assert.strictEqual(Boolean(op.requestBody), r.jsonBody || upload, `${key}: requestBody documented iff the route takes a JSON body or an upload`);
    assert.strictEqual(Boolean(op.responses['413']), r.jsonBody || upload, `${key}: 413 documented iff the route takes a body`);
    assert.strictEqual(Boolean(op.responses['415']), r.jsonBody, `${key}: 415 documented iff the route takes a JSON body`);
    if (r.jsonBody) assert.ok(op.responses['400'], `${key}: a body route answers 400 for a body that is not a JSON object`);
  }
});

test('the command action enum is exactly the OCPP 1.6 and 2.0.1 actions a CSMS can send', () => {
  const toStation = [...new Set(['v16_defs.c', 'v201_defs.c'].flatMap((f) => {
    const src = fs.readFileSync(path.join(ROOT, 'src/ocpp', f), 'utf8');
    const found = [...src.matchAll(/MSG\(\s*"(\w+)",\s*(\w+)/g)]
      .filter(([, , dir]) => ['TO_STATION', 'OCPP_DIR_TO_STATION', 'OCPP_DIR_BOTH'].includes(dir))
      .map(([, a]) => a);
    assert.ok(found.length >= 20, `only ${found.length} actions parsed from ${f}`);
    return found;
  }))].sort();
  assert.deepStrictEqual([...DOC.components.schemas.CommandAction.enum].sort(), toStation);
});
