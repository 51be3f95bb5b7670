// Helpers for the dashboard's browser tests: a real runneld on a free port,
// a private headless Debian chromium (playwright-core), and waiting on
// conditions (never on fixed sleeps).

import assert from 'node:assert/strict';
import {spawn, spawnSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {setTimeout as delay} from 'node:timers/promises';
import {chromium} from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const OUT = process.env.RUNNEL_BROWSER_OUT ||
  path.join(path.dirname(new URL(import.meta.url).pathname), 'out');
// Deadlines are multiplied by this (a sanitizer build is slower).
export const SCALE = Number(process.env.RUNNEL_BROWSER_SCALE || '1') || 1;

export const FINISHED = new Set(['succeeded', 'failed', 'canceled']);

// A temporary folder removed by cleanup().
export function tempDir(prefix) {
  return fs.mkdtempSync(path.join(process.env.RUNNEL_BROWSER_TMP || os.tmpdir(), prefix));
}

// Calls cond() until it returns something truthy; returns that.  The poll
// interval backs off from 5 ms to 100 ms.
export async function waitFor(cond, {timeout = 10000, what = 'a condition'} = {}) {
  const end = Date.now() + timeout * SCALE;
  let wait = 5;
  let last;
  for (;;) {
    try {
      const v = await cond();
      if (v) return v;
    } catch (e) { last = e; }
    if (Date.now() > end) {
      throw new Error(`timed out after ${timeout * SCALE} ms waiting for ${what}` + (last ? ` (last error: ${last.message})` : ''));
    }
    await delay(wait);
    wait = Math.min(100, wait * 2);
  }
}

// Starts runneld (the web files built into it) on 127.0.0.1:port (0 = a
// free one) and resolves when it listens.
export async function startServer({dataDir, port = 0, token = null, workers = 2, args = []} = {}) {
  const bin = process.env.RUNNEL_BIN || '';
  const runneld = path.join(bin, 'runneld');
  if (!fs.existsSync(runneld)) throw new Error(`no runneld in "${bin}" (set RUNNEL_BIN)`);
  dataDir = dataDir || tempDir('runnel-data-');
  const env = {...process.env};
  delete env.RUNNEL_TOKEN;
  if (token) env.RUNNEL_TOKEN = token;
  const proc = spawn(runneld, ['--listen', `127.0.0.1:${port}`, '--data', dataDir, '--workers', String(workers), ...args],
    {env, stdio: ['ignore', 'ignore', 'pipe']});
  let log = '';
  const listening = new Promise((resolve, reject) => {
    proc.stderr.on('data', (d) => {
      log += d;
      if (log.length > 1 << 20) log = log.slice(-(1 << 19));
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(log);
      if (m) resolve(Number(m[1]));
    });
    proc.on('exit', (code, sig) => reject(new Error(`runneld exited (${code ?? sig}) before listening:\n${log}`)));
  });
  const timer = setTimeout(() => proc.kill('SIGKILL'), 15000 * SCALE);
  const p = await listening.finally(() => clearTimeout(timer));
  const url = `http://127.0.0.1:${p}`;
  const exited = new Promise((resolve) => proc.on('exit', (code, sig) => resolve({code, sig})));
  const srv = {
    url, port: p, dataDir, proc, token,
    log: () => log,
    // JSON API call: api('/jobs', {method: 'POST', body}) -> {status, body}
    async api(pathname, {method = 'GET', body, headers = {}, raw = false} = {}) {
      const h = {...headers};
      if (token) h.Authorization = `Bearer ${token}`;
      let data = body;
      if (body !== undefined && !(body instanceof FormData) && typeof body !== 'string') {
        h['Content-Type'] = 'application/json';
        data = JSON.stringify(body);
      }
      const res = await fetch(url + '/api/v1' + pathname, {method, headers: h, body: data});
      if (raw) return res;
      const text = await res.text();
      let json = null;
      try { json = text ? JSON.parse(text) : null; } catch { json = text; }
      return {status: res.status, body: json, headers: res.headers};
    },
    async submit(spec) {
      const r = await srv.api('/jobs', {method: 'POST', body: spec});
      if (r.status !== 201) throw new Error(`submit failed: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    },
    async job(id) {
      const r = await srv.api(`/jobs/${id}`);
      if (r.status !== 200) throw new Error(`GET job ${id}: ${r.status}`);
      return r.body;
    },
    async waitJob(id, pred, what, timeout = 15000) {
      return waitFor(async () => { const j = await srv.job(id); return pred(j) && j; },
        {timeout, what: what || `job ${id}`});
    },
    // SIGTERM, then the exit status.
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return exited;
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 20000 * SCALE);
      const r = await exited;
      clearTimeout(t);
      return r;
    },
  };
  return srv;
}

// The flags ../shared/CONTAINERS.md gives (headless comes from playwright).
export const BROWSER_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// A private chromium profile in a temp folder; returns {context, close}.
export async function launchBrowser() {
  const profile = tempDir('runnel-chromium-');
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: BROWSER_ARGS,
    viewport: {width: 1280, height: 900},
  });
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      fs.rmSync(profile, {recursive: true, force: true});
    },
  };
}

const SANITIZER = /ERROR: \w*Sanitizer|runtime error:|SUMMARY: \w*Sanitizer/;

// Stops srv (SIGTERM), checks that it exited cleanly with no sanitizer
// report in its log, and removes its data directory.
export async function stopClean(srv) {
  const r = await srv.stop();
  assert.equal(r.code, 0, `runneld exited with ${r.code ?? r.sig}:\n${srv.log().slice(-4000)}`);
  assert.doesNotMatch(srv.log(), SANITIZER);
  fs.rmSync(srv.dataDir, {recursive: true, force: true});
}

// A new page (newPage) in browser, closed when test t ends.
export async function openPage(browser, t, opts) {
  const p = await newPage(browser.context, opts);
  t.after(() => p.close().catch(() => {}));
  return p;
}

// The dashboard's event stream is connected.
export async function waitLive(p) {
  await p.waitForSelector('#conn.live', {timeout: 20000 * SCALE});
}

// A new page that records console errors and uncaught exceptions.
export async function newPage(context, {ignore = []} = {}) {
  const page = await context.newPage();
  const errors = [];
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const text = m.text();
    if (ignore.some((re) => re.test(text))) return;
    errors.push(`console.error: ${text}`);
  });
  page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
  page.errors = errors;
  return page;
}

export async function screenshot(page, name) {
  fs.mkdirSync(OUT, {recursive: true});
  const file = path.join(OUT, `${name}.png`);
  await page.screenshot({path: file, fullPage: true});
  return file;
}

// ---- PostgreSQL (cluster mode) ----------------------------------------------

// A maintenance database's URL (ctest's `pg` fixture sets it), or ''.
export const PG_URL = process.env.RUNNEL_TEST_PG_URL || '';

function psqlPath() {
  const dirs = [];
  const cfg = spawnSync('pg_config', ['--bindir'], {encoding: 'utf8'});
  if (cfg.status === 0) dirs.push(cfg.stdout.trim());
  try {
    dirs.push(...fs.readdirSync('/usr/lib/postgresql').sort().reverse().map((v) => `/usr/lib/postgresql/${v}/bin`));
  } catch { /* no server packages */ }
  for (const d of dirs) if (fs.existsSync(path.join(d, 'psql'))) return path.join(d, 'psql');
  return 'psql';
}

// PG_URL with its database changed to name (a URI or a key=value string).
export function pgUrl(name) {
  const m = /^(postgres(?:ql)?:\/\/[^/?]*)(\/[^?]*)?(\?.*)?$/.exec(PG_URL);
  if (!m) return `${PG_URL} dbname=${name}`;
  const query = (m[3] || '').slice(1).split('&').filter((q) => q && !q.startsWith('dbname='));
  return `${m[1]}/${name}${query.length ? '?' + query.join('&') : ''}`;
}

// Runs sql on the maintenance database; throws with psql's message.
export function psql(sql, url = PG_URL) {
  const r = spawnSync(psqlPath(), ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', sql],
    {encoding: 'utf8', env: {...process.env, PGOPTIONS: '-c client_min_messages=warning'}, timeout: 60000});
  if (r.status !== 0) throw new Error(`psql: ${sql}: ${(r.stderr || r.error?.message || '').trim()}`);
  return r.stdout.trim();
}

// A fresh database for one test; returns {url, drop()}.  Its name starts
// with runnel_test_, so that tests/pg/fixture.sh drops it if we do not.
export function pgDatabase() {
  const name = `runnel_test_browser_${process.pid}_${Math.random().toString(16).slice(2, 8)}`;
  psql(`CREATE DATABASE "${name}"`);
  return {url: pgUrl(name), drop: () => psql(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)};
}

// The jobs table as the page shows it: [{id, state}] in display order.
export function tableRows(page) {
  return page.$$eval('.jobs-body [data-id]', (trs) => trs.map((tr) => ({
    id: Number(tr.dataset.id),
    state: tr.querySelector('.badge').textContent,
  })));
}
