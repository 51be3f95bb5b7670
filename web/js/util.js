// Small helpers shared by the views: DOM building and formatting.

export const STATES = ['scheduled', 'queued', 'running', 'succeeded', 'failed', 'canceled'];
export const FINISHED = new Set(['succeeded', 'failed', 'canceled']);

// h('a', {href: '#/', class: 'x'}, 'text', child...) -> element.
// Attributes: "class", "text", "on<event>" (listener), boolean true -> "",
// false/null/undefined -> left out; everything else via setAttribute.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const k in attrs) {
      const v = attrs[k];
      if (v == null || v === false) continue;
      if (k === 'text') el.textContent = v;
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else el.setAttribute(k, v === true ? '' : v);
    }
  }
  add(el, children);
  return el;
}

function add(el, children) {
  for (const c of children) {
    if (c == null || c === false) continue;
    if (Array.isArray(c)) add(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

const pad = (n) => String(n).padStart(2, '0');

// Short local time: "14:03:07" today, "11-26 14:03" this year, else
// "2025-11-26" (the full time goes in a title).
export function fmtTime(ts) {
  if (!ts) return '—';
  const d = new Date(ts);
  if (isNaN(d)) return ts;
  const now = new Date();
  if (d.toDateString() === now.toDateString()) {
    return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  }
  if (d.getFullYear() === now.getFullYear()) {
    return `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
  }
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

// Full local date and time, for titles and the detail view.
export function fmtDateTime(ts) {
  if (!ts) return '—';
  const d = new Date(ts);
  if (isNaN(d)) return ts;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.` +
    String(d.getMilliseconds()).padStart(3, '0');
}

export function fmtDuration(ms) {
  if (ms == null || !isFinite(ms)) return '—';
  if (ms < 0) ms = 0;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.floor(s)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} m ${pad(Math.floor(s % 60))} s`;
  const hr = Math.floor(m / 60);
  if (hr < 48) return `${hr} h ${pad(m % 60)} m`;
  return `${Math.floor(hr / 24)} d ${hr % 24} h`;
}

// How long a job ran (or has been running, given now).
export function jobDuration(j, now = Date.now()) {
  if (!j.started_at) return null;
  const start = Date.parse(j.started_at);
  const end = j.finished_at ? Date.parse(j.finished_at) : (j.state === 'running' ? now : null);
  return end == null ? null : end - start;
}

export function fmtBytes(n) {
  if (n == null) return '—';
  if (n < 1024) return `${n} B`;
  const u = ['KiB', 'MiB', 'GiB', 'TiB'];
  let i = -1;
  do { n /= 1024; i++; } while (n >= 1024 && i < u.length - 1);
  return `${n < 10 ? n.toFixed(1) : Math.round(n)} ${u[i]}`;
}

export function fmtCount(n) {
  return n == null ? '—' : Number(n).toLocaleString('en-US');
}

// What a job runs, as one line.
export function jobCommand(j) {
  if (j.command != null) return j.command;
  if (Array.isArray(j.argv)) return j.argv.map(shellQuote).join(' ');
  if (j.type === 'upload' && j.file) return `upload ${j.file.name}`;
  return '';
}

function shellQuote(s) {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function jobLabel(j) {
  return j.name || jobCommand(j);
}

// "exit 0", "signal 9" or the error, for the table's Exit column.
export function jobExit(j) {
  if (j.exit_code != null) return String(j.exit_code);
  if (j.signal != null) return `sig ${j.signal}`;
  if (j.error) return j.error;
  return '';
}

export function stateBadge(state) {
  return h('span', {class: `badge s-${state}`, text: state});
}

// Runs fn in an animation frame, at most once per frame and, when gap()
// says so, at most once per gap(cost) ms, where cost is what the last run
// took up to the next frame (its script, layout and paint): a busy stream
// is applied a few times a second, fewer on a slow machine, rather than
// sixty.
export function frameBatcher(fn, gap = () => 0) {
  let id = 0, timer = 0, last = -1e9, cost = 0;
  const run = () => {
    id = 0;
    const t0 = performance.now();
    last = t0;
    fn();
    requestAnimationFrame(() => { cost = performance.now() - t0; });
  };
  const frame = () => { timer = 0; id = requestAnimationFrame(run); };
  return {
    schedule() {
      if (id || timer) return;
      const wait = last + gap(cost) - performance.now();
      if (wait > 4) timer = setTimeout(frame, wait); else frame();
    },
    cancel() {
      if (id) cancelAnimationFrame(id);
      clearTimeout(timer);
      id = timer = 0;
    },
    flush() {
      if (!id && !timer) return;
      this.cancel();
      run();
    },
  };
}

// Calls fn at most once per `ms`, trailing call included.
export function throttle(fn, ms) {
  let last = 0, timer = 0;
  const t = () => {
    const wait = last + ms - Date.now();
    if (wait > 0) {
      if (!timer) timer = setTimeout(() => { timer = 0; t(); }, wait);
      return;
    }
    last = Date.now();
    fn();
  };
  t.cancel = () => { clearTimeout(timer); timer = 0; };
  return t;
}

// The hash route: "#/jobs?state=failed" -> {path: "/jobs", query}.
export function currentRoute() {
  const raw = location.hash.startsWith('#/') ? location.hash.slice(1) : '/';
  const q = raw.indexOf('?');
  return {
    path: q < 0 ? raw : raw.slice(0, q),
    query: new URLSearchParams(q < 0 ? '' : raw.slice(q + 1)),
  };
}
