// Page visits of single-page apps (`$pageview` on pushState, replaceState, popstate and
// hashchange to a new URL; a full load is rrweb's Meta event) and whether the visitor is there
// (`$visibility`: hidden, visible, unload), as rrweb Custom events.

export type Visibility = 'hidden' | 'visible' | 'unload';

type Win = Pick<Window, 'addEventListener' | 'removeEventListener' | 'location' | 'history' | 'document'>;

export class PageTracker {
  private lastHref: string;
  private state: Visibility;
  private queued = false;
  private undo: (() => void)[] = [];

  /** `url` masks what must not be recorded of a URL (see redact.ts). */
  constructor(private emit: (tag: string, payload: unknown) => void, private url: (href: string) => string, private win: Win = window) {
    this.lastHref = win.location.href;
    this.state = win.document.visibilityState === 'hidden' ? 'hidden' : 'visible';
  }

  /** Listeners go in before the recorder's own, so what they report is flushed with the page's last events. */
  install(): void {
    const { history, document } = this.win;
    for (const name of ['pushState', 'replaceState'] as const) {
      const original = history[name];
      const self = this;
      const wrapper = function (this: History, ...args: Parameters<History['pushState']>) {
        const result = original.apply(this, args);
        self.changed();
        return result;
      };
      history[name] = wrapper;
      this.undo.push(() => { if (history[name] === wrapper) history[name] = original; });
    }
    this.listen(this.win, 'popstate', this.changed);
    this.listen(this.win, 'hashchange', this.changed);
    this.listen(document, 'visibilitychange', () => this.visibility(document.visibilityState === 'hidden' ? 'hidden' : 'visible'));
    this.listen(this.win, 'pagehide', (e) => this.visibility((e as PageTransitionEvent).persisted ? 'hidden' : 'unload'));
    this.listen(this.win, 'pageshow', (e) => { if ((e as PageTransitionEvent).persisted) this.visibility('visible'); });
    if (this.state === 'hidden') this.report('$visibility', { state: 'hidden' });
  }

  uninstall(): void {
    this.undo.splice(0).forEach((f) => f());
  }

  private listen(target: Pick<EventTarget, 'addEventListener' | 'removeEventListener'>, type: string, f: (e: Event) => void): void {
    target.addEventListener(type, f);
    this.undo.push(() => target.removeEventListener(type, f));
  }

  /** After the task that changed the URL: a pushState and replaceState in one go are one visit. */
  private changed = (): void => {
    if (this.queued) return;
    this.queued = true;
    queueMicrotask(() => {
      this.queued = false;
      const href = this.win.location.href;
      if (href === this.lastHref) return;
      this.lastHref = href;
      this.report('$pageview', { url: this.url(href), title: this.win.document.title });
    });
  };

  private visibility(state: Visibility): void {
    // Unloading is also hidden; a page that comes back from the bfcache says `visible` again.
    if (state === this.state || (state === 'hidden' && this.state === 'unload')) return;
    this.state = state;
    this.report('$visibility', { state });
  }

  private report(tag: string, payload: unknown): void {
    try { this.emit(tag, payload); } catch { /* never into the page */ }
  }
}
