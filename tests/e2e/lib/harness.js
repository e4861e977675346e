// End-to-end harness: starts the real ampgrid binary on free loopback ports
// with a fresh data directory, and gives tests an API client, real OCPP 1.6
// clients (ocpp-rpc in strict mode, validating both directions against the
// official schemas) and a raw WebSocket for hostile input.
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const net = require('node:net');
const { RPCClient } = require('ocpp-rpc');
const WebSocket = require('ws');

const BIN = process.env.AMPGRID_BIN || path.resolve(__dirname, '../../../build/ampgrid');

// A port that is free now, chosen below the kernel's ephemeral range
// (32768-60999): load tests and the simulator fill that range with client
// sockets, which can make a kernel-chosen port unbindable moments later.
function freePort() {
  const tryPort = (port) => new Promise((resolve) => {
    const s = net.createServer();
    s.unref();
    s.once('error', () => resolve(0));
    s.listen({ port, host: '127.0.0.1', exclusive: true }, () => s.close(() => resolve(port)));
  });
  return (async () => {
    for (let i = 0; i < 200; i++) {
      const port = 20000 + Math.floor(Math.random() * 12000);
      if (await tryPort(port)) return port;
    }
    throw new Error('no free port found below 32000');
  })();
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(fn, { timeout = 10000, interval = 50, what = 'condition' } = {}) {
  const end = Date.now() + timeout;
  let last;
  while (Date.now() < end) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      if (e.fatal) throw e; /* no point waiting any longer */
      last = e;
    }
    await sleep(interval);
  }
  throw new Error(`timed out waiting for ${what}: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
}

class Server {
  // opts: { dataDir, config (INI text), args: [] }
  constructor(opts = {}) {
    this.opts = opts;
    this.dataDir = opts.dataDir || fs.mkdtempSync(path.join(os.tmpdir(), 'ampgrid-e2e-'));
    this.stdout = '';
    this.stderr = '';
  }

  // Starts the server. A port picked by freePort() can be taken by another
  // process before the server binds it (tests run in parallel), so a start
  // that fails to listen is retried on fresh ports.
  async start() {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.startOnce();
      } catch (e) {
        const bindFailure = /cannot listen on port|binding fd/.test(this.stderr);
        if (!bindFailure || attempt >= 10 || this.opts.ocppPort || this.opts.httpPort) throw e;
        this.stdout = '';
        this.stderr = '';
        await sleep(100 * attempt);
      }
    }
  }

  async startOnce() {
    this.ocppPort = this.opts.ocppPort || (await freePort());
    this.httpPort = this.opts.httpPort || (await freePort());
    const args = ['serve', '--data-dir', this.dataDir, '--ocpp-port', String(this.ocppPort),
      '--http-port', String(this.httpPort), '--bind', '127.0.0.1'];
    if (this.opts.config) {
      this.configPath = path.join(this.dataDir, 'test.ini');
      fs.mkdirSync(this.dataDir, { recursive: true });
      fs.writeFileSync(this.configPath, this.opts.config);
      args.push('--config', this.configPath);
    }
    if (this.opts.args) args.push(...this.opts.args);
    this.proc = spawn(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => resolve({ code, signal })));
    this.proc.stdout.on('data', (d) => { this.stdout += d; });
    this.proc.stderr.on('data', (d) => { this.stderr += d; });
    await waitFor(async () => {
      if (this.proc.exitCode !== null) {
        throw Object.assign(new Error(`server exited: ${this.stderr}`), { fatal: true });
      }
      const r = await fetch(`http://127.0.0.1:${this.httpPort}/healthz`);
      /* the banner (and the first-start token) travel on another pipe */
      return r.ok && /is running/.test(this.stdout);
    }, { what: 'server to start' });
    const m = this.stdout.match(/agt_[0-9a-f]+/);
    if (m) this.token = m[0];
    if (!this.token && this.opts.token) this.token = this.opts.token;
    return this;
  }

  // Graceful stop (SIGTERM). Returns the exit status.
  async stop() {
    if (!this.proc || this.proc.exitCode !== null) return this.exited;
    this.proc.kill('SIGTERM');
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 10000);
    const r = await this.exited;
    clearTimeout(t);
    return r;
  }

  async kill9() {
    this.proc.kill('SIGKILL');
    return this.exited;
  }

  // Same data directory and token, fresh process.
  restartOptions(extra = {}) {
    return { ...this.opts, dataDir: this.dataDir, token: this.token, ...extra };
  }

  get ocppUrl() { return `ws://127.0.0.1:${this.ocppPort}/ocpp`; }
  get httpUrl() { return `http://127.0.0.1:${this.httpPort}`; }

  // API call: returns { status, body, headers }. body is parsed JSON when possible.
  async api(method, p, body, { token = this.token, headers = {} } = {}) {
    const h = { ...headers };
    if (token) h.authorization = `Bearer ${token}`;
    let payload;
    if (body !== undefined) {
      h['content-type'] = h['content-type'] || 'application/json';
      payload = typeof body === 'string' ? body : JSON.stringify(body);
    }
    const r = await fetch(this.httpUrl + p, { method, headers: h, body: payload });
    const text = await r.text();
    let parsed = text;
    try { parsed = text ? JSON.parse(text) : null; } catch (_) { /* keep text */ }
    return { status: r.status, body: parsed, headers: r.headers };
  }

  async createStation(id, extra = {}) {
    const body = { id, password: 'correct-horse-battery', ...extra };
    const r = await this.api('POST', '/api/v1/stations', body);
    if (r.status !== 201) throw new Error(`create station ${id}: ${r.status} ${JSON.stringify(r.body)}`);
    return body.password;
  }

  async createIdToken(idToken, extra = {}) {
    const r = await this.api('POST', '/api/v1/id-tokens', { id_token: idToken, ...extra });
    if (r.status !== 201) throw new Error(`create id token: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }

  // A real OCPP 1.6 station (strict mode). Not connected yet.
  station(identity, { password = 'correct-horse-battery', protocols = ['ocpp1.6'], ...rest } = {}) {
    return new RPCClient({
      endpoint: this.ocppUrl, identity, protocols, strictMode: true, password,
      reconnect: false, callTimeoutMs: 10000, ...rest,
    });
  }

  // A connected, booted (Accepted) station.
  async bootedStation(identity, opts = {}) {
    const cli = this.station(identity, opts);
    await cli.connect();
    const r = await cli.call('BootNotification', { chargePointVendor: 'ampgrid-test', chargePointModel: 'e2e' });
    if (r.status !== 'Accepted') throw new Error(`boot not accepted: ${JSON.stringify(r)}`);
    return cli;
  }

  // A raw WebSocket (subprotocol ocpp1.6, Basic auth) for hostile input.
  raw(identity, { password = 'correct-horse-battery', protocols = ['ocpp1.6'], headers = {} } = {}) {
    const h = { ...headers };
    if (password !== null) h.authorization = 'Basic ' + Buffer.from(`${identity}:${password}`).toString('base64');
    const ws = new WebSocket(`${this.ocppUrl}/${encodeURIComponent(identity)}`, protocols, { headers: h });
    ws.inbox = [];
    ws.waiters = [];
    ws.on('message', (d) => {
      const msg = JSON.parse(d.toString());
      const w = ws.waiters.shift();
      if (w) w(msg); else ws.inbox.push(msg);
    });
    ws.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.opened = new Promise((resolve, reject) => {
      ws.on('open', resolve);
      ws.on('unexpected-response', (req, res) => {
        let b = '';
        res.on('data', (d) => { b += d; });
        res.on('end', () => reject(Object.assign(new Error(`HTTP ${res.statusCode}: ${b}`), { status: res.statusCode, body: b, headers: res.headers })));
      });
      ws.on('error', reject);
    });
    ws.next = (timeout = 5000) => new Promise((resolve, reject) => {
      if (ws.inbox.length) return resolve(ws.inbox.shift());
      const t = setTimeout(() => reject(new Error('no message within ' + timeout + ' ms')), timeout);
      ws.waiters.push((m) => { clearTimeout(t); resolve(m); });
    });
    return ws;
  }

  cleanup() {
    try { fs.rmSync(this.dataDir, { recursive: true, force: true }); } catch (_) { /* ignore */ }
  }
}

// Opens a WebSocket upgrade and returns the HTTP status it was refused with
// (or 101 when it was accepted).
async function upgradeStatus(server, identity, opts) {
  const ws = server.raw(identity, opts);
  try {
    await ws.opened;
    ws.close();
    return { status: 101 };
  } catch (e) {
    return { status: e.status, body: e.body, headers: e.headers };
  }
}

module.exports = { Server, freePort, sleep, waitFor, upgradeStatus, BIN };
