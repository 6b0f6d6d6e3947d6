// The recorder's WebSocket to the hub: message routing and clock pings; reconnect.ts reopens it.

import { ClockSync } from './clock';
import { FrameSender } from './compress';
import { warn } from './console';
import type { HubToRecorder, RecorderToHub } from './protocol';
import { ReconnectingSocket } from './reconnect';

export type Welcome = Extract<HubToRecorder, { type: 'welcome' }>;

export interface SocketEvents {
  welcome(w: Welcome): void;
  ack(durableSeq: number): void;
  /** The hub was left with a gap it cannot fill: send everything again from `fromSeq`. */
  resend(fromSeq: number): void;
  /** Return false to stay closed (the hub said this connection was superseded), or a delay in ms. */
  close(code: number): boolean | number | void;
}

export class RecorderSocket {
  // Each new estimate goes to the hub, which passes it on to viewers: with their own offset to the
  // hub they turn visitor timestamps into their clock and measure the live delay honestly.
  readonly clock = new ClockSync(
    (m) => this.ws.send(m),
    (offset, rtt) => { if (this.ready) this.sendClock(offset, rtt); },
  );
  /** True between `welcome` and close: only then may event frames be sent. */
  ready = false;
  private ws: ReconnectingSocket<HubToRecorder, RecorderToHub>;
  /** Large frames leave compressed, all in order (compress.ts); one per connection. */
  private frames = new FrameSender((data) => { this.ws.sendRaw(data); });

  /** `url` is asked again on every reconnection (it carries the latest resume token). */
  constructor(url: () => string, private on: SocketEvents) {
    this.ws = new ReconnectingSocket<HubToRecorder, RecorderToHub>(
      url,
      {
        onOpen: () => {
          this.frames.reset();
          this.clock.start();
        },
        onMessage: (msg) => this.onMessage(msg),
        onClose: (code) => {
          this.ready = false;
          this.frames.reset();
          this.clock.stop();
          return this.on.close(code);
        },
      },
      // Only the hub's `welcome` proves the connection healthy (see onMessage).
      { resetOnOpen: false },
    );
  }

  connect(): void { this.ws.connect(); }

  /** Queue an `events` frame (already serialised, `bytes` long) on the socket; false when it is not connected. */
  send(body: string, bytes: number): boolean {
    if (!this.ws.connected) return false;
    this.frames.send(body, bytes);
    return true;
  }

  private sendClock(offset: number, rtt: number): void {
    this.ws.send({ type: 'clock', offset: Math.round(offset * 10) / 10, rtt });
  }

  get bufferedAmount(): number { return this.ws.bufferedAmount + this.frames.pendingBytes; }

  close(code = 1000): void {
    this.clock.stop();
    this.ready = false;
    this.ws.close(code);
  }

  private onMessage(msg: HubToRecorder): void {
    switch (msg.type) {
      case 'welcome':
        this.ws.backoff.reset();
        this.ready = true;
        this.on.welcome(msg);
        // A new session actor (after a hub restart) knows no estimate yet.
        if (this.clock.synced) this.sendClock(this.clock.offset, this.clock.rtt);
        break;
      case 'ack':
        this.on.ack(msg.durable_seq);
        break;
      case 'resend':
        this.on.resend(msg.from_seq);
        break;
      case 'pong':
        this.clock.onPong(msg);
        break;
      case 'error':
        warn(`StreamDOM hub error ${msg.error}: ${msg.message ?? ''}`);
        break;
    }
  }
}
