// One job at #/jobs/ID: every field, live output, resources, the uploaded
// file, and the actions its state allows.

import {api, apiUrl} from './api.js';
import * as live from './live.js';
import * as store from './store.js';
import {outputPane} from './output.js';
import {logView} from './logview.js';
import {confirmDialog, toast} from './dialog.js';
import {h, FINISHED, fmtDateTime, fmtDuration, jobDuration, fmtBytes, fmtCount, stateBadge} from './util.js';


function bytes(n) {
  return n < 1024 ? `${fmtCount(n)} bytes` : `${fmtBytes(n)} (${fmtCount(n)} bytes)`;
}

function code(text, cls = 'mono') { return h('code', {class: cls, text}); }

// Schedule names by id, asked once per page load (null: not there).
const schedNames = new Map();

export function detailView(root, route, id) {
  const title = h('h1', {tabindex: '-1', text: `Job #${id}`});
  const badge = h('span');
  const sub = h('p', {class: 'subtitle'});
  const msg = h('p', {class: 'error', role: 'alert', hidden: true});
  const fields = h('dl', {class: 'facts wide'});
  const res = h('dl', {class: 'facts'});
  const fileBox = h('section', {class: 'panel', 'aria-labelledby': 'jd-file', hidden: true});
  const btn = (text, cls, onclick) => h('button', {type: 'button', class: `btn ${cls}`, text, onclick});
  const cancelBtn = btn('Cancel', 'danger', () => act('cancel'));
  const retryBtn = btn('Retry', '', () => act('retry'));
  const deleteBtn = btn('Delete', 'danger', () => act('delete'));
  const editBtn = h('a', {class: 'btn', href: `#/submit?from=${id}`, text: 'Edit and resubmit'});
  const hint = h('p', {class: 'muted small', id: 'jd-hint'});
  // The first questions first: how it ended, how long, which attempt.
  const head = h('dl', {class: 'jd-head panel'});
  const picker = h('select', {id: 'jd-attempt', name: 'attempt'});
  const pickerRow = h('div', {class: 'attempts', hidden: true},
    h('label', {for: 'jd-attempt', text: 'Output of attempt'}), picker);
  const outs = h('div', {class: 'outs'});
  let out = [];
  let paneKey = '';
  let sel = 'latest';
  picker.addEventListener('change', () => {
    sel = picker.value === 'latest' ? 'latest' : Number(picker.value);
    if (job) panes(job);
  });

  root.append(
    h('p', {class: 'crumbs'}, h('a', {href: '#/jobs', text: '← All jobs'})),
    h('div', {class: 'title-row'}, h('div', null, h('div', {class: 'title-line'}, title, badge), sub),
      h('div', {class: 'actions', role: 'group', 'aria-label': 'Actions', 'aria-describedby': 'jd-hint'},
        cancelBtn, retryBtn, deleteBtn, editBtn)),
    hint, msg);
  const body = h('div', {class: 'detail', hidden: true},
    head,
    h('section', {class: 'panel', 'aria-labelledby': 'jd-out'},
      h('h2', {id: 'jd-out', text: 'Output'}), pickerRow, outs),
    h('div', {class: 'cols'},
      h('section', {class: 'panel', 'aria-labelledby': 'jd-fields'}, h('h2', {id: 'jd-fields', text: 'Details'}), fields),
      h('div', null,
        h('section', {class: 'panel', 'aria-labelledby': 'jd-res'}, h('h2', {id: 'jd-res', text: 'Resource use'}), res),
        fileBox)));
  root.append(body);

  let job = null;
  let alive = true;
  let busy = '';
  let deleted = false;

  function row(dl, label, value) {
    if (value == null || value === '') value = '—';
    dl.append(h('dt', {text: label}), h('dd', null, value));
  }

  function render() {
    const j = job;
    document.title = `#${j.id} ${j.name || ''} · runnel`.replace('  ', ' ');
    badge.replaceChildren(stateBadge(j.state));
    sub.textContent = j.name || (j.type === 'upload' && j.file ? j.file.name : '');
    const dur = jobDuration(j);

    fields.replaceChildren();
    row(fields, 'State', j.state);
    row(fields, 'Type', j.type);
    row(fields, 'Name', j.name);
    row(fields, 'Queue', h('a', {href: `#/jobs?queue=${encodeURIComponent(j.queue)}`, text: j.queue}));
    row(fields, 'Priority', String(j.priority));
    if (j.schedule_id != null) row(fields, 'Schedule', schedule(j));
    if (j.argv) row(fields, 'Program and arguments', h('ol', {class: 'argv'}, ...j.argv.map((a) => h('li', null, code(a)))));
    else row(fields, 'Command', j.command != null ? code(j.command, 'mono block') : null);
    const env = Object.entries(j.env || {});
    row(fields, 'Environment', env.length ? code(env.map(([k, v]) => `${k}=${v}`).join('\n'), 'mono block') : 'none added');
    row(fields, 'Working directory', j.cwd ? code(j.cwd) : 'a fresh scratch directory');
    row(fields, 'Timeout', j.timeout != null ? `${j.timeout} s` : 'none');
    row(fields, 'Limits', j.limits ? code(JSON.stringify(j.limits)) : 'none');
    row(fields, 'Attempts', `${j.attempts} of ${j.max_attempts}`);
    if (Array.isArray(j.after) && j.after.length) {
      row(fields, 'Runs after', h('span', {class: 'links'},
        ...j.after.map((d) => h('a', {href: `#/jobs/${d}`, text: `#${d}`}))));
    }
    row(fields, 'Created', fmtDateTime(j.created_at));
    if (j.run_at) row(fields, 'Runs at', fmtDateTime(j.run_at));
    row(fields, 'Started', fmtDateTime(j.started_at));
    row(fields, 'Finished', fmtDateTime(j.finished_at));
    row(fields, 'Duration', h('span', {class: 'jd-dur', text: fmtDuration(dur)}));
    row(fields, 'Exit code', j.exit_code != null ? String(j.exit_code) : null);
    row(fields, 'Signal', j.signal != null ? String(j.signal) : null);
    row(fields, 'Error', j.error);
    row(fields, 'Worker', j.worker != null ? `#${j.worker}` : null);
    row(fields, 'Process ID', j.pid != null ? String(j.pid) : null);
    // Cluster mode: where the attempt runs or ran (other nodes do not know its pid).
    if (j.node != null) row(fields, 'Node', code(j.node));

    res.replaceChildren();
    row(res, 'Wall time', fmtDuration(dur));
    row(res, 'CPU time', j.cpu_ms != null ? fmtDuration(j.cpu_ms) +
      (dur > 0 ? ` (${Math.round(100 * j.cpu_ms / dur)}% of wall time)` : '') : (FINISHED.has(j.state) ? null : 'when finished'));
    row(res, 'Peak memory', j.max_rss_kb != null ? fmtBytes(j.max_rss_kb * 1024) : (FINISHED.has(j.state) ? null : 'when finished'));
    row(res, 'Standard output', FINISHED.has(j.state) ? bytes(j.stdout_bytes) : 'counted when finished');
    row(res, 'Standard error', FINISHED.has(j.state) ? bytes(j.stderr_bytes) : 'counted when finished');

    if (j.file) {
      fileBox.hidden = false;
      const dl = h('dl', {class: 'facts'});
      row(dl, 'File name', j.file.name);
      row(dl, 'Size', bytes(j.file.size));
      row(dl, 'SHA-256', code(j.file.sha256, 'mono hash'));
      fileBox.replaceChildren(h('h2', {id: 'jd-file', text: 'Uploaded file'}), dl,
        h('p', null, h('a', {class: 'btn', href: apiUrl(`/jobs/${j.id}/file`), download: j.file.name,
          text: `Download ${j.file.name}`})));
    } else {
      fileBox.hidden = true;
    }
    summary(j, dur);
    buttons();
    panes(j);
  }

  function summary(j, dur) {
    const item = (label, value, cls) => [h('div', null, h('dt', {text: label}), h('dd', {class: cls || null}, value))];
    const ended = j.exit_code != null ? `exit ${j.exit_code}` : j.signal != null ? `signal ${j.signal}` : null;
    head.replaceChildren(
      ...item('State', stateBadge(j.state)),
      ...(ended ? item(j.exit_code != null ? 'Exit code' : 'Signal', ended, j.exit_code === 0 ? null : 'jd-bad') : []),
      ...(j.error ? item('Error', j.error, 'jd-bad') : []),
      ...item('Duration', h('span', {class: 'jd-dur', text: fmtDuration(dur)})),
      ...item('Attempts', `${j.attempts} of ${j.max_attempts}`),
      ...(j.run_at && (j.state === 'scheduled' || j.state === 'queued') ? item('Runs at', fmtDateTime(j.run_at)) : []));
  }

  // The output panes: the latest attempt live while the job runs or
  // waits, a finished attempt by byte ranges (any size).
  function panes(j) {
    const fin = FINISHED.has(j.state);
    const n = j.attempts || 0;
    if (picker.options.length !== n + 1) {
      const opts = [h('option', {value: 'latest', text: `the latest${n ? ` (${n})` : ''}`})];
      for (let a = n; a >= 1; a--) opts.push(h('option', {value: String(a), text: `attempt ${a}`}));
      picker.replaceChildren(...opts);
      if (sel !== 'latest' && sel > n) sel = 'latest';
      picker.value = String(sel);
    }
    pickerRow.hidden = n < 2;
    // The attempt under way is followed live, whichever way it was picked.
    const latest = sel === 'latest' || (sel === n && !fin);
    const key = !latest ? `a${sel}` : (paneKey === 'live' || !fin || !n) ? 'live' : `a${n}`;
    if (key !== paneKey) {
      for (const p of out) p.stop();
      paneKey = key;
      if (key === 'live') out = [outputPane(id, 'stdout'), outputPane(id, 'stderr')];
      else {
        const a = Number(key.slice(1));
        const last = a === n && fin;
        out = ['stdout', 'stderr'].map((st) => logView(id, st, a, last ? j[`${st}_bytes`] || 0 : null));
      }
      outs.replaceChildren(...out.map((p) => p.el));
    }
    for (const p of out) p.update(j);
  }

  // "nightly (tick 2026-12-07 02:30:00)", linking to the schedule.
  function schedule(j) {
    const sid = j.schedule_id;
    if (!schedNames.has(sid)) {
      schedNames.set(sid, undefined);
      api(`/schedules/${sid}`).then((s) => s.name, () => null).then((nm) => {
        schedNames.set(sid, nm);
        if (alive && job && job.schedule_id === sid) render();
      });
    }
    const nm = schedNames.get(sid);
    const tick = j.scheduled_for ? ` (tick ${fmtDateTime(j.scheduled_for).slice(0, 19)})` : ' (run by hand)';
    if (nm === null) return `#${sid} (deleted)${tick}`;
    return h('span', {class: 'jd-sched'}, h('a', {href: `#/schedules?id=${sid}`, text: nm || `#${sid}`}), tick);
  }

  function buttons() {
    const s = deleted ? 'deleted' : job ? job.state : '';
    const canCancel = s === 'scheduled' || s === 'queued' || s === 'running';
    const canRetry = s === 'failed' || s === 'canceled';
    const canDelete = FINISHED.has(s);
    cancelBtn.disabled = !!busy || !canCancel;
    retryBtn.disabled = !!busy || !canRetry;
    deleteBtn.disabled = !!busy || !canDelete;
    cancelBtn.textContent = busy === 'cancel' ? 'Canceling…' : 'Cancel';
    retryBtn.textContent = busy === 'retry' ? 'Retrying…' : 'Retry';
    deleteBtn.textContent = busy === 'delete' ? 'Deleting…' : 'Delete';
    hint.textContent = deleted ? 'This job was deleted.'
      : canCancel ? 'The job can be canceled while it waits or runs.'
        : canRetry ? 'A failed or canceled job can be retried; a finished job can be deleted.'
          : canDelete ? 'A finished job can be deleted; only failed or canceled jobs can be retried.' : '';
  }

  async function act(what) {
    const j = job;
    if (what !== 'retry') {
      const ok = await confirmDialog(what === 'cancel'
        ? {title: `Cancel job #${j.id}?`, message: j.state === 'running'
          ? 'Its processes get SIGTERM, then SIGKILL after a grace period.'
          : 'It will not run.', ok: 'Cancel job', cancel: 'Keep running', danger: true}
        : {title: `Delete job #${j.id}?`, message: 'Its record, output and any uploaded file are removed for good.',
          ok: 'Delete job', cancel: 'Keep it', danger: true});
      if (!ok || !alive) return;
    }
    busy = what;
    buttons();
    msg.hidden = true;
    try {
      if (what === 'delete') {
        await api(`/jobs/${j.id}`, {method: 'DELETE'});
        store.forget(j.id);
        toast(`Job #${j.id} deleted.`);
        if (alive) location.hash = '#/jobs';
        return;
      }
      const nj = await api(`/jobs/${j.id}/${what}`, {method: 'POST'});
      const m = store.merge(nj);
      if (alive && m) { job = m; render(); }
      toast(what === 'cancel' ? `Job #${j.id} canceled.` : `Job #${j.id} queued again.`);
    } catch (e) {
      if (!alive) return;
      msg.textContent = `Could not ${what} job #${j.id}: ${e.message}`;
      msg.hidden = false;
    } finally {
      busy = '';
      if (alive) buttons();
    }
  }

  let loadGen = -1;
  let loadingNow = false;
  let again = false;

  async function load() {
    loadGen = live.gen();
    loadingNow = true;
    again = false;
    try {
      const j = store.merge(await api(`/jobs/${id}`));
      if (!alive || !j) return;
      job = j;
      msg.hidden = true;
      body.hidden = false;
      render();
    } catch (e) {
      if (!alive) return;
      if (e.status === 404) gone();
      else { msg.textContent = `Could not load job #${id}: ${e.message}`; msg.hidden = false; }
    } finally {
      loadingNow = false;
      if (again && alive && !deleted) load();
    }
  }

  function gone() {
    deleted = true;
    for (const p of out) p.stop();
    msg.textContent = `Job #${id} does not exist: it was deleted, or never submitted.`;
    msg.hidden = false;
    if (job) badge.replaceChildren(h('span', {class: 'badge s-canceled', text: 'deleted'}));
    buttons();
  }

  const unsub = live.subscribe((m) => {
    if (m.type === 'pause') { for (const p of out) p.pause(); return; }
    if (m.type === 'resync') {
      if (deleted || loadGen >= m.gen) return;
      if (loadingNow) again = true; else load();
      return;
    }
    if (m.type === 'deleted' && m.id === id) { gone(); return; }
    if (m.type === 'job' && m.job.id === id && !deleted) {
      job = store.get(id) || m.job;
      body.hidden = false;
      render();
    }
  });
  const ticker = setInterval(() => {
    if (job && job.state === 'running') {
      for (const el of body.querySelectorAll('.jd-dur')) el.textContent = fmtDuration(jobDuration(job));
    }
  }, 1000);
  buttons();
  load();

  return {
    title: `Job #${id}`,
    unmount() {
      alive = false;
      unsub();
      clearInterval(ticker);
      for (const p of out) p.stop();
    },
  };
}
