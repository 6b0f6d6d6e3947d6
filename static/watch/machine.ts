// The watch page's player as an explicit state machine: its states, the events that move it, and
// a pure transition function that also names the effect player.ts must carry out.
//
//   waiting ──caught-up──▶ live ⇄ paused ⇄ replaying ──end──▶ ended (held or playing)
//
// "Reconnect", "end" and "rewind" are transitions here, not flags scattered over a script.

export type PlayerState =
  /** Nothing shown yet: the hub has not caught up. `t`: the moment the link asked for (?t=), if any. */
  | { name: 'waiting'; t: number | null }
  /** Following the session as it happens (or waiting for its first full snapshot). */
  | { name: 'live' }
  /** Holding one moment of a session that is still live. */
  | { name: 'paused' }
  /** Playing the recording of a session that is still live; reaching its end goes live. */
  | { name: 'replaying' }
  /** The session is over; its recording is held or played. */
  | { name: 'ended'; playing: boolean };

export type PlayerEvent =
  /** From the stream: the hub sent everything so far, and the session is live. */
  | { type: 'caught-up' }
  /** From the stream: the session ended; provisional when the hub may see its recorder come back. */
  | { type: 'end'; provisional: boolean }
  /** From the stream: the moment to open at can be shown (the rest still comes); `over`: the session ended. */
  | { type: 'ready'; over: boolean }
  /** From the controls. `ms`: from the session's start. */
  | { type: 'play' }
  | { type: 'pause' }
  | { type: 'seek'; ms: number; play: boolean }
  | { type: 'go-live' }
  /** From the replayer: it played to the end of what it holds. */
  | { type: 'finish' };

export type Effect =
  /** Build the live replayer from the newest full snapshot held. */
  | { kind: 'live' }
  /** Open the recording at `ms` from the session's start (null: where the player is now). */
  | { kind: 'replay'; ms: number | null; play: boolean }
  /** Hold the replayer where it is. */
  | { kind: 'pause' };

export interface Step { state: PlayerState; effect: Effect | null }

const LIVE: PlayerState = { name: 'live' };
const PAUSED: PlayerState = { name: 'paused' };
const REPLAYING: PlayerState = { name: 'replaying' };
const ended = (playing: boolean): PlayerState => ({ name: 'ended', playing });
const replay = (ms: number | null, play: boolean): Effect => ({ kind: 'replay', ms, play });
const live: Step = { state: LIVE, effect: { kind: 'live' } };

/** The next state and what to do to get there; an event a state does not take leaves it as it is. */
export function transition(s: PlayerState, e: PlayerEvent): Step {
  const stay: Step = { state: s, effect: null };
  // The stream reconnects after a provisional end; the picture stays as it is meanwhile.
  if (e.type === 'end' && e.provisional) return stay;
  switch (s.name) {
    case 'waiting':
      if (e.type === 'caught-up') return s.t === null ? live : { state: PAUSED, effect: replay(s.t, false) };
      // A recording opens as soon as its first moment is in; a live session waits for the edge.
      if (e.type === 'ready') {
        if (e.over) return { state: ended(s.t === null), effect: replay(s.t ?? 0, s.t === null) };
        return s.t === null ? stay : { state: PAUSED, effect: replay(s.t, false) };
      }
      // A session that is over plays from its start, or holds the moment the link asked for.
      if (e.type === 'end') return { state: ended(s.t === null), effect: replay(s.t ?? 0, s.t === null) };
      return stay;
    case 'live':
      if (e.type === 'end') return { state: ended(false), effect: replay(null, false) };
      if (e.type === 'pause') return { state: PAUSED, effect: replay(null, false) };
      if (e.type === 'seek') return { state: e.play ? REPLAYING : PAUSED, effect: replay(e.ms, e.play) };
      return stay;
    case 'paused':
    case 'replaying': {
      const playing = s.name === 'replaying';
      // The recording keeps what it shows; only going live is no longer possible.
      if (e.type === 'end') return { state: ended(playing), effect: null };
      // Playing to the end of a live session is the same as going live.
      if (e.type === 'go-live' || (e.type === 'finish' && playing)) return live;
      return playback(s, e, playing, (p) => (p ? REPLAYING : PAUSED));
    }
    case 'ended':
      if (e.type === 'finish' && s.playing) return { state: ended(false), effect: null };
      return playback(s, e, s.playing, ended);
  }
}

/** Play, pause and seek within a recording; `to` gives the state for playing or holding. */
function playback(s: PlayerState, e: PlayerEvent, playing: boolean, to: (playing: boolean) => PlayerState): Step {
  if (e.type === 'seek') return { state: to(e.play), effect: replay(e.ms, e.play) };
  if (e.type === 'play' && !playing) return { state: to(true), effect: replay(null, true) };
  if (e.type === 'pause' && playing) return { state: to(false), effect: { kind: 'pause' } };
  return { state: s, effect: null };
}

/** The state's playing variant held still: what is left when a replay cannot open. */
export function held(s: PlayerState): PlayerState {
  if (s.name === 'replaying') return PAUSED;
  if (s.name === 'ended' && s.playing) return ended(false);
  return s;
}

/** The state as the page's controls and tests have always named it. */
export function viewState(s: PlayerState): 'live' | 'paused' | 'replay' {
  if (s.name === 'live') return 'live';
  return s.name === 'replaying' || (s.name === 'ended' && s.playing) ? 'replay' : 'paused';
}
