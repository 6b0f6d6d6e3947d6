// Watch page: one session, live with the least delay (and rewind), or as a recording, from /ws/watch/{id}.

import { Replayer, type eventWithTime } from 'rrweb';
import { ClockSync } from '@streamdom/recorder/clock';
import { CLOSE, type EventEnvelope, type HubToViewer, type SessionInfo, type ViewerToHub } from '@streamdom/recorder/protocol';
import { ReconnectingSocket } from '@streamdom/recorder/reconnect';
import { el, fmtDuration, wsUrl } from './common';
import { LiveTiming, fmtLatency, type Latency } from './live';

/** An event as the hub sends it, plus when this page received it (Date.now()). */
type Rec = Omit<EventEnvelope, 'event'> & { event: eventWithTime; recv?: number };
type State = 'live' | 'paused' | 'replay';

const EVENT_META = 4;
const EVENT_FULL_SNAPSHOT = 2;

const sessionId = decodeURIComponent(location.pathname.split('/').filter(Boolean)[1] ?? '');
const query = new URLSearchParams(location.search);
const initialT = query.has('t') ? Math.max(0, Number(query.get('t')) || 0) : null;

const $ = <T extends HTMLElement>(testid: string) => document.querySelector(`[data-testid="${testid}"]`) as T;
const player = $<HTMLDivElement>('player');
const timeline = $<HTMLInputElement>('timeline');
const playToggle = $<HTMLButtonElement>('play-toggle');
const goLiveBtn = $<HTMLButtonElement>('go-live');
const copyBtn = $<HTMLButtonElement>('copy-link');
const speedSel = document.getElementById('speed') as HTMLSelectElement;
const skipBox = document.getElementById('skip') as HTMLInputElement;
const timeLabel = document.getElementById('time')!;
const statusEl = document.getElementById('status')!;
const badgeSlot = document.getElementById('badge-slot')!;
document.getElementById('session-id')!.textContent = sessionId;

// Every event received, ordered by seq, so that rewinding never needs the network when history is complete.
const recs: Rec[] = [];
const seen = new Set<number>();
let historyComplete = false;
let historyLoad: Promise<void> | null = null;
/** `recs` may miss events in the middle (after a `viewer_too_slow` reconnect) until history is reloaded. */
let gapped = false;
/** Whether the main socket's stream began at the session's first event (from=start, or an ended session). */
let streamIsFull = false;

let session: SessionInfo | null = null;
let ended = false;
let started = false;
let state: State = 'paused';
let replayer: Replayer | null = null;
/** Timestamp of the first event the current replayer holds (its time 0). */
let replayerFirstTs = 0;
/** The live replayer's baseline: its time 0 is this visitor timestamp. */
let liveBase = 0;
let lastFedSeq = 0;
/** Live events fed to the replayer, to measure their delay when it applies them. */
const fedLive = new WeakMap<object, Rec>();
let latency: Latency | null = null;
let dims = { width: 0, height: 0 };

const sessionStart = () => session?.first_event_ts ?? recs[0]?.event.timestamp ?? 0;
const lastTs = () => recs[recs.length - 1]?.event.timestamp ?? sessionStart();

function currentAbs(): number {
  if (!replayer) return lastTs();
  if (state === 'live') return timing.target();
  try { return replayerFirstTs + replayer.getCurrentTime(); } catch { return replayerFirstTs; }
}
const currentTimeMs = () => Math.max(0, currentAbs() - sessionStart());

function setStatus(text: string): void { statusEl.textContent = text; statusEl.hidden = !text; }

/** Insert in seq order; returns false for a duplicate (history and live overlap on purpose). */
function ingest(r: Rec): boolean {
  if (seen.has(r.seq)) return false;
  seen.add(r.seq);
  let i = recs.length;
  while (i > 0 && recs[i - 1].seq > r.seq) i--;
  recs.splice(i, 0, r);
  if (state === 'live') {
    if (!replayer && r.event.type === EVENT_FULL_SNAPSHOT) goLive();
    else if (replayer && r.seq > lastFedSeq) feedLive(r);
  } else if (replayer && r.event.timestamp >= replayerFirstTs) {
    // The recording being replayed keeps growing while the session is live.
    replayer.addEvent(r.event);
  }
  return true;
}

