// The dashboard's entry: token sign-in, the live link and the hash router.
//   #/             overview
//   #/jobs?state=a,b&queue=q&type=t   jobs (filters bookmarkable)
//   #/jobs/42      one job
//   #/submit       submit a command or an upload
//   #/schedules?id=7   recurring jobs (7 selected)

import {api, onUnauthorized, setToken, hasToken} from './api.js';
import * as live from './live.js';
import {h, currentRoute} from './util.js';
import {overviewView} from './overview.js';
import {jobsView} from './jobs.js';
import {detailView} from './detail.js';
import {submitView} from './submit.js';
import {schedulesView} from './schedules.js';

const main = document.getElementById('main');
const conn = document.getElementById('conn');
const signout = document.getElementById('signout');
const nav = document.querySelector('.nav');
let view = null;
let viewKey = '';
let auth = false;
let booted = false;
let firstRoute = true;

window.__runnel = {counters: live.counters};
try { sessionStorage.removeItem('runnel.bootTries'); } catch { /* storage off */ }

// The skip link moves focus without touching the hash (which routes).
document.getElementById('skip').addEventListener('click', (e) => {
  e.preventDefault();
  main.focus();
});

// ---- routing ---------------------------------------------------------------

function notFound(root) {
  root.append(h('h1', {tabindex: '-1', text: 'No such page'}),
    h('p', null, 'Nothing lives at this address. ', h('a', {href: '#/', text: 'Go to the overview'}), '.'));
  return {title: 'Not found', unmount() {}};
}

function route() {
  if (!booted) return;
  const r = currentRoute();
  let key, make, m;
  if (r.path === '/' || r.path === '') { key = 'overview'; make = () => overviewView(main, r); }
  else if (r.path === '/jobs') { key = 'jobs'; make = () => jobsView(main, r); }
  else if ((m = /^\/jobs\/(\d+)$/.exec(r.path))) { key = 'job' + m[1]; make = () => detailView(main, r, Number(m[1])); }
  else if (r.path === '/submit') { key = 'submit'; make = () => submitView(main, r); }
  else if (r.path === '/schedules') { key = 'schedules'; make = () => schedulesView(main, r); }
  else { key = 'none'; make = () => notFound(main); }

  if (view && key === viewKey && view.update) { view.update(r); return; }
  if (view) view.unmount();
  main.replaceChildren();
  view = make();
  viewKey = key;
  document.title = `${view.title} · runnel`;
  for (const a of document.querySelectorAll('.nav a')) {
    const target = a.getAttribute('href').slice(1);
    const here = target === '/' ? key === 'overview' : r.path === target || (target === '/jobs' && key.startsWith('job'));
    if (here) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  if (!firstRoute) {
    const h1 = main.querySelector('h1');
    if (h1) h1.focus({preventScroll: true});
    window.scrollTo(0, 0);
  }
  firstRoute = false;
}

addEventListener('hashchange', route);

// ---- the live status in the header ----------------------------------------

live.onStatus((state, secs) => {
  conn.className = `conn ${state}`;
  const label = conn.querySelector('.conn-label');
  const more = conn.querySelector('.conn-more');
  const btn = conn.querySelector('button');
  const text = state === 'live' ? 'Live' : state === 'connecting' ? 'Connecting…'
    : state === 'paused' ? 'Paused (tab hidden)' : 'Offline';
  if (label.textContent !== text) label.textContent = text;
  more.textContent = state === 'offline' ? ` — retrying in ${secs} s` : '';
  btn.hidden = state !== 'offline';
  document.body.classList.toggle('is-offline', state === 'offline');
});
conn.querySelector('button').addEventListener('click', () => live.retryNow());

// ---- sign-in ---------------------------------------------------------------

function stopApp() {
  booted = false;
  live.stop();
  if (view) view.unmount();
  view = null;
  viewKey = '';
}

function login(note) {
  stopApp();
  main.replaceChildren();
  conn.className = 'conn offline';
  conn.querySelector('.conn-label').textContent = 'Signed out';
  conn.querySelector('.conn-more').textContent = '';
  signout.hidden = true;
  nav.hidden = true;
  document.title = 'Sign in · runnel';
  const tok = h('input', {type: 'password', id: 'token', name: 'token', autocomplete: 'current-password',
    required: true, 'aria-describedby': 'token-hint token-err', spellcheck: 'false'});
  const err = h('p', {class: 'field-error', id: 'token-err', role: 'alert'});
  const btn = h('button', {type: 'submit', class: 'btn primary', text: 'Sign in'});
  const form = h('form', {class: 'panel login', 'aria-labelledby': 'login-title'},
    h('h1', {id: 'login-title', tabindex: '-1', text: 'Sign in'}),
    h('p', {id: 'token-hint', text: 'This runneld needs its access token (RUNNEL_TOKEN or --token-file). ' +
      'It is kept in this browser tab until you close it or sign out.'}),
    note ? h('p', {class: 'note', text: note}) : null,
    h('div', {class: 'field'}, h('label', {for: 'token', text: 'Access token'}), tok, err),
    h('div', {class: 'form-actions'}, btn));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.textContent = '';
    tok.removeAttribute('aria-invalid');
    const value = tok.value.trim();
    if (!value) { err.textContent = 'Enter the token.'; tok.setAttribute('aria-invalid', 'true'); tok.focus(); return; }
    btn.disabled = true;
    setToken(value);
    try {
      await api('/session', {method: 'POST', quiet401: true});
      boot(true);
    } catch (ex) {
      setToken(null);
      if (ex.status === 401) {
        err.textContent = 'Wrong token: runneld refused it. Check the value and try again.';
      } else {
        err.textContent = `Could not sign in: ${ex.message}`;
      }
      tok.setAttribute('aria-invalid', 'true');
      tok.select();
      tok.focus();
    } finally {
      btn.disabled = false;
    }
  });
  main.append(form);
  tok.focus();
}

