// Browser tests of the dashboard as an operator's tool: search, bulk
// actions, a job's summary and attempts, output of any size, edit and
// resubmit, the overview's figures.  Run by run.sh.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import {startServer, launchBrowser, newPage, screenshot, waitFor, tableRows, FINISHED, SCALE} from './lib.mjs';

const T = (ms) => ms * SCALE;
let srv, browser;

before(async () => {
  srv = await startServer({workers: 2, args: ['--retry-base', '0.05']});
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (srv) {
    const r = await srv.stop();
    assert.equal(r.code, 0, `runneld exited with ${r.code ?? r.sig}:\n${srv.log().slice(-4000)}`);
    fs.rmSync(srv.dataDir, {recursive: true, force: true});
  }
});

async function page(t, opts) {
  const p = await newPage(browser.context, opts);
  t.after(() => p.close().catch(() => {}));
  return p;
}

async function live(p) {
  await p.waitForSelector('#conn.live', {timeout: T(20000)});
}

function noErrors(p) {
  assert.deepEqual(p.errors, [], 'the browser console has errors');
}

const outText = (p, n = 0) => p.locator('.out-text').nth(n).textContent();

test('a job page answers first: summary header, and the output of each of 3 attempts', async (t) => {
  const p = await page(t);
  const job = await srv.submit({command: 'echo "output of attempt $RUNNEL_ATTEMPT"; echo "err $RUNNEL_ATTEMPT" >&2; exit 3',
    name: 'thrice', max_attempts: 3});
  const j = await srv.waitJob(job.id, (x) => x.state === 'failed', 'three failed attempts');
  assert.equal(j.attempts, 3);
  await p.goto(`${srv.url}/#/jobs/${job.id}`);
  await live(p);
  const head = p.locator('.jd-head');
  await waitFor(async () => /Attempts\s*3 of 3/.test(await head.textContent()), {what: 'the summary header'});
  const text = await head.textContent();
  assert.match(text, /Exit code\s*exit 3/);
  assert.match(text, /Error\s*exit status 3/);
  assert.match(text, /State\s*failed/);
  assert.match(text, /Duration/);
  // The latest attempt first; the picker reaches each one.
  await waitFor(async () => (await outText(p)) === 'output of attempt 3\n', {what: 'attempt 3'});
  for (const a of [1, 2, 3]) {
    await p.selectOption('#jd-attempt', String(a));
    await waitFor(async () => (await outText(p)) === `output of attempt ${a}\n` && (await outText(p, 1)) === `err ${a}\n`,
      {what: `the output of attempt ${a}`});
    const href = await p.locator('.out a:has-text("Download")').first().getAttribute('href');
    assert.equal(href, `/api/v1/jobs/${job.id}/output?stream=stdout&attempt=${a}`);
  }
  await screenshot(p, 'op-attempts');
  noErrors(p);
});