function destroyReplayer(): void {
  if (!replayer) return;
  try { replayer.destroy(); } catch { /* already torn down */ }
  replayer = null;
  player.replaceChildren();
}

function wire(r: Replayer): void {
  r.on('resize', (d) => { dims = d as typeof dims; fit(); });
  r.on('event-cast', (e) => {
    const rec = fedLive.get(e as object);
    if (!rec || replayer !== r || state !== 'live' || rec.recv === undefined) return;
    latency = timing.measure(rec.event.timestamp, rec.hub_time, rec.recv) ?? latency;
  });
  r.on('finish', () => {
    // Seeking to the end while paused also "finishes"; only a playing recording moves on.
    if (replayer !== r || state !== 'replay') return;
    // Playing to the end of a live session is the same as going live.
    if (session?.active && !ended) goLive();
    else state = 'paused';
    render();
  });
  replayer = r;
}

/** Index where the newest Meta + FullSnapshot pair starts: the only safe point to start a live replayer. */
function latestSnapshotIndex(): number {
  for (let i = recs.length - 1; i >= 0; i--) {
    if (recs[i].event.type !== EVENT_FULL_SNAPSHOT) continue;
    return i > 0 && recs[i - 1].event.type === EVENT_META ? i - 1 : i;
  }
  return -1;
}

function goLive(): void {
  destroyReplayer();
  state = 'live';
  latency = null;
  const start = latestSnapshotIndex();
  if (start < 0) { setStatus('Waiting for the first snapshot…'); render(); return; }
  setStatus('');
  const batch = recs.slice(start);
  // History up to now is applied "in sync" (fast-forward). rrweb's virtual DOM would hold those
  // mutations until a flush that live mode never triggers, so the live replayer writes the real DOM.
  // Animations keep running: the page is live, not paused.
  const r = new Replayer([], { root: player, liveMode: true, showWarning: false, mouseTail: false, useVirtualDom: false, pauseAnimation: false });
  // Baseline from the recorded timestamps, never the viewer's clock (the visitor's may be minutes off):
  // everything held so far is in the past and is applied at once, from the snapshot on.
  liveBase = batch[batch.length - 1].event.timestamp + 1;
  timing.reset(liveBase);
  r.startLive(liveBase);
  replayerFirstTs = batch[0].event.timestamp;
  for (const b of batch) r.addEvent(b.event);
  lastFedSeq = batch[batch.length - 1].seq;
  wire(r);
  syncTimer();
  render();
}

/**
 * Sets the live replayer's clock to the moment it should show (LiveTiming.target): rrweb applies a
 * live event once its timer reaches `timestamp − liveBase`, and advances that timer in real time
 * between these corrections. Before clock sync the target follows the newest event; after it, the
 * visitor's clock mapped onto this page's, minus a buffer sized to the measured jitter.
 */
function syncTimer(): void {
  if (!replayer || state !== 'live') return;
  // lastTimestamp is private in rrweb's types; it is where the timer measures elapsed time from.
  const timer = replayer.timer as unknown as { timeOffset: number; lastTimestamp: number };
  timer.timeOffset = timing.target() - liveBase;
  timer.lastTimestamp = performance.now();
}

function feedLive(r: Rec): void {
  timing.onArrival(r.event.timestamp, r.recv ?? Date.now());
  fedLive.set(r.event, r);
  syncTimer();
  replayer!.addEvent(r.event);
  lastFedSeq = r.seq;
}

/** Play (or hold) the recording at `ms` from the session's start. */
async function openReplay(ms: number, play: boolean): Promise<void> {
  const target = sessionStart() + ms;
  if (!historyComplete && (gapped || !(recs.length && recs[0].event.timestamp <= target))) {
    setStatus('Loading history…');
    await loadHistory();
    setStatus('');
  }
  const reuse = replayer && state !== 'live' && replayerFirstTs <= target;
  if (!reuse) {
    destroyReplayer();
    if (recs.length < 2) { setStatus('Nothing recorded yet.'); render(); return; }
    const events = recs.map((r) => r.event);
    replayerFirstTs = events[0].timestamp;
    wire(new Replayer(events, { root: player, speed: Number(speedSel.value), skipInactive: skipBox.checked, showWarning: false, mouseTail: false }));
  }
  const offset = Math.max(0, target - replayerFirstTs);
  if (play) { replayer!.play(offset); state = 'replay'; } else { replayer!.pause(offset); state = 'paused'; }
  render();
}

