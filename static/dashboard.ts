// Sessions page: the view in the URL (sessions/query.ts) fetched a page at a time from
// /api/sessions, kept live by /ws/sessions with the same filters (sessions/list.ts), drawn as a
// virtual list.

import type { HubToFeed } from '@streamdom/recorder/protocol';
import { ReconnectingSocket } from '@streamdom/recorder/reconnect';
import { initAccount, toLogin } from './account';
import { me } from './admin/api';
import { el, wsUrl } from './common';
import { fillForm, initForm, readForm } from './sessions/form';
import { SessionRows } from './sessions/list';
import { keyOf } from './sessions/match';
import { apiPath, describeFilters, hasFilters, parseView, sameView, viewSearch } from './sessions/query';
import type { View } from './sessions/query';
import { sessionDetails, sessionRow } from './sessions/row';
import type { Session } from './sessions/types';

// Rows have a fixed height so the visible range is plain arithmetic, whatever the list's length.
const ROW_HEIGHT = 44;
const OVERSCAN = 8;
/** Pushed sessions the browser cannot judge (see sessions/match.ts) refetch the first page at most this often. */
const REFETCH_MS = 3000;
const MAX_PENDING = 10_000;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const viewport = $<HTMLDivElement>('sessions');
const spacer = el('div', { class: 'spacer' });
const rowsLayer = el('div', { class: 'rows' });
spacer.append(rowsLayer);
viewport.append(spacer);
const form = $<HTMLFormElement>('filters');
const [countEl, emptyEl, filteredEl, whyEl, moreBtn, errorEl, deepEl, detailsEl] =
  ['count', 'empty', 'empty-filtered', 'empty-why', 'load-more', 'list-error', 'deep', 'details'].map((id) => $(id));

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
  const pre = emptyEl.querySelector('pre');
  if (pre) pre.textContent = snippet(key);
}

let view: View = parseView(location.search);
let list = new SessionRows(view);
let nextCursor: string | null = null;
/** Bumped by every new view: answers for an older one are dropped. */
let generation = 0;
let loaded = false;
let loadingMore = false;
let selected: string | null = null;
let firstRows = true;
/** Sessions pushed while a view's first page is on its way, placed once it is there. */
let pending: Session[] = [];

async function fetchPage(v: View, cursor?: string): Promise<{ sessions: Session[]; next_cursor: string | null } | null> {
  const res = await fetch(apiPath(v, cursor));
  if (res.status === 401) { toLogin(); return null; }
  if (!res.ok) {
    const body = (await res.json().catch(() => null)) as { message?: string } | null;
    throw new Error(body?.message ?? `the hub answered ${res.status}`);
  }
  return res.json();
}

function showError(e: unknown): void {
  errorEl.textContent = `Could not load sessions: ${e instanceof Error ? e.message : String(e)}`;
  errorEl.hidden = false;
}

/** Shows `v` from its first page (or its cursor's page). */
async function load(v: View): Promise<void> {
  const gen = ++generation;
  view = v;
  list = new SessionRows(v);
  nextCursor = null;
  loaded = false;
  pending = [];
  errorEl.hidden = true;
  fillForm(form, v);
  viewport.scrollTop = 0;
  draw();
  try {
    const page = await fetchPage(v);
    if (!page || gen !== generation) return;
    list.addPage(page.sessions, page.next_cursor);
    nextCursor = page.next_cursor;
    loaded = true;
    noteSeen(page.sessions);
    for (const s of pending.splice(0)) onPushed(s);
    draw();
    if (firstRows) {
      firstRows = false;
      // After the frame that paints the rows: what the benchmark reads (bench/sessions-page.mjs).
      requestAnimationFrame(() => setTimeout(() => performance.mark('sessions:first-rows')));
    }
  } catch (e) {
    if (gen === generation) showError(e);
  }
}

