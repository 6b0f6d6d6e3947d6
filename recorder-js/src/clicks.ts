// Where each click lands, for heatmaps (`$click`, a Custom event): the clicked element's selector
// path and the offset within it (shares of its size), with page coordinates as the fallback. Taken
// here because the page knows its elements; the hub sees only rrweb's node ids.

/** Elements named from the clicked one up, at most. */
const MAX_DEPTH = 24;
const ID = /^[A-Za-z][\w-]*$/;

/** `tag#id`, `tag:nth-of-type(n)` (when siblings share the tag) or `tag`, from the root (or an id) down. */
export function selectorOf(el: Element): string {
  const parts: string[] = [];
  for (let e: Element | null = el; e && parts.length < MAX_DEPTH; e = e.parentElement) {
    const tag = e.localName;
    if (e.id && ID.test(e.id)) { parts.push(`${tag}#${e.id}`); break; }
    let n = 0, same = 0;
    for (const s of e.parentElement?.children ?? []) {
      if (s.localName === tag) { same++; if (s === e) n = same; }
    }
    parts.push(same > 1 ? `${tag}:nth-of-type(${n})` : tag);
  }
  return parts.reverse().join('>');
}

const share = (v: number) => Math.round(Math.min(1, Math.max(0, v)) * 1000) / 1000;

/** The `$click` payload of a click on `target`; inside a blocked element, the click is on that element. */
export function clickPayload(e: MouseEvent, block: string | undefined): Record<string, unknown> | null {
  let el = e.target instanceof Element ? e.target : null;
  if (!el) return null;
  if (block) el = el.closest(block) ?? el;
  const r = el.getBoundingClientRect();
  return {
    sel: selectorOf(el),
    ox: r.width ? share((e.clientX - r.left) / r.width) : 0.5,
    oy: r.height ? share((e.clientY - r.top) / r.height) : 0.5,
    px: Math.round(e.pageX),
    py: Math.round(e.pageY),
  };
}

/** Reports every click of the page (capturing, so the page's own handlers cannot hide it); returns its undo. */
export function watchClicks(emit: (payload: unknown) => void, block: string | undefined, doc: Document = document): () => void {
  const onClick = (e: Event) => {
    try {
      const p = clickPayload(e as MouseEvent, block);
      if (p) emit(p);
    } catch { /* a click is never worth an error in the page */ }
  };
  doc.addEventListener('click', onClick, { capture: true, passive: true });
  return () => doc.removeEventListener('click', onClick, { capture: true });
}
