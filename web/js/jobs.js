// The jobs table: filters kept in the URL, keyset "load more", and live
// rows.  Events are collected per job id and applied once per animation
// frame; a change touches only the cells of its own row, and the number
// of rows kept is capped (the oldest go, and "load more" resumes there).

import {api} from './api.js';
import {confirmDialog, toast} from './dialog.js';
import * as live from './live.js';
import * as store from './store.js';
import {h, STATES, fmtTime, fmtDateTime, fmtDuration, jobDuration, jobCommand, jobExit,
  frameBatcher} from './util.js';

const PAGE = 50;
const KEEP = 1000;      // rows kept while live inserts push older ones out
const KEEP_MAX = 5000;  // rows "load more" may grow the table to
const PENDING_MAX = 5000;
const CHUNK = 25;       // rows per chunk (a chunk splits at twice that)

const TIMES = ['created_after', 'created_before', 'finished_after', 'finished_before'];

// A time in the URL: RFC 3339 (as the API takes it), or '' when not one.
function isoOrEmpty(v) {
  if (!v) return '';
  const t = Date.parse(v);
  return /^\d{4}-\d\d-\d\dT/.test(v) && !isNaN(t) ? new Date(t).toISOString() : '';
}

export function parseFilter(query) {
  const states = (query.get('state') || '').split(',').filter((s) => STATES.includes(s));
  const type = query.get('type');
  const sched = query.get('schedule') || '';
  const code = query.get('exit_code') || '';
  const f = {
    states: STATES.filter((s) => states.includes(s)),
    queue: (query.get('queue') || '').trim(),
    type: type === 'command' || type === 'upload' ? type : '',
    schedule: /^[1-9]\d{0,15}$/.test(sched) ? Number(sched) : 0,
    q: (query.get('q') || '').slice(0, 200),
    name: (query.get('name') || '').slice(0, 200),
    exit_code: /^\d{1,3}$/.test(code) && Number(code) <= 255 ? Number(code) : null,
  };
  for (const k of TIMES) f[k] = isoOrEmpty(query.get(k));
  return f;
}

// The filter as a query string: the same names in the URL and the API.
export function filterQuery(f) {
  const parts = [];
  if (f.states.length) parts.push('state=' + f.states.join(','));
  if (f.queue) parts.push('queue=' + encodeURIComponent(f.queue));
  if (f.type) parts.push('type=' + f.type);
  if (f.schedule) parts.push('schedule=' + f.schedule);
  if (f.q && f.q.trim()) parts.push('q=' + encodeURIComponent(f.q.trim()));
  if (f.name) parts.push('name=' + encodeURIComponent(f.name));
  for (const k of TIMES) if (f[k]) parts.push(`${k}=${encodeURIComponent(f[k])}`);
  if (f.exit_code != null) parts.push('exit_code=' + f.exit_code);
  return parts.join('&');
}

// The filter as POST /jobs/bulk takes it.
export function bulkFilter(f) {
  const o = {};
  if (f.states.length) o.state = f.states.join(',');
  if (f.queue) o.queue = f.queue;
  if (f.type) o.type = f.type;
  if (f.schedule) o.schedule = f.schedule;
  if (f.q && f.q.trim()) o.q = f.q.trim();
  if (f.name) o.name = f.name;
  for (const k of TIMES) if (f[k]) o[k] = f[k];
  if (f.exit_code != null) o.exit_code = f.exit_code;
  return o;
}

function textMatch(q, j) {
  const t = q.trim();
  if (!t) return true;
  const id = /^#?(\d+)$/.exec(t);
  if (id && Number(id[1]) === j.id) return true;
  const low = t.toLowerCase();
  const hay = [j.name || '', j.command || '', Array.isArray(j.argv) ? j.argv.join(' ') : '',
    j.type === 'upload' && j.file ? j.file.name : ''];
  return hay.some((x) => x.toLowerCase().includes(low));
}

// What can change in a job's life, checked again on a newer copy of a
// listed job; the text and creation time the server already matched.
function matchesLive(f, j) {
  const at = (ts) => (ts ? Date.parse(ts) : NaN);
  return (!f.states.length || f.states.includes(j.state)) &&
    (!f.queue || j.queue === f.queue) &&
    (f.exit_code == null || j.exit_code === f.exit_code) &&
    (!f.finished_after || at(j.finished_at) >= at(f.finished_after)) &&
    (!f.finished_before || at(j.finished_at) < at(f.finished_before));
}

