// Which stretches of a session the watch page holds without a hole. A long session is not loaded
// whole: the page opens a stream at the full snapshot before the moment it shows (the hub's
// `from=<ms>`), and another when a seek leaves what is held, so the store may hold several
// stretches. The replayer is only ever given one stretch, from a full snapshot on, in order.

/** Seqs `lo..=hi`, all received (a stream from `lo` delivered everything up to `hi`). */
export interface Span { lo: number; hi: number }

/** Disjoint spans in seq order; touching ones are merged. */
export class Spans {
  readonly list: Span[] = [];

  /**
   * A stream that began at seq `lo` (the hub's `start_seq`, or the event itself) has delivered
   * everything up to `hi`. Seqs the hub never assigned (none today) cannot split a stream's span.
   */
  cover(lo: number, hi: number): void {
    if (hi < lo) return;
    const l = this.list;
    // The first span that ends at or after lo − 1 (touching or overlapping the new one).
    let i = l.length;
    while (i > 0 && l[i - 1].hi >= lo - 1) i--;
    let j = i;
    let nlo = lo;
    let nhi = hi;
    while (j < l.length && l[j].lo <= hi + 1) {
      nlo = Math.min(nlo, l[j].lo);
      nhi = Math.max(nhi, l[j].hi);
      j++;
    }
    l.splice(i, j - i, { lo: nlo, hi: nhi });
  }

  /** The span holding `seq`, or null. */
  of(seq: number): Span | null {
    let lo = 0;
    let hi = this.list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.list[mid].hi < seq) lo = mid + 1;
      else hi = mid;
    }
    const s = this.list[lo];
    return s && s.lo <= seq ? s : null;
  }
}
