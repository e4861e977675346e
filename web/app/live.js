// One EventSource for the whole dashboard (GET /api/v1/events, Server-Sent
// Events); pages subscribe to event types and get the parsed data. The
// browser reconnects by itself and resumes with Last-Event-ID.
import { eventsUrl } from './api.js';

const TYPES = ['station.created', 'station.updated', 'station.deleted', 'station.connected',
  'station.disconnected', 'station.boot', 'station.notification', 'station.password_rotation',
  'connector.status', 'transaction.started', 'transaction.ended', 'transaction.event',
  'meter.values', 'command.sent', 'command.result', 'station.report_part', 'station.report_complete',
  'alert.raised', 'alert.updated', 'alert.acknowledged', 'alert.resolved',
  'campaign.updated', 'campaign.station', 'campaign.paused',
  'stream.gap' /* events were missed while away: reload what you show */];

const subs = new Set();
const stateSubs = new Set();
let source = null;
let state = 'closed';

function setState(s) {
  state = s;
  for (const fn of stateSubs) fn(s);
}

export function liveStart() {
  if (source) return;
  source = new EventSource(eventsUrl());
  source.onopen = () => setState('open');
  source.onerror = () => setState(source && source.readyState === EventSource.CLOSED ? 'closed' : 'connecting');
  for (const type of TYPES) {
    source.addEventListener(type, (ev) => {
      let data;
      try { data = JSON.parse(ev.data); } catch (_) { return; }
      for (const s of subs) if (s.match(type)) s.fn(type, data);
    });
  }
}

export function liveStop() {
  if (source) source.close();
  source = null;
  setState('closed');
}

// fn(type, data) for every event whose type is in `types` (exact names, or
// prefixes ending in "."). Returns the unsubscribe function.
export function subscribe(types, fn) {
  const match = (t) => types.some((x) => (x.endsWith('.') ? t.startsWith(x) : t === x));
  const s = { match, fn };
  subs.add(s);
  return () => subs.delete(s);
}

export function onLiveState(fn) {
  stateSubs.add(fn);
  fn(state);
  return () => stateSubs.delete(fn);
}
