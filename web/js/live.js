// The live link: Server-Sent Events from /api/v1/events.
//
// Views subscribe and get {type: "job", job}, {type: "deleted", id},
// {type: "resync", gen} (the stream (re)opened: refetch what is shown if
// loaded before it) and {type: "pause"} (a tab hidden for a while let go
// of its connections; a resync follows when it is shown again).  When the
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
let stopped = true;
let statusFn = () => {};

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

// Starts the stream.  Every open (the first too) emits {type: "resync",
// gen}: a view whose last load began before that open (gen > the
// generation it loaded at, see gen()) loads again, as changes may have
// fallen between its list and the subscription.  The promise resolves at
// the first open, a failure or after waitMs: views that load after it
// need no second load.
export function start(withAuth, waitMs = 300) {
  auth = withAuth;
  stopped = false;
  failures = 0;
  return new Promise((resolve) => {
    const t = setTimeout(done, waitMs);
    function done() { clearTimeout(t); readyFns.delete(done); resolve(); }
    readyFns.add(done);
    connect();
  });
}

const readyFns = new Set();
function ready() { for (const fn of [...readyFns]) fn(); }

// The number of opens so far: a load that starts at gen() G is covered by
// the stream once a resync with gen G has come.
export function gen() { return counters.opens; }

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
    // After a drop whatever happened meanwhile was missed, and old copies
    // prove nothing (the server may have restarted with other data).
    if (counters.opens > 0) store.reset();
    counters.opens++;
    status('live');
    ready();
    emit({type: 'resync', gen: counters.opens});
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
    ready();
    offline();
  };
}

function offline() {
  if (stopped || paused) return;
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
  if (stopped || paused) return;
  status('connecting');
  try {
    await api('/session', auth ? {method: 'POST'} : {});
  } catch (e) {
    if (e.status === 401) { stop(); return; } // the app asks for the token
    offline();
    return;
  }
  if (!stopped && !paused) connect();
}

export function isLive() { return es !== null && es.readyState === EventSource.OPEN; }

addEventListener('online', retryNow);

// A browser gives each site only six connections over HTTP/1.1, and every
// open tab holds one for its event stream (and a job page two more for its
// output): a tab hidden for a while lets go of them ({type: "pause"} tells
// the views) and takes them up again, with a resync, when it is shown.
const HIDDEN_MS = 15000;
let hiddenTimer = 0;
let paused = false;

document.addEventListener('visibilitychange', () => {
  clearTimeout(hiddenTimer);
  if (document.visibilityState === 'hidden') {
    hiddenTimer = setTimeout(() => {
      if (stopped || document.visibilityState !== 'hidden') return;
      paused = true;
      clearTimeout(timer);
      clearInterval(ticker);
      if (es) es.close();
      es = null;
      status('paused');
      emit({type: 'pause'});
    }, HIDDEN_MS);
  } else if (paused) {
    paused = false;
    if (!stopped) reconnect();
  }
});
