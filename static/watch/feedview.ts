// The event feed beside the replay (`event-feed`): a virtualized list of FeedModel's rows (only
// those in view exist in the DOM, from a reused pool), following the newest while not paused,
// with a kind filter, a search box, the selected event's JSON and seeking on click. Everything
// recorded is set with textContent.

import { el, fmtDuration } from '../common';
import { FeedModel, visibleRows, type Entry } from './feedmodel';
import type { Rec } from './store';
import { FEED_KINDS, type FeedKind } from './summary';

/** Rows fetched at a time when scrolling up past the first row held. */
const OLDER_PAGE = 500;

export const ROW_HEIGHT = 22;

const $ = <T extends HTMLElement>(testid: string) => document.querySelector(`[data-testid="${testid}"]`) as T;

export class FeedView {
  readonly model = new FeedModel();
  private root = $<HTMLElement>('event-feed');
  private scroller = document.getElementById('feed-scroll') as HTMLElement;
  private spacer = document.getElementById('feed-spacer') as HTMLElement;
  private json = document.getElementById('feed-json') as HTMLElement;
  private pauseBtn = $<HTMLButtonElement>('event-feed-pause');
  private search = $<HTMLInputElement>('event-search');
  private kindSel = document.getElementById('feed-kind') as HTMLSelectElement;
  private pool: HTMLElement[] = [];
  private drawn = { from: -1, to: -1, version: -1, count: -1, current: -2, selected: -1 };
  private selected: number | null = null;
  /** Visitor time of the moment shown, to highlight the row there. */
  private current = 0;
  private start = 0;
  /** Where render last scrolled to: a scroll above it is the PM's, and pauses following. */
  private setTop = 0;
  private loadingOlder = false;
  /** Events with seq in [from, from + n), from the API (watch.ts); null: none to fetch. */
  older: ((before: number, n: number) => Promise<Rec[]>) | null = null;

  /** `seek(ts)`: a visitor timestamp. */
  constructor(private seek: (ts: number) => void) {
    this.kindSel.append(...['all', ...FEED_KINDS].map((k) => el('option', { value: k }, k === 'all' ? 'All kinds' : k)));
    const refilter = () => {
      this.model.setFilter(this.kindSel.value as FeedKind | 'all', this.search.value);
      this.render();
    };
    this.kindSel.addEventListener('change', refilter);
    this.search.addEventListener('input', refilter);
    this.pauseBtn.addEventListener('click', () => {
      if (this.model.paused) {
        this.model.resume();
        // Where the PM had scrolled to is not a scroll away from following.
        this.setTop = 0;
      } else this.model.pause();
      this.render();
    });
    this.scroller.addEventListener('scroll', () => {
      if (!this.model.paused && this.scroller.scrollTop < this.setTop - ROW_HEIGHT) this.model.pause();
      if (this.scroller.scrollTop < ROW_HEIGHT * 3) void this.loadOlder();
      this.render();
    }, { passive: true });
    this.scroller.addEventListener('click', (ev) => {
      const row = (ev.target as HTMLElement).closest<HTMLElement>('[data-testid="event-row"]');
      if (!row) return;
      const e = this.entryOf(Number(row.dataset.seq));
      if (!e) return;
      this.select(e);
      this.seek(e.ts);
    });
  }

  /** Scrolled to the top of what it holds: fetch the page before it, keeping the rows in view still. */
  private async loadOlder(): Promise<void> {
    const first = this.model.entries[0]?.seq ?? 1;
    if (this.loadingOlder || !this.older || first <= 1) return;
    this.loadingOlder = true;
    try {
      const recs = await this.older(first, OLDER_PAGE);
      const added = this.model.prepend(recs);
      this.scroller.scrollTop += added * ROW_HEIGHT;
      this.render();
    } catch {
      // The hub is out of reach: scrolling up again tries again.
    } finally {
      this.loadingOlder = false;
    }
  }

  get selectedSeq(): number | null { return this.selected; }
  get filters(): { kind: string; q: string } { return { kind: this.kindSel.value, q: this.search.value }; }

