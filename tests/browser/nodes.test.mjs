// Browser tests of the dashboard's cluster view: the overview's Nodes
// panel against two runneld nodes on one PostgreSQL database (ctest's
// `pg` fixture gives RUNNEL_TEST_PG_URL; without it those tests are
// skipped), and its absence on a single SQLite node.  Run by run.sh;
// screenshots in out/ (RUNNEL_BROWSER_OUT).

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {startServer, launchBrowser, screenshot, waitFor, tempDir, pgDatabase,
  PG_URL, FINISHED, SCALE, stopClean, openPage, waitLive} from './lib.mjs';

const T = (ms) => ms * SCALE;
const AXE = path.join(path.dirname(new URL(import.meta.url).pathname), 'node_modules/axe-core/axe.min.js');
let browser, gates;

before(async () => {
  gates = tempDir('runnel-gates-');
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (gates) fs.rmSync(gates, {recursive: true, force: true});
});

const gate = (name) => path.join(gates, name);
const open = (name) => fs.writeFileSync(gate(name), '');
const waitGate = (name) => `while [ ! -e '${gate(name)}' ]; do sleep 0.02; done`;

const page = (t, opts) => openPage(browser, t, opts);

const live = waitLive;

// The overview has loaded /stats and /workers.
async function overviewLoaded(p) {
  await p.waitForFunction(() => document.querySelector('.count-n')?.textContent !== '…' &&
    document.querySelectorAll('#ov-workers ~ .table-wrap tbody tr td').length > 1);
}

async function axe(p, where, found) {
  const r = await p.evaluate(() => window.axe.run(document,
    {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}));
  for (const v of r.violations) {
    found.push(`${where}: ${v.id} (${v.impact}) ${v.help}: ` +
      v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', '));
  }
  const wide = await p.evaluate(() => document.documentElement.scrollWidth);
  const width = p.viewportSize().width;
  if (wide > width) found.push(`${where}: the page is ${wide} px wide`);
}

test('a single SQLite node shows nothing of a cluster: no Nodes panel, no node on a job', async (t) => {
  const srv = await startServer({workers: 1});
  t.after(() => stopClean(srv));
  const job = await srv.submit({command: 'echo hi'});
  await srv.waitJob(job.id, (j) => FINISHED.has(j.state));
  const w = await srv.api('/workers');
  assert.equal(w.body.nodes, undefined);
  assert.equal((await srv.job(job.id)).node, null);

  const p = await page(t);
  await p.goto(srv.url + '/');
  await live(p);
  await overviewLoaded(p);
  assert.equal(await p.locator('#ov-nodes, .nodes, .node').count(), 0, 'a Nodes panel on a SQLite node');
  assert.doesNotMatch(await p.locator('main').innerText(), /\bNodes?\b|leader|heartbeat/i);
  assert.doesNotMatch(await p.locator('#ov-workers ~ p').innerText(), /This node/);
  await screenshot(p, 'nodes-sqlite-overview');
  await p.evaluate((id) => { location.hash = `#/jobs/${id}`; }, job.id);
  await p.waitForSelector('.facts dt:text-is("Worker")');
  assert.equal(await p.locator('.facts dt:text-is("Node")').count(), 0, 'a Node row on a SQLite job');
  assert.deepEqual(p.errors, []);
});

