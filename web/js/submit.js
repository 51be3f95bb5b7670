// Submit: a command form (POST /api/v1/jobs) and an upload form
// (POST /api/v1/uploads, multipart, with progress and cancel).  The
// server's error goes next to the field it names.

import {api, upload} from './api.js';
import {h, fmtBytes} from './util.js';

// A labelled control with a hint and an error line wired by aria.
export function field(id, label, control, hint) {
  control.id = id;
  const err = h('p', {class: 'field-error', id: `${id}-err`, hidden: true});
  const desc = [hint ? `${id}-hint` : null, `${id}-err`].filter(Boolean).join(' ');
  control.setAttribute('aria-describedby', desc);
  return h('div', {class: 'field'}, h('label', {for: id, text: label}), control,
    hint ? h('p', {class: 'hint', id: `${id}-hint`, text: hint}) : null, err);
}

export function input(attrs) { return h('input', Object.assign({type: 'text', autocomplete: 'off', spellcheck: 'false'}, attrs)); }

// Form-level helpers: clear and show errors.
export function errors(form, summary) {
  return {
    clear() {
      for (const el of form.querySelectorAll('.field-error')) { el.hidden = true; el.textContent = ''; }
      for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
      summary.hidden = true;
    },
    // Shows the message next to the control for `name` (ids are prefix-name);
    // moves the focus there unless focus is false (a preview while typing).
    show(prefix, name, message, focus = true) {
      const full = name ? String(name).replace(/^job\./, '').replace(/^\[\d+\]\./, '') : '';
      // "limits.memory_mb" is its own control; "env.X" or "argv[2]" the whole field's.
      let key = full.replace(/\./g, '-');
      if (!key || !/^[\w-]+$/.test(key) || !form.querySelector(`#${prefix}-${key}`)) key = full.split(/[.[]/)[0];
      const ctl = key && /^[\w-]+$/.test(key) && form.querySelector(`#${prefix}-${key}`);
      if (ctl) {
        const det = ctl.closest('details');
        if (det) det.open = true;
        const err = form.querySelector(`#${prefix}-${key}-err`);
        err.textContent = message;
        err.hidden = false;
        ctl.setAttribute('aria-invalid', 'true');
        if (focus) ctl.focus();
        return;
      }
      summary.textContent = name ? `${name}: ${message}` : message;
      summary.hidden = false;
      if (focus) summary.focus();
    },
  };
}

// Reads "NAME=value" lines into an object; throws with the bad line.
function parseEnv(text) {
  const env = {};
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const eq = line.indexOf('=');
    const k = eq < 0 ? line.trim() : line.slice(0, eq).trim();
    if (eq < 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`"${line.trim()}" is not NAME=value`);
    env[k] = line.slice(eq + 1);
  }
  return env;
}

