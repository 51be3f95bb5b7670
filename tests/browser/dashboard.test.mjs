// Browser tests of the runnel dashboard against a real runneld (the web
// files built into it) in headless Debian chromium.  Run by run.sh; each
// test saves a screenshot in out/ (RUNNEL_BROWSER_OUT).

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {startServer, launchBrowser, newPage, screenshot, waitFor, tableRows, tempDir,
  FINISHED, SCALE, stopClean, openPage} from './lib.mjs';

const T = (ms) => ms * SCALE;
let srv, browser, gates;

before(async () => {
  gates = tempDir('runnel-gates-');
  srv = await startServer({workers: 2});
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (srv) {
    await stopClean(srv);
  }
  if (gates) fs.rmSync(gates, {recursive: true, force: true});
});

const gate = (name) => path.join(gates, name);
const open = (name) => fs.writeFileSync(gate(name), '');
// A shell loop that waits until the test creates the file.
const waitGate = (name) => `while [ ! -e '${gate(name)}' ]; do sleep 0.02; done`;

const page = (t, opts) => openPage(browser, t, opts);

async function live(p) {
  try {
    await p.waitForSelector('#conn.live', {timeout: T(20000)});
  } catch (e) {
    const state = await p.evaluate(() => `${document.getElementById('conn')?.textContent} ` +
      JSON.stringify(window.__runnel?.counters)).catch((x) => x.message);
    throw new Error(`the page did not go live (${state}; ${p.url()}; ${p.errors.join('; ')}): ${e.message}`);
  }
}

function noErrors(p) {
  assert.deepEqual(p.errors, [], 'the browser console has errors');
}

const badge = (p) => p.locator('.title-line .badge');
const rowState = (p, id) => p.locator(`.jobs-body [data-id="${id}"] .badge`);

test('the page loads with no console errors, every view renders, cold load is small', async (t) => {
  const p = await page(t);
  const cdp = await p.context().newCDPSession(p);
  await cdp.send('Network.enable');
  await cdp.send('Network.clearBrowserCache');
  let bytes = 0;
  const sizes = new Map();
  cdp.on('Network.responseReceived', (e) => sizes.set(e.requestId, e.response.url));
  cdp.on('Network.loadingFinished', (e) => { bytes += e.encodedDataLength; });
  const t0 = Date.now();
  await p.goto(srv.url + '/');
  await live(p);
  await p.waitForFunction(() => [...document.querySelectorAll('.count-n')].every((n) => n.textContent !== '…'));
  const ms = Date.now() - t0;
  // The event stream stays open: count what finished loading.
  t.diagnostic(`cold load: ${sizes.size} responses, ${(bytes / 1024).toFixed(1)} KiB transferred, ` +
    `overview rendered in ${ms} ms`);
  assert.ok(bytes < 150 * 1024, `cold load transferred ${bytes} bytes`);
  await screenshot(p, 'load-overview');

  const job = await srv.submit({command: 'echo hello; echo oops >&2', name: 'first'});
  for (const [hash, sel] of [['#/jobs', '.jobs-body [data-id]'], ['#/submit', '#c-command'],
    [`#/jobs/${job.id}`, '.out-text'], ['#/nowhere', 'h1']]) {
    await p.evaluate((hs) => { location.hash = hs; }, hash);
    await p.waitForSelector(sel, {timeout: T(5000)});
  }
  await p.evaluate((id) => { location.hash = `#/jobs/${id}`; }, job.id);
  await p.waitForFunction(() => document.querySelector('.out-text')?.textContent.includes('hello'), null, {timeout: T(10000)});
  await screenshot(p, 'load-detail');
  // At 360 px wide nothing needs a horizontal scroll but the table itself.
  await p.setViewportSize({width: 360, height: 800});
  await p.evaluate(() => { location.hash = '#/jobs'; });
  await p.waitForSelector('.jobs-body [data-id]');
  const wide = await p.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(wide <= 360, `page is ${wide} px wide at a 360 px viewport`);
  await screenshot(p, 'load-jobs-360');
  noErrors(p);
});

