// A small OpenADR 3.0 VTN for the tests: the parts of the REST/JSON API a VEN
// uses (OAuth2 client-credentials token endpoint, GET /programs, GET /events
// with programID, POST /reports), in the specification's shapes, held in
// memory. Tests add, change and delete programs and events, read the
// reports that arrived, and switch the server into misbehaving modes:
// 'garbage' (not JSON), 'shape' (JSON of the wrong shape), '500', 'slow'
// (answers after slowMs), 'unauthorized' (refuses every token).
'use strict';
const http = require('node:http');
const crypto = require('node:crypto');

class Vtn {
  constructor({ clientId = 'ven-client', clientSecret = 'ven-secret-0123456789', tokenLifetime = 3600 } = {}) {
    this.clientId = clientId;
    this.clientSecret = clientSecret;
    this.tokenLifetime = tokenLifetime;
    this.tokens = new Set();
    this.programs = [];
    this.events = [];
    this.reports = [];
    this.requests = []; // { method, path, auth }
    this.tokenRequests = 0;
    this.mode = 'ok';
    this.slowMs = 5000;
    this.seq = 0;
  }

  start() {
    this.server = http.createServer((req, res) => this.handle(req, res));
    return new Promise((resolve) => this.server.listen(0, '127.0.0.1', () => {
      this.url = `http://127.0.0.1:${this.server.address().port}`;
      resolve(this);
    }));
  }

  stop() {
    this.server.closeAllConnections?.();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  now() { return new Date().toISOString(); }

  addProgram(name) {
    const p = { id: `prog-${++this.seq}`, createdDateTime: this.now(), modificationDateTime: this.now(),
      objectType: 'PROGRAM', programName: name, payloadDescriptors: [] };
    this.programs.push(p);
    return p;
  }

  // ev: { programID, eventName, targets, payloadDescriptors, intervalPeriod, intervals }
  addEvent(ev) {
    const e = { id: `evt-${++this.seq}`, createdDateTime: this.now(), modificationDateTime: this.now(),
      objectType: 'EVENT', priority: 0, ...ev };
    this.events.push(e);
    return e;
  }

  updateEvent(id, changes) {
    const e = this.events.find((x) => x.id === id);
    Object.assign(e, changes, { modificationDateTime: this.now() });
    return e;
  }

  deleteEvent(id) { this.events = this.events.filter((e) => e.id !== id); }

  send(res, status, body, type = 'application/json') {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  problem(res, status, title) {
    this.send(res, status, { type: 'about:blank', title, status }, 'application/problem+json');
  }

  async handle(req, res) {
    let body = '';
    for await (const c of req) body += c;
    const url = new URL(req.url, 'http://vtn');
    this.requests.push({ method: req.method, path: url.pathname + url.search, auth: req.headers.authorization || null, at: Date.now() });
    if (this.mode === 'slow') await new Promise((r) => setTimeout(r, this.slowMs));
    if (this.mode === '500') return this.problem(res, 500, 'Internal Server Error');
    if (req.method === 'GET' && url.pathname === '/auth/server') return this.send(res, 200, { tokenURL: `${this.url}/auth/token` });
    if (req.method === 'POST' && url.pathname === '/auth/token') return this.token(req, res, body);
    const auth = req.headers.authorization || '';
    const tok = auth.startsWith('Bearer ') ? auth.slice(7) : '';
    if (!this.tokens.has(tok) || this.mode === 'unauthorized') return this.problem(res, 401, 'Unauthorized');
    if (this.mode === 'garbage') return this.send(res, 200, '<html>oops, not JSON', 'text/html');
    if (this.mode === 'shape') return this.send(res, 200, { programs: 'this is not a list' });
    if (req.method === 'GET' && url.pathname === '/programs') return this.send(res, 200, this.programs);
    if (req.method === 'GET' && url.pathname === '/events') {
      const pid = url.searchParams.get('programID');
      return this.send(res, 200, this.events.filter((e) => !pid || e.programID === pid));
    }
    if (req.method === 'POST' && url.pathname === '/reports') {
      let r;
      try { r = JSON.parse(body); } catch (_) { return this.problem(res, 400, 'Bad Request'); }
      if (r.objectType !== 'REPORT' || !r.eventID || !r.programID || !Array.isArray(r.resources)) return this.problem(res, 400, 'Bad Request');
      const stored = { id: `rep-${++this.seq}`, createdDateTime: this.now(), modificationDateTime: this.now(), ...r };
      this.reports.push(stored);
      return this.send(res, 201, stored);
    }
    return this.problem(res, 404, 'Not Found');
  }

  token(req, res, body) {
    this.tokenRequests++;
    const form = new URLSearchParams(body);
    let id = form.get('client_id'), secret = form.get('client_secret');
    const auth = req.headers.authorization || '';
    if (auth.startsWith('Basic ')) [id, secret] = Buffer.from(auth.slice(6), 'base64').toString().split(':');
    if (form.get('grant_type') !== 'client_credentials') return this.send(res, 400, { error: 'unsupported_grant_type' });
    if (id !== this.clientId || secret !== this.clientSecret || this.mode === 'unauthorized') return this.send(res, 401, { error: 'invalid_client' });
    const t = crypto.randomBytes(16).toString('hex');
    this.tokens.add(t);
    return this.send(res, 200, { access_token: t, token_type: 'Bearer', expires_in: this.tokenLifetime });
  }
}

module.exports = { Vtn };
