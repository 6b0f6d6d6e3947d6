// NTP-style estimate of the hub's clock relative to Date.now(), shared by the recorder and the dashboard.

import type { HubToViewer, ViewerToHub } from './protocol';

// The recorder's ping and pong have the same shape as a viewer's.
export type PingMessage = Extract<ViewerToHub, { type: 'ping' }>;
export type PongMessage = Extract<HubToViewer, { type: 'pong' }>;

const RESYNC_MS = 10_000;
// A short burst right after connecting gets a usable estimate before the first resync.
const BURST = 5;
const BURST_GAP_MS = 250;
const KEEP_SAMPLES = 8;
// A busy page (loading, rebuilding a snapshot) answers its burst late; while the best round trip
// is still above this, ping once a second for a while to get a tighter estimate.
const REFINE_RTT_MS = 10;
const REFINE_GAP_MS = 1000;
const REFINE_MAX = 20;

interface Sample { offset: number; rtt: number }

export class ClockSync {
  private samples: Sample[] = [];
  private nextId = 1;
  private timers: ReturnType<typeof setTimeout>[] = [];

  /** `onUpdate` runs after every accepted pong, with the current best estimate. */
  constructor(private send: (msg: PingMessage) => void, private onUpdate?: (offset: number, rtt: number) => void) {}

  /** Hub time minus local Date.now(), in ms; 0 until the first pong. */
  get offset(): number { return this.best()?.offset ?? 0; }
  /** Round-trip time of the sample the offset comes from; Infinity until the first pong. */
  get rtt(): number { return this.best()?.rtt ?? Infinity; }
  get synced(): boolean { return this.samples.length > 0; }
  hubNow(): number { return Date.now() + this.offset; }
  toHub(localMs: number): number { return localMs + this.offset; }
  toLocal(hubMs: number): number { return hubMs - this.offset; }

  /** Start pinging on a freshly opened connection; call stop() when it closes. */
  start(): void {
    this.stop();
    for (let i = 0; i < BURST; i++) this.timers.push(setTimeout(() => this.ping(), i * BURST_GAP_MS));
    this.timers.push(setInterval(() => this.ping(), RESYNC_MS));
    let refines = 0;
    const refine = setInterval(() => {
      if (++refines > REFINE_MAX || this.rtt <= REFINE_RTT_MS) clearInterval(refine);
      else this.ping();
    }, REFINE_GAP_MS);
    this.timers.push(refine);
  }

  stop(): void {
    // clearTimeout also clears intervals: the ids share one pool.
    this.timers.forEach((t) => clearTimeout(t));
    this.timers = [];
  }

  ping(): void {
    try { this.send({ type: 'ping', id: this.nextId++, client_time: Date.now() }); } catch { /* socket gone */ }
  }

  /** Feed a pong; returns false when it does not look like one of ours. */
  onPong(msg: PongMessage, receivedAt = Date.now()): boolean {
    const rtt = receivedAt - msg.client_time;
    if (!(rtt >= 0) || typeof msg.hub_time !== 'number' || typeof msg.id !== 'number' || msg.id >= this.nextId) return false;
    this.addSample(msg.hub_time - (msg.client_time + receivedAt) / 2, rtt);
    this.onUpdate?.(this.offset, this.rtt);
    return true;
  }

  addSample(offset: number, rtt: number): void {
    this.samples.push({ offset, rtt });
    // Old samples go first so that drift and clock jumps are forgotten.
    if (this.samples.length > KEEP_SAMPLES) this.samples.shift();
  }

  /** Forget every sample (the local clock jumped, or the peer changed). */
  reset(): void { this.samples = []; }

  // The lowest-RTT sample has the smallest error bound (±rtt/2).
  private best(): Sample | undefined {
    let best: Sample | undefined;
    for (const s of this.samples) if (!best || s.rtt < best.rtt) best = s;
    return best;
  }
}
