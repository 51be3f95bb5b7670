// Overview: counts by state, finishes per minute, nodes (cluster mode),
// workers, queues.  Refreshed when job events arrive (at most once a
// second), when the stream comes back, at each new minute for the chart,
// and in cluster mode every 5 s for the nodes' heartbeats.

import {api} from './api.js';
import * as live from './live.js';
import {minuteChart} from './chart.js';
import {nodesPanel} from './nodes.js';
import {toast} from './dialog.js';
import {h, STATES, fmtCount, fmtDuration, fmtTime, fmtDateTime, throttle} from './util.js';

export function overviewView(root) {
  const counts = {};
  const countList = h('ul', {class: 'counts'});
  for (const st of [...STATES, 'total']) {
    const n = h('span', {class: 'count-n', text: '…'});
    counts[st] = n;
    countList.append(h('li', null,
      h('a', {class: `count c-${st}`, href: st === 'total' ? '#/jobs' : `#/jobs?state=${st}`},
        n, h('span', {class: 'count-l', text: st === 'total' ? 'all jobs' : st}))));
  }
  // Health figures, Sidekiq style: what retries, what is dead, how long
  // the oldest queued job has waited, how long jobs wait to start.
  const fig = {};
  const figList = h('ul', {class: 'counts figures'});
  for (const [k, label, href] of [['retrying', 'retrying', '#/jobs?state=scheduled'], ['dead', 'dead (failed for good)', '#/jobs?state=failed'],
    ['age', 'oldest queued wait', '#/jobs?state=queued'], ['p50', 'start latency p50', null], ['p95', 'start latency p95', null]]) {
    const n = h('span', {class: 'count-n', text: '…'});
    const l = h('span', {class: 'count-l', text: label});
    fig[k] = {n, l, li: h('li', {hidden: true},
      href ? h('a', {class: `count f-${k}`, href}, n, l) : h('div', {class: `count f-${k}`}, n, l))};
    figList.append(fig[k].li);
  }
  const latNote = h('p', {class: 'muted small fig-note'});
  const figSection = h('section', {'aria-labelledby': 'ov-health', hidden: true},
    h('h2', {id: 'ov-health', text: 'Health'}), figList, latNote);
  let age = null; // {s, at}: the oldest queued job's wait when read, to count on
  const chart = minuteChart();
  const nodes = nodesPanel();
  const workersNote = h('p', {class: 'muted'});
  const workersBody = h('tbody');
  const queuesBody = h('tbody');
  const server = h('dl', {class: 'facts'});
  const error = h('p', {class: 'error', role: 'alert', hidden: true});
  // Where the Nodes panel goes once /workers has nodes (never on SQLite).
  const nodesSlot = document.createComment('nodes');

  root.append(
    h('h1', {tabindex: '-1', text: 'Overview'}),
    error,
    h('section', {'aria-labelledby': 'ov-counts'},
      h('h2', {id: 'ov-counts', text: 'Jobs by state'}), countList),
    figSection,
    h('section', {'aria-labelledby': 'ov-chart', class: 'panel'},
      h('h2', {id: 'ov-chart', text: 'Jobs finished and failed per minute, last hour'}), chart.el),
    nodesSlot,
    h('div', {class: 'cols'},
      h('section', {'aria-labelledby': 'ov-workers', class: 'panel'},
        h('h2', {id: 'ov-workers', text: 'Workers'}), workersNote,
        h('div', {class: 'table-wrap'}, h('table', {class: 'data'},
          h('thead', null, h('tr', null, ...[['Worker'], ['PID', 'num'], ['State'], ['Job'], ['Started', 'hide-sm'], ['Jobs done', 'num']]
            .map(([t, c]) => h('th', {scope: 'col', class: c || null, text: t})))),
          workersBody))),
      h('section', {'aria-labelledby': 'ov-queues', class: 'panel'},
        h('h2', {id: 'ov-queues', text: 'Queues'}),
        h('div', {class: 'table-wrap'}, h('table', {class: 'data'},
          h('thead', null, h('tr', null, ...[['Queue'], ['Scheduled', 'num'], ['Queued', 'num'], ['Running', 'num'], ['At most', 'hide-sm'], ['']]
            .map(([t, c]) => h('th', {scope: 'col', class: c || null, text: t}, t ? null : h('span', {class: 'sr-only', text: 'Pause or resume'}))))),
          queuesBody)))),
    h('section', {'aria-labelledby': 'ov-server', class: 'panel'},
      h('h2', {id: 'ov-server', text: 'Server'}), server));

  let alive = true;
  let busy = false, again = false;
  let clustered = false;

  async function load() {
    if (busy) { again = true; return; }
    busy = true;
    loadGen = live.gen();
    try {
      const [stats, workers, queues] = await Promise.all([
        api('/stats'), api('/workers'), api('/queues')]);
      if (!alive) return;
      error.hidden = true;
      renderStats(stats);
      clustered = nodes.update(workers);
      if (clustered && !nodes.el.isConnected) nodesSlot.after(nodes.el);
      renderWorkers(workers.workers, stats.workers, workers.node);
      renderQueues(queues.queues);
    } catch (e) {
      if (!alive) return;
      error.textContent = `Could not load the overview: ${e.message}`;
      error.hidden = false;
    } finally {
      busy = false;
      if (again && alive) { again = false; refresh(); }
    }
  }

  function renderStats(st) {
    for (const s of STATES) counts[s].textContent = fmtCount(st.jobs[s] || 0);
    counts.total.textContent = fmtCount(st.total);
    chart.update(st.finished_per_minute || [], st.failed_per_minute);
    const set = (k, text, show = true) => {
      fig[k].li.hidden = !show;
      if (fig[k].n.textContent !== text) fig[k].n.textContent = text;
    };
    set('retrying', fmtCount(st.retrying), st.retrying !== undefined);
    set('dead', fmtCount(st.dead), st.dead !== undefined);
    age = st.oldest_queued_age_s == null ? null : {s: st.oldest_queued_age_s, at: Date.now()};
    set('age', age ? fmtDuration(age.s * 1000) : 'none queued', st.oldest_queued_age_s !== undefined);
    const lat = st.latency;
    const ms = (v) => (v == null ? '—' : fmtDuration(v));
    set('p50', lat ? ms(lat.p50_ms) : '', !!lat);
    set('p95', lat ? ms(lat.p95_ms) : '', !!lat);
    latNote.hidden = !lat;
    if (lat) {
      latNote.textContent = `Start latency: from queued to started, over the jobs that started in the last ` +
        `${Math.round((lat.window_s || 300) / 60)} minutes (${fmtCount(lat.samples || 0)}).`;
    }
    figSection.hidden = [...Object.values(fig)].every((x) => x.li.hidden);
    server.replaceChildren(
      h('dt', {text: 'Up for'}), h('dd', {text: fmtDuration(st.uptime_seconds * 1000)}),
      h('dt', {text: 'Started'}), h('dd', {text: fmtDateTime(st.started_at)}),
      h('dt', {text: 'Submitted since start'}), h('dd', {text: fmtCount(st.submitted_total)}),
      h('dt', {text: 'Accepting jobs'}), h('dd', {text: st.draining ? 'no — shutting down' : 'yes'}));
  }

  function renderWorkers(list, pool, node) {
    workersNote.textContent = (node ? `This node, ${node}: ` : '') + (pool
      ? `${pool.up} of ${pool.size} up, ${pool.busy} busy.` : '');
    workersBody.replaceChildren(...list.map((w) => h('tr', null,
      h('td', {text: `#${w.id}`}),
      h('td', {class: 'num', text: w.pid ?? '—'}),
      h('td', null, h('span', {class: `badge w-${w.state}`, text: w.state})),
      h('td', null, w.job != null ? h('a', {href: `#/jobs/${w.job}`, text: `#${w.job}`}) : '—'),
      h('td', {class: 'hide-sm', text: fmtTime(w.started_at), title: fmtDateTime(w.started_at)}),
      h('td', {class: 'num', text: fmtCount(w.jobs_done)}))));
    if (!list.length) workersBody.append(h('tr', null, h('td', {colspan: 6, class: 'muted', text: 'No workers.'})));
  }

  // Queue rows are kept by name and updated in place, so that a refresh
  // never takes the focus from a control the user is on.
  const queueRows = new Map();
  const queueEmpty = h('tr', null, h('td', {colspan: 6, class: 'muted', text: 'No queues yet.'}));

  async function patchQueue(name, body, btn) {
    if (btn) btn.disabled = true;
    try {
      await api(`/queues/${encodeURIComponent(name)}`, {method: 'PATCH', body});
      toast(`Queue ${name}: ${'paused' in body ? (body.paused ? 'paused' : 'resumed')
        : body.concurrency == null ? 'no concurrency limit' : `at most ${body.concurrency} at once`}.`);
      load();
    } catch (e) {
      error.textContent = `Could not change queue ${name}: ${e.message}`;
      error.hidden = false;
    } finally {
      if (btn) btn.disabled = false;
    }
  }

  function queueRow(name) {
    const cells = [h('td', {class: 'num'}), h('td', {class: 'num'}), h('td', {class: 'num'})];
    const limit = h('input', {type: 'number', min: '1', step: '1', class: 'limit-in', placeholder: 'none',
      'aria-label': `Concurrency limit of queue ${name} (empty: none)`, inputmode: 'numeric'});
    limit.addEventListener('change', () => {
      const v = limit.value.trim();
      const n = v === '' ? null : Number(v);
      if (n !== null && !(Number.isInteger(n) && n >= 1)) { limit.setAttribute('aria-invalid', 'true'); return; }
      limit.removeAttribute('aria-invalid');
      patchQueue(name, {concurrency: n});
    });
    const pause = h('button', {type: 'button', class: 'btn small'});
    pause.addEventListener('click', () => patchQueue(name, {paused: pause.dataset.paused !== 'true'}, pause));
    const state = h('span', {class: 'badge'});
    const tr = h('tr', null,
      h('td', null, h('a', {href: `#/jobs?queue=${encodeURIComponent(name)}`, text: name}), ' ', state),
      ...cells, h('td', {class: 'hide-sm'}, limit), h('td', null, pause));
    return {tr, cells, limit, pause, state};
  }

  function renderQueues(list) {
    const seen = new Set();
    let prev = null;
    for (const q of list) {
      seen.add(q.name);
      let r = queueRows.get(q.name);
      if (!r) { r = queueRow(q.name); queueRows.set(q.name, r); }
      const vals = [q.scheduled, q.queued, q.running].map(fmtCount);
      r.cells.forEach((c, i) => { if (c.textContent !== vals[i]) c.textContent = vals[i]; });
      if (document.activeElement !== r.limit) r.limit.value = q.concurrency == null ? '' : String(q.concurrency);
      r.pause.dataset.paused = String(!!q.paused);
      r.pause.textContent = q.paused ? 'Resume' : 'Pause';
      r.pause.setAttribute('aria-label', `${q.paused ? 'Resume' : 'Pause'} queue ${q.name}`);
      r.state.textContent = q.paused ? 'paused' : '';
      r.state.className = q.paused ? 'badge s-canceled' : '';
      // Keep the server's order without moving rows that are in place.
      const want = prev ? prev.nextSibling : queuesBody.firstChild;
      if (want !== r.tr) queuesBody.insertBefore(r.tr, want);
      prev = r.tr;
    }
    for (const [name, r] of queueRows) if (!seen.has(name)) { r.tr.remove(); queueRows.delete(name); }
    if (!list.length) queuesBody.replaceChildren(queueEmpty); else queueEmpty.remove();
  }

  const refresh = throttle(load, 1000);
  let loadGen = -1;
  const unsub = live.subscribe((m) => {
    if (m.type === 'pause' || (m.type === 'resync' && loadGen >= m.gen)) return;
    refresh();
  });
  // The chart moves on with the clock even when nothing happens.
  let minuteTimer = 0;
  const atMinute = () => {
    minuteTimer = setTimeout(() => { refresh(); atMinute(); }, 60500 - Date.now() % 60000);
  };
  atMinute();
  // Cluster mode: heartbeats count up every second, and every 5 s the
  // nodes are read again (a node that stops beating makes no event).
  let beats = 0;
  const nodeTimer = setInterval(() => {
    if (age && !document.hidden) {
      const t = fmtDuration((age.s * 1000) + Date.now() - age.at);
      if (fig.age.n.textContent !== t) fig.age.n.textContent = t;
    }
    if (!clustered || document.hidden) return;
    nodes.tick();
    if (++beats % 5 === 0) refresh();
  }, 1000);
  load();

  return {
    title: 'Overview',
    unmount() {
      alive = false;
      unsub();
      refresh.cancel();
      clearTimeout(minuteTimer);
      clearInterval(nodeTimer);
    },
  };
}
