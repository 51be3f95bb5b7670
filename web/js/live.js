// The live link: Server-Sent Events from /api/v1/events.
//
// Views subscribe and get {type: "job", job}, {type: "deleted", id} and
// {type: "resync"} (after a reconnect: refetch what is shown).  When the
// stream drops the page shows "offline" and reconnects with exponential
// back-off and jitter; before reconnecting it asks /api/v1/session, which
// tells "down" from "token refused" and renews the session cookie that
// authorises the EventSource when runneld has a token.

import {api} from './api.js';
import * as store from './store.js';

const subs = new Set();
let es = null;
let auth = false;
let failures = 0;
let timer = 0;
let ticker = 0;
let retryAt = 0;
let opened = 0;
let stopped = true;
let statusFn = () => {};
let readyFn = null;

export const counters = {events: 0, opens: 0, drops: 0};

export function subscribe(fn) {
  subs.add(fn);
  return () => subs.delete(fn);
}

function emit(msg) {
  for (const fn of subs) {
    try { fn(msg); } catch (e) { console.error(e); } // eslint-disable-line no-console
  }
}

export function onStatus(fn) { statusFn = fn; }

function status(state) {
  const secs = Math.max(0, Math.ceil((retryAt - Date.now()) / 1000));
  statusFn(state, secs);
}

// Starts the stream; resolves at the first open, or after waitMs at most,
// so that views fetch after the subscription exists (no gap) without
// waiting forever for a stream a proxy may hold back.
export function start(withAuth, waitMs = 500) {
  auth = withAuth;
  stopped = false;
  failures = 0;
  return new Promise((resolve) => {
    const t = setTimeout(() => { readyFn = null; resolve(); }, waitMs);
    readyFn = () => { clearTimeout(t); readyFn = null; resolve(); };
    connect();
  });
}

export function stop() {
  stopped = true;
  clearTimeout(timer);
  clearInterval(ticker);
  if (es) es.close();
  es = null;
}

export function retryNow() {
  if (stopped || es) return;
  clearTimeout(timer);
  clearInterval(ticker);
  reconnect();
}

function connect() {
  status('connecting');
  const src = new EventSource('/api/v1/events');
  es = src;
  src.onopen = () => {
    if (es !== src) return;
    failures = 0;
    counters.opens++;
    status('live');
    if (readyFn) {
      opened++;
      readyFn();
      return;
    }
    // A later open: whatever happened meanwhile was missed.
    opened++;
    store.reset();
    emit({type: 'resync'});
  };
  src.addEventListener('job', (e) => {
    counters.events++;
    let j;
    try { j = JSON.parse(e.data); } catch { return; }
    const shown = store.merge(j);
    if (shown === j) emit({type: 'job', job: j});
  });
  src.addEventListener('deleted', (e) => {
    counters.events++;
    let d;
    try { d = JSON.parse(e.data); } catch { return; }
    store.forget(d.id);
    emit({type: 'deleted', id: d.id});
  });
  src.onerror = () => {
    if (es !== src) return;
    // EventSource would retry on its own, but not after an HTTP error and
    // without back-off: take over.
    src.close();
    es = null;
    counters.drops++;
    if (readyFn) readyFn(); // the views load what they can meanwhile
    offline();
  };
}

function offline() {
  if (stopped) return;
  const base = Math.min(30000, 1000 * 2 ** Math.min(failures, 5));
  const delay = Math.round(base * (0.75 + Math.random() * 0.5));
  failures++;
  retryAt = Date.now() + delay;
  status('offline');
  clearInterval(ticker);
  ticker = setInterval(() => status('offline'), 1000);
  clearTimeout(timer);
  timer = setTimeout(reconnect, delay);
}

async function reconnect() {
  clearInterval(ticker);
  if (stopped) return;
  status('connecting');
  try {
    await api('/session', auth ? {method: 'POST'} : {});
  } catch (e) {
    if (e.status === 401) { stop(); return; } // the app asks for the token
    offline();
    return;
  }
  if (!stopped) connect();
}

export function isLive() { return es !== null && es.readyState === EventSource.OPEN; }

addEventListener('online', retryNow);
