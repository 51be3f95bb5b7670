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

// Returns {el, update(perMinute)}; the array is oldest first, the last
// element the current minute.
export function minuteChart() {
  const svg = s('svg', {viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none',
    class: 'chart-svg', 'aria-hidden': 'true', focusable: 'false'});
  const grid = s('g', {class: 'chart-grid'});
  const bars = s('g', {class: 'chart-bars'});
  svg.append(grid, bars);
  const yMax = h('span', {class: 'chart-ymax'});
  const summary = h('p', {class: 'chart-summary'});
  const el = h('figure', {class: 'chart'},
    h('div', {class: 'chart-plot', role: 'img'}, yMax, svg),
    h('div', {class: 'chart-x', 'aria-hidden': 'true'},
      h('span', {text: '60 min ago'}), h('span', {text: '30 min'}), h('span', {text: 'now'})),
    h('figcaption', null, summary));
  const plot = el.firstChild;

  function update(data) {
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
    const now = new Date();
    let total = 0, peakAt = null;
    data.forEach((v, i) => {
      total += v;
      const t = new Date(now.getTime() - (n - 1 - i) * 60000);
      if (v === peak && v > 0) peakAt = t;
      if (!v) return;
      const bh = Math.max(1.5, (H - TOP) * v / top);
      const r = s('rect', {x: i * bw + bw * 0.15, y: H - bh, width: bw * 0.7, height: bh});
      const title = s('title', {});
      title.textContent = `${hhmm(t)}: ${v} finished`;
      r.append(title);
      bars.append(r);
    });
    yMax.textContent = String(top);
    const text = total === 0
      ? 'No jobs finished in the last hour.'
      : `${total.toLocaleString('en-US')} jobs finished in the last hour; ` +
        `peak ${peak.toLocaleString('en-US')} per minute at ${hhmm(peakAt)}; ` +
        `${(data[n - 1] || 0).toLocaleString('en-US')} so far this minute.`;
    summary.textContent = text;
    plot.setAttribute('aria-label', `Bar chart of jobs finished per minute. ${text}`);
  }
  return {el, update};
}
