// The page's console messages, uncaught errors and unhandled rejections, in the shape of rrweb's
// console plugin (`rrweb/console@1`). Never throws into the page, and never records itself: what
// the recorder logs goes through `warn()`, and anything logged while a message is being recorded
// (a page's toJSON that logs, say) passes straight through.

import { describe, describeAll } from './serialize';

export const CONSOLE_PLUGIN = 'rrweb/console@1';
export const LEVELS = ['log', 'info', 'warn', 'error', 'debug'] as const;
export type Level = (typeof LEVELS)[number];
export interface ConsoleEntry { level: Level; payload: string[]; trace: string[]; source: 'console' | 'uncaught' | 'unhandledrejection' }

const TRACE_LINES = 10;
const TRACE_LINE_CHARS = 300;
/** A page logging in a loop is recorded in bursts of this many messages, then this many per second. */
export const BURST = 100;
export const PER_SECOND = 10;

let busy = false;

/** The recorder's own warnings: shown in the console, never recorded. */
export function warn(...args: unknown[]): void {
  const was = busy;
  busy = true;
  try { console.warn(...args); } catch { /* a console that throws */ } finally { busy = was; }
}

/** Stack lines of `stack`, without its message and the first `skip` frames. */
export function traceOf(stack: unknown, skip = 0): string[] {
  if (typeof stack !== 'string') return [];
  const lines = stack.split('\n').map((l) => l.trim());
  // V8 starts with the message ("Error: boom"); Firefox and Safari list frames only ("fn@url:1:2").
  const frames = lines.filter((l) => /^at |@|^\w+:\/\//.test(l));
  return frames.slice(skip, skip + TRACE_LINES).map((l) => l.slice(0, TRACE_LINE_CHARS));
}

type Fn = (...args: unknown[]) => unknown;
type Target = Partial<Record<Level, Fn>>;

export class ConsoleRecorder {
  /** Level, the page's method, ours. */
  private wrapped: [Level, Fn, Fn][] = [];
  private tokens = BURST;
  private refilled = Date.now();
  private on = false;

  /** `redact` takes masked input values out of the recorded text (see redact.ts). */
  constructor(private emit: (e: ConsoleEntry) => void, private redact: (s: string) => string, private target: Target = console as unknown as Target, private win: Pick<Window, 'addEventListener' | 'removeEventListener'> = window) {}

  install(): void {
    this.on = true;
    for (const level of LEVELS) {
      const original = this.target[level];
      if (typeof original !== 'function') continue;
      const self = this;
      // A plain function: `this` and the return value are the page's own, and so is any exception.
      const wrapper = function (this: unknown, ...args: unknown[]) {
        if (self.on && !busy) {
          // Made here, so that its first frame is this wrapper's; V8 formats the stack only when read.
          const here = new Error();
          self.record(level, args, 'console', () => traceOf(here.stack, 1));
        }
        return original.apply(this, args);
      };
      this.wrapped.push([level, original, wrapper]);
      this.target[level] = wrapper;
    }
    this.win.addEventListener('error', this.onError);
    this.win.addEventListener('unhandledrejection', this.onRejection);
  }

  uninstall(): void {
    this.on = false;
    // Only where nothing wrapped the console after us; otherwise our wrapper stays, inert.
    for (const [level, original, wrapper] of this.wrapped.splice(0)) if (this.target[level] === wrapper) this.target[level] = original;
    this.win.removeEventListener('error', this.onError);
    this.win.removeEventListener('unhandledrejection', this.onRejection);
  }

  private allowed(): boolean {
    const now = Date.now();
    this.tokens = Math.min(BURST, this.tokens + ((now - this.refilled) / 1000) * PER_SECOND);
    this.refilled = now;
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }

  record(level: Level, args: ArrayLike<unknown>, source: ConsoleEntry['source'], trace: () => string[]): void {
    if (!this.on || busy) return;
    busy = true;
    try {
      if (!this.allowed()) return;
      this.emit({ level, payload: describeAll(args).map(this.redact), trace: trace(), source });
    } catch {
      // Recording must never break the page's own logging.
    } finally {
      busy = false;
    }
  }

  private onError = (e: ErrorEvent): void => {
    try {
      const err = e.error as Error | undefined;
      const where = e.filename ? [`${e.filename}:${e.lineno}:${e.colno}`] : [];
      const message = errorLike(err) ? `${err.name}: ${err.message}` : String(e.message);
      this.record('error', [message], 'uncaught', () => {
        const t = errorLike(err) ? traceOf(err.stack) : [];
        return t.length ? t : where;
      });
    } catch { /* a hostile error object */ }
  };

  private onRejection = (e: PromiseRejectionEvent): void => {
    try {
      const reason: unknown = e.reason;
      const message = errorLike(reason) ? `${reason.name}: ${reason.message}` : describe(reason);
      this.record('error', [message], 'unhandledrejection', () => (errorLike(reason) ? traceOf(reason.stack) : []));
    } catch { /* a hostile reason */ }
  };
}

const errorLike = (v: unknown): v is Error => typeof v === 'object' && v !== null && typeof (v as Error).message === 'string';
