// Overview: counts by state, finishes per minute, workers, queues.
// Refreshed when job events arrive (at most once a second), when the
// stream comes back, and at each new minute for the chart.

import {api} from './api.js';
import * as live from './live.js';
import {minuteChart} from './chart.js';
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
  const chart = minuteChart();
  const workersNote = h('p', {class: 'muted'});
  const workersBody = h('tbody');
  const queuesBody = h('tbody');
  const server = h('dl', {class: 'facts'});
  const error = h('p', {class: 'error', role: 'alert', hidden: true});

  root.append(
    h('h1', {tabindex: '-1', text: 'Overview'}),
    error,
    h('section', {'aria-labelledby': 'ov-counts'},
      h('h2', {id: 'ov-counts', text: 'Jobs by state'}), countList),
    h('section', {'aria-labelledby': 'ov-chart', class: 'panel'},
      h('h2', {id: 'ov-chart', text: 'Jobs finished per minute, last hour'}), chart.el),
    h('div', {class: 'cols'},
      h('section', {'aria-labelledby': 'ov-workers', class: 'panel'},
        h('h2', {id: 'ov-workers', text: 'Workers'}), workersNote,
        h('div', {class: 'table-wrap'}, h('table', {class: 'data'},
          h('thead', null, h('tr', null, ...['Worker', 'PID', 'State', 'Job', 'Started', 'Jobs done']
            .map((t) => h('th', {scope: 'col', class: t === 'Started' ? 'hide-sm' : null, text: t})))),
          workersBody))),
      h('section', {'aria-labelledby': 'ov-queues', class: 'panel'},
        h('h2', {id: 'ov-queues', text: 'Queues'}),
        h('div', {class: 'table-wrap'}, h('table', {class: 'data'},
          h('thead', null, h('tr', null, ...['Queue', 'Scheduled', 'Queued', 'Running', 'Limit', 'Paused']
            .map((t) => h('th', {scope: 'col', class: t === 'Limit' || t === 'Paused' ? 'hide-sm' : null, text: t})))),
          queuesBody)))),
    h('section', {'aria-labelledby': 'ov-server', class: 'panel'},
      h('h2', {id: 'ov-server', text: 'Server'}), server));

  let alive = true;
  let busy = false, again = false;

  async function load() {
    if (busy) { again = true; return; }
    busy = true;
    try {
      const [stats, workers, queues] = await Promise.all([
        api('/stats'), api('/workers'), api('/queues')]);
      if (!alive) return;
      error.hidden = true;
      renderStats(stats);
      renderWorkers(workers.workers, stats.workers);
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
    chart.update(st.finished_per_minute || []);
    server.replaceChildren(
      h('dt', {text: 'Up for'}), h('dd', {text: fmtDuration(st.uptime_seconds * 1000)}),
      h('dt', {text: 'Started'}), h('dd', {text: fmtDateTime(st.started_at)}),
      h('dt', {text: 'Submitted since start'}), h('dd', {text: fmtCount(st.submitted_total)}),
      h('dt', {text: 'Accepting jobs'}), h('dd', {text: st.draining ? 'no — shutting down' : 'yes'}));
  }

  function renderWorkers(list, pool) {
    workersNote.textContent = pool
      ? `${pool.up} of ${pool.size} up, ${pool.busy} busy.` : '';
    workersBody.replaceChildren(...list.map((w) => h('tr', null,
      h('td', {text: `#${w.id}`}),
      h('td', {class: 'num', text: w.pid ?? '—'}),
      h('td', null, h('span', {class: `badge w-${w.state}`, text: w.state})),
      h('td', null, w.job != null ? h('a', {href: `#/jobs/${w.job}`, text: `#${w.job}`}) : '—'),
      h('td', {class: 'hide-sm', text: fmtTime(w.started_at), title: fmtDateTime(w.started_at)}),
      h('td', {class: 'num', text: fmtCount(w.jobs_done)}))));
    if (!list.length) workersBody.append(h('tr', null, h('td', {colspan: 6, class: 'muted', text: 'No workers.'})));
  }

  function renderQueues(list) {
    queuesBody.replaceChildren(...list.map((q) => h('tr', null,
      h('td', null, h('a', {href: `#/jobs?queue=${encodeURIComponent(q.name)}`, text: q.name})),
      h('td', {class: 'num', text: fmtCount(q.scheduled)}),
      h('td', {class: 'num', text: fmtCount(q.queued)}),
      h('td', {class: 'num', text: fmtCount(q.running)}),
      h('td', {class: 'num hide-sm', text: q.concurrency == null ? 'none' : q.concurrency}),
      h('td', {class: 'hide-sm', text: q.paused ? 'paused' : 'no'}))));
    if (!list.length) queuesBody.append(h('tr', null, h('td', {colspan: 6, class: 'muted', text: 'No queues yet.'})));
  }

  const refresh = throttle(load, 1000);
  const unsub = live.subscribe(() => refresh());
  // The chart moves on with the clock even when nothing happens.
  let minuteTimer = 0;
  const atMinute = () => {
    minuteTimer = setTimeout(() => { refresh(); atMinute(); }, 60500 - Date.now() % 60000);
  };
  atMinute();
  load();

  return {
    title: 'Overview',
    unmount() {
      alive = false;
      unsub();
      refresh.cancel();
      clearTimeout(minuteTimer);
    },
  };
}
