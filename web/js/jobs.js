// The jobs table: filters kept in the URL, keyset "load more", and live
// rows.  Events are collected per job id and applied once per animation
// frame; a change touches only the cells of its own row, and the number
// of rows kept is capped (the oldest go, and "load more" resumes there).

import {api} from './api.js';
import * as live from './live.js';
import * as store from './store.js';
import {h, STATES, fmtTime, fmtDateTime, fmtDuration, jobDuration, jobCommand, jobExit,
  frameBatcher} from './util.js';

const PAGE = 50;
const KEEP = 1000;      // rows kept while live inserts push older ones out
const KEEP_MAX = 5000;  // rows "load more" may grow the table to
const PENDING_MAX = 5000;
const CHUNK = 25;       // rows per chunk (a chunk splits at twice that)

export function parseFilter(query) {
  const states = (query.get('state') || '').split(',').filter((s) => STATES.includes(s));
  const type = query.get('type');
  const sched = query.get('schedule') || '';
  return {
    states: STATES.filter((s) => states.includes(s)),
    queue: (query.get('queue') || '').trim(),
    type: type === 'command' || type === 'upload' ? type : '',
    schedule: /^[1-9]\d{0,15}$/.test(sched) ? Number(sched) : 0,
  };
}

export function filterQuery(f) {
  const parts = [];
  if (f.states.length) parts.push('state=' + f.states.join(','));
  if (f.queue) parts.push('queue=' + encodeURIComponent(f.queue));
  if (f.type) parts.push('type=' + f.type);
  if (f.schedule) parts.push('schedule=' + f.schedule);
  return parts.join('&');
}

function matches(f, j) {
  return (!f.states.length || f.states.includes(j.state)) &&
    (!f.queue || j.queue === f.queue) && (!f.type || j.type === f.type) &&
    (!f.schedule || j.schedule_id === f.schedule);
}

// The table is a CSS grid with ARIA table roles rather than a <table>: a
// row off screen is skipped by layout and paint (content-visibility),
// which table rows cannot do, so a thousand live rows cost what the
// visible ones cost.
//
// One row: its cells, filled from a job; a cell is written only when its
// text changes.
const COLS = [['c-id', 'ID'], ['c-name', 'Name or command'], ['c-type', 'Type'], ['c-queue', 'Queue'],
  ['c-prio num', 'Priority'], ['c-state', 'State'], ['c-created', 'Created'], ['c-dur num', 'Duration'],
  ['c-exit', 'Exit']];
let rowTemplate = null;

function makeRow(j) {
  if (!rowTemplate) {
    rowTemplate = h('div', {role: 'row', class: 'jt-row'},
      ...COLS.map(([cls]) => h('span', {role: 'cell', class: cls})));
    rowTemplate.children[0].append(h('a'));
    rowTemplate.children[5].append(h('span', {class: 'badge'}));
  }
  const tr = rowTemplate.cloneNode(true);
  const td = tr.children;
  const a = td[0].firstChild;
  a.href = `#/jobs/${j.id}`;
  a.textContent = `#${j.id}`;
  a.setAttribute('aria-label', `Job ${j.id}`);
  tr.dataset.id = j.id;
  const row = {tr, job: null, vals: [], cells: [null, td[1], td[2], td[3], td[4],
    td[5].firstChild, td[6], td[7], td[8]]};
  fill(row, j);
  return row;
}

function fill(row, j) {
  const old = row.job;
  row.job = j;
  const c = row.cells, v = row.vals;
  const set = (i, text) => {
    if (v[i] !== text) { v[i] = text; c[i].textContent = text; }
  };
  if (!old || old.name !== j.name || old.command !== j.command || old.argv !== j.argv) {
    const cmd = jobCommand(j);
    const label = j.name || cmd;
    set(1, label);
    c[1].title = j.name ? `${j.name}\n${cmd}` : cmd;
    c[1].classList.toggle('mono', !j.name);
  }
  set(2, j.type);
  set(3, j.queue);
  set(4, String(j.priority));
  if (v[5] !== j.state) {
    v[5] = j.state;
    c[5].textContent = j.state;
    c[5].className = `badge s-${j.state}`;
  }
  if (v[6] === undefined) {
    set(6, fmtTime(j.created_at));
    c[6].title = fmtDateTime(j.created_at);
  }
  set(7, fmtDuration(jobDuration(j)));
  const ex = jobExit(j);
  set(8, ex);
  c[8].title = j.error || '';
}

