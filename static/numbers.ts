// Numbers page: a project's numbers for a range of UTC days from /api/numbers, each one a link to
// the sessions behind it (numbers/links.ts), fetched again when /ws/sessions pushes a change of
// the project's sessions, so that a new session shows within a second without polling.

import type { HubToFeed } from '@streamdom/recorder/protocol';
import { ReconnectingSocket } from '@streamdom/recorder/reconnect';
import { initAccount, toLogin } from './account';
import { el, fmtDuration, wsUrl } from './common';
import { apiPath, dayHref, parseRange, rangeSearch, sessionsHref, utcDay } from './numbers/links';
import type { Count, Numbers, Range } from './numbers/links';

/**
 * After a pushed change: a fetch soon, and one more later. The feed can announce a session before
 * the writer's flush (every 50 ms) has committed it to the rollups; the second fetch catches that.
 */
const REFETCH_SOON_MS = 150;
const REFETCH_LATE_MS = 700;

const form = document.getElementById('range') as HTMLFormElement;
const select = form.elements.namedItem('project') as HTMLSelectElement;
const fromInput = form.elements.namedItem('from') as HTMLInputElement;
const toInput = form.elements.namedItem('to') as HTMLInputElement;
const errorBox = document.getElementById('numbers-error') as HTMLElement;

let range: Range = parseRange(location.search);
let project = '';
let shown: Numbers | null = null;

const pct = (x: number) => `${(Math.round(x * 1000) / 10).toString()} %`;

function card(testid: string, value: string, href: string): void {
  const a = document.querySelector<HTMLAnchorElement>(`[data-testid="${testid}"]`);
  if (!a) return;
  a.href = href;
  const v = a.querySelector('.value');
  if (v) v.textContent = value;
}

/** A ranked list; recorded pages and event names are text only, never markup. */
function list(id: string, items: Count[], href: (c: Count) => string, unit: string): void {
  const ol = document.getElementById(id);
  if (!ol) return;
  ol.replaceChildren(...items.map((c) => {
    const li = el('li');
    const a = el('a', { href: href(c), 'data-testid': 'numbers-link', title: c.key });
    a.append(el('span', { class: 'key' }, c.key), el('span', { class: 'count' }, `${c.count} ${c.count === 1 ? unit.slice(0, -1) : unit}`));
    li.append(a);
    return li;
  }));
  if (!items.length) ol.append(el('li', { class: 'muted' }, 'none'));
}

function draw(n: Numbers): void {
  shown = n;
  const { from, to } = n;
  const link = (extra: Record<string, string> = {}) => sessionsHref(n.project, from, to, extra);
  card('numbers-sessions', String(n.sessions), link());
  card('numbers-active-now', String(n.active_now), link({ status: 'live' }));
  card('numbers-median-duration', n.median_duration_ms == null ? '—' : fmtDuration(n.median_duration_ms), link({ sort: 'duration' }));
  card('numbers-median-active', n.median_active_ms == null ? '—' : fmtDuration(n.median_active_ms), link({ sort: 'active' }));
  card('numbers-error-rate', `${pct(n.error_rate)} (${n.errored})`, link({ has_errors: 'true' }));
  const most = Math.max(1, ...n.days.map((d) => d.sessions));
  const days = document.getElementById('days') as HTMLElement;
  days.replaceChildren(...n.days.map((d) => {
    const a = el('a', { class: 'day', href: dayHref(n.project, d.from), 'data-testid': 'numbers-day', title: `${utcDay(d.from)}: ${d.sessions} sessions` });
    const bar = el('span', { class: 'bar-fill' });
    bar.style.height = `${(100 * d.sessions) / most}%`;
    a.append(el('span', { class: 'day-count' }, d.sessions ? String(d.sessions) : ''), bar, el('span', { class: 'day-label' }, utcDay(d.from).slice(5)));
    return a;
  }));
  const page = (c: Count) => link({ url: c.key });
  list('top-pages', n.top_pages, page, 'sessions');
  list('entry-pages', n.entry_pages, page, 'sessions');
  list('exit-pages', n.exit_pages, page, 'sessions');
  list('rage-clicks', n.rage_clicks, page, 'rage clicks');
  list('dead-clicks', n.dead_clicks, page, 'dead clicks');
  list('events', n.events, (c) => link({ event: c.key }), 'sessions');
  (document.getElementById('median-error') as HTMLElement).textContent = String(Math.round(n.median_error * 1000) / 10);
  if (!range.from) fromInput.value = utcDay(n.from);
  if (!range.to) toInput.value = utcDay(n.to);
}

let inFlight: Promise<void> | null = null;
let again = false;

/** Fetches and draws the numbers; a call while one is under way runs once more after it. */
async function load(): Promise<void> {
  if (!project) return;
  if (inFlight) { again = true; return inFlight; }
  inFlight = (async () => {
    try {
      const res = await fetch(apiPath(project, range));
      if (res.status === 401) return toLogin();
      if (!res.ok) throw new Error(`the hub answered ${res.status}`);
      errorBox.hidden = true;
      draw((await res.json()) as Numbers);
    } catch (e) {
      errorBox.textContent = `Could not load the numbers: ${e instanceof Error ? e.message : String(e)}`;
      errorBox.hidden = false;
    }
  })();
  await inFlight;
  inFlight = null;
  if (again) { again = false; await load(); }
}

let soon: ReturnType<typeof setTimeout> | null = null;
let late: ReturnType<typeof setTimeout> | null = null;

function schedule(): void {
  soon ??= setTimeout(() => { soon = null; void load(); }, REFETCH_SOON_MS);
  late ??= setTimeout(() => { late = null; void load(); }, REFETCH_LATE_MS);
}

async function start(): Promise<void> {
  initAccount();
  const res = await fetch('/api/projects');
  if (res.status === 401) return toLogin();
  const { projects } = (await res.json()) as { projects: { name: string }[] };
  select.replaceChildren(...projects.map((p) => el('option', { value: p.name }, p.name)));
  project = projects.some((p) => p.name === range.project) ? range.project! : (projects[0]?.name ?? '');
  select.value = project;
  fromInput.value = range.from ?? '';
  toInput.value = range.to ?? '';
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    project = select.value;
    range = { project, from: fromInput.value || undefined, to: toInput.value || undefined };
    history.pushState(null, '', `/numbers${rangeSearch(range)}`);
    void load();
  });
  select.addEventListener('change', () => form.requestSubmit());
  window.addEventListener('popstate', () => {
    range = parseRange(location.search);
    if (range.project) project = range.project;
    select.value = project;
    fromInput.value = range.from ?? '';
    toInput.value = range.to ?? '';
    void load();
  });
  let opened = 0;
  new ReconnectingSocket<HubToFeed, never>(() => wsUrl('/ws/sessions'), {
    // Changes pushed while disconnected are lost: fetch again.
    onOpen: () => { if (opened++) schedule(); },
    onMessage: (msg) => {
      if (msg.type === 'session' && msg.session?.project === project) schedule();
    },
  }).connect();
  await load();
}

void start();
// For the browser test: the numbers drawn last.
(window as unknown as { numbersShown: () => Numbers | null }).numbersShown = () => shown;
