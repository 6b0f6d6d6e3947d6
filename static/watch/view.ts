// The watch page's view: draws the badge, timeline and controls from the stream and the player
// (stateview.ts the state line and delay read-out; context.ts the markers, URL and details;
// feedview.ts and panelview.ts the side panels), turns clicks into player events, makes the page's
// replayers, and exposes `window.__streamdom` for tests and the curious.

import { Replayer, type eventWithTime } from 'rrweb';
import { el, fmtDuration } from '../common';
import { hoverChange } from './feed';
import { DetailsView, TimelineView } from './context';
import { FeedView } from './feedview';
import { CONSOLE_LEVELS, NETWORK_GROUPS, consoleRows, networkRows } from './panels';
import { PanelView } from './panelview';
import type { LiveTiming } from './live';
import { viewState } from './machine';
import type { Markers } from './markers';
import type { Player, ReplayerFactory } from './player';
import { linkQuery, type LinkState } from './share';
import { bindShortcuts } from './shortcuts';
import { StateView } from './stateview';
import { fmtSeconds, shown, type Presence } from './status';
import type { Rec, Stream } from './stream';

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
    // rrweb hands over whatever node a recorded id names: a text node, or the document itself
    // (a hostile recording's click on id 1). Only elements have classes.
    for (let e: Element | null = target; e; e = e.parentElement) if (e.classList) chain.push(e);
    const { remove, add } = hoverChange(hovered, chain);
    for (const e of remove) e.classList.remove(':hover');
    for (const e of add) e.classList.add(':hover');
    hovered = chain;
  };
}

// A blocked element (the recorder marks it with rrweb's block class) has its recorded size,
// padding and border included, and shows as a hatched box.
const BLOCKED_STYLE = '.rr-block { box-sizing: border-box !important; background: repeating-linear-gradient(45deg, #ccc 0 6px, #eee 6px 12px) !important; }';

/** The side panels, markers and details are drawn at most this often (the 100 ms refresh catches up). */
const SIDE_MS = 50;

export class View {
  private playerEl = $<HTMLDivElement>('player');
  private timeline = $<HTMLInputElement>('timeline');
  private playToggle = $<HTMLButtonElement>('play-toggle');
  private goLiveBtn = $<HTMLButtonElement>('go-live');
  private copyBtn = $<HTMLButtonElement>('copy-link');
  private speedSel = byId<HTMLSelectElement>('speed');
  private skipBox = byId<HTMLInputElement>('skip');
  private timeLabel = byId<HTMLElement>('time');
  private statusEl = byId<HTMLElement>('status');
  private badgeSlot = byId<HTMLElement>('badge-slot');
  private timelineView: TimelineView | null = null;
  private details = new DetailsView();
  private stateView = new StateView();
  private sideAt = -Infinity;
  feed: FeedView | null = null;
  /** The event a link (?event=) points at, until the feed holds it. */
  private pendingEvent: number | null = null;
  consolePanel: PanelView | null = null;
  networkPanel: PanelView | null = null;
  /** The timeline is being dragged: render leaves it alone. */
  private dragging = false;
  private dims = { width: 0, height: 0 };
  private parts: { stream: Stream; player: Player; timing: LiveTiming; presence: Presence; markers: Markers } | null = null;

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

  /** A new event from the stream (already in the store): the feed and panels take it. */
  onEvent(r: Rec): void {
    this.feed?.model.add(r);
    this.consolePanel?.add(r);
    this.networkPanel?.add(r);
  }

  /** The session as the API describes it (user, device, browser, OS), for the details panel. */
  setSessionInfo(info: Parameters<DetailsView['setInfo']>[0]): void { this.details.setInfo(info); }

  /** Wire the controls, the 100 ms refresh and the test hook. */
  bind(stream: Stream, player: Player, timing: LiveTiming, presence: Presence, markers: Markers): void {
    this.parts = { stream, player, timing, presence, markers };
    this.timelineView = new TimelineView((ms) => void player.send({ type: 'seek', ms, play: false }));
    this.feed = new FeedView((ts) => void player.send({ type: 'seek', ms: Math.max(0, ts - stream.sessionStart()), play: false }));
    const seekTs = (ts: number) => void player.send({ type: 'seek', ms: Math.max(0, ts - stream.sessionStart()), play: false });
    const start = () => stream.sessionStart();
    this.consolePanel = new PanelView($('console-panel'), 'console-row', CONSOLE_LEVELS, consoleRows, seekTs, start);
    this.networkPanel = new PanelView($('network-panel'), 'network-row', NETWORK_GROUPS, networkRows, seekTs, start);
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
    bindShortcuts(stream, player, (speed) => {
      this.speedSel.value = String(speed);
      player.setReplayConfig({ speed });
    });
    setInterval(() => {
      player.tick();
      // A recording is read ahead of the moment shown, once there is one (readahead.ts).
      if (player.replayer) stream.follow(stream.sessionStart() + player.currentTimeMs());
      this.render();
    }, 100);

    (window as unknown as { __streamdom: unknown }).__streamdom = {
      get replayer() { return player.replayer; },
      get state() { return viewState(player.state); },
      /** The page's state as `player-state` shows it. */
      get pageState() { return document.querySelector<HTMLElement>('[data-testid="player-state"]')?.dataset.state; },
      get session() { return stream.session; },
      get events() { return stream.store.recs; },
      clock: stream.clock,
      timing,
      /** The latest live delay measurement (null until one), for tests and the curious. */
      get latency() { return player.latency && { ...player.latency, synced: timing.synced, bufferMs: timing.bufferMs }; },
      currentTimeMs: () => player.currentTimeMs(),
      get speed() { return Number(byId<HTMLSelectElement>('speed').value); },
    };
  }