export function jobsView(root, route) {
  let filter = parseFilter(route.query);

  // ---- the filter form ---------------------------------------------------
  const boxes = {};
  const stateSet = h('fieldset', {class: 'states'}, h('legend', {text: 'State'}),
    ...STATES.map((s) => {
      const box = h('input', {type: 'checkbox', name: 'state', value: s, id: `flt-${s}`});
      boxes[s] = box;
      return h('label', {class: `chip s-${s}`, for: `flt-${s}`}, box, h('span', {text: s}));
    }));
  const queueIn = h('input', {id: 'flt-queue', name: 'queue', list: 'flt-queues', autocomplete: 'off',
    placeholder: 'any', spellcheck: 'false', maxlength: '64'});
  const queueList = h('datalist', {id: 'flt-queues'});
  const typeIn = h('select', {id: 'flt-type', name: 'type'},
    h('option', {value: '', text: 'any'}), h('option', {value: 'command', text: 'command'}),
    h('option', {value: 'upload', text: 'upload'}));
  const form = h('form', {class: 'filters', role: 'search', 'aria-label': 'Filter jobs'},
    stateSet,
    h('div', {class: 'field'}, h('label', {for: 'flt-queue', text: 'Queue'}), queueIn, queueList),
    h('div', {class: 'field'}, h('label', {for: 'flt-type', text: 'Type'}), typeIn),
    h('div', {class: 'field actions'},
      h('button', {type: 'submit', class: 'btn', text: 'Apply'}),
      h('button', {type: 'button', class: 'btn ghost', text: 'Clear filters',
        onclick: () => { location.hash = '#/jobs'; }})));
  const schedNote = h('p', {class: 'note', hidden: true});
  form.addEventListener('submit', (e) => { e.preventDefault(); apply(); });
  form.addEventListener('change', (e) => { if (e.target !== queueIn) apply(); });

  function formFilter() {
    return {states: STATES.filter((s) => boxes[s].checked), queue: queueIn.value.trim(),
      type: typeIn.value, schedule: filter.schedule};
  }
  function showFilter(f) {
    for (const s of STATES) boxes[s].checked = f.states.includes(s);
    queueIn.value = f.queue;
    typeIn.value = f.type;
    schedNote.hidden = !f.schedule;
    if (f.schedule) {
      const q = filterQuery(Object.assign({}, f, {schedule: 0}));
      schedNote.replaceChildren(`Only the jobs of schedule `,
        h('a', {href: `#/schedules?id=${f.schedule}`, text: `#${f.schedule}`}), '. ',
        h('a', {href: '#/jobs' + (q ? '?' + q : ''), text: 'Show the jobs of every schedule'}), '.');
    }
  }
  function apply() {
    const q = filterQuery(formFilter());
    const target = '#/jobs' + (q ? '?' + q : '');
    if (location.hash !== target) location.hash = target;
  }

  // ---- the table ---------------------------------------------------------
  // Rows live in chunks of about CHUNK: a chunk off screen is skipped by
  // layout and paint as one box (content-visibility), so a change costs
  // what the rows on screen cost, however many are kept.
  const tbody = h('div', {role: 'none', class: 'jobs-body'});
  const emptyRow = h('div', {role: 'row', class: 'jt-empty'}, h('span', {role: 'cell'}));
  const table = h('div', {role: 'table', class: 'jobs', 'aria-label': 'Jobs, newest first; rows change live'},
    h('div', {role: 'rowgroup', class: 'jobs-head'}, h('div', {role: 'row', class: 'jt-row'},
      ...COLS.map(([cls, text]) => h('span', {role: 'columnheader', class: cls, text})))),
    tbody);
  const shown = h('span', {class: 'muted'});
  const moreBtn = h('button', {type: 'button', class: 'btn', text: 'Load more', onclick: () => loadMore()});
  const error = h('p', {class: 'error', role: 'alert', hidden: true});
  tbody.addEventListener('click', (e) => {
    if (e.target.closest('a') || String(getSelection())) return;
    const tr = e.target.closest('[data-id]');
    if (tr) location.hash = `#/jobs/${tr.dataset.id}`;
  });

  root.append(
    h('div', {class: 'title-row'}, h('h1', {tabindex: '-1', text: 'Jobs'}),
      h('a', {class: 'btn primary', href: '#/submit', text: 'New job'})),
    form, schedNote, error,
    h('div', {class: 'table-wrap'}, table),
    h('p', {class: 'list-foot'}, shown, ' ', moreBtn));

  // ---- rows --------------------------------------------------------------
  const rows = new Map();  // id -> row
  let ids = [];            // shown ids, newest (largest) first
  let next = null;         // keyset cursor: everything >= next is shown
  let keep = KEEP;
  let loadSeq = 0;
  let loading = false;
  let reloading = false;
  let loadGen = -1;        // live.gen() when the last reload began
  let again = false;       // reload once more when the one in flight ends
  let pending = new Map(); // id -> job, or null when deleted
  let overflow = false;
  const running = new Set();

  function covers(id) { return next === null || id >= next; }

  function track(row) {
    if (row.job.state === 'running') running.add(row.job.id);
    else running.delete(row.job.id);
  }

  // ---- chunks ------------------------------------------------------------
  let rowH = 0; // a row's height in px, measured once rows are on screen
  let measures = 0;

  function sized(c) {
    if (!rowH && measures++ < 3) {
      const first = tbody.querySelector('.jt-row');
      rowH = first ? first.getBoundingClientRect().height : 0;
    }
    c.style.containIntrinsicBlockSize = `auto ${Math.round(c.childElementCount * (rowH || 34))}px`;
  }

  function chunkOf(trs) {
    const c = h('div', {role: 'rowgroup', class: 'jt-chunk'});
    c.append(...trs);
    return c;
  }

  // Puts tr before ref (a row) or at the end; splits a chunk grown too big.
  function place(tr, ref) {
    let c;
    if (ref) {
      c = ref.parentNode;
      c.insertBefore(tr, ref);
    } else {
      c = tbody.lastElementChild;
      if (!c || !c.classList.contains('jt-chunk') || c.childElementCount >= CHUNK) {
        c = chunkOf([]);
        tbody.append(c);
      }
      c.append(tr);
    }
    if (c.childElementCount > 2 * CHUNK) {
      const rest = chunkOf([...c.children].slice(CHUNK));
      c.after(rest);
      sized(rest);
    }
    sized(c);
  }

  function unplace(tr) {
    const c = tr.parentNode;
    tr.remove();
    if (c && c !== tbody) {
      if (c.childElementCount === 0) c.remove(); else sized(c);
    }
  }

  function insert(j) {
    // ids is sorted descending: find the first smaller id.
    let lo = 0, hi = ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ids[mid] > j.id) lo = mid + 1; else hi = mid;
    }
    const row = makeRow(j);
    rows.set(j.id, row);
    place(row.tr, lo < ids.length ? rows.get(ids[lo]).tr : null);
    ids.splice(lo, 0, j.id);
    track(row);
  }

  function remove(id) {
    const row = rows.get(id);
    if (!row) return;
    unplace(row.tr);
    rows.delete(id);
    running.delete(id);
    const i = ids.indexOf(id);
    if (i >= 0) ids.splice(i, 1);
  }

  function trim() {
    if (ids.length <= keep) return;
    for (const id of ids.slice(keep)) {
      unplace(rows.get(id).tr);
      rows.delete(id);
      running.delete(id);
    }
    ids.length = keep;
    next = ids[ids.length - 1];
  }

  function foot() {
    emptyRow.firstChild.textContent = loading ? 'Loading…' : 'No jobs match these filters.';
    if (ids.length === 0) { if (!emptyRow.parentNode) tbody.append(emptyRow); } else emptyRow.remove();
    shown.textContent = `Showing ${ids.length.toLocaleString('en-US')} job${ids.length === 1 ? '' : 's'}` +
      (next === null ? (ids.length ? ' — all of them.' : '.') : '.');
    moreBtn.hidden = next === null;
    moreBtn.disabled = loading || ids.length >= KEEP_MAX;
    if (ids.length >= KEEP_MAX && next !== null) shown.textContent += ' Narrow the filters to see older jobs.';
  }

  // Replaces the rows with a fresh list, reusing the rows of jobs kept.
  function setRows(list, cursor) {
    const keepIds = [];
    const fresh = new Map();
    for (const raw of list) {
      const j = store.merge(raw);
      if (j && matches(filter, j) && !fresh.has(j.id)) { fresh.set(j.id, j); keepIds.push(j.id); }
    }
    for (const id of ids) if (!fresh.has(id)) { rows.delete(id); running.delete(id); }
    const trs = [];
    for (const id of keepIds) {
      let row = rows.get(id);
      if (row) fill(row, fresh.get(id)); else { row = makeRow(fresh.get(id)); rows.set(id, row); }
      track(row);
      trs.push(row.tr);
    }
    ids = keepIds;
    next = cursor;
    const chunks = [];
    for (let i = 0; i < trs.length; i += CHUNK) chunks.push(chunkOf(trs.slice(i, i + CHUNK)));
    tbody.replaceChildren(...chunks);
    for (const c of chunks) sized(c);
  }

  async function reload(limit) {
    const seq = ++loadSeq;
    loading = reloading = true;
    loadGen = live.gen();
    again = false;
    foot();
    const q = filterQuery(filter);
    try {
      const res = await api(`/jobs?limit=${limit}${q ? '&' + q : ''}`);
      if (seq !== loadSeq || !alive) return;
      error.hidden = true;
      setRows(res.jobs, res.next);
    } catch (e) {
      if (seq !== loadSeq || !alive) return;
      error.textContent = e.field
        ? `Filter ${e.field}: ${e.message}` : `Could not load jobs: ${e.message}`;
      error.hidden = false;
    } finally {
      if (seq === loadSeq) {
        loading = reloading = false;
        // Events that came during the fetch: for jobs in the list the
        // store keeps the newest copy; jobs created since get inserted.
        flush();
        if (again && alive) reload(Math.min(KEEP_MAX, Math.max(PAGE, ids.length)));
      }
    }
  }

  async function loadMore() {
    if (loading || next === null) return;
    const seq = loadSeq;
    loading = true;
    foot();
    const q = filterQuery(filter);
    try {
      for (let tries = 0; tries < 5 && next !== null; tries++) {
        const res = await api(`/jobs?limit=${PAGE}&before=${next}${q ? '&' + q : ''}`);
        if (seq !== loadSeq || !alive) return;
        let added = 0;
        for (const raw of res.jobs) {
          const j = store.merge(raw);
          if (j && matches(filter, j) && !rows.has(j.id)) { insert(j); added++; }
        }
        next = res.next;
        if (added) break;
      }
      keep = Math.min(KEEP_MAX, Math.max(keep, ids.length));
      error.hidden = true;
    } catch (e) {
      if (seq !== loadSeq) return;
      error.textContent = `Could not load more jobs: ${e.message}`;
      error.hidden = false;
    } finally {
      if (seq === loadSeq) { loading = false; foot(); }
    }
  }

  function flush() {
    if (loading && reloading) return; // reload() flushes when its list is in
    if (overflow) {
      overflow = false;
      pending = new Map();
      reload(Math.min(KEEP_MAX, Math.max(PAGE, ids.length)));
      return;
    }
    const batchJobs = pending;
    pending = new Map();
    const add = [];
    for (const [id, ev] of batchJobs) {
      if (ev === null) { remove(id); continue; }
      const j = store.get(id) || ev;
      const row = rows.get(id);
      if (matches(filter, j)) {
        if (row) { fill(row, j); track(row); } else if (covers(id)) add.push(j);
      } else if (row) {
        remove(id);
      }
    }
    if (add.length) {
      add.sort((a, b) => b.id - a.id);
      for (const j of add) insert(j);
      trim();
    }
    foot();
  }
  // Hundreds of rows re-laid out sixty times a second would keep the main
  // thread busy: with many rows, apply events at most ~8 times a second,
  // and less often when a batch is slow to render (a loaded machine).
  const batch = frameBatcher(flush, (cost) => (ids.length > 200 ? Math.min(1000, Math.max(125, 6 * cost)) : 0));

  const unsub = live.subscribe((m) => {
    if (m.type === 'pause') return;
    if (m.type === 'resync') {
      if (loadGen >= m.gen) return; // loaded after that open: covered
      // A load in flight is shown first, then checked again.
      if (reloading) again = true;
      else reload(Math.min(KEEP_MAX, Math.max(PAGE, ids.length)));
      return;
    }
    pending.set(m.type === 'job' ? m.job.id : m.id, m.type === 'job' ? m.job : null);
    if (pending.size > PENDING_MAX) overflow = true; // e.g. a hidden tab: refetch instead
    batch.schedule();
  });

  // Running jobs' durations grow by the second.
  const ticker = setInterval(() => {
    const now = Date.now();
    for (const id of running) {
      const row = rows.get(id);
      if (!row) { running.delete(id); continue; }
      const t = fmtDuration(jobDuration(row.job, now));
      if (row.vals[7] !== t) { row.vals[7] = t; row.cells[7].textContent = t; }
    }
  }, 1000);

  let alive = true;
  showFilter(filter);
  reload(PAGE);
  api('/queues').then((r) => {
    queueList.replaceChildren(...r.queues.map((q) => h('option', {value: q.name})));
  }).catch(() => {});

  return {
    title: 'Jobs',
    update(r) {
      const f = parseFilter(r.query);
      showFilter(f);
      if (filterQuery(f) === filterQuery(filter)) return;
      filter = f;
      tbody.replaceChildren();
      rows.clear();
      running.clear();
      ids = [];
      next = null;
      keep = KEEP;
      pending = new Map();
      batch.cancel();
      reload(PAGE);
    },
    unmount() {
      alive = false;
      unsub();
      batch.cancel();
      clearInterval(ticker);
    },
  };
}
