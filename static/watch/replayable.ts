// Which recorded events the rrweb replayer can be given. The hub stores anything with a numeric
// type and timestamp, and a recorded page (or a broken recorder) can send events whose `data`
// rrweb dereferences without a check: one `{type: 3, data: null}` threw in the Replayer's
// constructor and left the player blank. Such events stay in the store, the feed and the panels;
// only the replayer does without them.

// rrweb's EventType and IncrementalSource values that matter here.
const FULL_SNAPSHOT = 2;
const INCREMENTAL = 3;
const MUTATION = 0;
/** MouseMove, TouchMove and Drag carry `positions`. */
const POSITIONS = new Set([1, 6, 12]);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const listOf = (v: unknown): boolean => Array.isArray(v) && v.every(isObj);

/** Whether `e` has the shape rrweb's replayer relies on for its kind. */
export function replayable(e: { type: number; data?: unknown }): boolean {
  const d = e.data;
  if (!isObj(d)) return false;
  if (e.type === FULL_SNAPSHOT) return isObj(d.node) && nodeTree(d.node);
  if (e.type !== INCREMENTAL) return true;
  if (typeof d.source !== 'number') return false;
  if (d.source === MUTATION) {
    return ['adds', 'removes', 'texts', 'attributes'].every((k) => listOf(d[k]))
      && (d.adds as Obj[]).every((a) => isObj(a.node) && nodeTree(a.node));
  }
  if (POSITIONS.has(d.source)) return listOf(d.positions);
  return true;
}

/** Every node of a serialized tree has a numeric type and, if any, an array of child nodes. */
function nodeTree(root: Obj): boolean {
  // Iterative: a hostile snapshot may nest deeper than the call stack.
  const todo: unknown[] = [root];
  for (let n = todo.pop(); n !== undefined; n = todo.pop()) {
    if (!isObj(n) || typeof n.type !== 'number') return false;
    if (n.childNodes === undefined) continue;
    if (!Array.isArray(n.childNodes)) return false;
    for (const c of n.childNodes) todo.push(c);
  }
  return true;
}
