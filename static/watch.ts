// Watch page: one session, live with the least delay (and rewind), or as a recording, from
// /ws/watch/{id}. watch/stream.ts receives the events, watch/player.ts shows them (its states are in
// watch/machine.ts), watch/view.ts draws the page and takes the controls; this file wires them.

import { wsUrl } from './common';
import { LiveTiming } from './watch/live';
import { Player } from './watch/player';
import { Stream, browserTransport } from './watch/stream';
import { View } from './watch/view';

const sessionId = decodeURIComponent(location.pathname.split('/').filter(Boolean)[1] ?? '');
const query = new URLSearchParams(location.search);
/** ?t=<ms>: open the recording at that moment, held. */
const initialT = query.has('t') ? Math.max(0, Number(query.get('t')) || 0) : null;

const view = new View(sessionId);
const status = (text: string) => view.setStatus(text);
const changed = () => view.render();

const stream = new Stream(
  // A link to a moment needs the session from its start; otherwise start at the newest snapshot.
  { sessionId, from: initialT !== null ? 'start' : 'live', transport: browserTransport, wsUrl },
  {
    event: (r) => player.onEvent(r),
    boundary: (b) => void player.send(b),
    clock: (offset, rtt) => timing.onClock(offset, rtt),
    status,
    changed,
  },
);
const timing = new LiveTiming(stream.clock);
const player = new Player(
  { source: stream, factory: view.replayers(), timing, replayConfig: () => view.replayConfig(), status, changed },
  initialT,
);

view.bind(stream, player, timing);
view.render();
stream.start();