onUnauthorized(() => {
  if (!auth && !booted) return;
  const had = hasToken();
  setToken(null);
  login(had ? 'runneld no longer accepts the token this tab had (it changed, or the server restarted with another). Enter it again.'
    : 'This runneld needs a token.');
});

signout.addEventListener('click', async () => {
  try { await api('/session', {method: 'DELETE', quiet401: true}); } catch { /* signed out anyway */ }
  setToken(null);
  login('Signed out.');
});

// ---- start -----------------------------------------------------------------

async function boot(withAuth) {
  auth = withAuth;
  signout.hidden = !auth;
  nav.hidden = false;
  booted = true;
  firstRoute = true;
  // Views load once the stream is open (a few ms), so that nothing falls
  // between their first list and the subscription.
  await live.start(auth);
  route();
}

let startDelay = 1000;

async function start() {
  try {
    const s = await api('/session', {quiet401: true});
    // GET /session needs no token: it says whether this tab is signed in,
    // so a fresh tab shows the sign-in form without a refused request.
    if (s.auth && !s.authorized) throw Object.assign(new Error('unauthorized'), {status: 401});
    if (s.auth) await api('/session', {method: 'POST', quiet401: true});
    boot(!!s.auth);
  } catch (e) {
    if (e.status === 401) {
      auth = true;
      const had = hasToken();
      setToken(null);
      login(had ? 'The token saved in this tab was refused; enter the current one.' : '');
      return;
    }
    // runneld is not there (yet): say so and try again.
    conn.className = 'conn offline';
    conn.querySelector('.conn-label').textContent = 'Offline';
    conn.querySelector('.conn-more').textContent = ' — cannot reach runneld';
    if (!main.querySelector('.startup')) {
      main.replaceChildren(h('div', {class: 'panel startup'}, h('h1', {tabindex: '-1', text: 'runnel'}),
        h('p', {role: 'status', text: 'Cannot reach runneld; trying again…'})));
    }
    setTimeout(start, startDelay);
    startDelay = Math.min(startDelay * 2, 15000);
  }
}

start();
