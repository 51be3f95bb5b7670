// Schedules: recurring jobs from cron expressions.  A table of them with
// their next run and last result, and per row pause or resume, run now,
// edit and delete; a dialog creates or edits one, with a live preview of
// its next fire times from the server (POST /schedules?dry_run=1, which
// stores nothing).  A job event of a schedule's job reloads the list (at
// most once a second): its last result follows the job.
//   #/schedules        all of them
//   #/schedules?id=7   the same, schedule 7 selected (job pages link here)

import {api} from './api.js';
import * as live from './live.js';
import * as store from './store.js';
import {confirmDialog, toast} from './dialog.js';
import {field, input, errors, common} from './submit.js';
import {h, fmtDateTime, fmtDuration, throttle} from './util.js';

const ZONES = ['UTC', 'Europe/London', 'Europe/Dublin', 'Europe/Lisbon', 'Europe/Paris', 'Europe/Berlin',
  'Europe/Madrid', 'Europe/Rome', 'Europe/Amsterdam', 'Europe/Zurich', 'Europe/Vienna', 'Europe/Stockholm',
  'Europe/Warsaw', 'Europe/Prague', 'Europe/Athens', 'Europe/Helsinki', 'Europe/Istanbul', 'Europe/Kyiv',
  'Europe/Moscow', 'Africa/Cairo', 'Africa/Lagos', 'Africa/Johannesburg', 'Africa/Nairobi', 'Asia/Dubai',
  'Asia/Karachi', 'Asia/Kolkata', 'Asia/Dhaka', 'Asia/Bangkok', 'Asia/Jakarta', 'Asia/Singapore',
  'Asia/Shanghai', 'Asia/Hong_Kong', 'Asia/Taipei', 'Asia/Seoul', 'Asia/Tokyo', 'Australia/Perth',
  'Australia/Adelaide', 'Australia/Sydney', 'Pacific/Auckland', 'Pacific/Honolulu', 'America/Anchorage',
  'America/Los_Angeles', 'America/Denver', 'America/Phoenix', 'America/Chicago', 'America/Mexico_City',
  'America/New_York', 'America/Toronto', 'America/Bogota', 'America/Lima', 'America/Santiago',
  'America/Sao_Paulo', 'America/Argentina/Buenos_Aires'];

const OVERLAP = [
  ['allow', 'Start each tick’s job even while the last one still runs.'],
  ['skip', 'Skip a tick while the last job still runs.'],
  ['queue', 'Hold a tick’s job until the last one has finished (one waits at most).'],
  ['cancel', 'Cancel the last job if it still runs, then start the new one.'],
];
const MISFIRE = [
  ['skip', 'Drop ticks missed while runneld was down or behind.'],
  ['once', 'Run once for all the ticks that were missed.'],
  ['all', 'Run every missed tick (the latest few when many were missed).'],
];
// The spec keys the form owns; a template's others (cwd, stdin...) are kept.
const JOB_KEYS = ['command', 'argv'];

export function myZone() {
  try { return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'; } catch { return 'UTC'; }
}

// "Mon 2026-12-07 02:30" in zone tz, or null when the browser does not know it.
const zoneFmts = new Map();
function zoned(ts, tz) {
  let f = zoneFmts.get(tz);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {timeZone: tz, hourCycle: 'h23', weekday: 'short', year: 'numeric',
        month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit'});
    } catch { return null; }
    zoneFmts.set(tz, f);
  }
  const p = {};
  for (const x of f.formatToParts(new Date(ts))) p[x.type] = x.value;
  return `${p.weekday} ${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}${p.second === '00' ? '' : ':' + p.second}`;
}

function relative(ts, now = Date.now()) {
  const d = Date.parse(ts) - now;
  if (Math.abs(d) < 1000) return 'now';
  return d > 0 ? `in ${fmtDuration(d)}` : `${fmtDuration(-d)} ago`;
}

// A time as the schedule's zone has it, and the browser's in a title.
function when(ts, tz) {
  const z = zoned(ts, tz);
  return {text: z ? `${z} ${tz}` : fmtDateTime(ts).slice(0, 19), title: `${fmtDateTime(ts).slice(0, 19)} your time`};
}

