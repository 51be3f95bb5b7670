// A bar chart of jobs finished per minute over the last hour, in SVG.

import {h} from './util.js';

const NS = 'http://www.w3.org/2000/svg';
const W = 600, H = 150, TOP = 8;

function s(tag, attrs) {
  const el = document.createElementNS(NS, tag);
  for (const k in attrs) el.setAttribute(k, attrs[k]);
  return el;
}

// A "nice" axis maximum: 1, 2, 5 times a power of ten.
function niceMax(v) {
  if (v <= 5) return 5;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function hhmm(d) {
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

// Returns {el, update(perMinute, failedPerMinute)}; the arrays are oldest
// first, the last element the current minute.  Failures are drawn over
// the finished bars (they are among them).
export function minuteChart() {
  const svg = s('svg', {viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none',
    class: 'chart-svg', 'aria-hidden': 'true', focusable: 'false'});
  const grid = s('g', {class: 'chart-grid'});
  const bars = s('g', {class: 'chart-bars'});
  const fails = s('g', {class: 'chart-fails'});
  svg.append(grid, bars, fails);
  const yMax = h('span', {class: 'chart-ymax'});
  const summary = h('p', {class: 'chart-summary'});
  const el = h('figure', {class: 'chart'},
    h('div', {class: 'chart-plot', role: 'img'}, yMax, svg),
    h('div', {class: 'chart-x', 'aria-hidden': 'true'},
      h('span', {text: '60 min ago'}), h('span', {text: '30 min'}), h('span', {text: 'now'})),
    h('figcaption', null,
      h('span', {class: 'chart-legend', 'aria-hidden': 'true'},
        h('span', {class: 'key k-done'}), 'finished ', h('span', {class: 'key k-failed'}), 'of which failed'),
      summary));
  const plot = el.firstChild;

  function update(data, failed) {
    const hasFailed = Array.isArray(failed) && failed.length === data.length;
    if (!hasFailed) failed = [];
    const n = data.length || 60;
    const peak = Math.max(0, ...data);
    const top = niceMax(peak);
    const bw = W / n;
    grid.replaceChildren();
    for (const f of [0.5, 1]) {
      const y = H - (H - TOP) * f;
      grid.append(s('line', {x1: 0, x2: W, y1: y, y2: y}));
    }
    bars.replaceChildren();
    fails.replaceChildren();
    el.classList.toggle('no-failed', !hasFailed);
    const now = new Date();
    let failedTotal = 0;
    let total = 0, peakAt = null;
    data.forEach((v, i) => {
      total += v;
      const t = new Date(now.getTime() - (n - 1 - i) * 60000);
      if (v === peak && v > 0) peakAt = t;
      if (!v) return;
      const bh = Math.max(1.5, (H - TOP) * v / top);
      const r = s('rect', {x: i * bw + bw * 0.15, y: H - bh, width: bw * 0.7, height: bh});
      const title = s('title', {});
      const f = failed[i] || 0;
      failedTotal += f;
      title.textContent = `${hhmm(t)}: ${v} finished${hasFailed ? `, ${f} failed` : ''}`;
      r.append(title);
      bars.append(r);
      if (f > 0) {
        const fh = Math.max(1.5, (H - TOP) * Math.min(f, v) / top);
        const fr = s('rect', {x: i * bw + bw * 0.15, y: H - fh, width: bw * 0.7, height: fh});
        fr.append(title.cloneNode(true));
        fails.append(fr);
      }
    });
    yMax.textContent = String(top);
    const text = total === 0
      ? 'No jobs finished in the last hour.'
      : `${total.toLocaleString('en-US')} job${total === 1 ? '' : 's'} finished in the last hour; ` +
        `peak ${peak.toLocaleString('en-US')} per minute at ${hhmm(peakAt)}; ` +
        `${(data[n - 1] || 0).toLocaleString('en-US')} so far this minute.` +
        (hasFailed ? ` ${failedTotal.toLocaleString('en-US')} failed in the last hour.` : '');
    summary.textContent = text;
    plot.setAttribute('aria-label', `Bar chart of jobs finished per minute. ${text}`);
  }
  return {el, update};
}
