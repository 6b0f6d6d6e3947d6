// One line per recorded event for the event feed: its kind (what the feed filters by) and a
// readable summary. Recorded content is hostile: summaries are plain strings, shown as text.

import { errorMessage, pageUrl } from './markers';
import type { Rec } from './store';

export type FeedKind = 'page' | 'click' | 'input' | 'pointer' | 'scroll' | 'mutation' | 'console' | 'error' | 'network' | 'custom' | 'other';
export const FEED_KINDS: FeedKind[] = ['page', 'click', 'input', 'pointer', 'scroll', 'mutation', 'console', 'error', 'network', 'custom', 'other'];

export interface Summary { kind: FeedKind; text: string }

const MAX = 200;
const clip = (s: string) => (s.length > MAX ? `${s.slice(0, MAX - 1)}…` : s);
const json = (v: unknown) => { try { return JSON.stringify(v) ?? ''; } catch { return ''; } };
const INTERACTIONS = ['Mouse up', 'Mouse down', 'Click', 'Context menu', 'Double click', 'Focus', 'Blur', 'Touch start', 'Touch move', 'Touch end', 'Touch cancel'];

type D = Record<string, unknown>;

export function summarize(r: Rec): Summary {
  const e = r.event as { type: number; data?: D };
  const d: D = e.data ?? {};
  const url = pageUrl(r);
  switch (e.type) {
    case 0: return { kind: 'other', text: 'DOM content loaded' };
    case 1: return { kind: 'other', text: 'Page loaded' };
    case 2: return { kind: 'other', text: 'Full snapshot of the page' };
    case 4: return { kind: 'page', text: clip(`Page load ${url ?? ''} (${d.width}×${d.height})`) };
    case 3: return incremental(d);
    case 5: return custom(d, url);
    case 6: return plugin(r, d);
    default: return { kind: 'other', text: `Event of type ${e.type}` };
  }
}

function incremental(d: D): Summary {
  switch (d.source) {
    case 0: {
      const n = (k: string) => (Array.isArray(d[k]) ? (d[k] as unknown[]).length : 0);
      return { kind: 'mutation', text: `DOM change: +${n('adds')} −${n('removes')} text ${n('texts')} attributes ${n('attributes')}` };
    }
    case 1: case 6: case 12: return { kind: 'pointer', text: `Pointer moves (${Array.isArray(d.positions) ? d.positions.length : 0})` };
    case 2: {
      const what = INTERACTIONS[d.type as number] ?? 'Mouse interaction';
      return { kind: d.type === 2 || d.type === 4 ? 'click' : 'pointer', text: `${what} at ${d.x}, ${d.y} on node ${d.id}` };
    }
    case 3: return { kind: 'scroll', text: `Scroll to ${d.x}, ${d.y} on node ${d.id}` };
    case 4: return { kind: 'other', text: `Window resized to ${d.width}×${d.height}` };
    case 5: return { kind: 'input', text: clip(`Input on node ${d.id}: ${typeof d.text === 'string' ? JSON.stringify(d.text) : ''}${d.isChecked ? ' (checked)' : ''}`) };
    case 7: return { kind: 'other', text: `Media ${MEDIA[d.type as number] ?? 'change'} on node ${d.id}${typeof d.currentTime === 'number' ? ` at ${d.currentTime.toFixed(1)} s` : ''}` };
    case 8: return { kind: 'mutation', text: `Style sheet rules: +${count(d.adds)} −${count(d.removes)}${d.replace !== undefined || d.replaceSync !== undefined ? ' (replaced)' : ''}` };
    case 9: return { kind: 'mutation', text: `Canvas drawn on node ${d.id}${Array.isArray(d.commands) ? ` (${d.commands.length} commands)` : ''}` };
    case 10: return { kind: 'mutation', text: clip(`Font loaded: ${typeof d.family === 'string' ? d.family : ''}`) };
    case 11: return { kind: 'console', text: clip(`console.${String(d.level ?? 'log')} (old format)`) };
    case 13: {
      const set = d.set as { property?: unknown; value?: unknown } | undefined;
      const removed = d.remove as { property?: unknown } | undefined;
      const what = set ? `${String(set.property)}: ${String(set.value)}` : `${String(removed?.property ?? '')} removed`;
      return { kind: 'mutation', text: clip(`Style change ${what}`) };
    }
    case 14: return { kind: 'other', text: `Text selected (${count(d.ranges)} range${count(d.ranges) === 1 ? '' : 's'})` };
    case 15: return { kind: 'mutation', text: `Adopted style sheets on node ${d.id} (${count(d.styleIds)})` };
    case 16: return { kind: 'mutation', text: clip(`Custom element defined: ${String((d.define as { name?: unknown } | undefined)?.name ?? '')}`) };
    default: return { kind: 'other', text: `Incremental change (source ${d.source})` };
  }
}

const MEDIA = ['play', 'pause', 'seek', 'volume change', 'rate change'];
const count = (v: unknown) => (Array.isArray(v) ? v.length : 0);

function custom(d: D, url: string | null): Summary {
  const tag = typeof d.tag === 'string' ? d.tag : '';
  const p = (d.payload ?? {}) as D;
  if (tag === '$pageview') return { kind: 'page', text: clip(`Page view ${url ?? ''}${typeof p.title === 'string' && p.title ? ` — ${p.title}` : ''}`) };
  if (tag === '$identify') return { kind: 'custom', text: clip(`Identified as ${String(p.user_id ?? '')}`) };
  if (tag === '$visibility') return { kind: 'other', text: `Page ${String(p.state ?? '')}` };
  return { kind: 'custom', text: clip(`Event ${tag} ${json(d.payload)}`) };
}

function plugin(r: Rec, d: D): Summary {
  const p = (d.payload ?? {}) as D;
  if (d.plugin === 'rrweb/console@1') {
    const err = errorMessage(r);
    if (err !== null) return { kind: 'error', text: clip(`${p.source === 'console' || !p.source ? 'console.error' : String(p.source)}: ${err}`) };
    const args = Array.isArray(p.payload) ? p.payload.map((a) => (typeof a === 'string' ? a : json(a))).join(' ') : '';
    return { kind: 'console', text: clip(`console.${String(p.level ?? 'log')}: ${args}`) };
  }
  if (d.plugin === 'streamdom/network@1') {
    const reqs = Array.isArray(p.requests) ? (p.requests as D[]) : [];
    const one = (q: D) => `${String(q.method ?? 'GET')} ${String(q.url ?? '')} → ${q.status === 0 ? `failed${q.error ? ` (${String(q.error)})` : ''}` : String(q.status)} ${Math.round(Number(q.duration) || 0)} ms`;
    return { kind: 'network', text: clip(reqs.length === 1 ? one(reqs[0]) : `${reqs.length} requests: ${reqs.map(one).join('; ')}`) };
  }
  return { kind: 'other', text: clip(`Plugin ${String(d.plugin ?? '')}`) };
}
