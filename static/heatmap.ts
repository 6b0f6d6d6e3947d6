// Heatmap page: asks GET /api/heatmaps for the form's page, kind, viewport and days, replays the
// snapshot it names with rrweb's Replayer (paused, in its sandboxed iframe without scripts), and
// draws the points on a canvas over it (`pointer-events: none`), by element where the replayed page
// has it (heatmap/place.ts). Everything from recorded pages is shown as text only.

import type { HeatPoint, Heatmap } from '@streamdom/recorder/protocol';
import { Replayer, type eventWithTime } from 'rrweb';
import { initAccount, toLogin } from './account';
import { el } from './common';
import { place, type Box, type Placed } from './heatmap/place';
import { defuse } from './watch/defuse';

const form = document.getElementById('heat-form') as HTMLFormElement;
const status = document.getElementById('heat-status') as HTMLElement;
const player = document.getElementById('heat-player') as HTMLElement;
const totals = document.getElementById('heat-totals') as HTMLElement;
const sessions = document.getElementById('heat-sessions') as HTMLAnchorElement;
const tbody = document.querySelector('[data-testid="heatmap-elements"] tbody') as HTMLElement;
const FIELDS = ['url', 'kind', 'bucket', 'from', 'to'] as const;
const DAY_MS = 86_400_000;
const RADIUS = 16;

/** The API's query from the page's own (dates as whole UTC days). */
function apiQuery(q: URLSearchParams): string {
  const out = new URLSearchParams();
  for (const f of FIELDS) {
    const v = q.get(f);
    if (!v) continue;
    if (f === 'from') out.set(f, String(Date.parse(`${v}T00:00:00Z`)));
    else if (f === 'to') out.set(f, String(Date.parse(`${v}T00:00:00Z`) + DAY_MS - 1));
    else out.set(f, v);
  }
  return out.toString();
}

function fillForm(q: URLSearchParams): void {
  for (const f of FIELDS) {
    const input = form.elements.namedItem(f) as HTMLInputElement | HTMLSelectElement | null;
    if (input && q.get(f)) input.value = q.get(f) ?? '';
  }
}

/** The replayed page's document, once rebuilt: the Replayer's iframe, sized to the whole page so page coordinates are its own. */
async function replay(events: eventWithTime[], width: number): Promise<Document | null> {
  player.replaceChildren();
  events.forEach((e) => defuse(e as { type: number; data?: unknown }));
  const r = new Replayer(events, { root: player, showWarning: false, mouseTail: false, triggerFocus: false });
  r.pause(events[events.length - 1].timestamp - events[0].timestamp);
  // The snapshot is rebuilt into the iframe after this task; wait for its body (at most ~3 s).
  for (let i = 0; i < 180 && !r.iframe.contentDocument?.body?.childElementCount; i++) {
    await new Promise((done) => requestAnimationFrame(done));
  }
  const doc = r.iframe.contentDocument;
  if (!doc) return null;
  const height = Math.max(doc.documentElement?.scrollHeight ?? 0, doc.body?.scrollHeight ?? 0, 100);
  r.iframe.style.width = `${width}px`;
  r.iframe.style.height = `${height}px`;
  r.iframe.setAttribute('width', String(width));
  r.iframe.setAttribute('height', String(height));
  return doc;
}

function boxIn(doc: Document | null): (selector: string) => Box | null {
  return (selector) => {
    try {
      const e = doc?.querySelector(selector);
      if (!e) return null;
      const r = e.getBoundingClientRect();
      return { left: r.left, top: r.top, width: r.width, height: r.height };
    } catch { return null; } // not a selector this browser reads
  };
}

function canvasOver(width: number, height: number): CanvasRenderingContext2D | null {
  const c = el('canvas', { 'data-testid': 'heatmap-canvas', width: String(width), height: String(height) });
  c.style.cssText = `position:absolute;left:0;top:0;width:${width}px;height:${height}px;pointer-events:none;z-index:10`;
  (player.querySelector('.replayer-wrapper') ?? player).appendChild(c);
  return c.getContext('2d');
}

