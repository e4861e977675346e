// Helpers several end-to-end tests share: an API token made through the
// command line, the live event stream parsed as it arrives, and transfer
// tokens minted (or altered) as the server would see them.
'use strict';
const assert = require('node:assert');
const crypto = require('node:crypto');
const { spawnSync } = require('node:child_process');
const { BIN } = require('./harness');

// `ampgrid token create` against a data directory; returns the token.
function tokenCreate(dataDir, role, name) {
  const r = spawnSync(BIN, ['token', 'create', '--data-dir', dataDir, '--role', role, '--name', name],
    { encoding: 'utf8', timeout: 20000 });
  assert.strictEqual(r.status, 0, `token create: ${r.stderr}`);
  return r.stdout.trim();
}

// GET /api/v1/events?query as server s's token; events collect in .events as
// {type, data, at} (at: when it arrived, ms); .close() ends the stream.
async function openEvents(s, query = '') {
  const ac = new AbortController();
  const res = await fetch(`${s.httpUrl}/api/v1/events?${query}`, { headers: { authorization: `Bearer ${s.token}` }, signal: ac.signal });
  assert.strictEqual(res.status, 200);
  const st = { events: [], close: () => ac.abort() };
  (async () => {
    const dec = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of res.body) {
        buf += dec.decode(chunk, { stream: true });
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const ev = { at: Date.now() };
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) ev.type = line.slice(7);
            else if (line.startsWith('data: ')) ev.data = JSON.parse(line.slice(6));
          }
          if (ev.type) st.events.push(ev);
        }
      }
    } catch (_) { /* closed */ }
  })();
  return st;
}

// The transfer token format (src/firmware/file_tokens.c), to mint links as
// the server would: purpose(1) | object id (8, BE) | expiry (8, BE) |
// station id length (1) | station id | HMAC-SHA256 over all that.
function mintTransferToken(key, purpose, id, station, expires) {
  const st = Buffer.from(station);
  const p = Buffer.alloc(18 + st.length);
  p[0] = purpose;
  p.writeBigUInt64BE(BigInt(id), 1);
  p.writeBigUInt64BE(BigInt(expires), 9);
  p[17] = st.length;
  st.copy(p, 18);
  const mac = crypto.createHmac('sha256', key).update(p).digest();
  return Buffer.concat([p, mac]).toString('base64url');
}

// The token with one bit of its MAC flipped, still canonical base64url (replacing its last
// two characters could leave bits set past the end, which is no token at all: 404).
function alterTransferMac(token) {
  const raw = Buffer.from(token, 'base64url');
  raw[raw.length - 1] ^= 1;
  return raw.toString('base64url');
}

module.exports = { tokenCreate, openEvents, mintTransferToken, alterTransferMac };