// The fields both forms share (and a schedule's job template, which has
// no "after"); fill() puts them into spec or reports the bad one, set()
// shows a spec's, keys are the spec keys they own.
export function common(prefix, {template = false} = {}) {
  const els = {
    name: input({name: 'name', maxlength: '200'}),
    queue: input({name: 'queue', placeholder: 'default', pattern: '[A-Za-z0-9_.\\-]{1,64}', list: `${prefix}-queues`}),
    priority: input({type: 'number', name: 'priority', step: '1', placeholder: '0', inputmode: 'numeric'}),
    timeout: input({type: 'number', name: 'timeout', min: '0', step: 'any', placeholder: 'none', inputmode: 'decimal'}),
    env: h('textarea', {name: 'env', rows: '3', spellcheck: 'false', placeholder: 'NAME=value'}),
    delay: input({type: 'number', name: 'delay', min: '0', step: 'any', placeholder: '0', inputmode: 'decimal'}),
    max_attempts: input({type: 'number', name: 'max_attempts', min: '1', max: '100', step: '1', placeholder: '1', inputmode: 'numeric'}),
    after: template ? null : input({name: 'after', placeholder: 'e.g. 41, 42', inputmode: 'numeric'}),
  };
  const LIMITS = [['memory_mb', 'Memory (MB)'], ['cpu_seconds', 'CPU time (s)'], ['output_mb', 'Output (MB)'],
    ['open_files', 'Open files'], ['processes', 'Processes']];
  const limits = {};
  for (const [k] of LIMITS) limits[k] = input({type: 'number', name: `limits.${k}`, min: '1', step: '1', placeholder: 'none', inputmode: 'numeric'});
  const nodes = [
    h('div', {class: 'row'},
      field(`${prefix}-name`, 'Name (optional)', els.name, 'A label shown in the job list.'),
      field(`${prefix}-queue`, 'Queue', els.queue, 'Letters, digits, . _ -')),
    h('div', {class: 'row'},
      field(`${prefix}-priority`, 'Priority', els.priority, 'Smaller runs sooner.'),
      field(`${prefix}-timeout`, 'Timeout (seconds)', els.timeout)),
    field(`${prefix}-env`, 'Environment', els.env, 'One NAME=value per line.'),
    h('details', null, h('summary', {text: 'Scheduling, retries and limits'}),
      h('div', {class: 'row'},
        field(`${prefix}-delay`, 'Start after (seconds)', els.delay),
        field(`${prefix}-max_attempts`, 'Attempts at most', els.max_attempts, 'Failed attempts are retried with back-off.')),
      template ? null : field(`${prefix}-after`, 'Run after jobs', els.after, 'Job ids that must succeed first.'),
      h('fieldset', {class: 'limits'}, h('legend', {text: 'Resource limits'}),
        h('div', {class: 'row'}, ...LIMITS.map(([k, label]) => field(`${prefix}-limits-${k}`, label, limits[k]))))),
    h('datalist', {id: `${prefix}-queues`}),
  ];
  function fill(spec, err) {
    const v = (el) => el.value.trim();
    if (v(els.name)) spec.name = v(els.name);
    if (v(els.queue)) spec.queue = v(els.queue);
    if (v(els.priority)) {
      const p = Number(v(els.priority));
      if (!Number.isInteger(p)) { err.show(prefix, 'priority', 'priority must be a whole number'); return false; }
      spec.priority = p;
    }
    if (v(els.timeout)) {
      const t = Number(v(els.timeout));
      if (!(t > 0)) { err.show(prefix, 'timeout', 'timeout must be a number of seconds above 0'); return false; }
      spec.timeout = t;
    }
    if (els.env.value.trim()) {
      try { spec.env = parseEnv(els.env.value); } catch (e) { err.show(prefix, 'env', e.message); return false; }
    }
    if (v(els.delay)) {
      const d = Number(v(els.delay));
      if (!(d >= 0)) { err.show(prefix, 'delay', 'the delay must be a number of seconds, 0 or more'); return false; }
      spec.delay = d;
    }
    if (v(els.max_attempts)) {
      const n = Number(v(els.max_attempts));
      if (!Number.isInteger(n)) { err.show(prefix, 'max_attempts', 'attempts must be a whole number'); return false; }
      spec.max_attempts = n;
    }
    if (els.after && v(els.after)) {
      const ids = v(els.after).split(/[\s,]+/).filter(Boolean).map((x) => Number(x.replace(/^#/, '')));
      if (ids.some((x) => !Number.isInteger(x) || x <= 0)) { err.show(prefix, 'after', 'give job ids, e.g. 41, 42'); return false; }
      spec.after = ids;
    }
    for (const [k] of LIMITS) {
      if (!v(limits[k])) continue;
      const n = Number(v(limits[k]));
      if (!Number.isInteger(n)) { err.show(prefix, `limits.${k}`, 'a limit is a whole number'); return false; }
      (spec.limits ||= {})[k] = n;
    }
    return true;
  }
  function set(spec) {
    const put = (el, x) => { if (el) el.value = x == null ? '' : String(x); };
    for (const k of ['name', 'queue', 'priority', 'timeout', 'delay', 'max_attempts']) put(els[k], spec[k]);
    put(els.after, Array.isArray(spec.after) ? spec.after.join(', ') : '');
    els.env.value = Object.entries(spec.env || {}).map(([k, x]) => `${k}=${x}`).join('\n');
    for (const [k] of LIMITS) put(limits[k], spec.limits && spec.limits[k]);
  }
  const keys = ['name', 'queue', 'priority', 'timeout', 'env', 'delay', 'max_attempts', 'after', 'limits'];
  return {nodes, fill, set, keys};
}

function commandForm(go) {
  const shell = h('input', {type: 'radio', name: 'mode', value: 'shell', id: 'c-mode-shell', checked: true});
  const exec = h('input', {type: 'radio', name: 'mode', value: 'argv', id: 'c-mode-argv'});
  const command = h('textarea', {name: 'command', rows: '3', spellcheck: 'false', class: 'mono',
    placeholder: 'e.g. make test 2>&1 | tail -n 50'});
  const argv = h('textarea', {name: 'argv', rows: '4', spellcheck: 'false', class: 'mono',
    placeholder: 'ls\n-l\n/tmp'});
  const cwd = input({name: 'cwd', placeholder: '/absolute/path'});
  const stdin = h('textarea', {name: 'stdin', rows: '3', spellcheck: 'false', class: 'mono'});
  const cmdField = field('c-command', 'Command', command, 'Run by /bin/sh -c.');
  const argvField = field('c-argv', 'Program and arguments', argv, 'One per line; the first is the program. No shell.');
  argvField.hidden = true;
  const more = common('c');
  const summary = h('p', {class: 'error', role: 'alert', tabindex: '-1', hidden: true});
  const submit = h('button', {type: 'submit', class: 'btn primary', text: 'Run'});
  const form = h('form', {class: 'panel submit-form', 'aria-labelledby': 'c-title', novalidate: true},
    h('h2', {id: 'c-title', text: 'Run a command'}),
    h('fieldset', {class: 'modes'}, h('legend', {text: 'Form'}),
      h('label', {for: 'c-mode-shell'}, shell, ' Shell command'),
      h('label', {for: 'c-mode-argv'}, exec, ' Program and arguments')),
    cmdField, argvField, ...more.nodes,
    h('details', null, h('summary', {text: 'Working directory and input'}),
      field('c-cwd', 'Working directory', cwd, 'An existing directory; by default a fresh scratch directory.'),
      field('c-stdin', 'Standard input', stdin, 'Fed to the process; empty by default.')),
    summary,
    h('div', {class: 'form-actions'}, submit));
  const err = errors(form, summary);
  const mode = () => (exec.checked ? 'argv' : 'shell');
  let carry = {};  // spec fields the form has no control for (webhooks, shell)
  form.addEventListener('change', (e) => {
    if (e.target.name !== 'mode') return;
    cmdField.hidden = mode() !== 'shell';
    argvField.hidden = mode() !== 'argv';
  });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.clear();
    const spec = {};
    if (mode() === 'shell') {
      if (!command.value.trim()) return err.show('c', 'command', 'Enter a command to run.');
      spec.command = command.value;
    } else {
      const list = argv.value.split('\n').filter((l, i, a) => l !== '' || i < a.length - 1);
      while (list.length && list[list.length - 1] === '') list.pop();
      if (!list.length || !list[0]) return err.show('c', 'argv', 'Enter the program on the first line.');
      spec.argv = list;
    }
    if (!more.fill(spec, err)) return;
    if (cwd.value.trim()) spec.cwd = cwd.value.trim();
    if (stdin.value) spec.stdin = stdin.value;
    Object.assign(spec, carry);
    if (spec.argv) delete spec.shell;  // an argv never goes through the shell
    submit.disabled = true;
    submit.textContent = 'Submitting…';
    try {
      const job = await api('/jobs', {method: 'POST', body: spec});
      go(job, 'command');
    } catch (ex) {
      err.show('c', ex.field, ex.message);
    } finally {
      submit.disabled = false;
      submit.textContent = 'Run';
    }
  });
  // Fills the form with a job's spec (edit and resubmit).
  function load(j) {
    const argvMode = Array.isArray(j.argv);
    exec.checked = argvMode;
    shell.checked = !argvMode;
    cmdField.hidden = argvMode;
    argvField.hidden = !argvMode;
    command.value = j.command || '';
    argv.value = argvMode ? j.argv.join('\n') : '';
    more.set(j);
    cwd.value = j.cwd || '';
    carry = Array.isArray(j.webhooks) && j.webhooks.length ? {webhooks: j.webhooks} : {};
    if (j.shell) carry.shell = true;  // "always through /bin/sh" goes along
    if (j.cwd || j.max_attempts > 1 || j.limits || (j.after && j.after.length)) {
      for (const d of form.querySelectorAll('details')) d.open = true;
    }
  }
  return {form, load};
}

function uploadForm(go) {
  const file = h('input', {type: 'file', name: 'file', class: 'file-input'});
  const chosen = h('p', {class: 'chosen', 'aria-live': 'polite', text: 'No file chosen.'});
  const drop = h('div', {class: 'drop'},
    h('p', {class: 'drop-text', text: 'Drag and drop a file here, or'}),
    h('span', {class: 'btn', 'aria-hidden': 'true', text: 'Choose a file…', onclick: () => file.click()}),
    file, chosen);
  const command = h('textarea', {name: 'command', rows: '2', spellcheck: 'false', class: 'mono',
    placeholder: 'e.g. ffmpeg -i "$RUNNEL_FILE" -f null -'});
  const sha = input({name: 'sha256', placeholder: '64 hex digits', pattern: '[0-9a-fA-F]{64}', class: 'mono'});
  const more = common('u');
  const summary = h('p', {class: 'error', role: 'alert', tabindex: '-1', hidden: true});
  const bar = h('progress', {max: '100', value: '0', id: 'u-progress'});
  const barText = h('span', {class: 'progress-text', 'aria-live': 'polite'});
  const progress = h('div', {class: 'progress', hidden: true},
    h('label', {for: 'u-progress', class: 'sr-only', text: 'Upload progress'}), bar, barText);
  const submit = h('button', {type: 'submit', class: 'btn primary', text: 'Upload'});
  const abort = h('button', {type: 'button', class: 'btn', text: 'Cancel upload', hidden: true});
  const form = h('form', {class: 'panel submit-form', 'aria-labelledby': 'u-title', novalidate: true},
    h('h2', {id: 'u-title', text: 'Upload a file'}),
    field('u-file', 'File', drop),
    field('u-command', 'Command to run on it (optional)', command,
      'Gets the file on standard input, its path in $RUNNEL_FILE and its name in $RUNNEL_FILE_NAME. Without a command the job only stores and verifies the file.'),
    ...more.nodes,
    field('u-sha256', 'Expected SHA-256 (optional)', sha, 'The upload is refused if the file does not match.'),
    progress, summary,
    h('div', {class: 'form-actions'}, submit, abort));
  // field() gave the drop zone the id; the real input needs it for the label.
  drop.id = 'u-drop';
  file.id = 'u-file';
  file.setAttribute('aria-describedby', 'u-file-err');
  const err = errors(form, summary);
  let picked = null;
  let xfer = null;

  function pick(f) {
    picked = f || null;
    chosen.textContent = picked ? `${picked.name} — ${fmtBytes(picked.size)}` : 'No file chosen.';
    drop.classList.toggle('has-file', !!picked);
  }
  file.addEventListener('change', () => pick(file.files[0]));
  for (const t of ['dragenter', 'dragover']) {
    drop.addEventListener(t, (e) => {
      if (!e.dataTransfer || ![...e.dataTransfer.types].includes('Files')) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = 'copy';
      drop.classList.add('over');
    });
  }
  drop.addEventListener('dragleave', (e) => { if (!drop.contains(e.relatedTarget)) drop.classList.remove('over'); });
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const f = e.dataTransfer && e.dataTransfer.files[0];
    if (f) {
      pick(f);
      try { const dt = new DataTransfer(); dt.items.add(f); file.files = dt.files; } catch { /* keep `picked` */ }
    }
  });

  abort.addEventListener('click', () => { if (xfer) xfer.abort(); });

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (xfer) return;
    err.clear();
    if (!picked) return err.show('u', 'file', 'Choose a file to upload.');
    const spec = {};
    if (command.value.trim()) spec.command = command.value;
    if (!more.fill(spec, err)) return;
    const hash = sha.value.trim();
    if (hash && !/^[0-9a-fA-F]{64}$/.test(hash)) return err.show('u', 'sha256', 'A SHA-256 is 64 hexadecimal digits.');
    const fd = new FormData();
    if (Object.keys(spec).length) fd.append('job', JSON.stringify(spec));
    if (hash) fd.append('sha256', hash.toLowerCase());
    fd.append('file', picked, picked.name);

    const t0 = performance.now();
    progress.hidden = false;
    bar.value = 0;
    barText.textContent = 'Starting…';
    submit.disabled = true;
    abort.hidden = false;
    let lastSaid = 0;
    xfer = upload(fd, (loaded, total) => {
      if (loaded < 0) { bar.value = 100; barText.textContent = 'Sent; runneld is storing the file…'; return; }
      const size = total || picked.size;
      const pct = size ? Math.min(100, (100 * loaded) / size) : 0;
      bar.value = pct;
      const secs = (performance.now() - t0) / 1000;
      const now = performance.now();
      if (now - lastSaid > 500 || loaded === size) {
        lastSaid = now;
        barText.textContent = `${Math.floor(pct)}% — ${fmtBytes(loaded)} of ${fmtBytes(size)}` +
          (secs > 0.2 ? `, ${fmtBytes(loaded / secs)}/s` : '');
      }
    });
    try {
      const job = await xfer.promise;
      barText.textContent = 'Uploaded.';
      go(job, 'upload');
    } catch (ex) {
      progress.hidden = ex.code !== 'aborted';
      if (ex.code === 'aborted') { barText.textContent = 'Upload canceled; nothing was stored.'; bar.value = 0; }
      else if (ex.status === 404 && ex.code === 'not_found') err.show('u', null, 'This runneld does not take uploads (no /api/v1/uploads).');
      else err.show('u', ex.field, ex.message);
    } finally {
      xfer = null;
      submit.disabled = false;
      abort.hidden = true;
    }
  });
  function load(j) {
    command.value = j.command || '';
    more.set(j);
  }
  return {form, load, busy: () => !!xfer, abort: () => { if (xfer) xfer.abort(); }};
}