/**
 * Flow control: the hub sends history only while less than 4 MiB is unacknowledged, and cuts a live
 * viewer 32 MiB behind; acknowledging each batch once it is handled keeps both moving.
 */
function ack(send: (m: ViewerToHub) => void, events: { seq: number }[]): void {
  const last = events[events.length - 1];
  if (last) send({ type: 'ack', seq: last.seq });
}

/** A second socket from the session's first event; merged by seq, closed once it reaches live or end. */
function loadHistory(): Promise<void> {
  if (historyComplete) return Promise.resolve();
  return (historyLoad ??= new Promise<void>((resolve) => {
    const ws = new WebSocket(wsUrl(`/ws/watch/${encodeURIComponent(sessionId)}?from=start`));
    const finish = (complete: boolean) => {
      historyComplete ||= complete;
      if (complete) gapped = false;
      historyLoad = null;
      ws.onclose = null;
      if (ws.readyState <= WebSocket.OPEN) ws.close(1000);
      resolve();
    };
    ws.onmessage = (ev) => {
      const msg = JSON.parse(ev.data) as HubToViewer;
      if (msg.type === 'events') {
        (msg.events as Rec[]).forEach(ingest);
        ack((m) => ws.send(JSON.stringify(m)), msg.events);
      } else if (msg.type === 'live' || msg.type === 'end') finish(true);
    };
    ws.onclose = () => finish(false);
  }));
}

// This page's clock offset to the hub; with the recorder's it maps visitor time onto ours.
const clock = new ClockSync((m) => main.send(m));
const timing = new LiveTiming(clock);
const latencyEl = $<HTMLSpanElement>('latency');
let mainFrom = initialT !== null ? 'start' : 'live';
/** Whether this connection's `session` message called the session active. */
let sessionSaidActive = false;
/** The hub sent `end` for a session it still calls active: reconnect rather than stop. */
let provisionalEnd = false;
const RESUME_CHECK_MS = 1000;

const main = new ReconnectingSocket<HubToViewer, ViewerToHub>(
  () => `${wsUrl(`/ws/watch/${encodeURIComponent(sessionId)}`)}?from=${mainFrom}`,
  {
    onOpen: () => clock.start(),
    onMessage: (msg) => onMain(msg),
    onClose: (code) => {
      clock.stop();
      if (code === CLOSE.session_not_found) { setStatus('Session not found.'); return false; }
      if (ended) return false;
      // The hub had no recorder for a session it still holds open (it restarted): the recorder is
      // probably on its way back, so look again shortly, from where this page is.
      if (provisionalEnd) {
        provisionalEnd = false;
        if (recs.length) mainFrom = String(Math.max(0, Math.floor(lastTs() - sessionStart())));
        return RESUME_CHECK_MS;
      }
      if (code === CLOSE.viewer_too_slow) {
        // Skipping ahead leaves a hole in `recs`; rewinding fetches the whole history again.
        mainFrom = 'live';
        historyComplete = false;
        gapped = true;
        return;
      }
      // Resume at the snapshot before the last event held: an overlap (dropped by seq), never a gap.
      if (recs.length) mainFrom = String(Math.max(0, Math.floor(lastTs() - sessionStart())));
    },
  },
);
main.connect();

function onMain(msg: HubToViewer): void {
  switch (msg.type) {
    case 'session':
      sessionSaidActive = msg.session.active;
      session = msg.session;
      // For an ended session the hub treats from=live as from=start: the whole recording, then `end`.
      streamIsFull = mainFrom === 'start' || (mainFrom === 'live' && !session.active);
      if (!session.active) ended = true;
      break;
    case 'events': {
      const recv = Date.now();
      const batch = msg.events as Rec[];
      for (const r of batch) r.recv = recv;
      batch.forEach(ingest);
      ack((m) => main.send(m), msg.events);
      break;
    }
    case 'clock':
      timing.onClock(msg.recorder_offset, msg.recorder_rtt);
      break;
    case 'live':
      if (streamIsFull) historyComplete = true;
      if (!started) void begin();
      break;
    case 'end':
      if (sessionSaidActive && started) {
        // Not really ended: the hub has no recorder for it right now (see onClose).
        provisionalEnd = true;
        break;
      }
      ended = true;
      if (session) session.active = false;
      if (streamIsFull) historyComplete = true;
      if (!started) void begin();
      else if (state === 'live') void openReplay(currentTimeMs(), false);
      break;
    case 'pong':
      clock.onPong(msg);
      break;
    case 'error':
      setStatus(`${msg.error}: ${msg.message}`);
      break;
  }
  render();
}

