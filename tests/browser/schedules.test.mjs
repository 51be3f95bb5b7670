// Browser tests of the dashboard's Schedules view: the form with its live
// preview (POST /api/v1/schedules?dry_run=1), the table, run now, pause,
// resume, edit and delete, a schedule's jobs on job pages and in the jobs
// list, and axe in light and dark, wide and at 360 px.  Run by run.sh.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {startServer, launchBrowser, screenshot, waitFor, SCALE, stopClean, openPage,
  waitLive} from './lib.mjs';

const T = (ms) => ms * SCALE;
const AXE = path.join(path.dirname(new URL(import.meta.url).pathname), 'node_modules/axe-core/axe.min.js');
// Chromium logs the refusals the preview and the form provoke on purpose.
const REFUSALS = [/status of 4(09|22)/];
let srv, browser;

before(async () => {
  srv = await startServer({workers: 2});
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (srv) {
    await stopClean(srv);
  }
});

const page = (t) => openPage(browser, t, {ignore: REFUSALS});

const live = waitLive;

async function schedules() {
  const r = await srv.api('/schedules');
  assert.equal(r.status, 200);
  return r.body.schedules;
}

const row = (p, id) => p.locator(`.schedules tr[data-id="${id}"]`);
const runs = (p) => p.locator('.sched-dlg .runs li');