/** Appends the next page; the URL keeps its cursor as the list's position (a reload opens there). */
async function loadMore(): Promise<void> {
  const cursor = nextCursor;
  if (!cursor || loadingMore) return;
  const gen = generation;
  loadingMore = true;
  try {
    const page = await fetchPage(view, cursor);
    if (!page || gen !== generation) return;
    list.addPage(page.sessions, page.next_cursor);
    nextCursor = page.next_cursor;
    noteSeen(page.sessions);
    history.replaceState(null, '', `/${viewSearch({ ...view, cursor })}`);
    draw();
  } catch (e) {
    if (gen === generation) showError(e);
  } finally {
    loadingMore = false;
  }
}

/** A changed filter or sort: a new history entry, from the first page. */
function apply(next: View, replace = false): void {
  if (sameView(next, view)) return;
  const url = `/${viewSearch(next)}`;
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  void load(next);
}

const formView = () => ({ ...readForm(form), limit: view.limit });
form.addEventListener('submit', (e) => { e.preventDefault(); apply(formView()); });
form.addEventListener('change', (e) => { if ((e.target as HTMLElement).getAttribute('name') !== 'q') apply(formView()); });
// The search box applies while typing; one history entry per search, not per keystroke.
let typing: ReturnType<typeof setTimeout> | undefined;
let lastTyped = 0;
(form.elements.namedItem('q') as HTMLInputElement | null)?.addEventListener('input', () => {
  clearTimeout(typing);
  typing = setTimeout(() => { apply(formView(), Date.now() - lastTyped < 3000); lastTyped = Date.now(); }, 400);
});
const clear = () => apply({ filters: {}, sort: view.sort, order: view.order, limit: view.limit });
$('clear-filters').addEventListener('click', clear);
$('reset-filters').addEventListener('click', clear);
$('to-newest').addEventListener('click', () => apply({ ...view, cursor: undefined }));
moreBtn.addEventListener('click', () => void loadMore());
addEventListener('popstate', () => void load(parseView(location.search)));

/** Browsers and OSes seen so far, offered by their inputs (as option values: text only). */
const seen = { browser: new Set<string>(), os: new Set<string>() };
function noteSeen(sessions: Session[]): void {
  for (const [kind, listId] of [['browser', 'seen-browsers'], ['os', 'seen-oses']] as const) {
    const before = seen[kind].size;
    for (const s of sessions) if (s[kind]) seen[kind].add(s[kind]!);
    if (seen[kind].size === before) continue;
    $(listId).replaceChildren(...[...seen[kind]].sort().map((v) => new Option(v, v)));
  }
}

let snippetShown = false;
let drawQueued = false;
function scheduleDraw(): void {
  if (drawQueued) return;
  drawQueued = true;
  requestAnimationFrame(() => { drawQueued = false; draw(); });
}

