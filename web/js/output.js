// One output pane (stdout or stderr) of a job: the tail of what is there,
// then live bytes with ?follow=1 while the job runs.  Text is appended at
// most once per frame; the pane keeps scrolling to the end until the user
// scrolls up, and a button brings it back.  Only the last SHOW_MAX
// characters stay on the page; the whole output is a download away.
//
// The text lives in blocks of about SEG characters cut at line ends: new
// text lays out only the open last block, and blocks off screen are
// skipped by layout and paint (content-visibility), so a job that prints
// megabytes a second does not stall the page.

import {api, apiUrl} from './api.js';
import {h, fmtBytes, frameBatcher} from './util.js';

const TAIL = 256 * 1024;         // bytes fetched from the end at first
const SHOW_MAX = 1024 * 1024;    // characters kept on the page
const SEG = 16 * 1024;           // characters per closed block

export function outputPane(jobId, stream) {
  let text = document.createTextNode('');  // the open last block's text
  const pre = h('div', {class: 'out-text', tabindex: '0', role: 'region', 'aria-label': `${stream} of job ${jobId}`});
  const open = () => {
    text = document.createTextNode('');
    pre.append(h('div', {class: 'seg'}, text));
  };
  open();
  const state = h('span', {class: 'out-state muted'});
  const note = h('p', {class: 'out-note', hidden: true});
  const whole = h('a', {href: apiUrl(`/jobs/${jobId}/output?stream=${stream}`),
    download: `job-${jobId}-${stream}.txt`, text: 'Download'});
  const jump = h('button', {type: 'button', class: 'btn small', hidden: true, text: 'Jump to end',
    onclick: () => { stick = true; jump.hidden = true; pre.scrollTop = pre.scrollHeight; }});
  const el = h('section', {class: 'out', 'aria-label': stream},
    h('div', {class: 'out-head'}, h('h3', {text: stream}), state, h('span', {class: 'spacer'}), jump, whole),
    note, pre);

  let stick = true;
  let ctrl = null;
  let pos = 0;           // the next byte offset to ask for
  let start = 0;         // where the shown text starts
  let attempt = -1;
  let following = false;
  let done = false;
  let buf = [];
  let bufLen = 0;
  let shownChars = 0;
  let dropped = false;
  let decoder = new TextDecoder();

  // A narrower window rewraps the lines: stay at the end if following it.
  const onResize = () => { if (stick) pre.scrollTop = pre.scrollHeight; };
  addEventListener('resize', onResize, {passive: true});

  pre.addEventListener('scroll', () => {
    stick = pre.scrollHeight - pre.scrollTop - pre.clientHeight < 24;
    jump.hidden = stick || !following;
  }, {passive: true});

  let linePx = 0;

  // Closes the open block (its lines are laid out no more once off
  // screen) and opens the next.
  function close() {
    const seg = text.parentNode;
    if (!linePx) linePx = parseFloat(getComputedStyle(pre).lineHeight) || 18;
    let lines = 0;
    for (let i = text.data.indexOf('\n'); i >= 0; i = text.data.indexOf('\n', i + 1)) lines++;
    seg.style.containIntrinsicBlockSize = `auto ${Math.max(1, lines) * linePx}px`;
    seg.classList.add('closed');
    open();
  }

  // Appends to the open block; blocks end at a line end near SEG
  // characters (or past 4 SEG, inside an endless line).
  function appendText(data) {
    while (data) {
      const room = SEG - text.length;
      if (data.length <= room) { text.appendData(data); return; }
      let cut = room > 0 ? data.lastIndexOf('\n', room - 1) + 1 : 0;
      if (cut === 0) {
        const end = data.indexOf('\n');
        cut = end < 0 ? data.length : end + 1;
        if (text.length + cut > 4 * SEG) cut = Math.max(1, 4 * SEG - text.length);
      }
      text.appendData(data.slice(0, cut));
      data = data.slice(cut);
      if (data) close();
    }
  }

  const batch = frameBatcher(() => {
    if (!buf.length) return;
    let s = buf.join('');
    buf = [];
    bufLen = 0;
    if (s.length > SHOW_MAX) {
      // More than is kept came at once: start over from its end.
      const from = s.indexOf('\n', s.length - SHOW_MAX);
      s = s.slice(from < 0 ? s.length - SHOW_MAX : from + 1);
      pre.replaceChildren();
      open();
      shownChars = 0;
      dropped = true;
    }
    appendText(s);
    shownChars += s.length;
    // Drop whole blocks from the top past SHOW_MAX.
    while (shownChars > SHOW_MAX && pre.firstChild !== text.parentNode) {
      shownChars -= pre.firstChild.textContent.length;
      pre.firstChild.remove();
      dropped = true;
    }
    if (dropped && note.hidden) showNote();
    if (stick) pre.scrollTop = pre.scrollHeight;
  });

  function push(s) {
    if (!s) return;
    buf.push(s);
    bufLen += s.length;
    // No frames in a hidden tab: keep only what could be shown.
    if (bufLen > 2 * SHOW_MAX) {
      const all = buf.join('');
      buf = [all.slice(-SHOW_MAX)];
      bufLen = SHOW_MAX;
      pre.replaceChildren();
      open();
      shownChars = 0;
      dropped = true;
    }
    batch.schedule();
  }

  function showNote(total) {
    if (!dropped && start === 0) { note.hidden = true; return; }
    note.hidden = false;
    note.textContent = '';
    note.append(`Showing the end of the output${total != null ? ` (${fmtBytes(total)} in all)` : ''}; `,
      h('a', {href: whole.getAttribute('href'), download: whole.download, text: 'download the whole output'}), '.');
  }

  function reset() {
    if (ctrl) ctrl.abort();
    ctrl = null;
    batch.cancel();
    buf = [];
    bufLen = 0;
    pre.replaceChildren();
    open();
    shownChars = 0;
    dropped = false;
    start = pos = 0;
    done = following = false;
    decoder = new TextDecoder();
    stick = true;
    jump.hidden = true;
    note.hidden = true;
    whole.hidden = false;
  }

  // Bytes from offset o may start inside a UTF-8 sequence: skip to the next
  // character boundary.
  function decodeFirst(bytes, o) {
    let i = 0;
    if (o > 0) while (i < bytes.length && i < 4 && (bytes[i] & 0xc0) === 0x80) i++;
    return decoder.decode(i ? bytes.subarray(i) : bytes, {stream: true});
  }

  async function read(res, c) {
    const reader = res.body.getReader();
    let first = pos === start; // the first bytes shown: maybe mid-character
    for (;;) {
      const {done: end, value} = await reader.read();
      if (c.signal.aborted) return;
      if (end) break;
      push(first ? decodeFirst(value, start) : decoder.decode(value, {stream: true}));
      first = false;
      pos += value.length;
    }
    push(decoder.decode());
  }

  // Loads (and follows, for a job that runs) the output of the job's
  // current attempt; called again whenever the job changes.
  async function update(job) {
    const live = job.state === 'running';
    const finished = job.state === 'succeeded' || job.state === 'failed' || job.state === 'canceled';
    if (job.attempts !== attempt) { reset(); attempt = job.attempts; }
    if (!live && !finished) {
      state.textContent = job.attempts > 0 ? 'waiting for the next attempt' : 'waiting for the job to start';
      return;
    }
    if (ctrl || done) return;
    const c = new AbortController();
    ctrl = c;
    following = live;
    try {
      if (pos === 0 && shownChars === 0) {
        let size = finished ? job[`${stream}_bytes`] || 0 : 0;
        if (live) {
          const res = await api(`/jobs/${jobId}/output?stream=${stream}`, {method: 'HEAD', raw: true, signal: c.signal});
          size = Number(res.headers.get('Content-Length')) || 0;
        }
        start = pos = size > TAIL ? size - TAIL : 0;
        if (start) showNote(finished ? size : null);
      }
      state.textContent = live ? 'live' : 'loading…';
      const res = await api(`/jobs/${jobId}/output?stream=${stream}&offset=${pos}${live ? '&follow=1' : ''}`,
        {raw: true, signal: c.signal});
      await read(res, c);
      if (c.signal.aborted) return;
      ctrl = null;
      following = false;
      done = true;
      jump.hidden = true;
      batch.flush();
      state.textContent = shownChars === 0 ? 'no output' : '';
      whole.hidden = pos === 0;
    } catch (e) {
      if (c.signal.aborted || e.name === 'AbortError') return;
      if (ctrl === c) ctrl = null;
      following = false;
      state.textContent = `interrupted (${e.message}); resumes when the connection is back`;
    }
  }

  return {
    el, update,
    // Lets go of the connection; update() goes on from the same byte.
    pause() {
      if (!ctrl) return;
      ctrl.abort();
      ctrl = null;
      following = false;
      state.textContent = 'paused';
    },
    stop() {
      if (ctrl) ctrl.abort();
      ctrl = null;
      batch.cancel();
      removeEventListener('resize', onResize);
    },
    isFollowing: () => following,
  };
}