// datetime-local value <-> RFC 3339.
function localInput(ts) {
  if (!ts) return '';
  const d = new Date(ts);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

// ---- the create and edit dialog ---------------------------------------------

// Opens the form for sc (null: a new schedule); done(saved) after a save.
function scheduleDialog(sc, done) {
  const editing = !!sc;
  const tpl = (sc && sc.job) || {};
  const name = input({name: 'name', maxlength: '200', required: true});
  const cron = input({name: 'cron', class: 'mono', placeholder: '30 2 * * *', required: true});
  const tz = input({name: 'timezone', list: 's-zones', placeholder: 'UTC'});
  const zone = myZone();
  const useZone = h('button', {type: 'button', class: 'btn small', text: `Use my zone (${zone})`,
    onclick: () => { tz.value = zone; changed(); }});
  const select = (nm, opts) => h('select', {name: nm}, ...opts.map(([v]) => h('option', {value: v, text: v})));
  const overlap = select('overlap', OVERLAP);
  const misfire = select('misfire', MISFIRE);
  const paused = h('input', {type: 'checkbox', name: 'paused', id: 's-paused'});
  const until = h('input', {type: 'datetime-local', name: 'until'});

  const shell = h('input', {type: 'radio', name: 'sj-mode', value: 'shell', id: 'sj-mode-shell', checked: true});
  const exec = h('input', {type: 'radio', name: 'sj-mode', value: 'argv', id: 'sj-mode-argv'});
  const command = h('textarea', {name: 'command', rows: '2', spellcheck: 'false', class: 'mono',
    placeholder: 'e.g. /usr/local/bin/backup --all'});
  const argv = h('textarea', {name: 'argv', rows: '3', spellcheck: 'false', class: 'mono', placeholder: 'ls\n-l\n/tmp'});
  const cmdField = field('sj-command', 'Command', command, 'Run by /bin/sh -c at each tick.');
  const argvField = field('sj-argv', 'Program and arguments', argv, 'One per line; the first is the program. No shell.');
  const more = common('sj', {template: true});

  const runs = h('ol', {class: 'runs'});
  const previewNote = h('p', {class: 'muted small', role: 'status'});
  const summary = h('p', {class: 'error', role: 'alert', tabindex: '-1', hidden: true});
  const save = h('button', {type: 'submit', class: 'btn primary', text: editing ? 'Save' : 'Create schedule'});
  const cancel = h('button', {type: 'button', class: 'btn', text: 'Cancel'});
  const hintOf = (id, list, sel) => {
    const p = h('p', {class: 'hint', id});
    const set = () => { p.textContent = (list.find(([v]) => v === sel.value) || ['', ''])[1]; };
    sel.addEventListener('change', set);
    return {p, set};
  };

  const form = h('form', {novalidate: true, class: 'sched-form'},
    h('h2', {id: 's-title', text: editing ? `Edit schedule ${sc.name}` : 'New schedule'}),
    field('s-name', 'Name', name, 'Unique among the schedules.'),
    h('div', {class: 'row'},
      field('s-cron', 'When (cron)', cron,
        'minute hour day month weekday, e.g. 30 2 * * *; or @hourly, @daily, @weekly, @monthly, @yearly, @every 90s.'),
      h('div', {class: 'field'},
        h('label', {for: 's-timezone', text: 'Time zone'}), tz,
        h('p', {class: 'hint', id: 's-timezone-hint', text: 'An IANA zone; UTC by default.'}),
        h('p', {class: 'field-error', id: 's-timezone-err', hidden: true}),
        h('div', null, useZone))),
    h('section', {class: 'preview', 'aria-labelledby': 's-runs-title'},
      h('h3', {id: 's-runs-title', text: 'Next runs'}), previewNote, runs),
    h('fieldset', {class: 'job-tpl'}, h('legend', {text: 'Job to run at each tick'}),
      h('fieldset', {class: 'modes'}, h('legend', {text: 'Form'}),
        h('label', {for: 'sj-mode-shell'}, shell, ' Shell command'),
        h('label', {for: 'sj-mode-argv'}, exec, ' Program and arguments')),
      cmdField, argvField, ...more.nodes),
    h('div', {class: 'row'},
      field('s-overlap', 'While the last job runs', overlap),
      field('s-misfire', 'Missed ticks', misfire)),
    h('div', {class: 'row'},
      h('div', {class: 'field'}, h('label', {class: 'check', for: 's-paused'}, paused, ' Paused'),
        h('p', {class: 'hint', text: 'No ticks until resumed.'}), h('p', {class: 'field-error', id: 's-paused-err', hidden: true})),
      field('s-until', 'Until (your time, optional)', until, 'No ticks after it.')),
    h('datalist', {id: 's-zones'}, ...ZONES.map((z) => h('option', {value: z}))),
    summary,
    h('div', {class: 'form-actions'}, save, cancel));
  tz.id = 's-timezone';
  tz.setAttribute('aria-describedby', 's-timezone-hint s-timezone-err');
  paused.setAttribute('aria-describedby', 's-paused-err');
  const oh = hintOf('s-overlap-hint', OVERLAP, overlap);
  const mh = hintOf('s-misfire-hint', MISFIRE, misfire);
  overlap.closest('.field').insertBefore(oh.p, overlap.nextSibling);
  misfire.closest('.field').insertBefore(mh.p, misfire.nextSibling);
  overlap.setAttribute('aria-describedby', 's-overlap-hint s-overlap-err');
  misfire.setAttribute('aria-describedby', 's-misfire-hint s-misfire-err');
  const dlg = h('dialog', {class: 'sched-dlg', 'aria-labelledby': 's-title'}, form);
  const err = errors(form, summary);

  // The schedule's values into the form.
  name.value = sc ? sc.name : '';
  cron.value = sc ? sc.cron : '';
  tz.value = sc ? sc.timezone : 'UTC';
  overlap.value = sc ? sc.overlap : 'allow';
  misfire.value = sc ? sc.misfire : 'once';
  paused.checked = !!(sc && sc.paused);
  until.value = localInput(sc && sc.until);
  if (Array.isArray(tpl.argv)) { exec.checked = true; argv.value = tpl.argv.join('\n'); } else command.value = tpl.command || '';
  more.set(tpl);
  oh.set();
  mh.set();
  const mode = () => (exec.checked ? 'argv' : 'shell');
  const showMode = () => { cmdField.hidden = mode() !== 'shell'; argvField.hidden = mode() !== 'argv'; };
  showMode();

  // The body from the form; null (with the error shown) when a field is
  // wrong.  quiet: for the preview, which neither moves the focus nor
  // needs a job yet.
  function body(quiet) {
    const e = quiet ? {show() {}} : err;
    const job = Object.assign({}, tpl);
    for (const k of [...JOB_KEYS, ...more.keys]) delete job[k];
    if (mode() === 'shell') {
      if (command.value.trim()) job.command = command.value;
      else if (!quiet) { e.show('sj', 'command', 'Enter a command to run.'); return null; }
    } else {
      const list = argv.value.split('\n');
      while (list.length && list[list.length - 1] === '') list.pop();
      if (list.length && list[0]) job.argv = list;
      else if (!quiet) { e.show('sj', 'argv', 'Enter the program on the first line.'); return null; }
    }
    if (!more.fill(job, e) && !quiet) return null;
    if (quiet && job.command == null && job.argv == null) job.command = 'true';
    const b = {name: name.value.trim(), cron: cron.value.trim(), timezone: tz.value.trim() || 'UTC',
      job, overlap: overlap.value, misfire: misfire.value, paused: paused.checked, until: null};
    if (until.value) {
      const t = new Date(until.value);
      if (isNaN(t)) { if (!quiet) { e.show('s', 'until', 'Give a date and time.'); return null; } } else b.until = t.toISOString();
    }
    if (!quiet) {
      if (!b.name) { e.show('s', 'name', 'Give the schedule a name.'); return null; }
      if (!b.cron) { e.show('s', 'cron', 'Enter a cron expression, e.g. 30 2 * * *.'); return null; }
    }
    return b;
  }

  // Shows a server error on its field: "job.x" is the template's field x.
  function showError(ex, focus) {
    const f = ex.field || '';
    if (/^job(\.|\[|$)/.test(f) && f !== 'job') err.show('sj', f, ex.message, focus);
    else err.show('s', f === 'job' ? null : f, ex.message, focus);
  }

  // ---- the preview: the server's next runs for what the form says ----
  let seq = 0;
  let ctl = null;
  let timer = 0;
  async function preview() {
    const b = body(true);
    if (ctl) ctl.abort();
    if (!b.cron) {
      err.clear();
      runs.replaceChildren();
      previewNote.textContent = 'Enter a cron expression to see when it runs.';
      return;
    }
    // The preview shows when it would run, paused or not.
    b.paused = false;
    b.name = b.name || 'preview';
    const mine = ++seq;
    ctl = new AbortController();
    try {
      const s = await api('/schedules?dry_run=1', {method: 'POST', body: b, signal: ctl.signal});
      if (mine !== seq) return;
      err.clear();
      runs.replaceChildren(...s.next_runs.map((t) => {
        const w = when(t, s.timezone);
        return h('li', {title: w.title}, h('time', {datetime: t, text: w.text}), h('span', {class: 'muted', text: ` — ${relative(t)}`}));
      }));
      previewNote.textContent = !s.next_runs.length ? 'It never runs again (see Until).'
        : paused.checked ? `Paused; once resumed, the next ${s.next_runs.length} runs:` : `The next ${s.next_runs.length} runs:`;
    } catch (ex) {
      if (ex.name === 'AbortError' || mine !== seq) return;
      err.clear();
      runs.replaceChildren();
      previewNote.textContent = ex.status ? 'No preview: fix the field marked.' : `No preview: ${ex.message}`;
      if (ex.status) showError(ex, false);
    }
  }
  function changed() {
    clearTimeout(timer);
    timer = setTimeout(preview, 300);
  }
  form.addEventListener('input', changed);
  form.addEventListener('change', (e) => {
    if (e.target.name === 'sj-mode') showMode();
    changed();
  });

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.clear();
    const b = body(false);
    if (!b) return;
    save.disabled = true;
    save.textContent = 'Saving…';
    clearTimeout(timer);
    seq++;
    try {
      const s = await api(editing ? `/schedules/${sc.id}` : '/schedules', {method: editing ? 'PATCH' : 'POST', body: b});
      dlg.close();
      done(s);
    } catch (ex) {
      showError(ex, true);
    } finally {
      save.disabled = false;
      save.textContent = editing ? 'Save' : 'Create schedule';
    }
  });
  cancel.addEventListener('click', () => dlg.close());
  dlg.addEventListener('close', () => { clearTimeout(timer); seq++; if (ctl) ctl.abort(); dlg.remove(); });
  document.body.append(dlg);
  api('/queues').then((r) => {
    const dl = document.getElementById('sj-queues');
    if (dl) dl.replaceChildren(...r.queues.map((q) => h('option', {value: q.name})));
  }).catch(() => {});
  dlg.showModal();
  name.focus();
  preview();
  return dlg;
}