  render(): void {
    if (!this.parts) return;
    const { stream, player, timing, presence, markers } = this.parts;
    const isLive = stream.sessionLive;
    const state = viewState(player.state);
    const now = player.currentTimeMs();
    const start = stream.sessionStart();
    const max = Math.max(now, stream.lastTs() - start);
    // How far a rewound view is behind the visitor: to now on the visitor's clock when synced.
    const edge = timing.synced ? timing.target() : stream.lastTs();
    const behind = Math.max(0, edge - start - now);
    const s = shown({
      notFound: stream.notFound,
      down: stream.down,
      began: stream.caughtUp,
      over: stream.over,
      hasSnapshot: stream.store.hasSnapshot,
      visitorGone: presence.gone,
      player: player.state,
    }, behind);
    this.stateView.renderState(s, player);
    const badge = this.badgeSlot.querySelector<HTMLElement>('[data-testid="live-badge"]');
    if (isLive && !badge) this.badgeSlot.append(el('span', { class: 'badge', 'data-testid': 'live-badge' }, 'LIVE'));
    if (!isLive && badge) badge.remove();
    if (badge && isLive) {
      const text = stream.down ? 'reconnecting' : 'LIVE';
      if (badge.textContent !== text) badge.textContent = text;
      badge.classList.toggle('reconnecting', stream.down);
    }
    this.goLiveBtn.disabled = !isLive || state === 'live' || stream.down;
    this.playToggle.textContent = state === 'paused' ? 'Play' : 'Pause';
    this.playToggle.dataset.state = state;
    document.body.dataset.state = state;
    if (!this.dragging) {
      this.timeline.max = String(Math.round(max));
      this.timeline.value = String(Math.round(now));
      // Rewound on a live session, the timeline also says how far from the live edge it is.
      const behindLive = s.state === 'rewound' ? ` · ${fmtSeconds(behind)} behind live` : '';
      this.timeLabel.textContent = `${fmtDuration(now)} / ${fmtDuration(max)}${behindLive}`;
    }
    this.stateView.renderDelay(s, stream, player, timing, behind);
    // The context around the replay is redrawn at most every SIDE_MS: a live session renders on
    // every frame that brings events, and the replay's frames come first (docs/LATENCY notes).
    const t = performance.now();
    if (t - this.sideAt < SIDE_MS) return;
    this.sideAt = t;
    const all = markers.read(stream.store.recs);
    this.timelineView?.render(markers, all, { start, end: start + max, live: isLive });
    this.details.render(markers, start + now, this.dims, { info: stream.session, durationMs: stream.lastTs() - start, userId: markers.userId });
    // Once the player has opened (a seek while it waits for the hub would be lost).
    if (this.pendingEvent !== null && player.state.name !== 'waiting') {
      const e = this.feed?.entryOf(this.pendingEvent);
      if (e) {
        this.pendingEvent = null;
        this.feed?.select(e, true);
        void player.send({ type: 'seek', ms: Math.max(0, e.ts - start), play: false });
      } else if (stream.store.complete) this.pendingEvent = null;
    }
    this.feed?.setCurrent(start + now, start);
    this.feed?.render();
    this.consolePanel?.render(start + now);
    this.networkPanel?.render(start + now);
  }

  private fit(): void {
    const wrapper = this.playerEl.querySelector<HTMLElement>('.replayer-wrapper');
    const { width, height } = this.dims;
    if (!wrapper || !width || !height) return;
    const scale = Math.min(this.playerEl.clientWidth / width, this.playerEl.clientHeight / height);
    wrapper.style.transform = `scale(${scale})`;
    // Centred both ways: the recorded window rarely has the player's proportions.
    wrapper.style.left = `${Math.max(0, (this.playerEl.clientWidth - width * scale) / 2)}px`;
    wrapper.style.top = `${Math.max(0, (this.playerEl.clientHeight - height * scale) / 2)}px`;
  }

  /** The link to this moment: the time, the selected event and the panels' filters (share.ts). */
  linkToMoment(ms: number): string {
    const feed = this.feed?.filters;
    const query = linkQuery({
      project: new URLSearchParams(location.search).get('project'),
      t: ms,
      event: this.feed?.selectedSeq ?? null,
      kind: feed?.kind ?? null,
      q: feed?.q ?? null,
      console: this.consolePanel?.filterValue ?? null,
      network: this.networkPanel?.filterValue ?? null,
    });
    return `${location.origin}/sessions/${encodeURIComponent(this.sessionId)}?${query}`;
  }

  /** Apply a link's filters, and select its event once the feed holds it (see render). */
  openLink(link: LinkState): void {
    this.feed?.setFilter(link.kind, link.q);
    if (link.console) this.consolePanel?.setFilter(link.console);
    if (link.network) this.networkPanel?.setFilter(link.network);
    this.pendingEvent = link.event;
  }

  private async copyLink(ms: number): Promise<void> {
    const link = this.linkToMoment(ms);
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
