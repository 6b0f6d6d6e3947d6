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
import { Markers } from './watch/markers';
import { Player } from './watch/player';
import { parseLink } from './watch/share';
import { Presence } from './watch/status';
import { Stream, type Rec, type Transport } from './watch/stream';
import { View } from './watch/view';

const sessionId = decodeURIComponent(location.pathname.split('/').filter(Boolean)[1] ?? '');
const query = new URLSearchParams(location.search);
/** ?t=<ms>: open the recording at that moment, held; ?event=<seq>: at that event (share.ts). */
const link = parseLink(location.search);
const initialT = link.t ?? (link.event !== null ? 0 : null);

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
      // An ack for a frame handed over after close() has nowhere to go.
      send: (msg) => ws.readyState === WebSocket.OPEN && ws.send(JSON.stringify(msg)),
      close: () => {
        ws.onclose = null;
        if (ws.readyState <= WebSocket.OPEN) ws.close(1000);
      },
    };
  },
};

/** GET /api/sessions/{id}: what the details panel shows, and why a viewer socket was refused. */
const sessionUrl = () => {
  const project = query.get('project');
  return `/api/sessions/${encodeURIComponent(sessionId)}${project ? `?project=${encodeURIComponent(project)}` : ''}`;
};
async function probe(): Promise<number> {
  try { return (await fetch(sessionUrl())).status; } catch { return 0; }
}

initAccount();
const view = new View(sessionId);
const presence = new Presence();
const markers = new Markers();
const status = (text: string) => view.setStatus(text);
// Socket messages come faster than frames on a busy page: draw the controls once per frame.
let renderQueued = false;
let adminStarted = false;
const changed = () => {
  // Admins also get the access log and the delete action, once the session is known to exist.
  if (!adminStarted && stream.session) {
    adminStarted = true;
    initSessionAdmin(sessionId, query.get('project')).catch((e) => console.error(e));
  }
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    view.render();
  });
};

const stream = new Stream(
  // A link to a moment starts at the full snapshot before it (the hub picks it); otherwise at the
  // newest snapshot (the start, for an ended session).
  { sessionId, project: query.get('project'), from: initialT !== null ? String(initialT) : 'live', at: initialT, transport: browserTransport, wsUrl, probe },
  {
    event: (r) => {
      presence.onEvent(r);
      markers.onEvent(r);
      view.onEvent(r);
      player.onEvent(r);
    },
    boundary: (b) => void player.send(b),
    clock: (offset, rtt) => timing.onClock(offset, rtt),
    status,
    changed,
    signedOut: () => location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`),
  },
);
const timing = new LiveTiming(stream.clock);
const player = new Player(
  { source: stream, factory: view.replayers(), timing, replayConfig: () => view.replayConfig(), status, changed, frame: (cb) => requestAnimationFrame(cb) },
  initialT,
);

view.bind(stream, player, timing, presence, markers);
// The feed keeps the newest 10,000 rows while following; scrolling up fetches older ones.
if (view.feed) {
  view.feed.older = async (before, n) => {
    const after = Math.max(0, before - 1 - n);
    const project = query.get('project');
    const inProject = project ? `&project=${encodeURIComponent(project)}` : '';
    const res = await fetch(`/api/sessions/${encodeURIComponent(sessionId)}/events?format=envelope&after_seq=${after}&limit=${before - 1 - after}${inProject}`);
    if (!res.ok) return [];
    return (await res.json()) as Rec[];
  };
}
view.openLink(link);
view.render();
stream.start();
// A socket can stay open and silent (a frozen hub, a lost network): the stream checks (silence.ts).
setInterval(() => stream.checkSilence(), 1000);
// The details panel's user, device, browser and OS (fields newer hubs add; "—" without them).
fetch(sessionUrl())
  .then(async (res) => { if (res.ok) view.setSessionInfo(await res.json()); })
  .catch(() => { /* the stream's session message is enough to go on */ });

