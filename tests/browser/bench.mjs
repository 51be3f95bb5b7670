// Dashboard speed, as the Speed section asks:
//   1. cold load (empty cache, new profile) to a rendered jobs table of 50
//      rows, with the whole database holding --jobs jobs (default 100 000);
//   2. --rate job events per second (default 200) for --seconds (default
//      30) while the jobs table is open: main-thread long tasks, and the
//      view against the API afterwards.
//
//   node tests/browser/bench.mjs BIN_DIR [--jobs N] [--rate R] [--seconds S] [--loads K] [--data DIR]
//
// --data DIR keeps the database there: a second run with the same DIR
// skips filling it (the burst adds --rate * --seconds / 3 jobs each time).
// Needs what run.sh installs (chromium, playwright-core).  Prints one line
// per figure and a JSON summary at the end.

import fs from 'node:fs';
import {setTimeout as delay} from 'node:timers/promises';
import {chromium} from 'playwright-core';
import {startServer, launchBrowser, newPage, waitFor, tableRows, FINISHED, CHROMIUM, BROWSER_ARGS} from './lib.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
if (!args[0] || args[0].startsWith('--')) {
  console.error('usage: node bench.mjs BIN_DIR [--jobs N] [--rate R] [--seconds S] [--loads K] [--data DIR]');
  process.exit(2);
}
process.env.RUNNEL_BIN = args[0];
const JOBS = opt('jobs', 100000);
const RATE = opt('rate', 200);
const SECONDS = opt('seconds', 30);
const LOADS = opt('loads', 5);
const result = {jobs_in_db: 0};
// Main renderer thread tasks from a Chrome trace taken around fn():
// [{wall, cpu}] in ms (cpu = the thread's own time, which a loaded
// machine does not inflate the way it inflates wall time).
async function mainTasks(page, fn) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Tracing.start', {categories: 'disabled-by-default-devtools.timeline', transferMode: 'ReturnAsStream'});
  const out = await fn();
  const done = new Promise((r) => cdp.once('Tracing.tracingComplete', r));
  await cdp.send('Tracing.end');
  const {stream} = await done;
  const parts = [];
  for (;;) {
    const r = await cdp.send('IO.read', {handle: stream});
    parts.push(r.data);
    if (r.eof) break;
  }
  await cdp.detach();
  const raw = JSON.parse(parts.join(''));
  const ev = raw.traceEvents || raw;
  const main = new Set(ev.filter((e) => e.name === 'thread_name' && e.args.name === 'CrRendererMain').map((e) => `${e.pid}:${e.tid}`));
  const tasks = ev.filter((e) => e.name === 'RunTask' && e.ph === 'X' && main.has(`${e.pid}:${e.tid}`))
    .map((e) => ({wall: (e.dur || 0) / 1000, cpu: (e.tdur || 0) / 1000}));
  return {out, tasks};
}

const median = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };

const di = args.indexOf('--data');
const DATA = di >= 0 ? args[di + 1] : null;
if (DATA) fs.mkdirSync(DATA, {recursive: true});
const srv = await startServer({workers: 2, dataDir: DATA || undefined});
try {
  // ---- 1. fill the database --------------------------------------------
  const t0 = Date.now();
  const have = (await srv.api('/stats')).body.total;
  for (let done = have; done < JOBS;) {
    const n = Math.min(10000, JOBS - done);
    const specs = Array.from({length: n}, (_, i) => ({command: (done + i) % 10 === 0 ? 'exit 1' : 'true',
      name: `preload ${done + i}`, queue: ['default', 'media', 'mail'][(done + i) % 3]}));
    const r = await srv.api('/jobs', {method: 'POST', body: specs});
    if (r.status !== 201) throw new Error(`batch: ${r.status} ${JSON.stringify(r.body)}`);
    done += n;
  }
  await waitFor(async () => {
    const s = (await srv.api('/stats')).body;
    return s.jobs.queued + s.jobs.running === 0;
  }, {timeout: 900000, what: 'the preloaded jobs to finish'});
  result.jobs_in_db = (await srv.api('/stats')).body.total;
  console.log(`database: ${result.jobs_in_db} jobs (submitted and run in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);

  // ---- 2. cold loads -----------------------------------------------------
  // One browser; each load in a new context (empty cache, no connections).
  // The first load warms the browser process up and is not counted.
  const loads = [];
  const cb = await chromium.launch({executablePath: CHROMIUM, headless: true, args: BROWSER_ARGS});
  try {
    for (let i = 0; i <= LOADS; i++) {
      const ctx = await cb.newContext({viewport: {width: 1280, height: 900}});
      const p = await newPage(ctx);
      await p.addInitScript(() => {
        const check = () => {
          if (document.querySelectorAll('.jobs-body [data-id]').length >= 50) {
            window.__tableAt = performance.now();
            return;
          }
          requestAnimationFrame(check);
        };
        requestAnimationFrame(check);
      });
      await p.goto(srv.url + '/#/jobs');
      await p.waitForFunction(() => window.__tableAt, null, {timeout: 30000});
      const m = await p.evaluate(() => {
        const nav = performance.getEntriesByType('navigation')[0];
        const res = performance.getEntriesByType('resource');
        const bytes = nav.transferSize + res.reduce((s, r) => s + (r.transferSize || 0), 0);
        const body = nav.decodedBodySize + res.reduce((s, r) => s + (r.decodedBodySize || 0), 0);
        return {ms: window.__tableAt, bytes, body, requests: res.length + 1};
      });
      if (p.errors.length) throw new Error(p.errors.join('\n'));
      await ctx.close();
      if (i > 0) loads.push(m); else result.first_load_ms = Math.round(m.ms);
    }
    // One more, traced: the renderer main thread's own CPU time to the table.
    const ctx = await cb.newContext({viewport: {width: 1280, height: 900}});
    const p = await newPage(ctx);
    const {tasks} = await mainTasks(p, async () => {
      await p.goto(srv.url + '/#/jobs');
      await p.waitForFunction(() => document.querySelectorAll('.jobs-body [data-id]').length >= 50, null, {timeout: 30000});
    });
    result.cold_load_main_thread_cpu_ms = Math.round(tasks.reduce((a, x) => a + x.cpu, 0));
    await ctx.close();
  } finally {
    await cb.close();
  }
  result.cold_load_ms = loads.map((l) => Math.round(l.ms));
  result.cold_load_median_ms = Math.round(median(loads.map((l) => l.ms)));
  result.cold_transfer_bytes = loads[loads.length - 1].bytes;
  result.cold_uncompressed_bytes = loads[loads.length - 1].body;
  result.cold_requests = loads[loads.length - 1].requests;
  console.log(`cold load to a 50-row jobs table: median ${result.cold_load_median_ms} ms ` +
    `(first load in a fresh browser: ${result.first_load_ms} ms; main-thread CPU ${result.cold_load_main_thread_cpu_ms} ms) ` +
    `(runs: ${result.cold_load_ms.join(', ')} ms); ${(result.cold_transfer_bytes / 1024).toFixed(1)} KiB transferred ` +
    `(${(result.cold_uncompressed_bytes / 1024).toFixed(1)} KiB uncompressed) in ${result.cold_requests} requests`);

  // ---- 3. an event burst with the table open -----------------------------
  const b = await launchBrowser();
  try {
    const p = await newPage(b.context);
    await p.addInitScript(() => {
      window.__long = [];
      new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__long.push(e.duration); })
        .observe({type: 'longtask', buffered: true});
    });
    await p.goto(srv.url + '/#/jobs');
    await p.waitForSelector('#conn.live');
    await p.waitForSelector('.jobs-body [data-id]');
    await p.evaluate(() => { window.__long = []; window.__ev0 = window.__runnel.counters.events; });
    const rows0 = (await tableRows(p)).length;
    // Each `true` job makes three events: queued, running, succeeded.
    const send = async () => {
      const perSec = RATE / 3;
      const batch = 4;
      const gap = 1000 * batch / perSec;
      const start = Date.now();
      const ids = [];
      const pending = [];
      let sent = 0;
      while (Date.now() - start < SECONDS * 1000) {
        const specs = Array.from({length: batch}, (_, i) => ({command: (sent + i) % 7 === 0 ? 'exit 3' : 'true',
          name: `burst ${sent + i}`}));
        sent += batch;
        pending.push(srv.api('/jobs', {method: 'POST', body: specs}).then((r) => ids.push(...r.body.jobs.map((j) => j.id))));
        await delay(Math.max(0, start + (sent / batch) * gap - Date.now()));
      }
      await Promise.all(pending);
      return {sentMs: Date.now() - start, ids};
    };
    const traced = await mainTasks(p, send);
    const {sentMs, ids} = traced.out;
    const cpuLong = traced.tasks.filter((x) => x.cpu > 50);
    const cpuTotal = traced.tasks.reduce((a, x) => a + x.cpu, 0);
    await waitFor(async () => {
      const s = (await srv.api('/stats')).body;
      return s.jobs.queued + s.jobs.running === 0;
    }, {timeout: 120000, what: 'the burst to finish'});
    const list = (await srv.api('/jobs?limit=1000')).body.jobs;
    const t1 = Date.now();
    await waitFor(async () => {
      const rows = await tableRows(p);
      const want = list.slice(0, rows.length).map((j) => ({id: j.id, state: j.state}));
      return rows.length >= Math.min(1000, rows0 + ids.length) && JSON.stringify(rows) === JSON.stringify(want);
    }, {timeout: 30000, what: 'the page to match the API'});
    const settle = Date.now() - t1;
    const m = await p.evaluate(() => ({long: window.__long, events: window.__runnel.counters.events - window.__ev0,
      drops: window.__runnel.counters.drops, rows: document.querySelectorAll('.jobs-body [data-id]').length}));
    if (p.errors.length) throw new Error(p.errors.join('\n'));
    result.burst = {
      jobs: ids.length, seconds: +(sentMs / 1000).toFixed(1), events: m.events,
      events_per_second: Math.round(m.events / (sentMs / 1000)),
      long_tasks: m.long.length, longest_task_ms: Math.round(Math.max(0, ...m.long)),
      cpu_long_tasks: cpuLong.length, longest_task_cpu_ms: Math.round(Math.max(0, ...traced.tasks.map((x) => x.cpu))),
      main_thread_cpu_percent: +(100 * cpuTotal / sentMs).toFixed(1),
      stream_drops: m.drops, rows_on_page: m.rows, matches_api: true, settle_ms: settle,
      finished: list.filter((j) => FINISHED.has(j.state)).length,
    };
    console.log(`burst: ${result.burst.events} events in ${result.burst.seconds} s (${result.burst.events_per_second}/s), ` +
      `${result.burst.long_tasks} long tasks, longest ${result.burst.longest_task_ms} ms (wall); ` +
      `by the main thread's own CPU time: ${result.burst.cpu_long_tasks} over 50 ms, longest ${result.burst.longest_task_cpu_ms} ms, ` +
      `${result.burst.main_thread_cpu_percent}% busy; ` +
      `${m.rows} rows match the API ${settle} ms after the last job finished; stream drops: ${m.drops}`);
  } finally {
    await b.close();
  }
} finally {
  await srv.stop();
  if (!DATA) fs.rmSync(srv.dataDir, {recursive: true, force: true});
}
console.log(JSON.stringify(result));