test('accessibility: axe finds no WCAG 2.x A/AA violations, light and dark, wide and 360 px (no sideways scroll)', async (t) => {
  const job = await srv.submit({command: 'echo out; echo err >&2', name: 'a11y'});
  await srv.waitJob(job.id, (x) => FINISHED.has(x.state));
  const axe = path.join(path.dirname(new URL(import.meta.url).pathname), 'node_modules/axe-core/axe.min.js');
  const found = [];
  for (const [scheme, width] of [['light', 1280], ['dark', 360]]) {
    const p = await page(t);
    await p.emulateMedia({colorScheme: scheme});
    await p.setViewportSize({width, height: 900});
    await p.goto(`${srv.url}/`);
    await live(p);
    // The page's CSP refuses inline scripts, as it should: axe comes in
    // through the debugger protocol instead of a <script>.
    await p.evaluate(fs.readFileSync(axe, 'utf8'));
    for (const hash of ['#/', '#/jobs', `#/jobs/${job.id}`, '#/submit']) {
      await p.evaluate((hs) => { location.hash = hs; }, hash);
      if (hash === '#/') await p.waitForFunction(() => document.querySelector('.count-n')?.textContent !== '…');
      if (hash === '#/jobs') await p.waitForSelector('.jobs-body [data-id]');
      if (hash.startsWith('#/jobs/')) await p.waitForFunction(() => document.querySelector('.out-text')?.textContent === 'out\n');
      if (hash === '#/submit') {
        await p.waitForSelector('#c-command');
        await p.evaluate(() => document.querySelectorAll('details').forEach((d) => { d.open = true; }));
      }
      const r = await p.evaluate(() => window.axe.run(document,
        {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}));
      const wide = await p.evaluate(() => document.documentElement.scrollWidth);
      if (wide > width) found.push(`${scheme} ${width}px ${hash}: the page is ${wide} px wide`);
      for (const v of r.violations) {
        found.push(`${scheme} ${width}px ${hash}: ${v.id} (${v.impact}) ${v.help}: ` +
          v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', '));
      }
    }
    await screenshot(p, `a11y-${scheme}-${width}`);
    noErrors(p);
  }
  assert.deepEqual(found, []);
});

