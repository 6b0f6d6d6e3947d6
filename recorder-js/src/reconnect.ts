// Reconnection shared by every StreamDOM socket (the recorder's, the watch page's, the session
// list's): a jittered exponential backoff policy, and a JSON WebSocket that reopens itself by it.

export const BACKOFF_MIN_MS = 250;
export const BACKOFF_MAX_MS = 5000;
/**
 * After the hub refused a frame for rate (close 4429 `rate_limited`): its bucket refills in
 * seconds, not milliseconds, and reconnecting at once would only be refused again.
 */
export const RATE_LIMITED_MIN_MS = 2000;
export const RATE_LIMITED_MAX_MS = 30_000;

/**
 * The n-th retry in a row waits a random time in [cap/2, cap), cap = min(max, min · 2ⁿ). The jitter
 * keeps many clients from reconnecting in lockstep after a hub restart.
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private minMs = BACKOFF_MIN_MS,
    private maxMs = BACKOFF_MAX_MS,
    private random: () => number = Math.random,
  ) {}

  /** The delay before the next attempt; every call counts one more failure in a row. */
  next(): number {
    const cap = Math.min(this.maxMs, this.minMs * 2 ** this.attempt);
    if (cap < this.maxMs) this.attempt++;
    return cap / 2 + this.random() * (cap / 2);
  }

  /** A connection proved healthy: the next failure starts again from the shortest delay. */
  reset(): void {
    this.attempt = 0;
  }
}

export interface SocketHandlers<In> {
  /** Runs on every (re)connection, so callers can resynchronise there. */
  onOpen?(): void;
  /** Every message that parses as JSON; anything else is dropped. */
  onMessage(msg: In): void;
  /** Return false to stay closed, a delay in ms for the next attempt, or nothing to back off. */
  onClose?(code: number): boolean | number | void;
}

/**
 * Turns socket messages into text, in arrival order (the watch page's inflates compressed frames,
 * static/watch/codec.ts); `after` runs once everything received before has been delivered.
 */
export interface Inbox {
  message(data: unknown, deliver: (text: string) => void): void;
  after(fn: () => void): void;
}

export interface SocketOptions {
  backoff?: Backoff;
  /** One per connection; without it messages are text, parsed as they come. */
  inbox?: () => Inbox;
  /**
   * Whether an open connection counts as healthy (default). The recorder waits for the hub's
   * `welcome` instead, so that a hub that accepts and then refuses is not hammered.
   */
  resetOnOpen?: boolean;
}

/** A WebSocket of JSON messages that reopens itself until close() is called. */
export class ReconnectingSocket<In, Out> {
  readonly backoff: Backoff;
  private ws: WebSocket | null = null;
  private stopped = false;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private resetOnOpen: boolean;
  private inbox: (() => Inbox) | undefined;

  constructor(private url: () => string, private handlers: SocketHandlers<In>, options: SocketOptions = {}) {
    this.backoff = options.backoff ?? new Backoff();
    this.resetOnOpen = options.resetOnOpen ?? true;
    this.inbox = options.inbox;
  }

  connect(): void {
    if (this.stopped) return;
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.url());
    } catch {
      this.schedule(undefined);
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      if (this.resetOnOpen) this.backoff.reset();
      this.handlers.onOpen?.();
    };
    const deliver = (text: unknown) => {
      // Without an inbox the hub sends text; anything else fails to parse too (JSON.parse stringifies it first).
      let msg: In;
      try { msg = JSON.parse(text as string) as In; } catch { return; }
      this.handlers.onMessage(msg);
    };
    const inbox = this.inbox?.();
    if (inbox) ws.binaryType = 'arraybuffer';
    ws.onmessage = (ev) => (inbox ? inbox.message(ev.data, deliver) : deliver(ev.data));
    const closed = (code: number) => {
      if (this.ws !== ws) return;
      this.ws = null;
      const verdict = this.handlers.onClose?.(code);
      // false: the close was expected (e.g. after "end"); stay closed.
      if (verdict === false) this.stopped = true;
      else this.schedule(typeof verdict === 'number' ? verdict : undefined);
    };
    ws.onclose = (ev) => (inbox ? inbox.after(() => closed(ev.code)) : closed(ev.code));
    // An error is always followed by close, where reconnection happens.
    ws.onerror = () => {};
  }

  /** Send one message; false when not connected (nothing is queued). */
  send(msg: Out): boolean {
    return this.sendRaw(JSON.stringify(msg));
  }

  /** Send an already serialised message (binary: a compressed one, see compress.ts). */
  sendRaw(body: string | Uint8Array): boolean {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(body);
    return true;
  }

  get connected(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  get bufferedAmount(): number {
    return this.ws?.bufferedAmount ?? 0;
  }

  close(code = 1000): void {
    this.stopped = true;
    clearTimeout(this.retry);
    const ws = this.ws;
    this.ws = null;
    ws?.close(code);
  }

  private schedule(delayMs: number | undefined): void {
    if (this.stopped) return;
    this.retry = setTimeout(() => this.connect(), delayMs ?? this.backoff.next());
  }
}