test('two PostgreSQL nodes: the overview shows each node, its heartbeat, the leader and its workers; ' +
  'a dead node shows dead, then goes; a job page names its node', {skip: PG_URL ? false : 'no RUNNEL_TEST_PG_URL'}, async (t) => {
  const db = pgDatabase();
  let n0 = null, n1 = null;
  // One hook, in this order: the nodes stop before their database goes.
  t.after(async () => {
    try {
      if (n1) { n1.proc.kill('SIGCONT'); await stopClean(n1); }
      if (n0) await stopClean(n0);
    } finally {
      db.drop();
    }
  });
  // n0 leads (it starts first) and looks around every 10 s only, so that
  // n1, once silent for its 3 s, shows dead for a while before n0 removes it.
  n0 = await startServer({workers: 2, args: ['--database', db.url, '--node-id', 'n0',
    '--node-timeout', '30', '--poll-interval', '10']});
  n1 = await startServer({workers: 2, args: ['--database', db.url, '--node-id', 'n1',
    '--node-timeout', '3']});
  const nodesOf = async (srv) => (await srv.api('/workers')).body.nodes;
  await waitFor(async () => (await nodesOf(n0)).length === 2, {what: 'both nodes in /workers'});
  // n1 claims a job in the turn of its submit only with a worker idle then
  // (not still starting: under a sanitizer n0 took it once).
  await waitFor(async () => (await n1.api('/workers')).body.workers.every((w) => w.state === 'idle'),
    {what: "n1's workers idle"});

  // A job that n1 runs (n1 is idle: it claims what it is given at once).
  const job = await n1.submit({command: `echo on-n1; ${waitGate('n1-job')}`, name: 'runs on n1'});
  const running = await n0.waitJob(job.id, (j) => j.state === 'running', 'the job to run');
  assert.equal(running.node, 'n1');
  assert.equal(running.pid, null, 'n0 cannot know the pid of a process on n1');
  await waitFor(async () => (await n1.job(job.id)).pid, {what: 'n1 to know the pid'});

  const p = await page(t);
  await p.goto(n0.url + '/');
  await live(p);
  await overviewLoaded(p);
  const card = (id) => p.locator(`.node[data-node="${id}"]`);
  await waitFor(async () => await p.locator('.node').count() === 2, {what: 'two node cards'});
  await waitFor(async () => (await card('n1').locator('.nd-busy').innerText()) === '1 of 2 busy',
    {what: "n1's card to show its busy worker"});
  assert.equal(await p.locator('#ov-nodes').innerText(), 'Nodes');
  const c0 = await card('n0').innerText();
  assert.match(c0, /\balive\b/);
  assert.match(c0, /\bleader\b/);
  assert.match(c0, /this node/);
  assert.match(c0, /0 of 2 busy/);
  const c1 = await card('n1').innerText();
  assert.match(c1, /\balive\b/);
  assert.doesNotMatch(c1, /leader|this node/);
  assert.match(c1, /just now| s ago/);
  assert.equal(await card('n1').locator(`.slots a[href="#/jobs/${job.id}"]`).count(), 1, "n1's slot links its job");
  assert.match(await p.locator('#ov-nodes ~ p').innerText(), /2 nodes, 2 alive; 1 of 4 worker slots busy\. This page is served by n0\./);
  assert.match(await p.locator('#ov-workers ~ p').innerText(), /^This node, n0: /);
  await screenshot(p, 'nodes-overview');

  // Accessible in light and dark, wide and at 360 px (no sideways scroll);
  // the dark page is a page of its own (no colour transition under axe).
  const found = [];
  await p.evaluate(fs.readFileSync(AXE, 'utf8'));
  await axe(p, 'light 1280px', found);
  const dark = await page(t);
  await dark.emulateMedia({colorScheme: 'dark'});
  await dark.setViewportSize({width: 360, height: 900});
  await dark.goto(n0.url + '/');
  await live(dark);
  await overviewLoaded(dark);
  await waitFor(async () => await dark.locator('.node .slots a').count() === 1, {what: 'the dark page to show the job'});
  await dark.evaluate(fs.readFileSync(AXE, 'utf8'));
  await axe(dark, 'dark 360px', found);
  await screenshot(dark, 'nodes-overview-dark-360');
  assert.deepEqual(dark.errors, []);
  await dark.close();
  assert.deepEqual(found, []);

  // The job's page names its node, while it runs and once it ended.
  await p.evaluate((id) => { location.hash = `#/jobs/${id}`; }, job.id);
  const nodeRow = p.locator('.facts dt:text-is("Node") + dd');
  await waitFor(async () => (await nodeRow.count()) === 1 && (await nodeRow.innerText()) === 'n1',
    {what: 'the Node row'});
  open('n1-job');
  await waitFor(async () => (await p.locator('.title-line .badge').innerText()) === 'succeeded',
    {what: 'the job to succeed'});
  assert.equal(await nodeRow.innerText(), 'n1');
  await screenshot(p, 'nodes-job');

  // n1 stops beating right after n0 looked around (its heartbeat moved):
  // dead 3 s later, removed at n0's next look, 10 s after the last.
  await p.evaluate(() => { location.hash = '#/'; });
  await overviewLoaded(p);
  const beatOf = async (id) => (await nodesOf(n0)).find((n) => n.id === id)?.beat_at;
  const was = await beatOf('n0');
  await waitFor(async () => (await beatOf('n0')) !== was, {what: "n0's next heartbeat", timeout: 25000});
  n1.proc.kill('SIGSTOP');
  await waitFor(async () => (await nodesOf(n0)).some((n) => n.id === 'n1' && !n.alive),
    {what: '/workers to say n1 is dead'});
  // A job event makes the overview load at once (else within 5 s).
  await n0.submit({command: 'true'});
  await waitFor(async () => (await card('n1').getAttribute('class')) === 'node dead',
    {what: "n1's card to say dead", timeout: 6000});
  assert.match(await card('n1').innerText(), /\bdead\b/);
  assert.match(await p.locator('#ov-nodes ~ p').innerText(), /2 nodes, 1 alive/);
  await screenshot(p, 'nodes-dead');
  await waitFor(async () => await card('n1').count() === 0, {what: "n1's card to go", timeout: 20000});
  assert.match(await p.locator('#ov-nodes ~ p').innerText(), /^1 node, 1 alive/);
  // Back, n1 finds itself removed and joins again.
  n1.proc.kill('SIGCONT');
  await waitFor(async () => await card('n1').count() === 1 &&
    (await card('n1').getAttribute('class')) === 'node', {what: 'n1 back on the page', timeout: 20000});
  await screenshot(p, 'nodes-rejoined');
  assert.deepEqual(p.errors, []);
});