  /** Set the kind filter and search as a link asks. */
  setFilter(kind: string | null, q: string | null): void {
    if (kind && [...this.kindSel.options].some((o) => o.value === kind)) this.kindSel.value = kind;
    if (q !== null) this.search.value = q;
    this.model.setFilter(this.kindSel.value as FeedKind | 'all', this.search.value);
  }

  /** Show one event's JSON and keep its row marked; `reveal` scrolls to it (a `?event=` link). */
  select(e: Entry, reveal = false): void {
    this.selected = e.seq;
    this.json.textContent = JSON.stringify(e.rec.event, null, 2);
    this.json.hidden = false;
    if (reveal) {
      if (!this.model.paused) this.model.pause();
      const row = this.model.rowAtOrBefore(e.seq);
      this.scroller.scrollTop = Math.max(0, row * ROW_HEIGHT - this.scroller.clientHeight / 2);
    }
    this.render();
  }

  entryOf(seq: number): Entry | undefined {
    const i = this.model.rowAtOrBefore(seq);
    const e = this.model.shown[i];
    if (e?.seq === seq) return e;
    return this.model.entries.find((x) => x.seq === seq);
  }

  /** The moment shown and the session's start (visitor timestamps): the row there is highlighted. */
  setCurrent(ts: number, start: number): void {
    this.current = ts;
    this.start = start;
  }

  render(): void {
    const m = this.model;
    const count = m.shown.length;
    // Reads first, then writes: one layout per render, not one per property.
    const height = this.scroller.clientHeight;
    let top = this.scroller.scrollTop;
    if (count !== this.drawn.count) this.spacer.style.height = `${count * ROW_HEIGHT}px`;
    // Following: the newest row at the bottom. Paused: wherever the PM scrolled.
    if (!m.paused) {
      const bottom = Math.max(0, count * ROW_HEIGHT - height);
      // Scrolled up since the last render: the PM's scroll, even when its scroll event has not run
      // yet (snapping back would undo it). Not when the browser clamped it (a taller viewport).
      if (top < this.setTop - ROW_HEIGHT && top < bottom - ROW_HEIGHT) m.pause();
      else {
        if (Math.abs(top - bottom) > 1) this.scroller.scrollTop = top = bottom;
        this.setTop = top;
      }
    }
    const pauseText = m.paused ? `Resume${m.arrivedWhilePaused ? ` (${m.arrivedWhilePaused} new)` : ''}` : 'Pause';
    if (this.pauseBtn.textContent !== pauseText) this.pauseBtn.textContent = pauseText;
    this.pauseBtn.dataset.paused = String(m.paused);
    if (this.root.dataset.count !== String(count)) this.root.dataset.count = String(count);
    const { from, to } = visibleRows(count, top, height, ROW_HEIGHT);
    const current = m.rowAtTime(this.current);
    const d = this.drawn;
    if (d.from === from && d.to === to && d.version === m.version && d.count === count && d.current === current && d.selected === this.selected) return;
    this.drawn = { from, to, version: m.version, count, current, selected: this.selected ?? -1 };
    // Exactly as many rows as are in view: a row in the DOM is a row with an event.
    while (this.pool.length > to - from) this.pool.pop()?.remove();
    while (this.pool.length < to - from) {
      const row = el('div', { class: 'event-row', 'data-testid': 'event-row' });
      row.append(el('span', { class: 'er-time' }), el('span', { class: 'er-kind' }), el('span', { class: 'er-text' }));
      this.pool.push(row);
      this.spacer.append(row);
    }
    const start = this.start;
    this.pool.forEach((row, k) => {
      const e = m.shown[from + k];
      row.style.top = `${(from + k) * ROW_HEIGHT}px`;
      if (row.dataset.seq !== String(e.seq)) {
        row.dataset.seq = String(e.seq);
        row.dataset.kind = e.kind;
        const [time, kind, text] = row.children as unknown as HTMLElement[];
        time.textContent = fmtDuration(e.ts - start);
        kind.textContent = e.kind;
        text.textContent = e.text;
        row.title = e.text;
      }
      row.classList.toggle('current', from + k === current);
      row.classList.toggle('selected', e.seq === this.selected);
    });
  }
}
