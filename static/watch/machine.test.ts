// Unit tests of machine.ts: every state × event the player takes, and what each must leave alone.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { held, transition, viewState, type Effect, type PlayerEvent, type PlayerState } from './machine';

const waiting = (t: number | null = null): PlayerState => ({ name: 'waiting', t });
const live: PlayerState = { name: 'live' };
const paused: PlayerState = { name: 'paused' };
const replaying: PlayerState = { name: 'replaying' };
const ended = (playing: boolean): PlayerState => ({ name: 'ended', playing });

const caughtUp: PlayerEvent = { type: 'caught-up' };
const end: PlayerEvent = { type: 'end', provisional: false };
const provisionalEnd: PlayerEvent = { type: 'end', provisional: true };
const play: PlayerEvent = { type: 'play' };
const pause: PlayerEvent = { type: 'pause' };
const goLive: PlayerEvent = { type: 'go-live' };
const finish: PlayerEvent = { type: 'finish' };
const seek = (ms: number, p: boolean): PlayerEvent => ({ type: 'seek', ms, play: p });
const ready = (over: boolean): PlayerEvent => ({ type: 'ready', over });

const toLive: Effect = { kind: 'live' };
const replay = (ms: number | null, p: boolean): Effect => ({ kind: 'replay', ms, play: p });
const hold: Effect = { kind: 'pause' };

function expect(from: PlayerState, e: PlayerEvent, state: PlayerState, effect: Effect | null): void {
  assert.deepEqual(transition(from, e), { state, effect }, `${JSON.stringify(from)} + ${JSON.stringify(e)}`);
}

/** Events a state does not take leave it exactly as it is (the same object) and do nothing. */
function ignores(from: PlayerState, events: PlayerEvent[]): void {
  for (const e of events) {
    const step = transition(from, e);
    assert.equal(step.state, from, `${JSON.stringify(from)} ignores ${JSON.stringify(e)}`);
    assert.equal(step.effect, null, `${JSON.stringify(from)} + ${JSON.stringify(e)} has no effect`);
  }
}

describe('player machine', () => {
  it('waiting: goes live once the hub caught up, or holds the linked moment', () => {
    expect(waiting(), caughtUp, live, toLive);
    expect(waiting(1500), caughtUp, paused, replay(1500, false));
    expect(waiting(0), caughtUp, paused, replay(0, false));
  });

  it('waiting: a session that is already over plays from its start, or holds the linked moment', () => {
    expect(waiting(), end, ended(true), replay(0, true));
    expect(waiting(1500), end, ended(false), replay(1500, false));
  });

  it('waiting: opens a recording, or a live session\'s linked moment, as soon as its moment is in', () => {
    expect(waiting(), ready(true), ended(true), replay(0, true));
    expect(waiting(1500), ready(true), ended(false), replay(1500, false));
    expect(waiting(1500), ready(false), paused, replay(1500, false));
    ignores(waiting(), [ready(false)]);
  });

  it('ready is only for opening: every other state ignores it', () => {
    ignores(live, [ready(false), ready(true)]);
    ignores(paused, [ready(false), ready(true)]);
    ignores(replaying, [ready(true)]);
    ignores(ended(false), [ready(true)]);
    ignores(ended(true), [ready(true)]);
  });

  it('waiting: ignores the controls and the replayer until the hub has caught up', () => {
    ignores(waiting(), [play, pause, goLive, finish, seek(10, true), provisionalEnd]);
  });

  it('live: pausing holds the current moment', () => {
    expect(live, pause, paused, replay(null, false));
  });

  it('live: the end of the session holds the current moment of the recording', () => {
    expect(live, end, ended(false), replay(null, false));
  });

  it('live: a provisional end changes nothing (the stream reconnects)', () => {
    ignores(live, [provisionalEnd]);
  });

  it('live: seeking rewinds, playing or held as the timeline was', () => {
    expect(live, seek(300, true), replaying, replay(300, true));
    expect(live, seek(300, false), paused, replay(300, false));
  });

  it('live: ignores play, go-live, finish and catching up again', () => {
    ignores(live, [play, goLive, finish, caughtUp]);
  });

  it('paused: plays from where it is, seeks, or goes live again', () => {
    expect(paused, play, replaying, replay(null, true));
    expect(paused, seek(5, false), paused, replay(5, false));
    expect(paused, seek(5, true), replaying, replay(5, true));
    expect(paused, goLive, live, toLive);
  });

  it('paused: a finish from seeking to the end does not move it', () => {
    ignores(paused, [finish, pause, caughtUp, provisionalEnd]);
  });

  it('paused: the end of the session keeps the picture', () => {
    expect(paused, end, ended(false), null);
  });

  it('replaying: pauses in place, seeks, goes live, and reaching the end of a live session goes live', () => {
    expect(replaying, pause, paused, hold);
    expect(replaying, seek(7, false), paused, replay(7, false));
    expect(replaying, seek(7, true), replaying, replay(7, true));
    expect(replaying, goLive, live, toLive);
    expect(replaying, finish, live, toLive);
  });

  it('replaying: the end of the session keeps playing, now toward the end', () => {
    expect(replaying, end, ended(true), null);
    ignores(replaying, [play, caughtUp, provisionalEnd]);
  });

  it('ended: plays, pauses and seeks, and stops at the end of the recording', () => {
    expect(ended(false), play, ended(true), replay(null, true));
    expect(ended(true), pause, ended(false), hold);
    expect(ended(false), seek(9, true), ended(true), replay(9, true));
    expect(ended(true), seek(9, false), ended(false), replay(9, false));
    expect(ended(true), finish, ended(false), null);
  });

  it('ended: can no longer go live, and further ends change nothing', () => {
    ignores(ended(false), [goLive, finish, pause, end, provisionalEnd, caughtUp]);
    ignores(ended(true), [goLive, play, end, caughtUp]);
  });

  it('names states as the page always has', () => {
    assert.deepEqual(
      [waiting(), live, paused, replaying, ended(false), ended(true)].map(viewState),
      ['paused', 'live', 'paused', 'replay', 'paused', 'replay'],
    );
  });

  it('holds a playing state still when its replay cannot open', () => {
    assert.deepEqual([replaying, ended(true), paused, live].map(held), [paused, ended(false), paused, live]);
  });
});