async function begin(): Promise<void> {
  started = true;
  if (!ended && initialT === null) return goLive();
  await openReplay(initialT ?? 0, initialT === null);
}

// ---- controls ----

let dragging = false;
let stateAtDrag: State = 'paused';
timeline.addEventListener('input', () => {
  if (!dragging) stateAtDrag = state;
  dragging = true;
  timeLabel.textContent = `${fmtDuration(Number(timeline.value))} / ${fmtDuration(Number(timeline.max))}`;
});
timeline.addEventListener('change', () => {
  dragging = false;
  void openReplay(Number(timeline.value), stateAtDrag !== 'paused');
});
playToggle.addEventListener('click', () => {
  if (state === 'live') void openReplay(currentTimeMs(), false);
  else if (state === 'replay') { replayer?.pause(); state = 'paused'; }
  else void openReplay(currentTimeMs(), true);
  render();
});
goLiveBtn.addEventListener('click', goLive);
speedSel.addEventListener('change', () => { if (state !== 'live') replayer?.setConfig({ speed: Number(speedSel.value) }); });
skipBox.addEventListener('change', () => { if (state !== 'live') replayer?.setConfig({ skipInactive: skipBox.checked }); });
copyBtn.addEventListener('click', async () => {
  const link = `${location.origin}/sessions/${encodeURIComponent(sessionId)}?t=${Math.round(currentTimeMs())}`;
  copyBtn.dataset.link = link;
  try {
    await navigator.clipboard.writeText(link);
    copyBtn.textContent = 'Copied';
  } catch {
    // Clipboard needs a secure context; show the link to copy by hand instead.
    window.prompt('Link to this moment', link);
  }
  setTimeout(() => (copyBtn.textContent = 'Copy link to this moment'), 1500);
});

function fit(): void {
  const wrapper = player.querySelector<HTMLElement>('.replayer-wrapper');
  if (!wrapper || !dims.width || !dims.height) return;
  const scale = Math.min(player.clientWidth / dims.width, player.clientHeight / dims.height);
  wrapper.style.transform = `scale(${scale})`;
  wrapper.style.left = `${Math.max(0, (player.clientWidth - dims.width * scale) / 2)}px`;
}
new ResizeObserver(fit).observe(player);

function render(): void {
  const isLive = !!session?.active && !ended;
  const badge = badgeSlot.querySelector('[data-testid="live-badge"]');
  if (isLive && !badge) badgeSlot.append(el('span', { class: 'badge', 'data-testid': 'live-badge' }, 'LIVE'));
  if (!isLive && badge) badge.remove();
  goLiveBtn.disabled = !isLive || state === 'live';
  playToggle.textContent = state === 'replay' ? 'Pause' : state === 'live' ? 'Pause' : 'Play';
  playToggle.dataset.state = state;
  document.body.dataset.state = state;
  const now = currentTimeMs();
  const max = Math.max(now, lastTs() - sessionStart());
  if (!dragging) {
    timeline.max = String(Math.round(max));
    timeline.value = String(Math.round(now));
    timeLabel.textContent = `${fmtDuration(now)} / ${fmtDuration(max)}`;
  }
  const isLiveView = state === 'live' && isLive;
  latencyEl.textContent = isLiveView ? fmtLatency(latency, timing.synced) : '—';
  latencyEl.dataset.state = isLiveView ? (latency && timing.synced ? 'measured' : 'pending') : 'off';
}
setInterval(() => { syncTimer(); render(); }, 100);
render();

(window as unknown as { __streamdom: unknown }).__streamdom = {
  get replayer() { return replayer; },
  get state() { return state; },
  get session() { return session; },
  get events() { return recs; },
  clock,
  timing,
  /** The latest live delay measurement (null until one), for tests and the curious. */
  get latency() { return latency && { ...latency, synced: timing.synced, bufferMs: timing.bufferMs }; },
  currentTimeMs,
};
