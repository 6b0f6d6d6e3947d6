// A console or network panel beside the replay: its rows (panels.ts) filtered by level or status,
// the row at the moment shown highlighted, a click seeks there. Recorded texts go in as text.

import { el, fmtDuration } from '../common';
import { filterRows, rowAt, type PanelRow } from './panels';
import type { Rec } from './store';

/** The newest rows kept in the DOM: these panels are read around a moment, not scrolled for hours. */
const MAX_SHOWN = 500;

export class PanelView {
  private rows: PanelRow[] = [];
  private list: HTMLElement;
  private filter: HTMLSelectElement;
  private shown: PanelRow[] = [];
  private els: HTMLElement[] = [];
  private dirty = true;
  private current = -2;

  constructor(
    private root: HTMLElement,
    private rowTestid: string,
    groups: string[],
    private extract: (r: Rec) => PanelRow[],
    private seek: (ts: number) => void,
    private start: () => number,
  ) {
    this.list = root.querySelector('.panel-list') as HTMLElement;
    this.filter = root.querySelector('select') as HTMLSelectElement;
    this.filter.append(...['all', ...groups].map((g) => el('option', { value: g }, g === 'all' ? 'All' : g)));
    this.filter.addEventListener('change', () => { this.dirty = true; });
    this.list.addEventListener('click', (ev) => {
      const row = (ev.target as HTMLElement).closest<HTMLElement>(`[data-testid="${rowTestid}"]`);
      if (row) this.seek(Number(row.dataset.ts));
    });
  }

  /** Rows arrive in seq order; a request's row is placed by its start time. */
  add(r: Rec): void {
    for (const row of this.extract(r)) {
      let i = this.rows.length;
      while (i > 0 && this.rows[i - 1].ts > row.ts) i--;
      this.rows.splice(i, 0, row);
      this.dirty = true;
    }
  }

  get filterValue(): string { return this.filter.value; }
  setFilter(v: string): void {
    if ([...this.filter.options].some((o) => o.value === v)) this.filter.value = v;
    this.dirty = true;
  }

  render(currentTs: number): void {
    if (this.dirty) {
      this.dirty = false;
      this.shown = filterRows(this.rows, this.filter.value).slice(-MAX_SHOWN);
      const start = this.start();
      this.els = this.shown.map((r) => {
        const row = el('div', { class: 'panel-row', 'data-testid': this.rowTestid, 'data-group': r.group, 'data-seq': String(r.seq), 'data-ts': String(r.ts), title: r.detail });
        row.append(el('span', { class: 'er-time' }, fmtDuration(r.ts - start)), el('span', { class: 'pr-text' }, r.text));
        return row;
      });
      this.list.replaceChildren(...this.els);
      this.root.dataset.count = String(this.shown.length);
      this.current = -2;
    }
    const at = rowAt(this.shown, currentTs);
    if (at === this.current) return;
    this.els[this.current]?.classList.remove('current');
    this.els[at]?.classList.add('current');
    this.current = at;
  }
}
