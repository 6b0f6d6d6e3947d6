// Page values as short text for the recording (console arguments): bounded in size and in work,
// whatever the page passes (cycles, DOM nodes, errors, huge arrays, throwing getters).

/** At most this many characters of one console argument, and of all of one message's arguments. */
export const ARG_MAX_CHARS = 2000;
export const MESSAGE_MAX_CHARS = 8000;
// Past these an object is summarised: deep or wide structures cost work even when cut short.
const MAX_DEPTH = 4;
const MAX_ITEMS = 50;

interface Out { text: string; left: number }

const put = (out: Out, s: string): void => {
  if (out.left <= 0) return;
  if (s.length > out.left) s = `${s.slice(0, out.left)}…`;
  out.text += s;
  out.left -= s.length;
};

const isNode = (v: object): v is Node =>
  typeof (v as Node).nodeType === 'number' && typeof (v as Node).nodeName === 'string';
// By shape, not instanceof: errors and nodes of other frames (and of Node.js) count too.
const isError = (v: object): v is Error =>
  v instanceof Error || (typeof (v as Error).message === 'string' && typeof (v as Error).stack === 'string');

/** An element as its tag, id and classes: never its content, which the page's masking may hide. */
function describeNode(n: Node): string {
  if (n.nodeType !== 1) return n.nodeName;
  const el = n as Element;
  const id = el.id ? `#${el.id}` : '';
  const cls = typeof el.className === 'string' && el.className.trim() ? `.${el.className.trim().split(/\s+/).join('.')}` : '';
  return `<${el.nodeName.toLowerCase()}${id}${cls}>`;
}

/** The error's message and stack (what the browser's own console prints). */
export function describeError(e: Error): string {
  let head = '';
  try { head = `${e.name}: ${e.message}`; } catch { /* a hostile getter */ }
  const stack = typeof e.stack === 'string' ? e.stack : '';
  return stack.includes(head) ? stack : head + (stack ? `\n${stack}` : '');
}

function write(v: unknown, depth: number, seen: object[], out: Out): void {
  if (out.left <= 0) return;
  switch (typeof v) {
    case 'string': return put(out, depth ? JSON.stringify(v.length > out.left ? v.slice(0, out.left) : v) : v);
    case 'function': return put(out, `[Function ${v.name || 'anonymous'}]`);
    case 'bigint': return put(out, `${v}n`);
    case 'symbol': return put(out, v.toString());
    case 'object': break;
    default: return put(out, String(v));
  }
  if (v === null) return put(out, 'null');
  const o = v as object;
  if (isNode(o)) return put(out, describeNode(o));
  if (isError(o)) return put(out, depth ? JSON.stringify(`${o.name}: ${o.message}`) : describeError(o));
  if ((o as Window).window === o) return put(out, '[Window]');
  if (seen.includes(o)) return put(out, '[Circular]');
  const toJSON = (o as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return write(toJSON.call(o), depth + 1, seen, out);
  const array = Array.isArray(o);
  if (depth >= MAX_DEPTH) return put(out, array ? `[Array(${(o as unknown[]).length})]` : '[Object]');
  seen.push(o);
  const keys = array ? [] : Object.keys(o);
  const n = array ? (o as unknown[]).length : keys.length;
  put(out, array ? '[' : '{');
  for (let i = 0; i < Math.min(n, MAX_ITEMS) && out.left > 0; i++) {
    if (i) put(out, ',');
    if (!array) put(out, `${JSON.stringify(keys[i])}:`);
    let item: unknown;
    try { item = array ? (o as unknown[])[i] : (o as Record<string, unknown>)[keys[i]]; } catch { item = '[Thrown]'; }
    write(item, depth + 1, seen, out);
  }
  if (n > MAX_ITEMS) put(out, `,…${n - MAX_ITEMS} more`);
  put(out, array ? ']' : '}');
  seen.pop();
}

/** One value as text of at most `max` characters (plus an ellipsis when cut). */
export function describe(v: unknown, max = ARG_MAX_CHARS): string {
  const out = { text: '', left: max };
  try {
    write(v, 0, [], out);
  } catch {
    put(out, '[Unserializable]');
  }
  return out.text;
}

/** A console call's arguments, each within ARG_MAX_CHARS and all within MESSAGE_MAX_CHARS. */
export function describeAll(args: ArrayLike<unknown>): string[] {
  const out: string[] = [];
  let left = MESSAGE_MAX_CHARS;
  for (let i = 0; i < args.length; i++) {
    if (left <= 0) {
      out.push(`…${args.length - i} more`);
      break;
    }
    const s = describe(args[i], Math.min(ARG_MAX_CHARS, left));
    left -= s.length;
    out.push(s);
  }
  return out;
}
