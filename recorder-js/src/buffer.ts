// Numbered, byte-bounded buffer of events the hub has not yet stored durably, and the frames built from it.

import { LIMITS } from './protocol';

export interface Entry { seq: number; json: string; bytes: number; full: boolean }

/** Cut below the hub's frame limit, leaving room for the envelope (`{"type":"events","seq":…,"events":[…]}`). */
export const FRAME_LIMIT = LIMITS.maxFrameBytes - 1024;
export const DEFAULT_MAX_BYTES = 32 * 1024 * 1024;

// rrweb's EventType.FullSnapshot; replay can recover from any gap that one follows.
const FULL_SNAPSHOT = 2;

export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c < 0xdc00) { n += 2; i++; } // surrogate pair: 4 bytes for 2 units
    else n += 2;
  }
  return n;
}

export class EventBuffer {
  entries: Entry[] = [];
  bytes = 0;

  constructor(public lastSeq: number, private maxBytes = DEFAULT_MAX_BYTES) {}

  /** Number an event; returns true when older events had to be dropped to stay within the bound. */
  push(event: { type: number }): boolean {
    const json = JSON.stringify(event);
    return this.add({ seq: ++this.lastSeq, json, bytes: utf8Length(json), full: event.type === FULL_SNAPSHOT });
  }

  /** Re-add entries kept by an earlier page (sorted, all below the current counter). */
  restore(entries: Entry[]): void {
    const first = this.entries[0]?.seq ?? Infinity;
    const older = entries.filter((e) => e.seq < first);
    this.entries = older.concat(this.entries);
    for (const e of older) this.bytes += e.bytes;
    this.lastSeq = Math.max(this.lastSeq, older.length ? older[older.length - 1].seq : 0);
  }

  private add(e: Entry): boolean {
    this.entries.push(e);
    this.bytes += e.bytes;
    if (this.bytes <= this.maxBytes) return false;
    // Drop to 3/4 of the bound so that one overflow does not trigger again on the next event.
    while (this.bytes > (this.maxBytes * 3) / 4 && this.entries.length > 1) this.bytes -= this.entries.shift()!.bytes;
    return true;
  }

  hasFullSnapshot(): boolean { return this.entries.some((e) => e.full); }

  /** Forget everything at or below seq (the hub stored it durably). */
  dropThrough(seq: number): void {
    let i = 0;
    while (i < this.entries.length && this.entries[i].seq <= seq) this.bytes -= this.entries[i++].bytes;
    if (i) this.entries = this.entries.slice(i);
  }

  /** Renumber entries above `from` to follow `after`: the hub already holds seqs this page believed unused. */
  renumber(from: number, after: number): void {
    let seq = after;
    for (const e of this.entries) if (e.seq > from) e.seq = ++seq;
    this.lastSeq = Math.max(seq, after);
  }

  drop(pred: (e: Entry) => boolean): void {
    this.entries = this.entries.filter((e) => (pred(e) ? ((this.bytes -= e.bytes), false) : true));
  }

  /**
   * Frames for entries with seq > after, each a run of consecutive seqs of at most `limit` bytes
   * (a larger single event goes alone).
   */
  frames(after: number, limit = FRAME_LIMIT): { seq: number; last: number; body: string; bytes: number }[] {
    const out: { seq: number; last: number; body: string; bytes: number }[] = [];
    let run: Entry[] = [];
    let size = 0;
    const close = () => {
      if (!run.length) return;
      const body = `{"type":"events","seq":${run[0].seq},"events":[${run.map((e) => e.json).join(',')}]}`;
      out.push({ seq: run[0].seq, last: run[run.length - 1].seq, body, bytes: size + 40 });
      run = [];
      size = 0;
    };
    for (const e of this.entries) {
      if (e.seq <= after) continue;
      const gap = run.length > 0 && e.seq !== run[run.length - 1].seq + 1;
      if (gap || (run.length && size + e.bytes + 1 > limit)) close();
      run.push(e);
      size += e.bytes + 1;
    }
    close();
    return out;
  }
}