test('a command submitted through the form goes queued → running → succeeded without reload', async (t) => {
  // Chromium logs the 400 that the form provokes on purpose.
  const p = await page(t, {ignore: [/status of 400/]});
  // Keep both workers busy so that the new job waits in the queue.
  const blockers = [];
  for (let i = 0; i < 2; i++) blockers.push(await srv.submit({command: waitGate('blockers'), name: `blocker ${i}`}));
  for (const b of blockers) await srv.waitJob(b.id, (j) => j.state === 'running', 'a blocker to run');

  await p.goto(srv.url + '/#/submit');
  await live(p);
  await p.evaluate(() => { window.__samePage = true; });
  await p.fill('#c-command', `echo started; ${waitGate('form-job')}; echo done`);
  await p.fill('#c-name', 'form job');
  await p.fill('#c-env', 'GREETING=hi');
  // The server's refusal goes next to the field it names.
  await p.fill('#c-priority', '5000000');
  await p.click('button:has-text("Run")');
  await p.waitForSelector('#c-priority-err:has-text("priority")');
  assert.equal(await p.getAttribute('#c-priority', 'aria-invalid'), 'true');
  assert.equal(await p.evaluate(() => document.activeElement.id), 'c-priority');
  await screenshot(p, 'submit-field-error');
  await p.fill('#c-priority', '-5');
  await p.click('button:has-text("Run")');
  await p.waitForURL(/#\/jobs\/\d+$/, {timeout: T(5000)});
  const id = Number(/#\/jobs\/(\d+)$/.exec(p.url())[1]);
  await waitFor(async () => (await badge(p).textContent()) === 'queued', {what: 'the detail view to say queued'});
  const spec = await srv.job(id);
  assert.equal(spec.name, 'form job');
  assert.equal(spec.priority, -5);
  assert.deepEqual(spec.env, {GREETING: 'hi'});

  await p.click('nav >> text=Jobs');
  await waitFor(async () => (await rowState(p, id).textContent()) === 'queued', {what: 'the row to say queued'});
  await screenshot(p, 'submit-queued');
  open('blockers');
  await waitFor(async () => (await rowState(p, id).textContent()) === 'running', {what: 'the row to say running'});
  await screenshot(p, 'submit-running');
  open('form-job');
  await waitFor(async () => (await rowState(p, id).textContent()) === 'succeeded',
    {what: 'the row to say succeeded', timeout: 15000});
  assert.equal((await srv.job(id)).state, 'succeeded');
  assert.equal(await p.evaluate(() => window.__samePage), true, 'the page was reloaded');
  await screenshot(p, 'submit-succeeded');
  noErrors(p);
});

test('live output appears while the job runs; auto-scroll stops when the user scrolls up', async (t) => {
  const p = await page(t);
  await p.goto(srv.url + '/#/submit');
  await live(p);
  const lines = (from, to) => `i=${from}; while [ $i -le ${to} ]; do echo "line $i"; i=$((i+1)); done`;
  await p.fill('#c-command', `${lines(1, 300)}; ${waitGate('out-1')}; ${lines(301, 600)}; ` +
    `${waitGate('out-2')}; echo 'last line'; echo 'to stderr' >&2`);
  await p.click('button:has-text("Run")');
  await p.waitForURL(/#\/jobs\/\d+$/, {timeout: T(5000)});
  const id = Number(/#\/jobs\/(\d+)$/.exec(p.url())[1]);
  const stdout = p.locator('.out-text').first();
  await waitFor(async () => (await stdout.textContent()).includes('line 300\n'), {what: 'the first output'});
  const j = await srv.job(id);
  assert.equal(j.state, 'running', 'the output came while the job ran');
  assert.ok(!(await stdout.textContent()).includes('line 301'));
  // Following: the pane sits at its end.
  await waitFor(() => stdout.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight < 24),
    {what: 'the pane to be scrolled to its end'});
  await screenshot(p, 'output-live');
  // The user scrolls up: new output must not pull the pane down.
  await stdout.evaluate((el) => { el.scrollTop = 0; el.dispatchEvent(new Event('scroll')); });
  await p.waitForSelector('button:has-text("Jump to end")', {state: 'visible'});
  open('out-1');
  await waitFor(async () => (await stdout.textContent()).includes('line 600\n'), {what: 'more output'});
  await p.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  assert.equal(await stdout.evaluate((el) => el.scrollTop), 0, 'the pane scrolled while the user read above');
  await p.click('button:has-text("Jump to end")');
  await waitFor(() => stdout.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight < 24),
    {what: 'Jump to end to scroll down'});
  open('out-2');
  await waitFor(async () => (await badge(p).textContent()) === 'succeeded', {what: 'the job to succeed'});
  await waitFor(async () => (await stdout.textContent()).endsWith('last line\n'), {what: 'the last line'});
  await waitFor(async () => (await p.locator('.out-text').nth(1).textContent()) === 'to stderr\n', {what: 'stderr'});
  const text = await stdout.textContent();
  assert.equal(text.split('\n').filter((l) => l.startsWith('line ')).length, 600, 'every line once');
  await screenshot(p, 'output-done');
  noErrors(p);
});

test('a large output shows a window of its lines, jumps to the end, and links to the whole', async (t) => {
  const p = await page(t);
  const job = await srv.submit({command: 'i=0; while [ $i -lt 8000 ]; do echo "line $i ....................................................................."; i=$((i+1)); done'});
  const j = await srv.waitJob(job.id, (x) => FINISHED.has(x.state));
  assert.ok(j.stdout_bytes > 600000);
  await p.goto(`${srv.url}/#/jobs/${job.id}`);
  await live(p);
  await waitFor(async () => (await p.locator('.out-text').first().textContent()).startsWith('line 0 '), {what: 'the first lines'});
  await p.click('.out button:has-text("Jump to end")');
  const text = await waitFor(async () => {
    const tx = await p.locator('.out-text').first().textContent();
    return tx.endsWith('line 7999 .....................................................................\n') && tx;
  }, {what: 'the tail'});
  assert.ok(text.length <= 16 * 1024 && !text.includes('line 0 '), `${text.length} characters shown`);
  const href = await p.locator('.out a:has-text("Download")').first().getAttribute('href');
  assert.equal(href, `/api/v1/jobs/${job.id}/output?stream=stdout&attempt=1`);
  const whole = await (await fetch(srv.url + href)).text();
  assert.equal(whole.length, j.stdout_bytes);
  for (const width of [1280, 360]) {
    await p.setViewportSize({width, height: 800});
    const w = await p.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(w <= width, `the page is ${w} px wide in a ${width} px viewport`);
  }
  await screenshot(p, 'output-tail');
  noErrors(p);
});

test('cancel from the detail view stops a sleep 60', async (t) => {
  const p = await page(t);
  const job = await srv.submit({command: 'sleep 60', name: 'long sleep'});
  t.after(() => srv.api(`/jobs/${job.id}/cancel`, {method: 'POST'}));
  await p.goto(`${srv.url}/#/jobs/${job.id}`);
  await live(p);
  await waitFor(async () => (await badge(p).textContent()) === 'running', {what: 'running'});
  assert.equal(await p.isDisabled('.actions button:has-text("Retry")'), true);
  assert.equal(await p.isDisabled('.actions button:has-text("Delete")'), true);
  // The dialog is modal and Escape keeps the job.
  await p.click('.actions button:has-text("Cancel")');
  await p.waitForSelector('dialog[open]');
  assert.equal(await p.evaluate(() => document.activeElement.textContent), 'Keep running');
  await p.keyboard.press('Escape');
  await p.waitForSelector('dialog[open]', {state: 'detached'});
  assert.equal((await srv.job(job.id)).state, 'running');
  const t0 = Date.now();
  await p.click('.actions button:has-text("Cancel")');
  await p.waitForSelector('dialog[open]');
  await screenshot(p, 'cancel-confirm');
  await p.click('dialog button:has-text("Cancel job")');
  await waitFor(async () => (await badge(p).textContent()) === 'canceled', {what: 'canceled on the page', timeout: 20000});
  const j = await srv.job(job.id);
  assert.equal(j.state, 'canceled');
  assert.ok(Date.now() - t0 < 30000, 'cancel took as long as the sleep');
  await waitFor(async () => await p.isDisabled('.actions button:has-text("Cancel")') &&
    !(await p.isDisabled('.actions button:has-text("Retry")')), {what: 'the buttons to follow the state'});
  await screenshot(p, 'cancel-done');
  // Retry queues it again; it runs (a second attempt) and is canceled again.
  await p.click('.actions button:has-text("Retry")');
  await waitFor(async () => (await badge(p).textContent()) === 'running' &&
    (await srv.job(job.id)).attempts === 2, {what: 'the retried job to run'});
  await p.click('.actions button:has-text("Cancel")');
  await p.click('dialog button:has-text("Cancel job")');
  await waitFor(async () => (await badge(p).textContent()) === 'canceled', {what: 'canceled again', timeout: 20000});
  // Delete asks first; keeping it changes nothing.
  await p.click('.actions button:has-text("Delete")');
  await p.click('dialog button:has-text("Keep it")');
  assert.equal((await srv.api(`/jobs/${job.id}`)).status, 200);
  await p.click('.actions button:has-text("Delete")');
  await p.click('dialog button:has-text("Delete job")');
  await p.waitForURL(/#\/jobs$/);
  assert.equal((await srv.api(`/jobs/${job.id}`)).status, 404);
  assert.equal(await rowState(p, job.id).count(), 0);
  noErrors(p);
});

test('an upload through the form shows progress, then the job and its download link', async (t) => {
  const probe = await srv.api('/uploads', {method: 'POST', body: ''});
  const missing = probe.status === 404 && probe.body?.error?.code === 'not_found' &&
    /no such route/.test(probe.body.error.message || '');
  const p = await page(t, missing ? {ignore: [/status of 404/]} : undefined);
  const dir = tempDir('runnel-upload-');
  t.after(() => fs.rmSync(dir, {recursive: true, force: true}));
  const file = path.join(dir, 'movie clip.bin');
  const data = crypto.randomBytes(24 << 20);
  fs.writeFileSync(file, data);
  const sha = crypto.createHash('sha256').update(data).digest('hex');

  await p.goto(srv.url + '/#/submit');
  await live(p);
  await p.setInputFiles('#u-file', file);
  await p.waitForSelector('.chosen:has-text("movie clip.bin")');
  await p.fill('#u-command', 'wc -c');
  await p.fill('#u-name', 'an upload');
  if (missing) {
    await p.click('button:has-text("Upload")');
    await p.waitForSelector('.submit-form .error:has-text("does not take uploads")', {timeout: T(10000)});
    await screenshot(p, 'upload-missing-route');
    noErrors(p);
    t.skip('POST /api/v1/uploads does not exist in this runneld yet; the form reports it');
    return;
  }
  // Slow the upload down so that progress has something to show.
  const cdp = await p.context().newCDPSession(p);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions',
    {offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 16 << 20});
  await p.evaluate(() => {
    window.__progress = [];
    const bar = document.getElementById('u-progress');
    new MutationObserver(() => window.__progress.push(bar.value)).observe(bar, {attributes: true});
  });
  await p.click('button:has-text("Upload")');
  await p.waitForSelector('.progress:not([hidden])');
  await screenshot(p, 'upload-progress');
  await p.waitForURL(/#\/jobs\/\d+$/, {timeout: T(30000)});
  await cdp.send('Network.emulateNetworkConditions', {offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1});
  const id = Number(/#\/jobs\/(\d+)$/.exec(p.url())[1]);
  const values = await p.evaluate(() => window.__progress);
  assert.ok(values.some((v) => v > 0 && v < 100), `progress went ${JSON.stringify(values)}`);
  const link = p.locator('a[href$="/file"]');
  await link.waitFor({timeout: T(10000)});
  assert.equal(await link.getAttribute('href'), `/api/v1/jobs/${id}/file`);
  await p.waitForSelector(`.facts dd:has-text("${sha}")`);
  const job = await srv.job(id);
  assert.equal(job.type, 'upload');
  assert.equal(job.file.sha256, sha);
  assert.equal(job.file.size, data.length);
  const got = Buffer.from(await (await srv.api(`/jobs/${id}/file`, {raw: true})).arrayBuffer());
  assert.ok(got.equals(data), 'the download is the file');
  await waitFor(async () => (await badge(p).textContent()) === 'succeeded', {what: 'the upload job to succeed', timeout: 20000});
  await waitFor(async () => (await p.locator('.out-text').first().textContent()).trim() === String(data.length),
    {what: 'wc -c output'});
  await screenshot(p, 'upload-done');

  // Drag and drop a file on the form, then cancel its upload: no job.
  const before = (await srv.api('/jobs?type=upload&limit=1000')).body.jobs.length;
  await p.evaluate(() => { location.hash = '#/submit'; });
  await p.waitForSelector('.drop');
  const dt = await p.evaluateHandle(() => {
    const d = new DataTransfer();
    d.items.add(new File([new Uint8Array(16 << 20)], 'dropped.bin', {type: 'application/octet-stream'}));
    return d;
  });
  await p.dispatchEvent('.drop', 'dragenter', {dataTransfer: dt});
  await p.dispatchEvent('.drop', 'drop', {dataTransfer: dt});
  await p.waitForSelector('.chosen:has-text("dropped.bin")');
  await cdp.send('Network.emulateNetworkConditions', {offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 1 << 20});
  await p.click('button:has-text("Upload")');
  await p.waitForFunction(() => document.getElementById('u-progress').value > 0);
  await p.click('button:has-text("Cancel upload")');
  await p.waitForSelector('.progress-text:has-text("Upload canceled")');
  await cdp.send('Network.emulateNetworkConditions', {offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1});
  await screenshot(p, 'upload-canceled');
  assert.equal((await srv.api('/jobs?type=upload&limit=1000')).body.jobs.length, before, 'a canceled upload made a job');
  noErrors(p);
});

test('filters change the table and the URL, and the URL brings them back', async (t) => {
  const p = await page(t);
  const made = [];
  for (const [queue, code, n] of [['alpha', 0, 3], ['alpha', 1, 2], ['beta', 0, 2], ['beta', 3, 1]]) {
    for (let i = 0; i < n; i++) made.push(await srv.submit({command: `exit ${code}`, queue}));
  }
  for (const j of made) await srv.waitJob(j.id, (x) => FINISHED.has(x.state));
  const apiIds = async (q) => (await srv.api(`/jobs?limit=1000${q ? '&' + q : ''}`)).body.jobs.map((j) => j.id);
  const pageIds = async () => (await tableRows(p)).map((r) => r.id);
  const same = async (q) => {
    await waitFor(async () => JSON.stringify(await pageIds()) === JSON.stringify(await apiIds(q)),
      {what: `the table to match GET /jobs?${q}`});
  };

  await p.goto(srv.url + '/#/jobs');
  await live(p);
  await same('');
  // The keyboard reaches a row's link and opens the job.
  const top = (await tableRows(p))[0].id;
  await p.focus(`.jobs-body [data-id="${top}"] a`);
  await p.keyboard.press('Enter');
  await p.waitForURL(new RegExp(`#/jobs/${top}$`));
  await p.goBack();
  await p.waitForURL(/#\/jobs$/);
  await same('');
  await p.check('#flt-failed');
  await p.waitForURL(/#\/jobs\?state=failed$/);
  await same('state=failed');
  assert.ok((await tableRows(p)).every((r) => r.state === 'failed'));
  await p.fill('#flt-queue', 'alpha');
  await p.press('#flt-queue', 'Enter');
  await p.waitForURL(/#\/jobs\?state=failed&queue=alpha$/);
  await same('state=failed&queue=alpha');
  assert.equal((await tableRows(p)).length, 2);
  await p.selectOption('#flt-type', 'upload');
  await p.waitForURL(/type=upload$/);
  await same('state=failed&queue=alpha&type=upload');
  await p.waitForSelector('.jt-empty:has-text("No jobs match")');
  await p.check('#flt-succeeded');
  await p.selectOption('#flt-type', 'command');
  await p.waitForURL(/#\/jobs\?state=succeeded,failed&queue=alpha&type=command$/);
  await same('state=succeeded,failed&queue=alpha&type=command');
  assert.equal((await tableRows(p)).length, 5);
  await screenshot(p, 'filters-applied');

  // Bookmarkable: a reload restores the filters from the URL.
  await p.reload();
  await live(p);
  assert.equal(await p.isChecked('#flt-succeeded'), true);
  assert.equal(await p.isChecked('#flt-failed'), true);
  assert.equal(await p.inputValue('#flt-queue'), 'alpha');
  assert.equal(await p.inputValue('#flt-type'), 'command');
  await same('state=succeeded,failed&queue=alpha&type=command');
  // Back goes to the previous filter.
  await p.goBack();
  await p.waitForURL(/#\/jobs\?state=succeeded,failed&queue=alpha&type=upload$/);
  await same('state=succeeded,failed&queue=alpha&type=upload');
  // A job that enters the filter appears live.
  await p.goto(srv.url + '/#/jobs?state=failed&queue=beta');
  await same('state=failed&queue=beta');
  const late = await srv.submit({command: 'exit 4', queue: 'beta'});
  await waitFor(async () => (await pageIds())[0] === late.id, {what: 'the new failed job to appear'});
  await same('state=failed&queue=beta');
  await p.click('button:has-text("Clear filters")');
  await p.waitForURL(/#\/jobs$/);
  await same('');
  await screenshot(p, 'filters-cleared');
  noErrors(p);
});

test('queues pause, resume and take a concurrency limit from the overview; the form schedules', async (t) => {
  const p = await page(t, {ignore: [/status of 400/]});
  const first = await srv.submit({command: 'true', queue: 'steer'});
  await srv.waitJob(first.id, (x) => FINISHED.has(x.state));
  await p.goto(srv.url + '/#/');
  await live(p);
  const pause = p.locator('button[aria-label="Pause queue steer"]');
  await pause.click();
  await waitFor(async () => (await srv.api('/queues')).body.queues.find((q) => q.name === 'steer')?.paused === true,
    {what: 'the queue to be paused'});
  await p.waitForSelector('button[aria-label="Resume queue steer"]');
  const held = await srv.submit({command: 'true', queue: 'steer'});
  await p.waitForFunction(() => [...document.querySelectorAll('tr')].some((tr) =>
    tr.textContent.startsWith('steer') && tr.children[2].textContent === '1'));
  assert.equal((await srv.job(held.id)).state, 'queued');
  await screenshot(p, 'queue-paused');
  await p.click('button[aria-label="Resume queue steer"]');
  await srv.waitJob(held.id, (x) => x.state === 'succeeded', 'the held job to run once resumed');
  const limit = p.locator('input[aria-label^="Concurrency limit of queue steer"]');
  await limit.fill('1');
  await limit.press('Enter');
  await waitFor(async () => (await srv.api('/queues')).body.queues.find((q) => q.name === 'steer')?.concurrency === 1,
    {what: 'the limit to be set'});
  await limit.fill('');
  await limit.press('Enter');
  await waitFor(async () => (await srv.api('/queues')).body.queues.find((q) => q.name === 'steer')?.concurrency === null,
    {what: 'the limit to be lifted'});

  // Scheduling fields: a bad limit goes next to its field, then a delayed job.
  await p.click('nav >> text=Submit');
  await p.fill('#c-command', 'echo later');
  await p.click('text=Scheduling, retries and limits');
  await p.fill('#c-limits-memory_mb', '0');
  await p.click('button:has-text("Run")');
  await p.waitForSelector('#c-limits-memory_mb-err:not([hidden])');
  await p.fill('#c-limits-memory_mb', '');
  await p.fill('#c-delay', '600');
  await p.fill('#c-max_attempts', '3');
  await p.fill('#c-after', `${first.id}`);
  await p.click('button:has-text("Run")');
  await p.waitForURL(/#\/jobs\/\d+$/);
  const id = Number(/#\/jobs\/(\d+)$/.exec(p.url())[1]);
  t.after(() => srv.api(`/jobs/${id}/cancel`, {method: 'POST'}));
  await waitFor(async () => (await badge(p).textContent()) === 'scheduled', {what: 'scheduled'});
  const j = await srv.job(id);
  assert.equal(j.max_attempts, 3);
  assert.ok(Date.parse(j.run_at) > Date.now() + 500000);
  await p.waitForSelector('.facts dt:has-text("Runs at")');
  await p.waitForSelector(`.facts a[href="#/jobs/${first.id}"]`);
  await screenshot(p, 'scheduled-job');
  noErrors(p);
});

test('500 jobs submitted through the API while the page is open all end up on the page with their final states', async (t) => {
  const p = await page(t);
  await p.goto(srv.url + '/#/jobs');
  await live(p);
  await p.waitForSelector('.jobs-body [data-id]');
  const ids = [];
  let n = 0;
  const worker = async () => {
    while (n < 500) {
      const i = n++;
      const j = await srv.submit({command: i % 5 === 0 ? 'exit 2' : 'true', name: `bulk ${i}`, queue: i % 2 ? 'odd' : 'even'});
      ids.push(j.id);
    }
  };
  await Promise.all(Array.from({length: 8}, worker));
  const api = await waitFor(async () => {
    const list = (await srv.api('/jobs?limit=1000')).body.jobs;
    const mine = list.filter((j) => ids.includes(j.id));
    return mine.length === 500 && mine.every((j) => FINISHED.has(j.state)) && list;
  }, {what: 'the 500 jobs to finish', timeout: 60000});
  const want = new Map(api.map((j) => [j.id, j.state]));
  await waitFor(async () => {
    const rows = await tableRows(p);
    const shown = new Map(rows.map((r) => [r.id, r.state]));
    return ids.every((id) => shown.get(id) === want.get(id));
  }, {what: 'every job on the page in its final state', timeout: 20000});
  // The whole table is the API's list, in order, from the newest down.
  const rows = await tableRows(p);
  const expect = api.slice(0, rows.length).map((j) => ({id: j.id, state: j.state}));
  assert.deepEqual(rows, expect);
  assert.ok(rows.length >= 500);
  t.diagnostic(`${rows.length} rows on the page; ${await p.evaluate(() => window.__runnel.counters.events)} events received`);
  await screenshot(p, 'bulk-500');
  noErrors(p);
});

test('the page goes offline when runneld stops, reconnects and resynchronises when it is back', async (t) => {
  const own = await startServer({workers: 1});
  t.after(async () => { await own.stop(); fs.rmSync(own.dataDir, {recursive: true, force: true}); });
  const p = await page(t, {ignore: [/ERR_CONNECTION_REFUSED|ERR_EMPTY_RESPONSE|ERR_CONNECTION_RESET|ERR_INCOMPLETE_CHUNKED_ENCODING/]});
  const first = await own.submit({command: 'true'});
  await p.goto(own.url + '/#/jobs');
  await live(p);
  await waitFor(async () => (await rowState(p, first.id).textContent()) === 'succeeded', {what: 'the first job'});
  const r = await own.stop();
  assert.equal(r.code, 0);
  await p.waitForSelector('#conn.offline', {timeout: T(10000)});
  await p.waitForSelector('#conn:has-text("retrying in")');
  await screenshot(p, 'offline');
  const again = await startServer({workers: 1, port: own.port, dataDir: own.dataDir});
  own.stop = again.stop;
  const second = await again.submit({command: 'true', name: 'while the page was away'});
  await p.waitForSelector('#conn.live', {timeout: T(40000)});
  await waitFor(async () => (await rowState(p, second.id).count()) === 1 &&
    (await rowState(p, second.id).textContent()) === 'succeeded', {what: 'the job made while offline', timeout: 10000});
  await screenshot(p, 'reconnected');
  noErrors(p);
});

test('a page whose scripts fail to arrive says so and recovers by reloading', async (t) => {
  await srv.submit({command: 'true'});
  const p = await page(t, {ignore: [/ERR_FAILED/]});
  let n = 0;
  // The preload and the import of one module both fail, once.
  await p.route('**/js/jobs.js', (r) => (n++ < 2 ? r.abort('failed') : r.continue()));
  await p.goto(srv.url + '/#/jobs');
  await p.waitForSelector('[role="alert"]:has-text("The dashboard could not load")');
  await screenshot(p, 'boot-failed');
  await live(p);
  await p.waitForSelector('.jobs-body [data-id]');
  assert.equal(await p.evaluate(() => sessionStorage.getItem('runnel.bootTries')), null);
  noErrors(p);
});

test('a token-protected runneld asks for the token, reports a wrong one, and works with the right one', async (t) => {
  const token = 'tok-' + crypto.randomBytes(12).toString('hex');
  const sec = await startServer({token, workers: 1});
  t.after(async () => { await sec.stop(); fs.rmSync(sec.dataDir, {recursive: true, force: true}); });
  // Chromium logs every 401 answer as a console error: the sign-in probe
  // and the refused token are expected to give one each.
  const p = await page(t, {ignore: [/status of 401/]});
  await p.goto(sec.url + '/');
  await p.waitForSelector('#token');
  assert.equal(await p.locator('.count-n').count(), 0, 'data shown before signing in');
  await screenshot(p, 'token-asked');
  await p.fill('#token', 'not-the-token');
  await p.click('button:has-text("Sign in")');
  await p.waitForSelector('#token-err:has-text("Wrong token")');
  assert.equal(await p.getAttribute('#token', 'aria-invalid'), 'true');
  await screenshot(p, 'token-wrong');
  await p.fill('#token', token);
  await p.click('button:has-text("Sign in")');
  await live(p);
  await p.waitForFunction(() => [...document.querySelectorAll('.count-n')].every((n) => n.textContent !== '…'));
  // Events reach the page (the stream is authorised by the session cookie).
  await p.click('nav >> text=Jobs');
  const job = await sec.submit({command: 'echo secret-ok'});
  await waitFor(async () => (await rowState(p, job.id).count()) === 1 &&
    (await rowState(p, job.id).textContent()) === 'succeeded', {what: 'the job to show up live'});
  // Kept for the browser session: a reload does not ask again.
  await p.reload();
  await live(p);
  await p.waitForSelector(`.jobs-body [data-id="${job.id}"]`);
  assert.equal(await p.locator('#token').count(), 0);
  await p.click(`a[href="#/jobs/${job.id}"]`);
  await p.waitForFunction(() => document.querySelector('.out-text')?.textContent === 'secret-ok\n');
  await screenshot(p, 'token-signed-in');
  // The token never went into a URL (so it reaches no log).
  assert.doesNotMatch(sec.log(), new RegExp(token));
  // Signing out forgets it.
  await p.click('#signout');
  await p.waitForSelector('#token');
  assert.equal(await p.evaluate(() => sessionStorage.getItem('runnel.token')), null);
  noErrors(p);
});

test('a page of another site cannot run jobs through the browser, nor frame the dashboard', async (t) => {
  const http = await import('node:http');
  const marker = path.join(gates, 'pwned');
  const cmd = JSON.stringify({command: `touch '${marker}'`});
  // What a hostile page can send without a CORS preflight: a fetch with a
  // text body, a no-cors JSON post, a multipart form with a job part, a
  // urlencoded form; and an iframe of the dashboard for clickjacking.
  const evil = `<!doctype html><html><body>
<iframe id="frame" src="${srv.url}/" width="400" height="300"></iframe>
<iframe name="sink"></iframe>
<form id="up" method="POST" action="${srv.url}/api/v1/uploads" enctype="multipart/form-data" target="sink">
  <input type="hidden" name="job" value='${cmd}'>
</form>
<form id="plain" method="POST" action="${srv.url}/api/v1/jobs" enctype="text/plain" target="sink">
  <input type="hidden" name='{"command":"touch ${marker}","x":"' value='"}'>
</form>
<script>
(async () => {
  const results = [];
  for (const opts of [
    {method: 'POST', mode: 'no-cors', body: ${JSON.stringify(cmd)}},
    {method: 'POST', mode: 'no-cors', body: new Blob([${JSON.stringify(cmd)}])},
    {method: 'POST', mode: 'no-cors', headers: {'Content-Type': 'text/plain'}, body: ${JSON.stringify(cmd)}},
  ]) {
    try { const r = await fetch('${srv.url}/api/v1/jobs', opts); results.push(r.type); }
    catch (e) { results.push('error ' + e.message); }
  }
  const fd = new FormData();
  fd.append('file', new Blob(['x']), 'a.txt');
  fd.append('job', ${JSON.stringify(cmd)});
  try { await fetch('${srv.url}/api/v1/uploads', {method: 'POST', mode: 'no-cors', body: fd}); } catch {}
  document.getElementById('up').submit();
  document.getElementById('plain').submit();
  window.evilDone = results;
})();
</script></body></html>`;
  const server = http.createServer((req, res) => {
    res.writeHead(200, {'Content-Type': 'text/html; charset=utf-8'});
    res.end(evil);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const evilUrl = `http://localhost:${server.address().port}/`;
  const before = (await srv.api('/stats')).body.total;
  const p = await newPage(browser.context);
  t.after(() => p.close().catch(() => {}));
  const refusals = [];
  p.on('response', (r) => { if (r.url().startsWith(srv.url + '/api/')) refusals.push(r.status()); });
  await p.goto(evilUrl);
  await p.waitForFunction(() => window.evilDone, null, {timeout: T(10000)});
  // the two form posts went to the sink frame: wait for their answers
  await waitFor(() => refusals.length >= 2, {timeout: T(10000), what: 'the forms to be answered'});
  await screenshot(p, 'cross-site');
  assert.equal((await srv.api('/stats')).body.total, before, 'a cross-site request made a job');
  assert.ok(!fs.existsSync(marker), 'a job of the hostile page ran');
  assert.ok(refusals.every((s) => s === 403), `answers to the hostile page: ${refusals}`);
  // the dashboard in the frame was refused by the browser (frame-ancestors)
  const framed = p.frames().find((f) => f !== p.mainFrame() && f.url().startsWith(srv.url));
  const content = framed ? await framed.evaluate(() => document.body?.innerText || '').catch(() => '') : '';
  assert.ok(!content.includes('Overview'), 'the dashboard rendered inside another site\'s frame');
  // and the dashboard itself still submits, same-origin
  const own = await page(t);
  await own.goto(srv.url + '/#/submit');
  await live(own);
  await own.fill('#c-command', 'echo same-origin');
  await own.click('button:has-text("Run")');
  await own.waitForURL(/#\/jobs\/\d+$/, {timeout: T(10000)});
  const id = Number(/#\/jobs\/(\d+)$/.exec(own.url())[1]);
  assert.equal((await srv.waitJob(id, (j) => FINISHED.has(j.state))).state, 'succeeded');
  noErrors(own);
});
