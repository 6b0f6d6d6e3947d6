// Links to a moment of a session: what "Copy link to this moment" puts in the URL (the moment, the
// selected event, the filters of the panels) and what the page reads back from one.

export interface LinkState {
  project: string | null;
  /** Ms from the session's start. */
  t: number | null;
  /** The seq of the event row the link points at. */
  event: number | null;
  /** The event feed's kind filter and search; the console's level; the network's status group. */
  kind: string | null;
  q: string | null;
  console: string | null;
  network: string | null;
}

const ORDER = ['project', 't', 'event', 'kind', 'q', 'console', 'network'] as const;

/** The query string for a link, without empty or default ("all") parts. */
export function linkQuery(s: LinkState): string {
  const p = new URLSearchParams();
  for (const k of ORDER) {
    const v = s[k];
    if (v === null || v === '' || v === 'all') continue;
    p.set(k, typeof v === 'number' ? String(Math.round(v)) : v);
  }
  return p.toString();
}

/** A link's state; a number that is not one counts as absent, and a negative time as 0. */
export function parseLink(search: string): LinkState {
  const p = new URLSearchParams(search);
  const num = (k: string) => {
    const raw = p.get(k);
    if (raw === null || raw.trim() === '') return null;
    const n = Number(raw);
    return Number.isFinite(n) ? Math.max(0, Math.floor(n)) : null;
  };
  return { project: p.get('project'), t: num('t'), event: num('event'), kind: p.get('kind'), q: p.get('q'), console: p.get('console'), network: p.get('network') };
}