function matches(f, j) {
  const at = (ts) => (ts ? Date.parse(ts) : NaN);
  return (!f.states.length || f.states.includes(j.state)) &&
    (!f.queue || j.queue === f.queue) && (!f.type || j.type === f.type) &&
    (!f.schedule || j.schedule_id === f.schedule) &&
    (!f.q || textMatch(f.q, j)) && (!f.name || j.name === f.name) &&
    (f.exit_code == null || j.exit_code === f.exit_code) &&
    (!f.created_after || at(j.created_at) >= at(f.created_after)) &&
    (!f.created_before || at(j.created_at) < at(f.created_before)) &&
    (!f.finished_after || at(j.finished_at) >= at(f.finished_after)) &&
    (!f.finished_before || at(j.finished_at) < at(f.finished_before));
}

// ISO time <-> the value of an <input type="datetime-local"> (local time).
function toLocalInput(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}
function fromLocalInput(v) {
  const t = v ? new Date(v) : null;
  return t && !isNaN(t) ? t.toISOString() : '';
}

// The table is a CSS grid with ARIA table roles rather than a <table>: a
// row off screen is skipped by layout and paint (content-visibility),
// which table rows cannot do, so a thousand live rows cost what the
// visible ones cost.
//
// One row: its cells, filled from a job; a cell is written only when its
// text changes.
const COLS = [['c-sel', ''], ['c-id', 'ID'], ['c-name', 'Name or command'], ['c-type', 'Type'], ['c-queue', 'Queue'],
  ['c-prio num', 'Priority'], ['c-state', 'State'], ['c-created', 'Created'], ['c-dur num', 'Duration'],
  ['c-exit', 'Exit']];
let rowTemplate = null;

