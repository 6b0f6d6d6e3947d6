// sessionStorage keys that let the next page of the same tab continue the session and its numbering.

import { utf8Length, type Entry } from './buffer';
import { LIMITS } from './protocol';

export const SESSION_KEY = 'streamdom.session';
const seqKey = (id: string) => `streamdom.seq.${id}`;
const pendingKey = (id: string) => `streamdom.pending.${id}`;
const tokenKey = (id: string) => `streamdom.resume.${id}`;
// sessionStorage holds ~5 MB of UTF-16 per origin; the page's own data needs room too.
const MAX_PENDING_CHARS = 1024 * 1024;

export const SESSION_ID_RE = new RegExp(`^[A-Za-z0-9_-]{1,${LIMITS.maxSessionIdLength}}$`);

// Storage can be disabled or full (private modes, quotas); the recorder must work without it.
function get(key: string): string | null {
  try { return window.sessionStorage.getItem(key); } catch { return null; }
}
function set(key: string, value: string): void {
  try { window.sessionStorage.setItem(key, value); } catch { /* best effort */ }
}
function remove(key: string): void {
  try { window.sessionStorage.removeItem(key); } catch { /* best effort */ }
}

function newId(): string {
  const c = (globalThis as { crypto?: Crypto }).crypto;
  if (c && typeof c.randomUUID === 'function') return c.randomUUID();
  const bytes = new Uint8Array(16);
  if (c && c.getRandomValues) c.getRandomValues(bytes);
  else for (let i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function sessionIdFor(explicit?: string): string {
  if (explicit !== undefined) {
    if (!SESSION_ID_RE.test(explicit)) throw new Error(`StreamDOM: invalid sessionId ${JSON.stringify(explicit)}`);
    return explicit;
  }
  const kept = get(SESSION_KEY);
  if (kept && SESSION_ID_RE.test(kept)) return kept;
  const id = newId();
  set(SESSION_KEY, id);
  return id;
}

const VISITOR_KEY = 'streamdom.visitor';

/**
 * The visitor's id, kept in localStorage: the same on every page and visit of the site, so the
 * online list shows one visitor and a recording on demand follows them from page to page.
 * Without storage, one per page.
 */
export function visitorId(): string {
  try {
    const kept = window.localStorage.getItem(VISITOR_KEY);
    if (kept && SESSION_ID_RE.test(kept)) return kept;
    const id = newId();
    window.localStorage.setItem(VISITOR_KEY, id);
    return id;
  } catch {
    return newId();
  }
}

export function loadSeq(id: string): number {
  const n = Number(get(seqKey(id)));
  return Number.isSafeInteger(n) && n > 0 ? n : 0;
}

export function saveSeq(id: string, seq: number): void { set(seqKey(id), String(seq)); }

/** The hub's resume token for this tab's session: the next page presents it to take the slot over. */
export function loadToken(id: string): string | null { return get(tokenKey(id)); }
export function saveToken(id: string, token: string): void { set(tokenKey(id), token); }

/** Keep events the hub may not have so the next page can resend them (the hub drops duplicates). */
export function savePending(id: string, entries: Entry[]): void {
  let chars = 0;
  const kept: [number, string, number][] = [];
  // Newest first: if the stash cannot hold everything, the newest events matter most for the live view.
  for (let i = entries.length - 1; i >= 0; i--) {
    chars += entries[i].json.length;
    if (chars > MAX_PENDING_CHARS) break;
    kept.unshift([entries[i].seq, entries[i].json, entries[i].full ? 1 : 0]);
  }
  if (kept.length) set(pendingKey(id), JSON.stringify(kept));
  else remove(pendingKey(id));
}

export function takePending(id: string): Entry[] {
  const raw = get(pendingKey(id));
  remove(pendingKey(id));
  if (!raw) return [];
  try {
    const kept = JSON.parse(raw) as [number, string, number][];
    return kept.map(([seq, json, full]) => ({ seq, json, bytes: utf8Length(json), full: full === 1 }));
  } catch {
    return [];
  }
}
