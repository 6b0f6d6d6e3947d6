// The watch page's view: draws the badge, timeline, controls and delay read-out from the stream
// and the player, turns clicks into player events, makes the page's replayers, and exposes
// `window.__streamdom` for tests and the curious.

import { Replayer, type eventWithTime } from 'rrweb';
import { el, fmtDuration } from '../common';
import { hoverChange } from './feed';
import { fmtLatency, type LiveTiming } from './live';
import { viewState } from './machine';
import type { Player, ReplayerFactory } from './player';
import type { Stream } from './stream';

const $ = <T extends HTMLElement>(testid: string) => document.querySelector(`[data-testid="${testid}"]`) as T;
const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

/**
 * The parts of rrweb's Replayer (2.x) the live path reaches past its public API: casting an event
 * now (its live mode would wait a microtask and an animation frame per event), the event list a
 * live rebuild reads, the emitter whose `flush` draws the pointer at its last position, and the
 * hover emulation replaced by hoverByDifference.
 */
interface ReplayerInternals {
  getCastFn(event: eventWithTime, isSync: boolean): () => void;
  service: { state: { context: { events: eventWithTime[] } } };
  emitter: { emit(type: string): void };
  hoverElements(el: Element): void;
}

/** Hover emulation that touches only the elements entering or leaving the hovered chain. */
function hoverByDifference(r: Replayer): void {
  let hovered: Element[] = [];
  (r as unknown as ReplayerInternals).hoverElements = (target: Element) => {
    const chain: Element[] = [];
    for (let e: Element | null = target; e; e = e.parentElement) chain.push(e);
    const { remove, add } = hoverChange(hovered, chain);
    for (const e of remove) e.classList.remove(':hover');
    for (const e of add) e.classList.add(':hover');
    hovered = chain;
  };
}

// A blocked element (the recorder marks it with rrweb's block class) has its recorded size,
// padding and border included, and shows as a hatched box.
const BLOCKED_STYLE = '.rr-block { box-sizing: border-box !important; background: repeating-linear-gradient(45deg, #ccc 0 6px, #eee 6px 12px) !important; }';

export class View {
  private playerEl = $<HTMLDivElement>('player');
  private timeline = $<HTMLInputElement>('timeline');
  private playToggle = $<HTMLButtonElement>('play-toggle');
  private goLiveBtn = $<HTMLButtonElement>('go-live');
  private copyBtn = $<HTMLButtonElement>('copy-link');
  private latencyEl = $<HTMLSpanElement>('latency');
  private speedSel = byId<HTMLSelectElement>('speed');
  private skipBox = byId<HTMLInputElement>('skip');
  private timeLabel = byId<HTMLElement>('time');
  private statusEl = byId<HTMLElement>('status');
  private badgeSlot = byId<HTMLElement>('badge-slot');
  /** The timeline is being dragged: render leaves it alone. */
  private dragging = false;
  private dims = { width: 0, height: 0 };
  private parts: { stream: Stream; player: Player; timing: LiveTiming } | null = null;

  constructor(private sessionId: string) {
    byId<HTMLElement>('session-id').textContent = sessionId;
    new ResizeObserver(() => this.fit()).observe(this.playerEl);
  }

  setStatus(text: string): void {
    this.statusEl.textContent = text;
    this.statusEl.hidden = !text;
  }

  replayConfig(): { speed: number; skipInactive: boolean } {
    return { speed: Number(this.speedSel.value), skipInactive: this.skipBox.checked };
  }

  /** Replayers drawn into the player element, scaled to fit it. */
  replayers(): ReplayerFactory {
    return {
      create: (events, config) => {
        const r = new Replayer(events, { ...config, root: this.playerEl, insertStyleRules: [BLOCKED_STYLE] });
        r.on('resize', (d) => { this.dims = d as typeof this.dims; this.fit(); });
        hoverByDifference(r);
        return r;
      },
      clear: () => this.playerEl.replaceChildren(),
      apply: (replayer, events, sync) => {
        const r = replayer as unknown as ReplayerInternals;
        const held = r.service.state.context.events;
        for (const e of events) {
          held.push(e);
          // One event the replay cannot apply (a recorded page is anything) must not cost the rest.
          try { r.getCastFn(e, sync)(); } catch (err) { console.warn('StreamDOM: could not replay an event', err); }
        }
        if (sync) r.emitter.emit('flush');
      },
    };
  }

