// The cluster's nodes on the overview (cluster mode only): each node's
// state, last heartbeat (a relative time that keeps counting between
// loads), leader, and its worker slots as the database knows them.
// On a single SQLite node /api/v1/workers has no "nodes": nothing here
// is put on the page.

import {h, fmtDateTime, fmtDuration} from './util.js';

// "just now", "4 s ago", "2 m 05 s ago".
export function fmtAge(seconds) {
  if (seconds == null || !isFinite(seconds)) return '—';
  if (seconds < 1) return 'just now';
  return seconds < 60 ? `${Math.floor(seconds)} s ago` : `${fmtDuration(Math.floor(seconds) * 1000)} ago`;
}

function badge(cls, text) { return h('span', {class: `badge ${cls}`, text}); }

function setText(el, text) { if (el.textContent !== text) el.textContent = text; }

function slotItem(s) {
  return h('li', {class: `slot ${s.state}`},
    h('span', {class: 'slot-id', text: s.id != null ? `#${s.id}` : 'no slot'}), ' ',
    badge(`w-${s.state}`, s.state),
    s.job != null ? [' ', h('a', {href: `#/jobs/${s.job}`, text: `job #${s.job}`})] : null);
}

// A node's card, made once and updated in place, so that a refresh never
// takes the focus from a link in it.
function nodeCard(id) {
  const state = h('span');
  const leader = badge('s-queued', 'leader');
  const self = h('span', {class: 'muted small', text: 'this node'});
  const host = h('dd');
  const age = h('span', {class: 'nd-age'});
  const over = h('span', {class: 'nd-over'});
  const busy = h('dd', {class: 'nd-busy'});
  const joined = h('dd');
  const slots = h('ul', {class: 'slots', 'aria-label': `Workers of ${id}`});
  const li = h('li', {class: 'node', dataset: {node: id}},
    h('div', {class: 'node-head'}, h('h3', {class: 'mono', text: id}), state, leader, self),
    h('dl', {class: 'facts small'},
      h('dt', {text: 'Host'}), host,
      h('dt', {text: 'Heartbeat'}), h('dd', null, age, over),
      h('dt', {text: 'Workers'}), busy,
      h('dt', {text: 'Joined'}), joined),
    slots);
  let slotsKey = '';
  const card = {
    li, age, beat: 0,
    update(n) {
      li.classList.toggle('dead', !n.alive);
      state.className = `badge ${n.alive ? 's-succeeded' : 's-failed'}`;
      setText(state, n.alive ? 'alive' : 'dead');
      leader.hidden = !n.leader;
      self.hidden = !n.self;
      setText(host, `${n.host} (pid ${n.pid})`);
      card.beat = n.beat_age_seconds;
      age.title = fmtDateTime(n.beat_at);
      setText(age, fmtAge(n.beat_age_seconds));
      setText(over, n.alive ? '' : `, over its ${n.timeout_seconds} s timeout`);
      const list = n.slots || [];
      setText(busy, `${list.filter((s) => s.state === 'busy').length} of ${n.workers} busy`);
      setText(joined, fmtDateTime(n.started_at));
      const key = JSON.stringify(list);
      if (key !== slotsKey) {
        slotsKey = key;
        slots.replaceChildren(...list.map(slotItem));
        slots.hidden = !list.length;
      }
    },
  };
  return card;
}

// The "Nodes" panel: el is to be put on the page once update() says the
// answer has nodes.
export function nodesPanel() {
  const note = h('p', {class: 'muted'});
  const list = h('ul', {class: 'nodes'});
  const el = h('section', {'aria-labelledby': 'ov-nodes', class: 'panel'},
    h('h2', {id: 'ov-nodes', text: 'Nodes'}), note, list);
  const cards = new Map();
  let loadedAt = 0;

  return {
    el,
    // w: the answer of /api/v1/workers.  Returns whether it has nodes
    // (false: el is taken off the page).
    update(w) {
      if (!Array.isArray(w.nodes)) { el.remove(); return false; }
      loadedAt = performance.now();
      const nodes = w.nodes;
      const alive = nodes.filter((n) => n.alive).length;
      const slots = nodes.reduce((a, n) => a + n.workers, 0);
      const busy = nodes.reduce((a, n) => a + n.running, 0);
      setText(note, `${nodes.length} node${nodes.length === 1 ? '' : 's'}, ${alive} alive; ` +
        `${busy} of ${slots} worker slots busy. This page is served by ${w.node}.`);
      const seen = new Set();
      let prev = null;
      for (const n of nodes) {
        seen.add(n.id);
        let c = cards.get(n.id);
        if (!c) { c = nodeCard(n.id); cards.set(n.id, c); }
        c.update(n);
        // The server's order (by id), moving only what is out of place.
        const want = prev ? prev.nextSibling : list.firstChild;
        if (want !== c.li) list.insertBefore(c.li, want);
        prev = c.li;
      }
      for (const [id, c] of cards) if (!seen.has(id)) { c.li.remove(); cards.delete(id); }
      return true;
    },
    // Counts the heartbeats' ages on from the last load (every second).
    tick() {
      const more = (performance.now() - loadedAt) / 1000;
      for (const c of cards.values()) setText(c.age, fmtAge(c.beat + more));
    },
  };
}
