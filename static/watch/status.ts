// The watch page's one visible state (`data-testid="player-state"`): which of connecting, live,
// rewound, reconnecting, visitor-left, ended, not-found and no-snapshot the page is in, derived
// from plain facts about the stream and the player, with the message and the way forward each
// shows; also whether the visitor is still on the page, from the recorder's `$visibility` events.

import type { PlayerState } from './machine';
import { EVENT_FULL_SNAPSHOT, EVENT_META, type Rec } from './store';

export type PageState = 'connecting' | 'live' | 'rewound' | 'reconnecting' | 'visitor-left' | 'ended' | 'not-found' | 'no-snapshot';

/** What the page knows, gathered by the view from the stream and the player. */
export interface Facts {
  /** The hub said the session does not exist (or its id is not a session id). */
  notFound: boolean;
  /** The main socket is closed and retrying (the hub is unreachable or restarting). */
  down: boolean;
  /** The hub has sent everything so far at least once (caught up, or ended). */
  began: boolean;
  /** The session is over: nothing more will come. */
  over: boolean;
  /** The store holds a full snapshot to show. */
  hasSnapshot: boolean;
  /** The visitor's page is hidden or unloaded (see Presence). */
  visitorGone: boolean;
  player: PlayerState;
}

/** What to offer in each state: a button the view wires, or a link. */
export type Action = { kind: 'go-live' } | { kind: 'replay-start' } | { kind: 'retry' } | { kind: 'sessions' } | null;

export interface Shown { state: PageState; message: string; action: Action }

/** The page's state, the most pressing first: a missing session, a lost hub, then the player's. */
export function pageState(f: Facts): PageState {
  if (f.notFound) return 'not-found';
  if (f.down && !f.over) return 'reconnecting';
  if (!f.began) return 'connecting';
  if (!f.hasSnapshot) return 'no-snapshot';
  if (f.over || f.player.name === 'ended') return 'ended';
  if (f.player.name === 'paused' || f.player.name === 'replaying') return 'rewound';
  if (f.visitorGone) return 'visitor-left';
  return f.player.name === 'live' ? 'live' : 'connecting';
}

/** The state with its message and the way forward. `behindMs`: how far a rewound view is behind live. */
export function shown(f: Facts, behindMs = 0): Shown {
  const state = pageState(f);
  switch (state) {
    case 'not-found':
      return { state, message: 'Session not found: the link is wrong, or the session was deleted or belongs to a project you cannot see.', action: { kind: 'sessions' } };
    case 'reconnecting':
      return { state, message: 'The hub is unreachable: reconnecting… What is shown may be out of date.', action: { kind: 'retry' } };
    case 'connecting':
      return { state, message: 'Connecting to the hub…', action: null };
    case 'no-snapshot':
      return f.over
        ? { state, message: 'This session ended before its page was captured: there is nothing to replay.', action: { kind: 'sessions' } }
        : { state, message: 'No snapshot yet: the visitor\'s page has not been captured. It shows here as soon as it is.', action: null };
    case 'ended':
      return { state, message: 'The session has ended: this is its recording.', action: { kind: 'replay-start' } };
    case 'rewound':
      return { state, message: `Rewound: behind live by ${fmtSeconds(behindMs)}.`, action: { kind: 'go-live' } };
    case 'visitor-left':
      return { state, message: 'The visitor left the page (tab hidden or closed). The session ends unless they come back.', action: { kind: 'replay-start' } };
    case 'live':
      return { state, message: 'Live', action: null };
  }
}

/** Whole seconds under a minute as "12 s", longer as "3 min 04 s". */
export function fmtSeconds(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${String(s % 60).padStart(2, '0')} s`;
}

// rrweb's EventType.Custom and IncrementalSnapshot, and the sources that mean the visitor acted.
const EVENT_CUSTOM = 5;
const EVENT_INCREMENTAL = 3;
const USER_INPUT_SOURCES = new Set([1, 2, 3, 5, 6, 12]);

/**
 * Whether the visitor is on the page, from the events in order: a `$visibility` of `hidden` or
 * `unload` means gone; `visible`, a new page (Meta or full snapshot) or any input means back.
 * Mutations alone do not (a hidden tab's timers keep changing the page).
 */
export class Presence {
  gone = false;
  private lastSeq = 0;

  /** Events may arrive out of seq order (history and live overlap): only the newest counts. */
  onEvent(r: Rec): void {
    if (r.seq < this.lastSeq) return;
    const e = r.event as { type: number; data?: { tag?: unknown; payload?: { state?: unknown }; source?: unknown } };
    let verdict: boolean | null = null;
    if (e.type === EVENT_CUSTOM && e.data?.tag === '$visibility') {
      const s = e.data.payload?.state;
      if (s === 'hidden' || s === 'unload') verdict = true;
      else if (s === 'visible') verdict = false;
    } else if (e.type === EVENT_META || e.type === EVENT_FULL_SNAPSHOT) verdict = false;
    else if (e.type === EVENT_INCREMENTAL && USER_INPUT_SOURCES.has(e.data?.source as number)) verdict = false;
    if (verdict === null) return;
    this.lastSeq = r.seq;
    this.gone = verdict;
  }
}
