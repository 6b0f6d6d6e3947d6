// Recorded pages are hostile. The replay iframe runs no scripts and the hub's policy limits what it
// loads, but browsers fetch resource hints (`<link rel=prefetch>` and the like) whatever the policy
// says: their rel tokens are taken out of every event before the replayer sees it.

/** Hints that make the browser connect or fetch, outside the Content-Security-Policy. */
const HINTS = new Set(['prefetch', 'prerender', 'dns-prefetch', 'preconnect']);

type Attributes = Record<string, unknown>;
interface Node { attributes?: Attributes; childNodes?: Node[] }

// rrweb's EventType.FullSnapshot, EventType.IncrementalSnapshot and IncrementalSource.Mutation.
const FULL_SNAPSHOT = 2;
const INCREMENTAL = 3;
const MUTATION = 0;

/** Takes the hint tokens out of the `rel` attributes an event sets; changes it in place. */
export function defuse(e: { type: number; data?: unknown }): void {
  if (e.type === FULL_SNAPSHOT) {
    walk((e.data as { node?: Node } | undefined)?.node);
  } else if (e.type === INCREMENTAL && (e.data as { source?: number } | undefined)?.source === MUTATION) {
    const d = e.data as { adds?: { node?: Node }[]; attributes?: { attributes?: Attributes }[] };
    if (Array.isArray(d.adds)) for (const a of d.adds) walk(a?.node);
    if (Array.isArray(d.attributes)) for (const a of d.attributes) if (a?.attributes) clean(a.attributes);
  }
}

function walk(node: Node | undefined): void {
  // Iterative: a hostile snapshot may nest deeper than the call stack.
  const todo = node ? [node] : [];
  for (let n = todo.pop(); n; n = todo.pop()) {
    if (n.attributes && typeof n.attributes === 'object') clean(n.attributes);
    if (Array.isArray(n.childNodes)) todo.push(...n.childNodes);
  }
}

function clean(attrs: Attributes): void {
  for (const name of Object.keys(attrs)) {
    const value = attrs[name];
    if (name.toLowerCase() !== 'rel' || typeof value !== 'string') continue;
    attrs[name] = value.split(/\s+/).filter((t) => t && !HINTS.has(t.toLowerCase())).join(' ');
  }
}
