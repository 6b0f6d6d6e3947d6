// The recorder's WebSocket to the hub: message routing, clock pings and reconnection with backoff.

import { ClockSync, type PongMessage } from './clock';

export interface Welcome { type: 'welcome'; session_id: string; received_seq: number; durable_seq: number; hub_time: number }
export interface Ack { type: 'ack'; durable_seq: number }
export interface HubError { type: 'error'; error: string; message?: string }

export interface SocketEvents {
  welcome(w: Welcome): void;
  ack(durableSeq: number): void;
  close(code: number): void;
}

const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 5000;

export class RecorderSocket {
  // Each new estimate goes to the hub, which passes it on to viewers: with their own offset to the
  // hub they turn visitor timestamps into their clock and measure the live delay honestly.
  readonly clock = new ClockSync(
    (m) => this.send(JSON.stringify(m)),
    (offset, rtt) => { if (this.ready) this.sendClock(offset, rtt); },
  );
  /** True between `welcome` and close: only then may event frames be sent. */
  ready = false;
  private ws: WebSocket | null = null;
  private attempt = 0;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(private url: string, private on: SocketEvents) {}

  connect(): void {
    if (this.stopped) return;
    let ws: WebSocket;
    try { ws = new WebSocket(this.url); } catch { this.scheduleReconnect(); return; }
    this.ws = ws;
    ws.onopen = () => this.clock.start();
    ws.onmessage = (ev) => this.onMessage(ev.data);
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.ready = false;
      this.clock.stop();
      this.on.close(ev.code);
      this.scheduleReconnect();
    };
    // An error is always followed by close, where reconnection happens.
    ws.onerror = () => {};
  }

  /** Queue a frame on the socket; false when it is not connected. */
  send(body: string): boolean {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(body);
    return true;
  }

  private sendClock(offset: number, rtt: number): void {
    this.send(JSON.stringify({ type: 'clock', offset: Math.round(offset * 10) / 10, rtt }));
  }

  get bufferedAmount(): number { return this.ws?.bufferedAmount ?? 0; }

  close(code = 1000): void {
    this.stopped = true;
    clearTimeout(this.retry);
    this.clock.stop();
    this.ready = false;
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close(code);
  }

  private onMessage(data: unknown): void {
    if (typeof data !== 'string') return;
    let msg: Welcome | Ack | PongMessage | HubError;
    try { msg = JSON.parse(data); } catch { return; }
    switch (msg.type) {
      case 'welcome':
        this.attempt = 0;
        this.ready = true;
        this.on.welcome(msg);
        // A new session actor (after a hub restart) knows no estimate yet.
        if (this.clock.synced) this.sendClock(this.clock.offset, this.clock.rtt);
        break;
      case 'ack':
        this.on.ack(msg.durable_seq);
        break;
      case 'pong':
        this.clock.onPong(msg);
        break;
      case 'error':
        console.warn(`StreamDOM hub error ${msg.error}: ${msg.message ?? ''}`);
        break;
    }
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    const cap = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.attempt++);
    // Jitter in [cap/2, cap) keeps many recorders from reconnecting in lockstep after a hub restart.
    this.retry = setTimeout(() => this.connect(), cap / 2 + Math.random() * (cap / 2));
  }
}
