// Online page: who is on the recorded sites now, from GET /api/online, polled every second (the
// list is small and cheap to build; a pushed feed is left for later, see the README). Watch asks
// the visitor's page to record and opens the session live; Stop ends it. Everything shown comes
// from visitors' browsers: it is set as text, never as HTML.

import type { OnlineVisitor } from '@streamdom/recorder/protocol';
import { initAccount } from './account';
import * as api from './admin/api';
import { button } from './admin/controls';
import { el, fmtDuration } from './common';

const POLL_MS = 1000;
const rows = document.getElementById('online-rows') as HTMLTableSectionElement;
const count = document.getElementById('online-count') as HTMLSpanElement;
const errorEl = document.getElementById('online-error') as HTMLParagraphElement;

function showError(e: unknown): void {
  errorEl.textContent = e instanceof Error ? e.message : String(e);
  errorEl.hidden = false;
}

const sessionUrl = (v: { project: string; session_id: string }) =>
  `/sessions/${encodeURIComponent(v.session_id)}?project=${encodeURIComponent(v.project)}`;

async function watch(v: OnlineVisitor, b: HTMLButtonElement): Promise<void> {
  b.disabled = true;
  b.textContent = 'Starting…';
  try {
    // Answers once the visitor's page recorded its first frame: the session opens live at once.
    location.assign(sessionUrl(await api.watchVisitor(v)));
  } catch (e) {
    showError(e);
    b.disabled = false;
    b.textContent = 'Watch';
  }
}

/** Rows kept between polls, so a button being clicked is not replaced under the pointer. */
const drawn = new Map<string, { tr: HTMLTableRowElement; sig: string; since: HTMLTableCellElement }>();

function row(v: OnlineVisitor, now: number): { tr: HTMLTableRowElement; since: HTMLTableCellElement } {
  const tr = el('tr', { 'data-testid': 'online-visitor', 'data-visitor': v.visitor_id, 'data-recording': String(v.recording) });
  const device = [v.device, v.browser, v.os].filter(Boolean).join(' · ') + (v.viewport ? ` ${v.viewport.width}×${v.viewport.height}` : '');
  const since = Date.parse(v.online_since);
  const actions = el('td', { class: 'actions' });
  const w = button(v.recording ? 'Watch live' : 'Watch', 'watch-visitor', () => void watch(v, w));
  actions.append(w);
  if (v.recording && v.session_id) {
    actions.append(button('Stop', 'stop-visitor', () => {
      void api.stopVisitor(v).then(refresh, showError);
    }, 'danger'));
    actions.append(el('span', { class: 'muted', 'data-testid': 'visitor-viewers' }, ` ${v.viewers} watching`));
  }
  const onSite = el('td', { 'data-since': String(since) }, Number.isNaN(since) ? '—' : fmtDuration(now - since));
  tr.append(
    el('td', {}, v.visitor_id.slice(0, 8)),
    el('td', { class: 'url', title: v.url }, v.url),
    el('td', {}, device || '—'),
    onSite,
    el('td', {}, v.project),
    actions,
  );
  return { tr, since: onSite };
}

async function refresh(): Promise<void> {
  const visitors = await api.online();
  errorEl.hidden = true;
  const now = Date.now();
  const seen = new Set<string>();
  const ordered = visitors.map((v) => {
    const key = `${v.project}:${v.visitor_id}`;
    seen.add(key);
    const sig = JSON.stringify(v);
    let kept = drawn.get(key);
    if (!kept || kept.sig !== sig) {
      kept = { ...row(v, now), sig };
      drawn.set(key, kept);
    } else {
      const since = Number(kept.since.dataset.since);
      if (!Number.isNaN(since)) kept.since.textContent = fmtDuration(now - since);
    }
    return kept.tr;
  });
  for (const key of [...drawn.keys()]) if (!seen.has(key)) drawn.delete(key);
  // Moves only what changed place; rows already in order stay where they are.
  ordered.forEach((tr, i) => { if (rows.children[i] !== tr) rows.insertBefore(tr, rows.children[i] ?? null); });
  while (rows.children.length > ordered.length) rows.lastElementChild?.remove();
  count.textContent = `${visitors.length} online`;
}

async function poll(): Promise<void> {
  try {
    await refresh();
  } catch (e) {
    showError(e);
  }
  setTimeout(() => void poll(), POLL_MS);
}

initAccount();
void poll();
