// The rows the sessions page shows: the pages loaded so far for one view, in the view's order, and
// where a session the feed pushes goes. A pushed session joins only inside the loaded range (one
// that sorts after the last loaded row arrives with a later page; on a deep page, one that sorts
// before the first row belongs to an earlier page), and leaves when it stops matching.

import type { View } from './query';
import { compare, keyOf, matches } from './match';
import type { Session } from './types';

export type PushResult = 'added' | 'updated' | 'removed' | 'ignored' | 'refetch';

export class SessionRows {
  readonly rows: Session[] = [];
  private readonly byKey = new Map<string, Session>();
  /** The hub said there is no further page. */
  complete = false;

  constructor(readonly view: View) {}

  get size(): number { return this.rows.length; }
  has(key: string): boolean { return this.byKey.has(key); }

  /**
   * Appends a page the hub answered for this view. A session the browser is sure does not match is
   * left out: a filter this hub does not take (it ignores unknown parameters) still holds on the
   * rows shown, though a page may then come back short.
   */
  addPage(sessions: Session[], nextCursor: string | null): void {
    for (const s of sessions) {
      if (matches(s, this.view.filters) === 'no') continue;
      const old = this.byKey.get(keyOf(s));
      if (old) this.replace(old, s);
      else { this.byKey.set(keyOf(s), s); this.rows.push(s); }
    }
    this.complete = nextCursor === null;
  }

  /** Merges a refetched first page: its sessions match, and join where they sort. */
  merge(sessions: Session[]): void {
    for (const s of sessions) this.place(s, true);
  }

  /** A session the feed pushed. 'refetch': it may match, but only the hub can tell. */
  push(s: Session): PushResult {
    return this.place(s, false);
  }

  private place(s: Session, known: boolean): PushResult {
    const key = keyOf(s);
    const old = this.byKey.get(key);
    if (old && isStale(old, s)) return 'ignored';
    const verdict = known ? 'yes' : matches(s, this.view.filters);
    if (verdict === 'no') {
      if (!old) return 'ignored';
      this.remove(old);
      return 'removed';
    }
    // An unknown verdict keeps a listed session: what it matched on (a page, an event) stays true.
    if (old) {
      const stays = this.inRange(s);
      this.remove(old);
      if (!stays) return 'removed';
      this.insert(s);
      return 'updated';
    }
    if (verdict === 'unknown') return 'refetch';
    if (!this.inRange(s)) return 'ignored';
    this.insert(s);
    return 'added';
  }

  private cmp = (a: Session, b: Session) => compare(a, b, this.view.sort, this.view.order);

  /** Whether `s` sorts within the loaded pages. */
  private inRange(s: Session): boolean {
    // An updated session is still listed here: when it is the first or last row, its move is
    // judged against its listed version (a last row that sorts further down may be on the next page).
    const first = this.rows[0];
    const last = this.rows[this.rows.length - 1];
    // A deep page starts after its cursor: what sorts before its first row is on an earlier page.
    if (this.view.cursor && (!first || this.cmp(s, first) < 0)) return false;
    return this.complete || (last !== undefined && this.cmp(s, last) <= 0);
  }

  private insert(s: Session): void {
    let lo = 0;
    let hi = this.rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cmp(this.rows[mid], s) <= 0) lo = mid + 1;
      else hi = mid;
    }
    this.rows.splice(lo, 0, s);
    this.byKey.set(keyOf(s), s);
  }

  private remove(s: Session): void {
    const i = this.rows.indexOf(s);
    if (i >= 0) this.rows.splice(i, 1);
    this.byKey.delete(keyOf(s));
  }

  private replace(old: Session, s: Session): void {
    if (isStale(old, s)) return;
    this.rows[this.rows.indexOf(old)] = s;
    this.byKey.set(keyOf(s), s);
  }
}

/**
 * A page fetched before a pushed update may carry older data: counts only grow, and an ended
 * session stays ended until it grows again (a recorder that comes back reopens it).
 */
export function isStale(old: Session, s: Session): boolean {
  return s.event_count < old.event_count || (s.event_count === old.event_count && !old.active && s.active);
}