test('a schedule made through the form: live preview, cron error in place, run now, pause, resume, edit, delete', async (t) => {
  const p = await page(t);
  await p.goto(srv.url + '/');
  await live(p);
  await p.click('nav >> text=Schedules');
  await p.waitForSelector('.schedules td:has-text("No schedules yet")');
  await p.evaluate(() => { window.__samePage = true; });

  // The form, its preview from the server's dry run.
  await p.click('button:has-text("New schedule")');
  await p.waitForSelector('dialog.sched-dlg[open]');
  assert.equal(await p.evaluate(() => document.activeElement.id), 's-name');
  assert.equal(await p.inputValue('#s-timezone'), 'UTC');
  await p.fill('#s-name', 'nightly-backup');
  await p.fill('#s-cron', '*/5 * * * *');
  await waitFor(async () => (await runs(p).count()) === 5, {what: 'five next runs in the preview'});
  const times = await p.$$eval('.sched-dlg .runs time', (ts) => ts.map((x) => Date.parse(x.getAttribute('datetime'))));
  for (let i = 1; i < 5; i++) assert.equal(times[i] - times[i - 1], 300000, 'runs 5 minutes apart');
  assert.ok(times.every((x) => x % 300000 === 0));
  await screenshot(p, 'schedules-preview');

  // A wrong expression: the server's message, with its position, on the
  // field, while the focus stays where the user types.
  await p.fill('#s-cron', '61 * * * *');
  await p.waitForSelector('#s-cron-err:not([hidden])');
  const msg = await p.textContent('#s-cron-err');
  assert.match(msg, /position \d+/);
  assert.equal(await p.getAttribute('#s-cron', 'aria-invalid'), 'true');
  assert.equal(await p.evaluate(() => document.activeElement.id), 's-cron');
  assert.equal(await runs(p).count(), 0);
  await screenshot(p, 'schedules-cron-error');
  await p.fill('#s-cron', '30 2 * * *');
  await waitFor(async () => (await runs(p).count()) === 5, {what: 'the preview back'});
  assert.equal(await p.getAttribute('#s-cron', 'aria-invalid'), null);
  assert.ok(await p.isHidden('#s-cron-err'));

  // Saving without a command: said next to it.
  await p.click('button:has-text("Create schedule")');
  await p.waitForSelector('#sj-command-err:not([hidden])');
  assert.equal(await p.evaluate(() => document.activeElement.id), 'sj-command');
  await p.fill('#sj-command', 'echo from-the-schedule');
  await p.fill('#sj-queue', 'nightly');
  await p.selectOption('#s-overlap', 'skip');
  assert.match(await p.textContent('#s-overlap-hint'), /Skip a tick/);
  await p.click('button:has-text("Create schedule")');
  await p.waitForURL(/#\/schedules\?id=\d+$/, {timeout: T(5000)});
  const id = Number(/id=(\d+)$/.exec(p.url())[1]);
  assert.ok(await p.isHidden('dialog.sched-dlg'));
  const [sc] = await schedules();
  assert.equal(sc.id, id);
  assert.equal(sc.name, 'nightly-backup');
  assert.equal(sc.cron, '30 2 * * *');
  assert.equal(sc.timezone, 'UTC');
  assert.equal(sc.overlap, 'skip');
  assert.deepEqual(sc.job, {command: 'echo from-the-schedule', queue: 'nightly'});
  await p.waitForSelector(`.schedules tr.selected[data-id="${id}"]`);
  assert.match(await row(p, id).textContent(), /nightly-backup.*30 2 \* \* \*.*UTC/);
  // 02:30 UTC is "in 56 m" when the test runs at 01:33: minutes count too.
  assert.match(await row(p, id).textContent(), /in \d+ (h|m)/);
  assert.match(await row(p, id).textContent(), /not run yet/);

  // A taken name: a 409, shown on the name.
  await p.click('button:has-text("New schedule")');
  await p.fill('#s-name', 'nightly-backup');
  await p.fill('#s-cron', '@hourly');
  await p.fill('#sj-command', 'true');
  await waitFor(async () => (await runs(p).count()) === 5, {what: 'the @hourly preview'});
  await p.click('button:has-text("Create schedule")');
  await p.waitForSelector('#s-name-err:not([hidden])');
  assert.equal(await p.getAttribute('#s-name', 'aria-invalid'), 'true');
  await p.keyboard.press('Escape');
  await p.waitForSelector('dialog.sched-dlg', {state: 'detached'});
  assert.equal((await schedules()).length, 1);

  // Run now: the job appears, then its success in the row, live.
  await p.click(`button[aria-label="Run now: schedule nightly-backup"]`);
  await p.waitForSelector('.note a:has-text("Open job #")');
  const jobId = Number(/#(\d+)/.exec(await p.textContent('.note a'))[1]);
  await waitFor(async () => (await row(p, id).locator('.badge.s-succeeded').first().textContent().catch(() => '')) === 'succeeded' &&
    (await row(p, id).textContent()).includes(`#${jobId}`), {what: 'the row to show the job succeeded', timeout: 15000});
  assert.match(await row(p, id).textContent(), /exit 0/);
  const job = await srv.job(jobId);
  assert.equal(job.schedule_id, id);
  assert.equal(job.state, 'succeeded');
  assert.equal(job.queue, 'nightly');
  await screenshot(p, 'schedules-ran');

  // The job's page names its schedule and links back to it.
  await p.click(`.note a`);
  await p.waitForSelector('.jd-sched a:has-text("nightly-backup")', {timeout: T(5000)});
  assert.equal(await p.getAttribute('.jd-sched a', 'href'), `#/schedules?id=${id}`);
  // The jobs list filtered to the schedule's jobs, from the URL.
  const other = await srv.submit({command: 'true', name: 'not scheduled'});
  await p.evaluate((sid) => { location.hash = `#/jobs?schedule=${sid}`; }, id);
  await p.waitForSelector(`.jobs-body [data-id="${jobId}"]`);
  assert.equal(await p.locator(`.jobs-body [data-id="${other.id}"]`).count(), 0);
  assert.match(await p.textContent('.note'), /schedule/);
  await p.click('.jd-sched a, .note a:has-text("#")');
  await p.waitForSelector(`.schedules tr.selected[data-id="${id}"]`);

  // Pause and resume.
  await p.click('button[aria-label="Pause schedule nightly-backup"]');
  await waitFor(async () => (await row(p, id).locator('td .badge').last().textContent()) === 'paused', {what: 'paused'});
  assert.equal((await schedules())[0].paused, true);
  assert.deepEqual((await schedules())[0].next_runs, []);
  await p.click('button[aria-label="Resume schedule nightly-backup"]');
  await waitFor(async () => (await row(p, id).locator('td .badge').last().textContent()) === 'active', {what: 'active'});
  assert.equal((await schedules())[0].paused, false);

  // Edit: the form holds the schedule; a change is PATCHed.
  await p.click('button[aria-label="Edit schedule nightly-backup"]');
  await p.waitForSelector('dialog.sched-dlg[open]');
  assert.equal(await p.inputValue('#s-cron'), '30 2 * * *');
  assert.equal(await p.inputValue('#sj-command'), 'echo from-the-schedule');
  assert.equal(await p.inputValue('#s-overlap'), 'skip');
  await waitFor(async () => (await runs(p).count()) === 5, {what: 'the preview of the saved schedule'});
  await p.fill('#s-cron', '@every 90s');
  await p.fill('#s-timezone', 'Europe/Berlin');
  await waitFor(async () => {
    const ts = await p.$$eval('.sched-dlg .runs time', (x) => x.map((e) => Date.parse(e.getAttribute('datetime'))));
    return ts.length === 5 && ts[1] - ts[0] === 90000;
  }, {what: 'the preview of @every 90s'});
  assert.match(await p.textContent('.sched-dlg .runs'), /Europe\/Berlin/);
  await p.click('button:has-text("Save")');
  await p.waitForSelector('dialog.sched-dlg', {state: 'detached'});
  await waitFor(async () => (await row(p, id).textContent()).includes('@every 90s'), {what: 'the edited row'});
  const edited = (await schedules())[0];
  assert.equal(edited.cron, '@every 90s');
  assert.equal(edited.timezone, 'Europe/Berlin');
  assert.equal(edited.name, 'nightly-backup');
  assert.deepEqual(edited.job, {command: 'echo from-the-schedule', queue: 'nightly'});

  // Delete, after a confirmation; its jobs stay.
  await p.click('button[aria-label="Delete schedule nightly-backup"]');
  await p.waitForSelector('dialog.confirm[open]');
  await p.click('dialog.confirm button:has-text("Delete schedule")');
  await p.waitForSelector('.schedules td:has-text("No schedules yet")');
  assert.deepEqual(await schedules(), []);
  assert.equal((await srv.job(jobId)).state, 'succeeded');
  assert.equal(await p.evaluate(() => window.__samePage), true, 'the page was reloaded');
  assert.deepEqual(p.errors, []);
});

test('a tick made by the server shows up live in the row', async (t) => {
  const p = await page(t);
  const made = await srv.api('/schedules', {method: 'POST',
    body: {name: 'every-second', cron: '@every 1s', job: {command: 'echo tick'}, overlap: 'skip'}});
  assert.equal(made.status, 201, JSON.stringify(made.body));
  t.after(() => srv.api(`/schedules/${made.body.id}`, {method: 'DELETE'}));
  await p.goto(`${srv.url}/#/schedules`);
  await live(p);
  await waitFor(async () => /#\d+\s*succeeded/.test(await row(p, made.body.id).textContent()),
    {what: 'a tick\'s job to succeed in the row', timeout: 15000});
  const id = Number(/#(\d+)/.exec(await row(p, made.body.id).locator('td:nth-child(4) a').textContent())[1]);
  const j = await srv.job(id);
  assert.equal(j.schedule_id, made.body.id);
  assert.ok(j.scheduled_for, 'a tick\'s job has scheduled_for');
  await p.evaluate((jid) => { location.hash = `#/jobs/${jid}`; }, id);
  await p.waitForSelector('.jd-sched a:has-text("every-second")');
  assert.match(await p.textContent('.jd-sched'), /\(tick \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\)/);
  await srv.api(`/schedules/${made.body.id}`, {method: 'PATCH', body: {paused: true}});
  assert.deepEqual(p.errors, []);
});

test('accessibility: the Schedules view and its form pass axe, light and dark, wide and 360 px', async (t) => {
  const made = await srv.api('/schedules', {method: 'POST',
    body: {name: 'a11y-nightly', cron: '0 3 * * *', timezone: 'Europe/Berlin', job: {command: 'true'}}});
  assert.equal(made.status, 201);
  t.after(() => srv.api(`/schedules/${made.body.id}`, {method: 'DELETE'}));
  await srv.api(`/schedules/${made.body.id}/trigger`, {method: 'POST'});
  const found = [];
  for (const [scheme, width] of [['light', 1280], ['dark', 360], ['light', 360], ['dark', 1280]]) {
    const p = await page(t);
    await p.emulateMedia({colorScheme: scheme});
    await p.setViewportSize({width, height: 900});
    await p.goto(`${srv.url}/#/schedules?id=${made.body.id}`);
    await live(p);
    await p.evaluate(fs.readFileSync(AXE, 'utf8'));
    await p.waitForSelector(`.schedules tr.selected[data-id="${made.body.id}"]`);
    const check = async (where) => {
      const r = await p.evaluate(() => window.axe.run(document,
        {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}));
      const wide = await p.evaluate(() => document.documentElement.scrollWidth);
      if (wide > width) found.push(`${scheme} ${width}px ${where}: the page is ${wide} px wide`);
      for (const v of r.violations) {
        found.push(`${scheme} ${width}px ${where}: ${v.id} (${v.impact}) ${v.help}: ` +
          v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', '));
      }
    };
    await check('list');
    await screenshot(p, `schedules-${scheme}-${width}`);
    await p.click('button[aria-label="Edit schedule a11y-nightly"]');
    await waitFor(async () => (await runs(p).count()) === 5, {what: 'the preview'});
    await p.evaluate(() => document.querySelectorAll('.sched-dlg details').forEach((d) => { d.open = true; }));
    await check('form');
    const over = await p.evaluate(() => {
      const d = document.querySelector('dialog.sched-dlg');
      return d.scrollWidth > d.clientWidth;
    });
    if (over) found.push(`${scheme} ${width}px form: the dialog scrolls sideways`);
    await p.fill('#s-cron', '0 3 * * 8');
    await p.waitForSelector('#s-cron-err:not([hidden])');
    await check('form with a cron error');
    await screenshot(p, `schedules-form-${scheme}-${width}`);
    await p.keyboard.press('Escape');
    assert.deepEqual(p.errors, []);
  }
  assert.deepEqual(found, []);
});
