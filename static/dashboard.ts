// Sessions page: the list from /api/sessions kept current by /ws/sessions, drawn as a virtual list.

import type { HubToFeed, SessionInfo } from '@streamdom/recorder/protocol';
import { ReconnectingSocket } from '@streamdom/recorder/reconnect';
import { initAccount, toLogin } from './account';
import { el, fmtDuration, fmtTime, sessionDuration, wsUrl } from './common';

// Rows have a fixed height so the visible range is plain arithmetic, whatever the list's length.
const ROW_HEIGHT = 44;
const OVERSCAN = 8;
// The hub's largest page; thousands of sessions arrive in a few requests.
const PAGE_SIZE = 1000;
const MAX_PAGES = 100;

const sessions = new Map<string, SessionInfo>();
/** Newest first by started_at; ids only, the objects live in `sessions`. */
let order: string[] = [];

const viewport = document.getElementById('sessions') as HTMLDivElement;
const spacer = el('div', { class: 'spacer' });
const rowsLayer = el('div', { class: 'rows' });
spacer.append(rowsLayer);
viewport.append(spacer);
const countEl = document.getElementById('count');
const emptyEl = document.getElementById('empty');

// The inline loader (recorder-js/loader/loader.js, minified by web/build.mjs), with the script's
// URL as "__STREAMDOM_SRC__".
declare const STREAMDOM_LOADER: string;

/** The snippet to paste, as the hub prints it at first start (src/assets/mod.rs `snippet`). */
function snippet(key: string): string {
  const src = JSON.stringify(`${location.origin}/streamdom.js?key=${key}`).replace(/</g, '\\u003c');
  return `<script>\n${STREAMDOM_LOADER.replace('"__STREAMDOM_SRC__"', () => src)}\nStreamDOM.init();\n</script>`;
}

/** Fills the empty state's snippet with the first project's key this user can see. */
async function showSnippet(): Promise<void> {
  const res = await fetch('/api/projects');
  if (!res.ok) return;
  const { projects } = (await res.json()) as { projects: { key: string | null }[] };
  const key = projects.find((p) => p.key)?.key ?? 'PUBLIC_KEY';
  const pre = emptyEl?.querySelector('pre');
  if (pre) pre.textContent = snippet(key);
}

const startOf = (key: string) => Date.parse(sessions.get(key)!.started_at) || 0;
// Two projects may use the same session id: the list keys sessions by both.
const keyOf = (s: SessionInfo) => `${s.project}:${s.id}`;

function upsert(s: SessionInfo): void {
  const old = sessions.get(keyOf(s));
  // A page fetched before a pushed update may carry older data: counts only grow, and an ended
  // session stays ended until it grows again (a recorder that comes back reopens it).
  if (old && (s.event_count < old.event_count || (s.event_count === old.event_count && !old.active && s.active))) return;
  sessions.set(keyOf(s), s);
  if (old) return;
  // Binary search keeps insertion O(log n) when thousands of sessions are listed.
  const t = Date.parse(s.started_at) || 0;
  let lo = 0;
  let hi = order.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (startOf(order[mid]) >= t) lo = mid + 1;
    else hi = mid;
  }
  order.splice(lo, 0, keyOf(s));
}

let drawQueued = false;
function scheduleDraw(): void {
  if (drawQueued) return;
  drawQueued = true;
  requestAnimationFrame(() => { drawQueued = false; draw(); });
}

function row(s: SessionInfo, index: number, now: number): HTMLAnchorElement {
  const a = el('a', { class: 'row', href: `/sessions/${encodeURIComponent(s.id)}?project=${encodeURIComponent(s.project)}`, 'data-testid': 'session-row', 'data-session-id': s.id });
  a.style.top = `${index * ROW_HEIGHT}px`;
  const idCell = el('span', { class: 'c-id', title: s.id }, s.id);
  if (s.active) idCell.prepend(el('span', { class: 'badge', 'data-testid': 'live-badge' }, 'LIVE'));
  a.append(
    idCell,
    el('span', { class: 'c-url', title: s.url ?? '' }, s.url ?? '—'),
    el('span', { class: 'c-start' }, fmtTime(s.started_at)),
    el('span', { class: 'c-dur' }, fmtDuration(sessionDuration(s, now))),
    el('span', { class: 'c-events' }, String(s.event_count ?? 0)),
  );
  return a;
}

function draw(): void {
  spacer.style.height = `${order.length * ROW_HEIGHT}px`;
  const first = Math.max(0, Math.floor(viewport.scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(order.length, Math.ceil((viewport.scrollTop + viewport.clientHeight) / ROW_HEIGHT) + OVERSCAN);
  const now = Date.now();
  const frag = document.createDocumentFragment();
  for (let i = first; i < last; i++) frag.append(row(sessions.get(order[i])!, i, now));
  rowsLayer.replaceChildren(frag);
  if (countEl) countEl.textContent = `${order.length} session${order.length === 1 ? '' : 's'}`;
  if (emptyEl) emptyEl.hidden = order.length > 0;
}

async function loadAll(): Promise<void> {
  let cursor: string | null = null;
  for (let page = 0; page < MAX_PAGES; page++) {
    const res = await fetch(`/api/sessions?limit=${PAGE_SIZE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    if (res.status === 401) return toLogin();
    if (!res.ok) throw new Error(`GET /api/sessions: ${res.status}`);
    const body = (await res.json()) as { sessions: SessionInfo[]; next_cursor: string | null };
    body.sessions.forEach(upsert);
    scheduleDraw();
    cursor = body.next_cursor;
    if (!cursor) return;
  }
}

initAccount();
viewport.addEventListener('scroll', scheduleDraw, { passive: true });
addEventListener('resize', scheduleDraw);
// Live sessions' durations keep growing.
setInterval(() => { if (order.some((id) => sessions.get(id)!.active)) scheduleDraw(); }, 1000);

const load = () => loadAll().catch((e) => console.error(e));
let opened = 0;
// The feed only ever receives.
new ReconnectingSocket<HubToFeed, never>(() => wsUrl('/ws/sessions'), {
  // Refetch on reconnection: updates pushed while disconnected are lost.
  onOpen: () => { if (opened++) void load(); },
  onMessage: (msg) => {
    if (msg.type === 'session' && msg.session) { upsert(msg.session); scheduleDraw(); }
  },
}).connect();
void load();
showSnippet().catch((e) => console.error(e));
draw();