test('a 100 MiB output scrolls with no long task and jumps to its last line', async (t) => {
  const p = await page(t);
  // 14 million numbered lines: 106 MB.
  const job = await srv.submit({command: 'seq 1 14000000', name: 'big'});
  const j = await srv.waitJob(job.id, (x) => FINISHED.has(x.state), 'the big job', 120000);
  assert.ok(j.stdout_bytes > 100 * 1024 * 1024, `${j.stdout_bytes} bytes`);
  await p.goto(`${srv.url}/#/jobs/${job.id}`);
  await live(p);
  await waitFor(async () => (await outText(p)).startsWith('1\n2\n3\n'), {what: 'the first lines'});
  await p.evaluate(() => {
    window.__long = [];
    new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__long.push(e.duration); })
      .observe({type: 'longtask', buffered: false});
  });
  const box = p.locator('.out-text').first();
  await box.hover();
  for (let i = 0; i < 150; i++) await p.mouse.wheel(0, 400);
  await waitFor(async () => {
    const first = Number((await outText(p)).split('\n')[0]);
    return first > 2000;
  }, {what: 'the wheel to move through the output'});
  // Page Down, the slider (the middle), End.
  await box.focus();
  for (let i = 0; i < 20; i++) await p.keyboard.press('PageDown');
  await p.locator('.lv-pos').first().fill('500');
  await waitFor(async () => {
    const first = Number((await outText(p)).split('\n')[0]);
    return first > 6000000 && first < 8000000;
  }, {what: 'the slider to show the middle'});
  await box.focus();
  await p.keyboard.press('End');
  await waitFor(async () => (await outText(p)).endsWith('13999999\n14000000\n'), {what: 'End to show the last line'});
  await p.keyboard.press('Home');
  await waitFor(async () => (await outText(p)).startsWith('1\n2\n'), {what: 'Home to show the first line'});
  await p.click('.out button:has-text("Jump to end")');
  await waitFor(async () => (await outText(p)).endsWith('14000000\n'), {what: 'Jump to end'});
  for (let i = 0; i < 50; i++) await p.mouse.wheel(0, -300);
  const long = await p.evaluate(() => window.__long);
  t.diagnostic(`long tasks while scrolling: ${JSON.stringify(long.map(Math.round))}`);
  assert.ok(long.every((d) => d <= 200), `a long task over 200 ms: ${long}`);
  const nodes = await p.evaluate(() => document.querySelector('.out-text').textContent.length);
  assert.ok(nodes < 10000, `${nodes} characters in the page`);
  await screenshot(p, 'op-big-output');
  noErrors(p);
});

test('edit and resubmit: the form holds the job spec, and running it makes a new job with the same spec', async (t) => {
  const p = await page(t);
  const dep = await srv.submit({command: 'true'});
  await srv.waitJob(dep.id, (x) => x.state === 'succeeded');
  const spec = {argv: ['sh', '-c', 'echo "$GREETING from $(pwd)"'], name: 'resubmit me', queue: 'edits', priority: 7,
    env: {GREETING: 'hello', OTHER: 'x=y'}, cwd: '/tmp', timeout: 30, max_attempts: 2,
    limits: {memory_mb: 512, open_files: 256}, after: [dep.id]};
  const old = await srv.submit(spec);
  await srv.waitJob(old.id, (x) => FINISHED.has(x.state));
  await p.goto(`${srv.url}/#/jobs/${old.id}`);
  await live(p);
  await p.click('a:has-text("Edit and resubmit")');
  await p.waitForURL(new RegExp(`#/submit\\?from=${old.id}$`));
  await waitFor(async () => (await p.inputValue('#c-name')) === 'resubmit me', {what: 'the form to be filled'});
  assert.equal(await p.isChecked('#c-mode-argv'), true);
  assert.equal(await p.inputValue('#c-argv'), 'sh\n-c\necho "$GREETING from $(pwd)"');
  assert.equal(await p.inputValue('#c-queue'), 'edits');
  assert.equal(await p.inputValue('#c-priority'), '7');
  assert.equal(await p.inputValue('#c-env'), 'GREETING=hello\nOTHER=x=y');
  assert.equal(await p.inputValue('#c-cwd'), '/tmp');
  assert.equal(await p.inputValue('#c-timeout'), '30');
  assert.equal(await p.inputValue('#c-max_attempts'), '2');
  assert.equal(await p.inputValue('#c-limits-memory_mb'), '512');
  assert.equal(await p.inputValue('#c-after'), String(dep.id));
  await screenshot(p, 'op-resubmit-form');
  await p.click('button:has-text("Run")');
  await p.waitForURL(/#\/jobs\/\d+$/, {timeout: T(5000)});
  const id = Number(/#\/jobs\/(\d+)$/.exec(p.url())[1]);
  assert.notEqual(id, old.id);
  const a = await srv.job(old.id), b = await srv.waitJob(id, (x) => FINISHED.has(x.state));
  for (const k of ['argv', 'command', 'name', 'queue', 'priority', 'env', 'cwd', 'timeout', 'max_attempts', 'limits', 'after', 'type']) {
    assert.deepEqual(b[k], a[k], k);
  }
  assert.equal(b.state, 'succeeded');
  await waitFor(async () => (await outText(p)) === 'hello from /tmp\n', {what: 'the new job output'});
  noErrors(p);
});