function makeRow(j) {
  if (!rowTemplate) {
    rowTemplate = h('div', {role: 'row', class: 'jt-row'},
      ...COLS.map(([cls]) => h('span', {role: 'cell', class: cls})));
    rowTemplate.children[0].append(h('input', {type: 'checkbox', class: 'sel'}));
    rowTemplate.children[1].append(h('a'));
    rowTemplate.children[6].append(h('span', {class: 'badge'}));
  }
  const tr = rowTemplate.cloneNode(true);
  const td = tr.children;
  const box = td[0].firstChild;
  box.setAttribute('aria-label', `Select job ${j.id}`);
  box.value = j.id;
  const a = td[1].firstChild;
  a.href = `#/jobs/${j.id}`;
  a.textContent = `#${j.id}`;
  a.setAttribute('aria-label', `Job ${j.id}`);
  tr.dataset.id = j.id;
  const row = {tr, box, job: null, vals: [], cells: [null, td[2], td[3], td[4], td[5],
    td[6].firstChild, td[7], td[8], td[9]]};
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
  const qIn = h('input', {type: 'search', id: 'flt-q', name: 'q', autocomplete: 'off', spellcheck: 'false',
    maxlength: '200', placeholder: 'name, command or #id', 'aria-describedby': 'flt-q-hint'});
  const queueIn = h('input', {id: 'flt-queue', name: 'queue', list: 'flt-queues', autocomplete: 'off',
    placeholder: 'any', spellcheck: 'false', maxlength: '64'});
  const queueList = h('datalist', {id: 'flt-queues'});
  const typeIn = h('select', {id: 'flt-type', name: 'type'},
    h('option', {value: '', text: 'any'}), h('option', {value: 'command', text: 'command'}),
    h('option', {value: 'upload', text: 'upload'}));
  const nameIn = h('input', {id: 'flt-name', name: 'name', autocomplete: 'off', spellcheck: 'false', maxlength: '200', placeholder: 'any'});
  const codeIn = h('input', {type: 'number', id: 'flt-exit_code', name: 'exit_code', min: '0', max: '255', step: '1',
    inputmode: 'numeric', placeholder: 'any'});
  const schedIn = h('input', {type: 'number', id: 'flt-schedule', name: 'schedule', min: '1', step: '1', inputmode: 'numeric', placeholder: 'any'});
  const timeIns = {};
  const LABELS = {created_after: 'Created from', created_before: 'Created before',
    finished_after: 'Finished from', finished_before: 'Finished before'};
  for (const k of TIMES) timeIns[k] = h('input', {type: 'datetime-local', id: `flt-${k}`, name: k});
  const fld = (id, label, el) => h('div', {class: 'field'}, h('label', {for: id, text: label}), el);
  const more = h('details', {class: 'more-filters'}, h('summary', {text: 'More filters'}),
    h('div', {class: 'more-grid'},
      fld('flt-name', 'Name (exact)', nameIn),
      fld('flt-exit_code', 'Exit code', codeIn),
      fld('flt-schedule', 'Schedule id', schedIn),
      ...TIMES.map((k) => fld(`flt-${k}`, LABELS[k], timeIns[k]))));
  const form = h('form', {class: 'filters', role: 'search', 'aria-label': 'Filter jobs'},
    h('div', {class: 'field search'}, h('label', {for: 'flt-q', text: 'Search'}), qIn,
      h('p', {class: 'hint', id: 'flt-q-hint', text: 'Part of a name or command, or a job id.'})),
    stateSet,
    h('div', {class: 'field'}, h('label', {for: 'flt-queue', text: 'Queue'}), queueIn, queueList),
    h('div', {class: 'field'}, h('label', {for: 'flt-type', text: 'Type'}), typeIn),
    h('div', {class: 'field actions'},
      h('button', {type: 'submit', class: 'btn', text: 'Apply'}),
      h('button', {type: 'button', class: 'btn ghost', text: 'Clear filters',
        onclick: () => { location.hash = '#/jobs'; }})),
    more);
  const schedNote = h('p', {class: 'note', hidden: true});
  form.addEventListener('submit', (e) => { e.preventDefault(); clearTimeout(typing); apply(); });
  form.addEventListener('change', (e) => {
    if (e.target === queueIn || e.target === qIn) return;
    apply();
  });
  // Typing searches 300 ms after the last key; the address follows
  // without a history entry per keystroke.
  let typing = 0;
  qIn.addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(() => apply(true), 300);
  });

  function formFilter() {
    const code = codeIn.value.trim();
    const sched = schedIn.value.trim();
    const f = {states: STATES.filter((s) => boxes[s].checked), queue: queueIn.value.trim(),
      type: typeIn.value, schedule: /^[1-9]\d{0,15}$/.test(sched) ? Number(sched) : 0,
      q: qIn.value, name: nameIn.value.trim(),
      exit_code: /^\d{1,3}$/.test(code) && Number(code) <= 255 ? Number(code) : null};
    for (const k of TIMES) f[k] = fromLocalInput(timeIns[k].value);
    return f;
  }
  function showFilter(f) {
    for (const s of STATES) boxes[s].checked = f.states.includes(s);
    queueIn.value = f.queue;
    typeIn.value = f.type;
    if (document.activeElement !== qIn) qIn.value = f.q;
    nameIn.value = f.name;
    codeIn.value = f.exit_code == null ? '' : String(f.exit_code);
    schedIn.value = f.schedule ? String(f.schedule) : '';
    for (const k of TIMES) if (fromLocalInput(timeIns[k].value) !== f[k]) timeIns[k].value = toLocalInput(f[k]);
    if (f.name || f.exit_code != null || TIMES.some((k) => f[k])) more.open = true;
    schedNote.hidden = !f.schedule;
    if (f.schedule) {
      const q = filterQuery(Object.assign({}, f, {schedule: 0}));
      schedNote.replaceChildren(`Only the jobs of schedule `,
        h('a', {href: `#/schedules?id=${f.schedule}`, text: `#${f.schedule}`}), '. ',
        h('a', {href: '#/jobs' + (q ? '?' + q : ''), text: 'Show the jobs of every schedule'}), '.');
    }
  }
  function apply(replace = false) {
    const q = filterQuery(formFilter());
    const target = '#/jobs' + (q ? '?' + q : '');
    if (location.hash === target) return;
    if (replace) location.replace(target); else location.hash = target;
  }

  // ---- the table ---------------------------------------------------------
  // Rows live in chunks of about CHUNK: a chunk off screen is skipped by
  // layout and paint as one box (content-visibility), so a change costs
  // what the rows on screen cost, however many are kept.
  const tbody = h('div', {role: 'none', class: 'jobs-body'});
  const emptyRow = h('div', {role: 'row', class: 'jt-empty'}, h('span', {role: 'cell'}));
  const pageBox = h('input', {type: 'checkbox', id: 'sel-page', 'aria-label': 'Select every job shown'});
  const table = h('div', {role: 'table', class: 'jobs', 'aria-label': 'Jobs, newest first; rows change live'},
    h('div', {role: 'rowgroup', class: 'jobs-head'}, h('div', {role: 'row', class: 'jt-row'},
      ...COLS.map(([cls, text], i) => h('span', {role: 'columnheader', class: cls, text: i ? text : null}, i ? null : pageBox)))),
    tbody);
  const shown = h('span', {class: 'muted'});
  const moreBtn = h('button', {type: 'button', class: 'btn', text: 'Load more', onclick: () => loadMore()});
  const error = h('p', {class: 'error', role: 'alert', hidden: true});
  tbody.addEventListener('click', (e) => {
    if (e.target.closest('a, input') || String(getSelection())) return;
    if (e.target.closest('.c-sel')) { // the cell around a checkbox: a bigger target
      const b = e.target.closest('.c-sel').querySelector('input');
      if (b) { b.click(); return; }
    }
    const tr = e.target.closest('[data-id]');
    if (tr) location.hash = `#/jobs/${tr.dataset.id}`;
  });

  // ---- selection and bulk actions -----------------------------------------
  const selected = new Set();
  let allMatching = false; // every job the filter matches, not only those shown
  let matchCount = null;   // {matched, more} from a dry run
  let anchor = null;       // the last row clicked (for shift-click ranges)
  const selInfo = h('span', {class: 'sel-info', role: 'status'});
  const allBtn = h('button', {type: 'button', class: 'btn small', onclick: () => selectAll()});
  const actBtns = ['retry', 'cancel', 'delete'].map((a) => h('button', {type: 'button',
    class: `btn small${a === 'retry' ? '' : ' danger'}`, text: a[0].toUpperCase() + a.slice(1), dataset: {act: a},
    onclick: () => bulk(a)}));
  const clearBtn = h('button', {type: 'button', class: 'btn small ghost', text: 'Clear selection', onclick: () => clearSel()});
  const bar = h('div', {class: 'bulk-bar', role: 'region', 'aria-label': 'Bulk actions', hidden: true},
    selInfo, allBtn, h('span', {class: 'spacer'}), ...actBtns, clearBtn);
  const report = h('section', {class: 'panel bulk-report', 'aria-labelledby': 'bulk-title', tabindex: '-1', hidden: true});

  function count(n) { return `${n.toLocaleString('en-US')} job${n === 1 ? '' : 's'}`; }

  function selUpdate() {
    const n = selected.size;
    bar.hidden = n === 0 && !allMatching;
    const shownAll = ids.length > 0 && ids.every((id) => selected.has(id));
    pageBox.checked = shownAll;
    pageBox.indeterminate = n > 0 && !shownAll;
    if (allMatching) {
      selInfo.textContent = matchCount
        ? `All ${matchCount.more ? 'more than ' : ''}${count(matchCount.matched)} matching this filter are selected.`
        : 'Counting the jobs that match this filter…';
      allBtn.hidden = true;
    } else {
      selInfo.textContent = `${count(n)} selected.`;
      allBtn.hidden = !shownAll;
      allBtn.textContent = 'Select every job matching this filter';
    }
    for (const b of actBtns) b.disabled = busyBulk || (!allMatching && n === 0);
  }

  function setSel(id, on) {
    const row = rows.get(id);
    if (on) selected.add(id); else selected.delete(id);
    if (row) { row.box.checked = on; row.tr.classList.toggle('selected', on); }
  }

  function clearSel() {
    for (const id of [...selected]) setSel(id, false);
    allMatching = false;
    matchCount = null;
    anchor = null;
    selUpdate();
  }

  tbody.addEventListener('change', (e) => {
    const b = e.target;
    if (!b.classList || !b.classList.contains('sel')) return;
    const id = Number(b.value);
    allMatching = false;
    setSel(id, b.checked);
    selUpdate();
  });
  // Shift-click: the range from the last row clicked takes this row's state.
  tbody.addEventListener('click', (e) => {
    const b = e.target;
    if (!b.classList || !b.classList.contains('sel')) return;
    const id = Number(b.value);
    if (e.shiftKey && anchor != null && anchor !== id) {
      const i = ids.indexOf(anchor), k = ids.indexOf(id);
      if (i >= 0 && k >= 0) {
        for (let x = Math.min(i, k); x <= Math.max(i, k); x++) setSel(ids[x], b.checked);
        allMatching = false;
        selUpdate();
      }
    }
    anchor = id;
  });
  pageBox.addEventListener('change', () => {
    allMatching = false;
    for (const id of ids) setSel(id, pageBox.checked);
    selUpdate();
  });

  async function dryRun(action, ids) {
    const body = ids ? {action, ids, dry_run: true} : {action, filter: bulkFilter(filter), dry_run: true};
    return api('/jobs/bulk', {method: 'POST', body});
  }

  async function selectAll() {
    allMatching = true;
    matchCount = null;
    selUpdate();
    const f = filterQuery(filter);
    try {
      const r = await dryRun('delete');
      if (!allMatching || f !== filterQuery(filter)) return;
      matchCount = {matched: r.more ? Math.min(r.matched, 10000) : r.matched, more: !!r.more};
    } catch (e) {
      allMatching = false;
      error.textContent = `Could not count the matching jobs: ${e.message}`;
      error.hidden = false;
    }
    selUpdate();
  }

  let busyBulk = false;
  const VERB = {retry: ['Retry', 'retried', 'queued again'], cancel: ['Cancel', 'canceled', 'canceled'],
    delete: ['Delete', 'deleted', 'deleted']};

  async function bulk(action) {
    if (busyBulk) return;
    const [Verb, done] = VERB[action];
    let n;
    let fit = null; // how many of the n the action fits, as the dry run says
    let more = false;
    const useFilter = allMatching;
    const list = [...selected];
    error.hidden = true;
    try {
      if (useFilter) {
        const r = await dryRun(action);
        more = !!r.more;
        n = more ? Math.min(r.matched, 10000) : r.matched;
        if (!more) fit = r.actionable;
      } else {
        n = list.length;
        if (n <= 10000) fit = (await dryRun(action, list)).actionable;
      }
    } catch (e) {
      error.textContent = `Could not count the jobs: ${e.message}`;
      error.hidden = false;
      return;
    }
    if (!alive) return;
    const what = `${more ? 'more than ' : ''}${count(n)}`;
    const past = VERB[action][1];
    if (fit === 0) {
      error.textContent = n === 1 ? `This job cannot be ${past} in the state it is in.`
        : `None of these ${count(n)} can be ${past} in the state they are in.`;
      error.hidden = false;
      return;
    }
    const partial = fit != null && fit < n;
    const ok = await confirmDialog({title: partial ? `${Verb} ${fit.toLocaleString('en-US')} of ${what}?` : `${Verb} ${what}?`,
      message: (useFilter ? 'Every job that matches this filter. ' : '') +
        (partial ? `${count(n - fit)} cannot be ${past} in the state ${n - fit === 1 ? 'it is in and is' : 'they are in and are'} left alone. ` : '') +
        (action === 'delete'
          ? 'Their records, output and uploaded files are removed for good; jobs that have not finished are left alone.'
          : action === 'cancel' ? 'Jobs that wait do not run; running jobs get SIGTERM, then SIGKILL. Finished jobs are left alone.'
            : 'Failed and canceled jobs are queued again; the others are left alone.'),
      ok: `${Verb} ${count(fit != null ? fit : n)}`, cancel: 'Keep them', danger: action !== 'retry'});
    if (!ok || !alive) return;
    busyBulk = true;
    selUpdate();
    selInfo.textContent = `${Verb === 'Retry' ? 'Retrying' : Verb === 'Cancel' ? 'Canceling' : 'Deleting'} ${what}…`;
    let matched = 0;
    const okIds = new Set();
    const failedBy = new Map();
    const take = (r) => {
      for (const x of r.results || []) {
        if (x.ok) { okIds.add(x.id); failedBy.delete(x.id); } else if (!okIds.has(x.id)) failedBy.set(x.id, x);
      }
    };
    let failure = null;
    try {
      if (useFilter) {
        for (let round = 0; round < 1000; round++) {
          const r = await api('/jobs/bulk', {method: 'POST', body: {action, filter: bulkFilter(filter)}});
          matched += r.matched;
          take(r);
          // A filter the action does not change finds the same jobs again.
          const progressed = (r.results || []).some((x) => x.ok);
          if (!r.more || !progressed) break;
          selInfo.textContent = `${count(okIds.size)} ${done} so far…`;
        }
      } else {
        for (let i = 0; i < list.length; i += 10000) {
          const r = await api('/jobs/bulk', {method: 'POST', body: {action, ids: list.slice(i, i + 10000)}});
          matched += r.matched;
          take(r);
        }
      }
    } catch (e) {
      failure = e;
    }
    busyBulk = false;
    if (!alive) return;
    const okN = okIds.size;
    const failed = [...failedBy.values()];
    clearSel();
    // The report: how many, and which failed and why.
    const title = h('h2', {id: 'bulk-title', text: `${Verb}: ${count(okN)} ${done}` +
      (failed.length ? `, ${failed.length.toLocaleString('en-US')} not` : '') + '.'});
    const items = failed.slice(0, 100).map((x) => h('li', null, h('a', {href: `#/jobs/${x.id}`, text: `#${x.id}`}),
      `: ${(x.error && x.error.message) || (x.error && x.error.code) || 'refused'}`));
    report.replaceChildren(title,
      failure ? h('p', {class: 'error', text: `Stopped: ${failure.message}. What is listed was done before that.`}) : null,
      okN ? h('p', {text: `${count(okN)} ${VERB[action][2]}.`}) : null,
      failed.length ? h('p', {text: 'Not done:'}) : null,
      failed.length ? h('ul', {class: 'bulk-failed'}, ...items) : null,
      failed.length > 100 ? h('p', {class: 'muted', text: `…and ${(failed.length - 100).toLocaleString('en-US')} more.`}) : null,
      h('button', {type: 'button', class: 'btn small', text: 'Dismiss', onclick: () => { report.hidden = true; pageBox.focus(); }}));
    report.hidden = false;
    report.focus();
    toast(`${Verb}: ${count(okN)} ${done}${failed.length ? `, ${failed.length} not` : ''}.`);
    void matched;
  }

  root.append(
    h('div', {class: 'title-row'}, h('h1', {tabindex: '-1', text: 'Jobs'}),
      h('a', {class: 'btn primary', href: '#/submit', text: 'New job'})),
    form, schedNote, error, report, bar,
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
    if (selected.has(j.id)) { row.box.checked = true; row.tr.classList.add('selected'); }
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
    selected.delete(id);
    const i = ids.indexOf(id);
    if (i >= 0) ids.splice(i, 1);
  }

  function trim() {
    if (ids.length <= keep) return;
    for (const id of ids.slice(keep)) {
      unplace(rows.get(id).tr);
      rows.delete(id);
      running.delete(id);
      selected.delete(id);
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
    if (loading && scanned) shown.textContent = `Searching… (looked back to job #${scanned})`;
    selUpdate();
  }

  // Replaces the rows with a fresh list, reusing the rows of jobs kept.
  function setRows(list, cursor) {
    const keepIds = [];
    const fresh = new Map();
    for (const raw of list) {
      const j = store.merge(raw);
      if (j && matchesLive(filter, j) && !fresh.has(j.id)) { fresh.set(j.id, j); keepIds.push(j.id); }
    }
    for (const id of ids) if (!fresh.has(id)) { rows.delete(id); running.delete(id); selected.delete(id); }
    const trs = [];
    for (const id of keepIds) {
      let row = rows.get(id);
      if (row) fill(row, fresh.get(id));
      else {
        row = makeRow(fresh.get(id));
        rows.set(id, row);
        if (selected.has(id)) { row.box.checked = true; row.tr.classList.add('selected'); }
      }
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
    let ok = false;
    try {
      const res = await api(`/jobs?limit=${limit}${q ? '&' + q : ''}`);
      if (seq !== loadSeq || !alive) return;
      error.hidden = true;
      setRows(res.jobs, res.next);
      ok = true;
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
        else if (ok && alive && ids.length < PAGE && next !== null) loadMore(PAGE - ids.length);
      }
    }
  }

  // A page of a search may come back short (the server scans a bounded
  // number of jobs per request) with more to come: keep following `next`
  // until a page's worth came, for a while.
  let scanned = 0;
  async function loadMore(want = PAGE) {
    if (loading || next === null) return;
    const seq = loadSeq;
    loading = true;
    foot();
    const q = filterQuery(filter);
    let added = 0;
    const until = Date.now() + 10000;
    try {
      for (let tries = 0; next !== null && added < want && (tries < 3 || Date.now() < until); tries++) {
        const res = await api(`/jobs?limit=${PAGE}&before=${next}${q ? '&' + q : ''}`);
        if (seq !== loadSeq || !alive) return;
        for (const raw of res.jobs) {
          const j = store.merge(raw);
          if (j && matchesLive(filter, j) && !rows.has(j.id)) { insert(j); added++; }
        }
        next = res.next;
        scanned = next || 0;
        if (next !== null) foot();
      }
      scanned = 0;
      keep = Math.min(KEEP_MAX, Math.max(keep, ids.length));
      error.hidden = true;
    } catch (e) {
      if (seq !== loadSeq) return;
      error.textContent = `Could not load more jobs: ${e.message}`;
      error.hidden = false;
    } finally {
      if (seq === loadSeq) { loading = false; scanned = 0; foot(); }
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
      clearSel();
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
      clearTimeout(typing);
    },
  };
}
