// Recording on demand: the project's record_mode (which the hub puts ahead of streamdom.js), whether
// this page records now (`sample`), and the presence socket of a page that does not: one small
// message of where the visitor is, then nothing until a PM clicks Watch (`record`) or Stop (`stop`).

import type { HubToPresence, PresenceToHub } from './protocol';
import { ReconnectingSocket } from './reconnect';

export interface ModeConfig {
  record_mode: 'all' | 'sample' | 'standby';
  sample_percent: number;
  sample_urls: string[];
}

/** Where the hub's statement ahead of the bundle leaves the mode (src/assets/mode.rs). */
const MODE_KEY = Symbol.for('streamdom.mode');

/** The mode the hub served with this script (it writes it, well-formed); undefined: record everything. */
export const hubMode = (): ModeConfig | undefined => (globalThis as Record<symbol, ModeConfig | undefined>)[MODE_KEY];

/**
 * A visitor's bucket, 0–99: the same on every page, so a sampled visitor stays sampled. Visitor ids
 * are random hex (storage.ts): their last four digits are uniform enough (bias under 0.1 %); an
 * id that is not hex is bucket 0.
 */
export const bucket = (visitorId: string): number => (parseInt(visitorId.slice(-4), 16) || 0) % 100;

/** A path pattern: `*` stands for any characters, the rest is literal; the whole path must match. */
export function pathMatches(pattern: string, path: string): boolean {
  return new RegExp(`^${pattern.replace(/[^\w*]/g, '\\$&').replace(/\*/g, '.*')}$`).test(path);
}

/** Whether this page records from the start (as in `all` mode). */
export function recordsNow(mode: ModeConfig | undefined, visitorId: string, path: string): boolean {
  if (!mode) return true;
  return mode.record_mode !== 'standby' && (bucket(visitorId) < mode.sample_percent || mode.sample_urls.some((p) => pathMatches(p, path)));
}

export interface PresenceEvents {
  /** A PM asked to watch: record now as this session. */
  record(sessionId: string): void;
  stop(): void;
}

/**
 * The presence socket: reconnects by itself and reports the page on every connection. (A
 * single-page app's later route changes are not reported: the list shows the page it loaded.)
 */
export class Presence {
  private ws: ReconnectingSocket<HubToPresence, PresenceToHub>;

  constructor(endpoint: string, key: string, visitorId: string, private url: () => string, on: PresenceEvents) {
    const ws = endpoint.replace(/^http/, 'ws');
    const target = `${ws}/ws/presence?key=${encodeURIComponent(key)}&visitor=${encodeURIComponent(visitorId)}`;
    this.ws = new ReconnectingSocket<HubToPresence, PresenceToHub>(() => target, {
      onOpen: () => this.report(),
      onMessage: (msg) => (msg.type === 'record' ? on.record(msg.session_id) : on.stop()),
    });
  }

  start(): void {
    this.ws.connect();
  }

  close(): void {
    this.ws.close(1000);
  }

  private report(): void {
    this.ws.send({
      type: 'presence',
      url: this.url(),
      viewport: { width: innerWidth, height: innerHeight },
      user_agent: navigator.userAgent,
    });
  }
}