export function submitView(root, route) {
  const go = (job) => { location.hash = `#/jobs/${job.id}`; };
  const cmd = commandForm(go);
  const up = uploadForm(go);
  const from = Number((route && route.query.get('from')) || 0);
  const note = h('div', {class: 'note', role: 'status', hidden: true});
  root.append(h('h1', {tabindex: '-1', text: from ? `Edit and resubmit job #${from}` : 'Submit a job'}), note,
    h('div', {class: 'cols'}, cmd.form, up.form));
  let alive = true;
  if (Number.isInteger(from) && from > 0) {
    note.hidden = false;
    note.textContent = `Loading job #${from}…`;
    api(`/jobs/${from}`).then((j) => {
      if (!alive) return;
      const extra = [];
      if (j.webhooks && j.webhooks.length) extra.push(`its ${j.webhooks.length === 1 ? 'webhook goes' : `${j.webhooks.length} webhooks go`} along`);
      if (j.type === 'upload') {
        up.load(j);
        cmd.form.hidden = true;
        note.replaceChildren(`The form holds the spec of `, h('a', {href: `#/jobs/${j.id}`, text: `job #${j.id}`}),
          `, an upload job. Choose the file again${j.file ? ` (it was ${j.file.name}, ${fmtBytes(j.file.size)})` : ''}: ` +
          'runneld does not resubmit an uploaded file. Uploading makes a new job; the old one stays as it is.');
      } else {
        cmd.load(j);
        up.form.hidden = true;
        note.replaceChildren(`The form holds the spec of `, h('a', {href: `#/jobs/${j.id}`, text: `job #${j.id}`}),
          `: change what you need and run it as a new job; the old one stays as it is. ` +
          'Its standard input, if it had one, is not kept: enter it again.' + (extra.length ? ` ${extra.join('; ')}.` : ''));
      }
    }, (e) => {
      if (!alive) return;
      note.className = 'error';
      note.textContent = `Could not load job #${from}: ${e.message}`;
    });
  }
  api('/queues').then((r) => {
    for (const id of ['c-queues', 'u-queues']) {
      const dl = document.getElementById(id);
      if (dl) dl.replaceChildren(...r.queues.map((q) => h('option', {value: q.name})));
    }
  }).catch(() => {});
  return {
    title: from ? `Resubmit #${from}` : 'Submit',
    unmount() { alive = false; up.abort(); },
  };
}
