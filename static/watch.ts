// Watch page: one session, live with the least delay (and rewind), or as a recording, from
// /ws/watch/{id}. watch/stream.ts receives the events, watch/player.ts shows them (its states are in
// watch/machine.ts), watch/view.ts draws the page and takes the controls; this file wires them.

import type { HubToViewer, ViewerToHub } from '@streamdom/recorder/protocol';
import { ReconnectingSocket } from '@streamdom/recorder/reconnect';
import { initAccount } from './account';
import { wsUrl } from './common';
import { initSessionAdmin } from './watch/admin';
import { FrameInbox, withEnc } from './watch/codec';
import { LiveTiming } from './watch/live';
import { Player } from './watch/player';
import { Stream, type Transport } from './watch/stream';
import { View } from './watch/view';

const sessionId = decodeURIComponent(location.pathname.split('/').filter(Boolean)[1] ?? '');
const query = new URLSearchParams(location.search);
/** ?t=<ms>: open the recording at that moment, held. */
const initialT = query.has('t') ? Math.max(0, Number(query.get('t')) || 0) : null;

/**
 * The stream's sockets are the browser's. They ask for large frames compressed and inflate them in
 * order (watch/codec.ts).
 */
const browserTransport: Transport = {
  reconnecting(url, h) {
    const s = new ReconnectingSocket<HubToViewer, ViewerToHub>(() => withEnc(url()), h, { inbox: () => new FrameInbox() });
    s.connect();
    return s;
  },
  once(url, h) {
    const ws = new WebSocket(withEnc(url));
    const inbox = new FrameInbox();
    ws.binaryType = 'arraybuffer';
    ws.onmessage = (ev) => inbox.message(ev.data, (text) => h.onMessage(JSON.parse(text) as HubToViewer));
    ws.onclose = () => inbox.after(() => h.onClose());
    return {
      send: (msg) => ws.send(JSON.stringify(msg)),
      close: () => {
        ws.onclose = null;
        if (ws.readyState <= WebSocket.OPEN) ws.close(1000);
      },
    };
  },
};

initAccount();
const view = new View(sessionId);
const status = (text: string) => view.setStatus(text);
// Socket messages come faster than frames on a busy page: draw the controls once per frame.
let renderQueued = false;
const changed = () => {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    view.render();
  });
};

const stream = new Stream(
  // A link to a moment needs the session from its start; otherwise start at the newest snapshot.
  { sessionId, project: query.get('project'), from: initialT !== null ? 'start' : 'live', transport: browserTransport, wsUrl },
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
  { source: stream, factory: view.replayers(), timing, replayConfig: () => view.replayConfig(), status, changed, frame: (cb) => requestAnimationFrame(cb) },
  initialT,
);

view.bind(stream, player, timing);
view.render();
stream.start();
// Admins also get the access log and the delete action.
initSessionAdmin(sessionId, query.get('project')).catch((e) => console.error(e));
