// Unit tests of status.ts: which state the page shows for each combination of facts, its message
// and way forward, and the visitor's presence from `$visibility` events.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Presence, fmtSeconds, pageState, shown, type Facts } from './status';
import type { Rec } from './store';

const base: Facts = { notFound: false, down: false, began: true, over: false, hasSnapshot: true, visitorGone: false, player: { name: 'live' } };
const f = (over: Partial<Facts>): Facts => ({ ...base, ...over });

describe('pageState', () => {
  it('is live while following a live session with a snapshot', () => {
    assert.equal(pageState(base), 'live');
  });
  it('says not found before anything else', () => {
    assert.equal(pageState(f({ notFound: true, down: true, began: false })), 'not-found');
  });
  it('says reconnecting while the hub is out of reach, whatever the player shows', () => {
    assert.equal(pageState(f({ down: true })), 'reconnecting');
    assert.equal(pageState(f({ down: true, player: { name: 'paused' } })), 'reconnecting');
    assert.equal(pageState(f({ down: true, began: false })), 'reconnecting');
  });
  it('does not claim reconnecting for a session that is over', () => {
    assert.equal(pageState(f({ down: true, over: true, player: { name: 'ended', playing: false } })), 'ended');
  });
  it('is connecting until the hub has caught the page up', () => {
    assert.equal(pageState(f({ began: false, player: { name: 'waiting', t: null } })), 'connecting');
  });
  it('says no snapshot for a live or ended session without one', () => {
    assert.equal(pageState(f({ hasSnapshot: false })), 'no-snapshot');
    assert.equal(pageState(f({ hasSnapshot: false, over: true, player: { name: 'ended', playing: false } })), 'no-snapshot');
  });
  it('is rewound while paused or replaying a live session', () => {
    assert.equal(pageState(f({ player: { name: 'paused' } })), 'rewound');
    assert.equal(pageState(f({ player: { name: 'replaying' } })), 'rewound');
  });
  it('is ended once the session is over', () => {
    assert.equal(pageState(f({ over: true, player: { name: 'ended', playing: true } })), 'ended');
  });
  it('says the visitor left while live, but keeps a rewound view rewound', () => {
    assert.equal(pageState(f({ visitorGone: true })), 'visitor-left');
    assert.equal(pageState(f({ visitorGone: true, player: { name: 'paused' } })), 'rewound');
  });
});

describe('shown', () => {
  it('gives every state a message, and the stuck ones a way forward', () => {
    assert.deepEqual(shown(f({ player: { name: 'paused' } }), 12_400), { state: 'rewound', message: 'Rewound: behind live by 12 s.', action: { kind: 'go-live' } });
    assert.deepEqual(shown(f({ notFound: true })).action, { kind: 'sessions' });
    assert.deepEqual(shown(f({ down: true })).action, { kind: 'retry' });
    assert.deepEqual(shown(f({ over: true, player: { name: 'ended', playing: false } })).action, { kind: 'replay-start' });
    assert.deepEqual(shown(f({ hasSnapshot: false, over: true })).action, { kind: 'sessions' });
    assert.match(shown(f({ hasSnapshot: false })).message, /No snapshot yet/);
    assert.match(shown(f({ visitorGone: true })).message, /visitor left/);
  });
  it('formats seconds, then minutes', () => {
    assert.deepEqual([0, 400, 12_400, 59_600, 61_000, 3_600_000].map(fmtSeconds), ['0 s', '0 s', '12 s', '1 min 00 s', '1 min 01 s', '60 min 00 s']);
  });
});

const T0 = 1_700_000_000_000;
const ev = (seq: number, type: number, data: unknown): Rec => ({ seq, hub_time: T0, event: { type, timestamp: T0 + seq, data } as Rec['event'] });
const visibility = (seq: number, state: string) => ev(seq, 5, { tag: '$visibility', payload: { state } });

describe('Presence', () => {
  it('is gone after a hidden or unload visibility event, back after visible, a new page or input', () => {
    const p = new Presence();
    assert.equal(p.gone, false);
    p.onEvent(visibility(1, 'hidden'));
    assert.equal(p.gone, true);
    p.onEvent(ev(2, 3, { source: 0 }));
    assert.equal(p.gone, true, 'a mutation of a hidden tab does not bring the visitor back');
    p.onEvent(visibility(3, 'visible'));
    assert.equal(p.gone, false);
    p.onEvent(visibility(4, 'unload'));
    assert.equal(p.gone, true);
    p.onEvent(ev(5, 4, { href: 'x' }));
    assert.equal(p.gone, false, 'the next page loaded');
    p.onEvent(visibility(6, 'hidden'));
    p.onEvent(ev(7, 3, { source: 2 }));
    assert.equal(p.gone, false, 'a click');
  });
  it('lets only the newest event decide, and ignores other custom events', () => {
    const p = new Presence();
    p.onEvent(visibility(5, 'hidden'));
    p.onEvent(visibility(3, 'visible'));
    assert.equal(p.gone, true, 'an older event arriving late');
    p.onEvent(ev(6, 5, { tag: 'checkout', payload: { state: 'visible' } }));
    assert.equal(p.gone, true);
  });
});
