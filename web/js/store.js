// The latest known copy of each job the views have seen.
//
// Lists and events travel on different connections, so an event can reach
// us after a list that already reflects a later change.  A job's life only
// moves forward, so each copy gets a phase number and an older phase never
// replaces a newer one:
//   queued/scheduled, a attempts done  -> 3a + 3  (waiting for attempt a+1)
//   running attempt a                  -> 3a + 1
//   finished attempt a                 -> 3a + 2
//   finished without running again     -> 3a + 5  (canceled while waiting)

const MAX = 20000;
const jobs = new Map();
const gone = new Set();

export function phase(j) {
  const a = j.attempts || 0;
  switch (j.state) {
  case 'running': return 3 * a + 1;
  case 'succeeded': case 'failed': case 'canceled':
    return j.started_at ? 3 * a + 2 : 3 * a + 5;
  default: return 3 * a + 3;
  }
}

// Keeps j unless a newer copy is known; returns the copy to show, or null
// for a job that was deleted.
export function merge(j) {
  if (gone.has(j.id)) return null;
  const old = jobs.get(j.id);
  if (old && phase(j) < phase(old)) return old;
  if (old) jobs.delete(j.id); // re-insert: the Map's order is recency
  jobs.set(j.id, j);
  if (jobs.size > MAX) jobs.delete(jobs.keys().next().value);
  return j;
}

export function get(id) { return jobs.get(id) || null; }

export function forget(id) {
  jobs.delete(id);
  gone.add(id);
  if (gone.size > MAX) gone.delete(gone.values().next().value);
}

// After a reconnect the old copies prove nothing: the server may have
// restarted with other data.
export function reset() { jobs.clear(); gone.clear(); }