// ---- the view ---------------------------------------------------------------

export function schedulesView(root, route) {
  let selected = Number(route.query.get('id')) || 0;
  const tbody = h('tbody');
  const empty = h('tr', null, h('td', {colspan: 6, class: 'muted', text: 'Loading…'}));
  const error = h('p', {class: 'error', role: 'alert', hidden: true});
  const note = h('p', {class: 'note', role: 'status', hidden: true});
  const newBtn = h('button', {type: 'button', class: 'btn primary', text: 'New schedule', onclick: () => edit(null)});
  const cols = [['Name'], ['When'], ['Next run'], ['Last result'], ['State'], ['Actions']];
  root.append(
    h('div', {class: 'title-row'}, h('h1', {tabindex: '-1', text: 'Schedules'}), newBtn),
    h('p', {class: 'muted', text: 'Recurring jobs: each tick of a schedule’s cron expression, in its time zone, submits its job.'}),
    error, note,
    h('div', {class: 'table-wrap'}, h('table', {class: 'data schedules', 'aria-label': 'Schedules; rows change live'},
      h('thead', null, h('tr', null, ...cols.map(([t]) => h('th', {scope: 'col', text: t})))),
      tbody)));
  tbody.append(empty);

  let alive = true;
  let list = [];
  let dlg = null;
  const rows = new Map(); // id -> {tr, cells, sc}
  const lastJobs = new Set();
  let loadGen = -1;
  let busy = false, again = false;
  let staleAfter = 0;    // no reload for a passed next run before this

  async function load() {
    if (busy) { again = true; return; }
    busy = true;
    loadGen = live.gen();
    try {
      const r = await api('/schedules');
      if (!alive) return;
      error.hidden = true;
      list = r.schedules;
      render();
    } catch (e) {
      if (!alive) return;
      error.textContent = `Could not load the schedules: ${e.message}`;
      error.hidden = false;
    } finally {
      busy = false;
      if (again && alive) { again = false; refresh(); }
    }
  }
  const refresh = throttle(load, 1000);

  function act(label, fn) {
    return async (e) => {
      const btn = e.currentTarget;
      btn.disabled = true;
      try { await fn(); } catch (ex) {
        if (!alive) return;
        error.textContent = `Could not ${label}: ${ex.message}`;
        error.hidden = false;
      } finally {
        btn.disabled = false;
      }
    };
  }

  function makeRow(id) {
    const nameCell = h('td', {class: 's-name'});
    const cells = {name: h('strong'), jobs: h('a', {class: 'small'}), cron: h('code', {class: 'mono'}), tz: h('span', {class: 'muted small'}),
      rel: h('span'), abs: h('span', {class: 'muted small'}), last: h('td'), state: h('span', {class: 'badge'})};
    nameCell.append(cells.name, h('br'), cells.jobs);
    const pause = h('button', {type: 'button', class: 'btn small'});
    const run = h('button', {type: 'button', class: 'btn small', text: 'Run now'});
    const editB = h('button', {type: 'button', class: 'btn small', text: 'Edit'});
    const del = h('button', {type: 'button', class: 'btn small danger', text: 'Delete'});
    const r = {tr: null, cells, pause, run, edit: editB, del, sc: null};
    pause.addEventListener('click', act('change the schedule', async () => {
      const s = await api(`/schedules/${id}`, {method: 'PATCH', body: {paused: !r.sc.paused}});
      toast(`Schedule ${s.name} ${s.paused ? 'paused' : 'resumed'}.`);
      update(s);
    }));
    run.addEventListener('click', act('run the schedule', async () => {
      const j = await api(`/schedules/${id}/trigger`, {method: 'POST'});
      store.merge(j);
      if (!alive) return;
      note.replaceChildren(`Schedule ${r.sc.name}: job #${j.id} submitted. `,
        h('a', {href: `#/jobs/${j.id}`, text: `Open job #${j.id}`}));
      note.hidden = false;
      load();
    }));
    editB.addEventListener('click', () => edit(r.sc));
    del.addEventListener('click', act('delete the schedule', async () => {
      const s = r.sc;
      const ok = await confirmDialog({title: `Delete schedule ${s.name}?`,
        message: 'It makes no more jobs. The jobs it made stay, with their output.',
        ok: 'Delete schedule', cancel: 'Keep it', danger: true});
      if (!ok || !alive) return;
      await api(`/schedules/${id}`, {method: 'DELETE'});
      toast(`Schedule ${s.name} deleted.`);
      list = list.filter((x) => x.id !== id);
      render();
    }));
    cells.last.dataset.label = 'Last result';
    r.tr = h('tr', {'data-id': id}, nameCell, h('td', {'data-label': 'When'}, cells.cron, h('br'), cells.tz),
      h('td', {'data-label': 'Next run'}, cells.rel, h('br'), cells.abs), cells.last, h('td', {'data-label': 'State'}, cells.state),
      h('td', null, h('div', {class: 'actions row-actions'}, pause, run, editB, del)));
    return r;
  }

  function fillRow(r, s, now) {
    const c = r.cells;
    const changed = JSON.stringify(r.sc) !== JSON.stringify(s);
    r.sc = s;
    if (changed) {
      c.name.textContent = s.name;
      c.jobs.href = `#/jobs?schedule=${s.id}`;
      c.jobs.textContent = 'Jobs';
      c.jobs.setAttribute('aria-label', `Jobs of schedule ${s.name}`);
      c.cron.textContent = s.cron;
      c.tz.textContent = s.timezone;
      const lj = s.last_job;
      if (lj) {
        const exit = lj.exit_code != null ? `exit ${lj.exit_code}` : lj.error || '';
        c.last.replaceChildren(h('a', {href: `#/jobs/${lj.id}`, 'aria-label': `Job ${lj.id}, ${lj.state}${exit ? ', ' + exit : ''}`},
          `#${lj.id}`), ' ', h('span', {class: `badge s-${lj.state}`, text: lj.state}),
        exit ? h('span', {class: 'muted small', text: ` ${exit}`}) : null);
      } else {
        c.last.replaceChildren(h('span', {class: 'muted', text: 'not run yet'}));
      }
      if (s.waiting) c.last.append(h('br'), h('span', {class: 'small', text: 'a run waits for it to finish'}));
      const ended = !s.paused && !s.next_runs.length;
      c.state.textContent = s.paused ? 'paused' : ended ? 'ended' : 'active';
      c.state.className = `badge ${s.paused || ended ? 's-canceled' : 's-succeeded'}`;
      r.pause.textContent = s.paused ? 'Resume' : 'Pause';
      r.pause.setAttribute('aria-label', `${s.paused ? 'Resume' : 'Pause'} schedule ${s.name}`);
      r.run.setAttribute('aria-label', `Run now: schedule ${s.name}`);
      r.edit.setAttribute('aria-label', `Edit schedule ${s.name}`);
      r.del.setAttribute('aria-label', `Delete schedule ${s.name}`);
      const next = s.next_runs[0];
      if (next) {
        const w = when(next, s.timezone);
        c.abs.textContent = w.text;
        c.abs.title = w.title;
      } else c.abs.textContent = '';
    }
    const next = s.next_runs[0];
    const rel = next ? relative(next, now) : s.paused ? 'paused' : 'none';
    if (c.rel.textContent !== rel) c.rel.textContent = rel;
  }

  function update(s) {
    const i = list.findIndex((x) => x.id === s.id);
    if (i >= 0) list[i] = s; else list.push(s);
    render();
  }

  function render() {
    const now = Date.now();
    const seen = new Set();
    lastJobs.clear();
    let prev = null;
    for (const s of list) {
      seen.add(s.id);
      if (s.last_job) lastJobs.add(s.last_job.id);
      let r = rows.get(s.id);
      if (!r) { r = makeRow(s.id); rows.set(s.id, r); }
      fillRow(r, s, now);
      r.tr.classList.toggle('selected', s.id === selected);
      // The server's order, without moving rows in place (focus stays).
      const want = prev ? prev.nextSibling : tbody.firstChild;
      if (want !== r.tr) tbody.insertBefore(r.tr, want);
      prev = r.tr;
    }
    for (const [id, r] of rows) if (!seen.has(id)) { r.tr.remove(); rows.delete(id); }
    empty.firstChild.textContent = 'No schedules yet. “New schedule” makes one.';
    if (!list.length) tbody.replaceChildren(empty); else empty.remove();
  }

  function select(id) {
    selected = id;
    for (const [rid, r] of rows) r.tr.classList.toggle('selected', rid === id);
    const r = rows.get(id);
    if (r) r.tr.scrollIntoView({block: 'nearest'});
  }

  function edit(sc) {
    if (dlg) return;
    dlg = scheduleDialog(sc, (s) => {
      toast(`Schedule ${s.name} ${sc ? 'saved' : 'created'}.`);
      update(s);
      const target = `#/schedules?id=${s.id}`;
      if (location.hash !== target) location.hash = target; else select(s.id);
    });
    dlg.addEventListener('close', () => { dlg = null; });
  }

  const unsub = live.subscribe((m) => {
    if (m.type === 'pause') return;
    if (m.type === 'resync') { if (loadGen < m.gen) refresh(); return; }
    if ((m.type === 'job' && m.job.schedule_id != null) || (m.type === 'deleted' && lastJobs.has(m.id))) refresh();
  });
  // Relative times count down; a next run that has passed without an
  // event (a tick skipped while the last job runs) reloads, at most
  // every 15 s.
  const ticker = setInterval(() => {
    if (document.hidden) return;
    const now = Date.now();
    let stale = false;
    for (const r of rows.values()) {
      fillRow(r, r.sc, now);
      const next = r.sc.next_runs[0];
      if (next && Date.parse(next) < now - 2000) stale = true;
    }
    if (stale && now >= staleAfter) { staleAfter = now + 15000; refresh(); }
  }, 1000);
  load().then(() => { if (selected) select(selected); });

  return {
    title: 'Schedules',
    update(r) {
      select(Number(r.query.get('id')) || 0);
    },
    unmount() {
      alive = false;
      unsub();
      refresh.cancel();
      clearInterval(ticker);
      if (dlg) dlg.close();
    },
  };
}
