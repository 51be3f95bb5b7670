// One output pane (stdout or stderr) of a job: the tail of what is there,
// then live bytes with ?follow=1 while the job runs.  Text is appended at
// most once per frame; the pane keeps scrolling to the end until the user
// scrolls up, and a button brings it back.  Only the last SHOW_MAX
// characters stay on the page; the whole output is a download away.

import {api, apiUrl} from './api.js';
import {h, fmtBytes, frameBatcher} from './util.js';

const TAIL = 256 * 1024;         // bytes fetched from the end at first
const SHOW_MAX = 1024 * 1024;    // characters kept on the page

export function outputPane(jobId, stream) {
  const text = document.createTextNode('');
  const pre = h('pre', {class: 'out-text', tabindex: '0', 'aria-label': `${stream} of job ${jobId}`});
  pre.append(text);
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
  let shownChars = 0;
  let dropped = false;
  let decoder = new TextDecoder();

  pre.addEventListener('scroll', () => {
    stick = pre.scrollHeight - pre.scrollTop - pre.clientHeight < 24;
    jump.hidden = stick || !following;
  }, {passive: true});

  const batch = frameBatcher(() => {
    if (!buf.length) return;
    const s = buf.join('');
    buf = [];
    text.appendData(s);
    shownChars += s.length;
    if (shownChars > SHOW_MAX) {
      const cut = shownChars - Math.floor(SHOW_MAX * 0.75);
      text.deleteData(0, cut);
      shownChars -= cut;
      dropped = true;
      showNote();
    }
    if (stick) pre.scrollTop = pre.scrollHeight;
  });

  function push(s) {
    if (!s) return;
    buf.push(s);
    batch.schedule();
  }

  function showNote(total) {
    if (!dropped && start === 0) { note.hidden = true; return; }
    note.hidden = false;
    note.textContent = '';
    note.append(`Showing the end of the output${total != null ? ` (${fmtBytes(total)} in all)` : ''}; `,
      h('a', {href: whole.href, download: whole.download, text: 'download the whole output'}), '.');
  }

  function reset() {
    if (ctrl) ctrl.abort();
    ctrl = null;
    batch.cancel();
    buf = [];
    text.data = '';
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
      if (pos === 0 && text.data === '') {
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
      state.textContent = text.data === '' ? 'no output' : '';
      whole.hidden = pos === 0;
    } catch (e) {
      if (c.signal.aborted || e.name === 'AbortError') return;
      if (ctrl === c) ctrl = null;
      following = false;
      state.textContent = `interrupted (${e.message}); resumes when the connection is back`;
    }
  }

  // The connection came back: go on from where the bytes stopped.
  function resume(job) {
    if (ctrl) { ctrl.abort(); ctrl = null; }
    following = false;
    update(job);
  }

  return {
    el, update, resume,
    stop() { if (ctrl) ctrl.abort(); ctrl = null; batch.cancel(); },
    isFollowing: () => following,
  };
}
