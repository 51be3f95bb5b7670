// The output of a finished attempt, however large: bytes are fetched by
// range (`offset`, the read stopped once enough came) into a window of at
// most WIN bytes, and only the lines on screen are in the page.  The
// wheel, the keys (arrows, Page Up/Down, Home, End) and a position slider
// move through the whole output; "Jump to end" shows the last lines.

import {api, apiUrl} from './api.js';
import {h, fmtBytes} from './util.js';

const CHUNK = 128 * 1024;   // bytes per fetch
const WIN = 1024 * 1024;    // bytes kept
const MAXLINE = 8 * 1024;   // a longer line is shown in pieces
const ROWS = 24;            // lines shown at most

function concat(a, b) {
  const c = new Uint8Array(a.length + b.length);
  c.set(a, 0);
  c.set(b, a.length);
  return c;
}

export function logView(jobId, stream, attempt, knownSize) {
  const q = `stream=${stream}&attempt=${attempt}`;
  const lines = h('div', {class: 'lv-lines'});
  const text = document.createTextNode('');
  lines.append(text);
  const box = h('div', {class: 'out-text lv', tabindex: '0', role: 'region',
    'aria-label': `${stream} of job ${jobId}, attempt ${attempt}`, 'aria-describedby': `lv-${stream}-keys`}, lines);
  const slider = h('input', {type: 'range', class: 'lv-pos', min: '0', max: '1000', step: '1', value: '0',
    'aria-label': `Position in ${stream}`, hidden: true});
  const keys = h('p', {class: 'sr-only', id: `lv-${stream}-keys`,
    text: 'Arrow keys, Page Up, Page Down, Home and End move through the output.'});
  const state = h('span', {class: 'out-state muted'});
  const whole = h('a', {href: apiUrl(`/jobs/${jobId}/output?${q}`),
    download: `job-${jobId}-${stream}-attempt-${attempt}.txt`, text: 'Download'});
  const jumpEnd = h('button', {type: 'button', class: 'btn small', text: 'Jump to end', hidden: true,
    onclick: () => { end(); box.focus({preventScroll: true}); }});
  const jumpStart = h('button', {type: 'button', class: 'btn small', text: 'Jump to start', hidden: true,
    onclick: () => { jump(0); box.focus({preventScroll: true}); }});
  const el = h('section', {class: 'out', 'aria-label': stream},
    h('div', {class: 'out-head'}, h('h3', {text: stream}), state, h('span', {class: 'spacer'}), jumpStart, jumpEnd, whole),
    keys, box, slider);

  let size = knownSize;   // bytes in all (null: ask)
  let start = 0;          // the window's first byte in the output
  let bytes = new Uint8Array(0);
  let idx = [];           // line starts in bytes
  let top = 0;            // first line shown
  let busy = null;        // the fetch in flight
  let ctrl = null;
  let alive = true;
  let linePx = 0;
  const decoder = new TextDecoder();

  const winEnd = () => start + bytes.length;
  const atEnd = () => size != null && winEnd() >= size;

  function index() {
    idx = [];
    let i = 0;
    const n = bytes.length;
    while (i < n) {
      idx.push(i);
      let nl = bytes.indexOf(10, i);
      if (nl < 0) nl = n; else nl++;
      // A line longer than MAXLINE is indexed in pieces.
      i = nl - i > MAXLINE ? i + MAXLINE : nl;
    }
  }

  // Reads [from, from + len) (less at the end) and lets go of the rest.
  async function fetchRange(from, len) {
    const c = new AbortController();
    ctrl = c;
    const res = await api(`/jobs/${jobId}/output?${q}&offset=${from}`, {raw: true, signal: c.signal});
    const reader = res.body.getReader();
    const parts = [];
    let got = 0;
    while (got < len) {
      const {done, value} = await reader.read();
      if (done) break;
      parts.push(value);
      got += value.length;
    }
    c.abort();
    if (ctrl === c) ctrl = null;
    const out = new Uint8Array(Math.min(got, len));
    let o = 0;
    for (const p of parts) {
      const take = Math.min(p.length, out.length - o);
      out.set(take < p.length ? p.subarray(0, take) : p, o);
      o += take;
      if (o >= out.length) break;
    }
    return out;
  }

  // One fetch at a time; a later request waits for the one in flight.
  function run(fn) {
    const p = (busy || Promise.resolve()).then(() => alive && fn()).catch((e) => {
      if (alive && e.name !== 'AbortError') state.textContent = `could not read the output: ${e.message}`;
    });
    busy = p;
    p.finally(() => { if (busy === p) busy = null; });
    return p;
  }

  // Drops bytes before the line start that holds or follows byte b.
  function cutFront(b) {
    if (b <= 0) return;
    let k = idx.findIndex((o) => o >= b);
    if (k < 0) k = idx.length;
    const off = k < idx.length ? idx[k] : bytes.length;
    bytes = bytes.slice(off);
    start += off;
    top = Math.max(0, top - k);
    index();
  }

  function cutBack() {
    if (bytes.length <= WIN) return;
    // Keep whole lines: end the window at a line start.
    let k = idx.length - 1;
    while (k > 0 && idx[k] > WIN) k--;
    bytes = bytes.slice(0, idx[k] || WIN);
    index();
  }

  // A window that starts at byte `from` (at a line start unless it is 0).
  async function load(from) {
    from = Math.max(0, Math.min(from, Math.max(0, size - 1)));
    const back = from > 0 ? 1 : 0; // one byte before: is `from` a line start?
    const got = await fetchRange(from - back, CHUNK + back);
    let off = 0;
    if (back && got[0] !== 10) {
      const nl = got.indexOf(10);
      off = nl < 0 ? Math.min(got.length, MAXLINE + 1) : nl + 1;
    } else off = back;
    start = from - back + off;
    bytes = got.slice(off);
    index();
    top = 0;
  }

  async function more() {
    if (atEnd()) return false;
    const got = await fetchRange(winEnd(), CHUNK);
    if (!got.length) { size = winEnd(); return false; }
    bytes = concat(bytes, got);
    index();
    if (bytes.length > WIN) cutFront(bytes.length - WIN);
    return true;
  }

  async function less() {
    if (start <= 0) return false;
    const from = Math.max(0, start - CHUNK);
    const back = from > 0 ? 1 : 0;
    const got = await fetchRange(from - back, start - from + back);
    let off = back;
    if (back && got[0] !== 10) {
      const nl = got.indexOf(10);
      off = nl < 0 ? Math.min(got.length, MAXLINE + 1) : nl + 1;
    }
    const add = got.slice(off);
    const before = idx.length;
    bytes = concat(add, bytes);
    start -= add.length;
    index();
    top += idx.length - before;
    cutBack();
    return true;
  }

  function rows() {
    if (!linePx) linePx = parseFloat(getComputedStyle(lines).lineHeight) || 18;
    return ROWS;
  }

  function render() {
    const n = rows();
    const last = Math.min(idx.length, top + n);
    let s = '';
    if (last > top) {
      s = decoder.decode(bytes.subarray(idx[top], last < idx.length ? idx[last] : bytes.length));
      if (s.length > 200000) s = s.slice(0, 200000);
    }
    if (text.data !== s) text.data = s;
    // The box keeps its height once the output is longer than it.
    const shown = (size == null || size > bytes.length || idx.length > n) ? n : Math.max(1, idx.length);
    lines.style.height = `${shown * linePx}px`;
    const pos = start + (idx[top] || 0);
    const long = !(start === 0 && atEnd() && idx.length <= n);
    slider.hidden = jumpEnd.hidden = jumpStart.hidden = !long;
    if (long && size) {
      const v = Math.round(1000 * pos / size);
      if (document.activeElement !== slider) slider.value = String(v);
      slider.setAttribute('aria-valuetext', `byte ${pos.toLocaleString('en-US')} of ${size.toLocaleString('en-US')} (${(v / 10).toFixed(1)}%)`);
    }
    state.textContent = size === 0 ? 'no output' : size != null && long ? fmtBytes(size) : '';
  }

  // Moves by n lines, fetching what the window lacks (more() and less()
  // keep `top` on the same line when they cut or add in front).
  function by(n) {
    return run(async () => {
      const r = rows();
      if (n > 0) {
        while (top + n + r > idx.length && !atEnd()) if (!(await more())) break;
      } else {
        while (top + n < 0 && start > 0) if (!(await less())) break;
      }
      top = Math.max(0, Math.min(top + n, Math.max(0, idx.length - r)));
      render();
    });
  }

  function jump(b) {
    return run(async () => {
      if (b >= start && b < winEnd() && (atEnd() || b < winEnd() - CHUNK / 2)) {
        let k = idx.length - 1;
        while (k > 0 && start + idx[k] > b) k--;
        top = k;
      } else {
        await load(b);
      }
      const r = rows();
      while (idx.length - top < r && !atEnd()) if (!(await more())) break;
      top = Math.max(0, Math.min(top, idx.length - r));
      render();
    });
  }

  function end() {
    return run(async () => {
      if (!atEnd()) await load(Math.max(0, size - CHUNK));
      while (!atEnd()) if (!(await more())) break;
      top = Math.max(0, idx.length - rows());
      render();
    });
  }

  // The wheel moves by lines; at either end the page scrolls instead.
  let wheelAcc = 0;
  box.addEventListener('wheel', (e) => {
    if (e.ctrlKey || Math.abs(e.deltaX) > Math.abs(e.deltaY)) return;
    const down = e.deltaY > 0;
    if (down && top + rows() >= idx.length && atEnd()) return;
    if (!down && top === 0 && start === 0) return;
    e.preventDefault();
    const px = e.deltaMode === 1 ? e.deltaY * (linePx || 18) : e.deltaMode === 2 ? e.deltaY * rows() * (linePx || 18) : e.deltaY;
    wheelAcc += px / (linePx || 18);
    const n = Math.trunc(wheelAcc);
    if (n) { wheelAcc -= n; by(n); }
  }, {passive: false});

  box.addEventListener('keydown', (e) => {
    const r = rows();
    const k = {ArrowDown: 1, ArrowUp: -1, PageDown: r - 1, PageUp: 1 - r, ' ': e.shiftKey ? 1 - r : r - 1}[e.key];
    if (k) { e.preventDefault(); by(k); return; }
    if (e.key === 'End') { e.preventDefault(); end(); }
    if (e.key === 'Home') { e.preventDefault(); jump(0); }
  });

  let slideTimer = 0;
  slider.addEventListener('input', () => {
    clearTimeout(slideTimer);
    slideTimer = setTimeout(() => {
      const v = Number(slider.value);
      if (v >= 1000) end(); else jump(Math.floor(size * v / 1000));
    }, 60);
  });

  run(async () => {
    state.textContent = 'loading…';
    if (size == null) {
      const res = await api(`/jobs/${jobId}/output?${q}`, {method: 'HEAD', raw: true});
      size = Number(res.headers.get('Content-Length')) || 0;
    }
    if (size > 0) await load(0);
    render();
    whole.hidden = size === 0;
  });

  return {
    el,
    update() {},
    pause() {},
    stop() { alive = false; if (ctrl) ctrl.abort(); clearTimeout(slideTimer); },
    // For tests and the console: where the view is.
    where: () => ({start, top, lines: idx.length, size}),
  };
}
