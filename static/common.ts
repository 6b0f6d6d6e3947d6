// Helpers shared by the dashboard pages: the session type, socket URLs, reconnection and formatting.

export interface Session {
  id: string;
  active: boolean;
  started_at: string;
  last_event_at: string | null;
  ended_at: string | null;
  url: string | null;
  event_count: number;
  user_agent: string | null;
  stored_bytes: number;
  raw_bytes?: number;
  duration_ms: number | null;
  first_event_ts?: number | null;
}

export function wsUrl(path: string): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${path}`;
}

const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 5000;

/**
 * A WebSocket that reopens itself with jittered exponential backoff until close() is called.
 * `onOpen` runs for every (re)connection, so callers can resynchronise there.
 */
export class ReconnectingSocket {
  ws: WebSocket | null = null;
  private attempt = 0;
  private stopped = false;
  private retry: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private url: () => string,
    // onClose may return false (stay closed) or a delay in ms before the next attempt.
    private handlers: { onOpen?(ws: WebSocket): void; onMessage(msg: any): void; onClose?(code: number): boolean | number | void },
  ) {
    this.connect();
  }

  send(msg: unknown): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
  }

  close(): void {
    this.stopped = true;
    clearTimeout(this.retry);
    this.ws?.close(1000);
    this.ws = null;
  }

  private connect(): void {
    const ws = new WebSocket(this.url());
    this.ws = ws;
    ws.onopen = () => { this.attempt = 0; this.handlers.onOpen?.(ws); };
    ws.onmessage = (ev) => {
      let msg: unknown;
      try { msg = JSON.parse(ev.data); } catch { return; }
      this.handlers.onMessage(msg);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws || this.stopped) return;
      // onClose returning false means the close was expected (e.g. after "end"): stay closed.
      const verdict = this.handlers.onClose?.(ev.code);
      if (verdict === false) { this.stopped = true; return; }
      const cap = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.attempt++);
      const delay = typeof verdict === 'number' ? verdict : cap / 2 + Math.random() * (cap / 2);
      this.retry = setTimeout(() => this.connect(), delay);
    };
  }
}

export function fmtDuration(ms: number | null | undefined): string {
  if (ms == null || !(ms >= 0)) return '—';
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

const timeFmt = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });

export function fmtTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : timeFmt.format(d);
}

/** Duration so far: ended sessions use the hub's figure, live ones keep counting. */
export function sessionDuration(s: Session, now = Date.now()): number | null {
  if (!s.active && s.duration_ms != null) return s.duration_ms;
  const start = Date.parse(s.started_at);
  if (Number.isNaN(start)) return s.duration_ms;
  const end = s.active ? now : Date.parse(s.ended_at ?? s.last_event_at ?? '') || now;
  return Math.max(0, end - start);
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}