function drawPoints(ctx: CanvasRenderingContext2D, placed: Placed[]): void {
  const max = Math.max(1, ...placed.map((p) => p.count));
  for (const p of placed) {
    const g = ctx.createRadialGradient(p.x, p.y, 0, p.x, p.y, RADIUS);
    const a = 0.35 + 0.65 * (p.count / max);
    g.addColorStop(0, `rgba(230,30,30,${a})`);
    g.addColorStop(1, 'rgba(255,200,0,0)');
    ctx.fillStyle = g;
    ctx.fillRect(p.x - RADIUS, p.y - RADIUS, 2 * RADIUS, 2 * RADIUS);
  }
  ctx.canvas.dataset.placed = JSON.stringify(placed);
}

function drawScroll(ctx: CanvasRenderingContext2D, h: Heatmap): void {
  for (const row of h.scroll) {
    ctx.fillStyle = `rgba(30,90,230,${0.5 * (1 - row.share)})`;
    ctx.fillRect(0, row.y, ctx.canvas.width, 100);
    ctx.fillStyle = '#000';
    ctx.fillText(`${Math.round(row.share * 100)} %`, 4, row.y + 12);
  }
}

function numbers(h: Heatmap): void {
  totals.replaceChildren(...[['Total', h.total], ['Rage clicks', h.rage_clicks], ['Dead clicks', h.dead_clicks]]
    .flatMap(([k, v]) => [el('dt', {}, String(k)), el('dd', { 'data-testid': `heatmap-${String(k).split(' ')[0].toLowerCase()}` }, String(v))]));
  sessions.href = h.sessions_url;
  tbody.replaceChildren(...h.elements.map((e) => {
    const tr = el('tr', { 'data-testid': 'heatmap-element' });
    const link = el('a', { href: e.sessions_url }, 'sessions');
    tr.append(el('td', { class: 'selector' }, e.selector), el('td', {}, String(e.clicks)), el('td', {}, String(e.rage)), el('td', {}, String(e.dead)));
    tr.append(el('td')); (tr.lastChild as HTMLElement).append(link);
    return tr;
  }));
}

async function load(): Promise<void> {
  const q = new URLSearchParams(location.search);
  fillForm(q);
  if (!q.get('url')) { status.textContent = 'Choose a page (a path; * matches any part, e.g. /product/*).'; return; }
  status.textContent = 'Loading…';
  const res = await fetch(`/api/heatmaps?${apiQuery(q)}`);
  if (res.status === 401) return toLogin();
  if (!res.ok) { status.textContent = `The hub refused: ${res.status}`; return; }
  const h = (await res.json()) as Heatmap;
  numbers(h);
  if (!h.snapshot) { status.textContent = 'No snapshot of this page in this viewport yet.'; return; }
  const ev = await fetch(h.snapshot.events_url);
  const events = ev.ok ? ((await ev.json()) as eventWithTime[]) : [];
  if (events.length < 2) { status.textContent = 'The snapshot is no longer stored.'; return; }
  const doc = await replay(events, h.snapshot.width);
  const frame = player.querySelector('iframe');
  const ctx = canvasOver(frame?.offsetWidth ?? h.snapshot.width, frame?.offsetHeight ?? h.snapshot.height);
  if (!ctx) return;
  if (h.kind === 'scroll') drawScroll(ctx, h);
  else drawPoints(ctx, place(h.points as HeatPoint[], boxIn(doc)));
  status.textContent = `${h.total} on ${h.url} (${h.bucket}), ${h.from.slice(0, 10)} – ${h.to.slice(0, 10)}`;
  player.dataset.ready = 'true';
  // What bench/heatmap-page.mjs times: from navigation to the points drawn.
  performance.mark('heatmap:drawn');
}

form.addEventListener('submit', (e) => {
  e.preventDefault();
  const q = new URLSearchParams();
  for (const f of FIELDS) {
    const v = (form.elements.namedItem(f) as HTMLInputElement | null)?.value;
    if (v) q.set(f, v);
  }
  history.pushState(null, '', `?${q}`);
  void load();
});
addEventListener('popstate', () => void load());
initAccount();
void load();
