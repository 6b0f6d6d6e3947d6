// What the recorder reports beside rrweb's events, set up from init's options: console messages
// and errors, network requests, page visits and visibility, where clicks land. Each becomes an rrweb event in the
// recording's one ordered stream.

import { watchClicks } from './clicks';
import { ConsoleRecorder, CONSOLE_PLUGIN, warn } from './console';
import { customEvent, pluginEvent, type ReportedEvent } from './custom';
import { wrapFetch, wrapXhr } from './intercept';
import type { ReportChoices } from './index';
import { NetworkRecorder, NETWORK_PLUGIN } from './network';
import { PageTracker } from './pages';
import type { Redactor } from './redact';

/** Stops them all; what finished goes into the stream first. */
export type StopReporters = () => void;

/** `ignore`: URLs never recorded (the recorder's own requests to the hub); `block`: the blocked elements. */
export function startReporters(choices: ReportChoices, redactor: Redactor, report: (e: ReportedEvent) => void, ignore: (url: string) => boolean, block?: string): StopReporters {
  const stops: (() => void)[] = [];
  // A page that froze console, fetch or history is recorded without that kind rather than thrown at.
  const start = (what: string, f: () => () => void) => {
    try { stops.push(f()); } catch (e) { warn(`StreamDOM: ${what} not recorded:`, e); }
  };
  if (choices.console ?? true) {
    start('console', () => {
      const c = new ConsoleRecorder((entry) => report(pluginEvent(CONSOLE_PLUGIN, entry)), (s) => redactor.values(s));
      c.install();
      return () => c.uninstall();
    });
  }
  if (choices.network ?? true) {
    start('network', () => {
      const options = typeof choices.network === 'object' ? choices.network : {};
      const net = new NetworkRecorder((payload) => report(pluginEvent(NETWORK_PLUGIN, payload)), redactor, options, ignore);
      const unwrap = [typeof fetch === 'function' && wrapFetch(window, net), typeof XMLHttpRequest === 'function' && wrapXhr(XMLHttpRequest.prototype, net)];
      // Finished requests go with the page's last events when it is hidden or left.
      const hide = () => { if (document.visibilityState === 'hidden') net.flush(); };
      const flushNow = () => net.flush();
      addEventListener('pagehide', flushNow);
      document.addEventListener('visibilitychange', hide);
      return () => {
        net.flush();
        net.on = false;
        unwrap.forEach((f) => f && f());
        removeEventListener('pagehide', flushNow);
        document.removeEventListener('visibilitychange', hide);
      };
    });
  }
  if (choices.clicks ?? true) start('clicks', () => watchClicks((p) => report(customEvent('$click', p)), block));
  // Last: a visitor who leaves is reported after the requests that finished before.
  if (choices.pages ?? true) {
    start('page visits', () => {
      const pages = new PageTracker((tag, payload) => report(customEvent(tag, payload)), (u) => redactor.url(u));
      pages.install();
      return () => pages.uninstall();
    });
  }
  return () => stops.splice(0).reverse().forEach((f) => { try { f(); } catch { /* keep stopping the others */ } });
}