function draw(): void {
  const rows = list.rows;
  spacer.style.height = `${rows.length * ROW_HEIGHT}px`;
  const first = Math.max(0, Math.floor(viewport.scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(rows.length, Math.ceil((viewport.scrollTop + viewport.clientHeight) / ROW_HEIGHT) + OVERSCAN);
  const now = Date.now();
  const frag = document.createDocumentFragment();
  for (let i = first; i < last; i++) frag.append(sessionRow(rows[i], i, ROW_HEIGHT, now, keyOf(rows[i]) === selected));
  rowsLayer.replaceChildren(frag);
  if (loaded) countEl.textContent = `${rows.length}${nextCursor ? '+' : ''} session${rows.length === 1 ? '' : 's'}`;
  const empty = loaded && rows.length === 0;
  const filtered = hasFilters(view.filters);
  emptyEl.hidden = !(empty && !filtered && !view.cursor);
  if (!emptyEl.hidden && !snippetShown) {
    snippetShown = true;
    showSnippet().catch((e) => console.error(e));
  }
  filteredEl.hidden = !(empty && filtered);
  if (empty && filtered) whyEl.textContent = describeFilters(view.filters).join(', ');
  deepEl.hidden = !view.cursor;
  moreBtn.hidden = !nextCursor;
  drawDetails();
}

/** The pages visited of the selected session (only `GET /api/sessions/{id}` lists them). */
let selectedPages: { key: string; pages: string[] } | null = null;

function drawDetails(): void {
  const s = selected ? list.rows.find((r) => keyOf(r) === selected) : undefined;
  detailsEl.hidden = !s;
  if (s) detailsEl.replaceChildren(sessionDetails(s, selectedPages?.key === selected ? selectedPages.pages : undefined));
}

async function loadPages(s: Session): Promise<void> {
  const res = await fetch(`/api/sessions/${encodeURIComponent(s.id)}?project=${encodeURIComponent(s.project)}`);
  if (!res.ok) return;
  const { pages } = (await res.json()) as { pages?: unknown };
  if (!Array.isArray(pages) || selected !== keyOf(s)) return;
  selectedPages = { key: keyOf(s), pages: pages.filter((p): p is string => typeof p === 'string') };
  drawDetails();
}

viewport.addEventListener('click', (e) => {
  const toggle = (e.target as HTMLElement).closest('[data-testid="session-details-toggle"]');
  const key = toggle?.closest<HTMLElement>('[data-testid="session-row"]')?.dataset.key;
  if (!key) return;
  selected = selected === key ? null : key;
  const s = list.rows.find((r) => keyOf(r) === selected);
  if (s) loadPages(s).catch((err) => console.error(err));
  draw();
});
detailsEl.addEventListener('click', (e) => {
  if ((e.target as HTMLElement).closest('[data-testid="details-close"]')) { selected = null; draw(); }
});
viewport.addEventListener('scroll', () => {
  // Scrolled near the end of what is loaded: the next page, on demand.
  if (viewport.scrollTop + viewport.clientHeight > (list.size - OVERSCAN) * ROW_HEIGHT) void loadMore();
  scheduleDraw();
}, { passive: true });
addEventListener('resize', scheduleDraw);
// Live sessions' durations keep growing.
setInterval(() => { if (list.rows.some((s) => s.active)) scheduleDraw(); }, 1000);

/** Merges the view's first page again: for pushed sessions only the hub can judge, and after a reconnect. */
let refetchAt = 0;
let refetchTimer: ReturnType<typeof setTimeout> | undefined;
function scheduleRefetch(): void {
  if (refetchTimer || view.cursor || !loaded) return;
  refetchTimer = setTimeout(async () => {
    refetchTimer = undefined;
    refetchAt = Date.now();
    const gen = generation;
    const page = await fetchPage(view, undefined).catch((e) => { console.error(e); return null; });
    if (!page || gen !== generation) return;
    list.merge(page.sessions);
    scheduleDraw();
  }, Math.max(0, refetchAt + REFETCH_MS - Date.now()));
}

initAccount();
initForm(form);

function onPushed(s: Session): void {
  const result = list.push(s);
  if (result === 'refetch') scheduleRefetch();
  else if (result !== 'ignored') { noteSeen([s]); scheduleDraw(); }
}

let opened = 0;
// The feed only ever receives.
new ReconnectingSocket<HubToFeed, never>(() => wsUrl('/ws/sessions'), {
  // Updates pushed while disconnected are lost: merge the first page again.
  onOpen: () => { if (opened++) scheduleRefetch(); },
  onMessage: (msg) => {
    if (msg.type !== 'session' || !msg.session) return;
    if (loaded) onPushed(msg.session);
    // Bounded: a first page that never comes (the hub is down) must not hold every update.
    else if (pending.length < MAX_PENDING) pending.push(msg.session);
  },
}).connect();
// The list's request goes first; what is not needed for the first rows waits for them.
void load(view).finally(() => {
  // Admins manage projects from here; members never see the link (the page refuses them anyway).
  me().then((who) => {
    const link = document.querySelector<HTMLAnchorElement>('[data-testid="nav-projects"]');
    if (link && who.role === 'admin') link.hidden = false;
  }, (e) => console.error(e));
});
