// One session drawn as a list row, and its details panel. Every recorded string (user, traits, URL,
// user agent) goes in as text; a URL becomes a link only when it is http(s).

import { el, fmtDuration, fmtTime, sessionDuration } from '../common';
import { keyOf } from './match';
import type { Session } from './types';

const SVG = 'http://www.w3.org/2000/svg';
/** Outline icons (24×24, our own paths, nothing fetched): one per device type. */
const DEVICE_PATHS: Record<string, string> = {
  desktop: 'M3 4h18v12H3z M8 20h8 M12 16v4',
  mobile: 'M7 2h10v20H7z M11 18h2',
  tablet: 'M4 3h16v18H4z M11 18h2',
};
/** A browser's mark: its initial on its colour. */
const BROWSER_COLORS: Record<string, string> = {
  chrome: '#1a73e8', chromium: '#1a73e8', firefox: '#e66000', safari: '#0fb5ee', 'mobile safari': '#0fb5ee',
  edge: '#0c8484', opera: '#d50f25', 'samsung internet': '#6b4ef6',
};

function deviceIcon(device: string | null | undefined): Element {
  const kind = (device ?? '').toLowerCase();
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', 'icon');
  svg.setAttribute('aria-hidden', 'true');
  const path = document.createElementNS(SVG, 'path');
  path.setAttribute('d', DEVICE_PATHS[kind] ?? 'M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18z M12 8v5 M12 16v1');
  svg.append(path);
  return svg;
}

function browserIcon(browser: string | null | undefined): HTMLElement {
  const name = browser ?? '';
  const mark = el('span', { class: 'browser-mark', 'aria-hidden': 'true' }, name ? name[0].toUpperCase() : '?');
  mark.style.background = BROWSER_COLORS[name.toLowerCase()] ?? '#868e96';
  return mark;
}

const count = (n: number | undefined) => (n === undefined ? '—' : String(n));
export const watchHref = (s: Session) => `/sessions/${encodeURIComponent(s.id)}?project=${encodeURIComponent(s.project)}`;

/** The row for `s` at list position `index` (rows have a fixed height; see dashboard.ts). */
export function sessionRow(s: Session, index: number, height: number, now: number, selected: boolean): HTMLDivElement {
  const row = el('div', { class: selected ? 'row selected' : 'row', role: 'listitem', 'data-testid': 'session-row', 'data-session-id': s.id, 'data-key': keyOf(s) });
  row.style.top = `${index * height}px`;
  const user = el('a', { class: 'c-user', href: watchHref(s), 'data-testid': 'session-user', title: s.user_id ?? `anonymous — ${s.id}` });
  if (s.active) user.append(el('span', { class: 'badge', 'data-testid': 'live-badge' }, 'LIVE'));
  user.append(s.user_id ? el('span', {}, s.user_id) : el('span', { class: 'anon', 'data-testid': 'anonymous' }, 'anonymous'));
  const device = [s.device, s.browser, s.os].filter(Boolean).join(' · ') || 'unknown device';
  const icons = el('span', { class: 'c-icons', title: device, 'aria-label': device, 'data-testid': 'device' });
  icons.append(deviceIcon(s.device), browserIcon(s.browser));
  const errors = s.error_count ?? undefined;
  const details = el('button', { type: 'button', class: 'c-more', 'data-testid': 'session-details-toggle', 'aria-label': 'Details', 'aria-expanded': String(selected) }, '⋯');
  row.append(
    user,
    el('span', { class: 'c-url', title: s.url ?? '' }, s.url ?? '—'),
    el('span', { class: 'c-start' }, fmtTime(s.started_at)),
    icons,
    el('span', { class: 'c-pages', 'data-testid': 'pages' }, count(s.page_count)),
    el('span', { class: 'c-dur', 'data-testid': 'duration' }, fmtDuration(sessionDuration(s, now))),
    el('span', { class: 'c-active', 'data-testid': 'active-time' }, s.active_ms === undefined ? '—' : fmtDuration(s.active_ms)),
    el('span', { class: errors ? 'c-errors has-errors' : 'c-errors', 'data-testid': 'errors' }, count(errors)),
    details,
  );
  return row;
}

/** http(s) URLs become links; anything else (javascript:, data:, garbage) stays text. */
export function safeHref(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch {
    return null;
  }
}

function viewportText(v: Session['viewport']): string {
  if (!v) return '—';
  return typeof v === 'string' ? v : `${v.width} × ${v.height}`;
}

/** A recorded URL: a link when it is http(s), text otherwise. */
function urlNode(url: string | null | undefined): Node {
  const href = safeHref(url);
  return href ? el('a', { href, target: '_blank', rel: 'noopener noreferrer nofollow' }, url ?? '') : document.createTextNode(url ?? '—');
}

/**
 * The details panel's content: everything the list has on `s`, one click from its row, and the
 * pages visited once `GET /api/sessions/{id}` has answered with them.
 */
export function sessionDetails(s: Session, pages?: string[]): DocumentFragment {
  const frag = document.createDocumentFragment();
  const head = el('div', { class: 'details-head' });
  head.append(el('a', { href: watchHref(s), class: 'watch-link', 'data-testid': 'details-watch' }, s.active ? 'Watch live' : 'Replay'));
  head.append(el('button', { type: 'button', class: 'close', 'data-testid': 'details-close', 'aria-label': 'Close' }, '×'));
  frag.append(head);
  const dl = el('dl');
  const add = (name: string, value: string | Node, testid?: string) => {
    const dd = el('dd', testid ? { 'data-testid': testid } : {});
    dd.append(value);
    dl.append(el('dt', {}, name), dd);
  };
  add('Session', `${s.id} (${s.project})`, 'details-id');
  add('User', s.user_id ?? 'anonymous', 'details-user');
  if (s.traits && Object.keys(s.traits).length) {
    const ul = el('ul', { class: 'traits', 'data-testid': 'details-traits' });
    for (const [k, v] of Object.entries(s.traits)) ul.append(el('li', {}, `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`));
    add('Traits', ul);
  }
  add('First page', urlNode(s.url), 'details-url');
  if (pages?.length) {
    const ul = el('ul', { class: 'pages', 'data-testid': 'details-pages' });
    for (const p of pages) { const li = el('li'); li.append(urlNode(p)); ul.append(li); }
    add('Pages visited', ul);
  }
  add('Started', fmtTime(s.started_at));
  add('Last event', fmtTime(s.last_event_at));
  add('Browser', s.browser ?? '—', 'details-browser');
  add('OS', s.os ?? '—', 'details-os');
  add('Device', s.device ?? '—', 'details-device');
  add('Viewport', viewportText(s.viewport));
  add('User agent', s.user_agent ?? '—', 'details-ua');
  add('Pages', count(s.page_count));
  add('Clicks', count(s.click_count));
  add('Rage clicks', count(s.rage_click_count), 'details-rage');
  add('Errors', count(s.error_count));
  add('Events', String(s.event_count));
  frag.append(dl);
  return frag;
}