  /** Wire the controls, the 100 ms refresh and the test hook. */
  bind(stream: Stream, player: Player, timing: LiveTiming): void {
    this.parts = { stream, player, timing };
    let stateAtDrag = viewState(player.state);
    this.timeline.addEventListener('input', () => {
      if (!this.dragging) stateAtDrag = viewState(player.state);
      this.dragging = true;
      this.timeLabel.textContent = `${fmtDuration(Number(this.timeline.value))} / ${fmtDuration(Number(this.timeline.max))}`;
    });
    this.timeline.addEventListener('change', () => {
      this.dragging = false;
      void player.send({ type: 'seek', ms: Number(this.timeline.value), play: stateAtDrag !== 'paused' });
    });
    this.playToggle.addEventListener('click', () => {
      void player.send({ type: viewState(player.state) === 'paused' ? 'play' : 'pause' });
      this.render();
    });
    this.goLiveBtn.addEventListener('click', () => void player.send({ type: 'go-live' }));
    this.speedSel.addEventListener('change', () => player.setReplayConfig({ speed: Number(this.speedSel.value) }));
    this.skipBox.addEventListener('change', () => player.setReplayConfig({ skipInactive: this.skipBox.checked }));
    this.copyBtn.addEventListener('click', () => void this.copyLink(player.currentTimeMs()));
    setInterval(() => { player.tick(); this.render(); }, 100);

    (window as unknown as { __streamdom: unknown }).__streamdom = {
      get replayer() { return player.replayer; },
      get state() { return viewState(player.state); },
      get session() { return stream.session; },
      get events() { return stream.store.recs; },
      clock: stream.clock,
      timing,
      /** The latest live delay measurement (null until one), for tests and the curious. */
      get latency() { return player.latency && { ...player.latency, synced: timing.synced, bufferMs: timing.bufferMs }; },
      currentTimeMs: () => player.currentTimeMs(),
    };
  }

  render(): void {
    if (!this.parts) return;
    const { stream, player, timing } = this.parts;
    const isLive = stream.sessionLive;
    const state = viewState(player.state);
    const badge = this.badgeSlot.querySelector('[data-testid="live-badge"]');
    if (isLive && !badge) this.badgeSlot.append(el('span', { class: 'badge', 'data-testid': 'live-badge' }, 'LIVE'));
    if (!isLive && badge) badge.remove();
    this.goLiveBtn.disabled = !isLive || state === 'live';
    this.playToggle.textContent = state === 'paused' ? 'Play' : 'Pause';
    this.playToggle.dataset.state = state;
    document.body.dataset.state = state;
    const now = player.currentTimeMs();
    const max = Math.max(now, stream.lastTs() - stream.sessionStart());
    if (!this.dragging) {
      this.timeline.max = String(Math.round(max));
      this.timeline.value = String(Math.round(now));
      this.timeLabel.textContent = `${fmtDuration(now)} / ${fmtDuration(max)}`;
    }
    const isLiveView = state === 'live' && isLive;
    this.latencyEl.textContent = isLiveView ? fmtLatency(player.latency, timing.synced) : '—';
    this.latencyEl.dataset.state = isLiveView ? (player.latency && timing.synced ? 'measured' : 'pending') : 'off';
  }

  private fit(): void {
    const wrapper = this.playerEl.querySelector<HTMLElement>('.replayer-wrapper');
    const { width, height } = this.dims;
    if (!wrapper || !width || !height) return;
    const scale = Math.min(this.playerEl.clientWidth / width, this.playerEl.clientHeight / height);
    wrapper.style.transform = `scale(${scale})`;
    wrapper.style.left = `${Math.max(0, (this.playerEl.clientWidth - width * scale) / 2)}px`;
  }

  private async copyLink(ms: number): Promise<void> {
    const project = new URLSearchParams(location.search).get('project');
    const inProject = project ? `project=${encodeURIComponent(project)}&` : '';
    const link = `${location.origin}/sessions/${encodeURIComponent(this.sessionId)}?${inProject}t=${Math.round(ms)}`;
    this.copyBtn.dataset.link = link;
    try {
      await navigator.clipboard.writeText(link);
      this.copyBtn.textContent = 'Copied';
    } catch {
      // Clipboard needs a secure context; show the link to copy by hand instead.
      window.prompt('Link to this moment', link);
    }
    setTimeout(() => (this.copyBtn.textContent = 'Copy link to this moment'), 1500);
  }
}
