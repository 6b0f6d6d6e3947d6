// The watch page's context around the replay, drawn from markers.ts: the timeline's markers,
// shaded inactive stretches and live edge; the current URL and viewport; the session details.
// Recorded text (URLs, labels, user ids) is hostile: it only ever goes in as text or attributes.

import type { SessionInfo } from '@streamdom/recorder/protocol';
import { el, fmtDuration, fmtTime } from '../common';
import { inactiveStretches, pageAt, thin, type Marker, type Markers } from './markers';
import { heatmapHref } from '../heatmap/place';

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const REDRAW_MS = 500;

/** Where the timeline spans, in visitor timestamps, and whether its end is the live edge. */
export interface Span { start: number; end: number; live: boolean }

export class TimelineView {
  private shading = byId<HTMLElement>('track-shading');
  private markersEl = byId<HTMLElement>('track-markers');
  private liveEdge = byId<HTMLElement>('live-edge');
  /** What was drawn last: redrawn only when markers arrive or the span grows by a pixel's worth. */
  private drawn = { count: -1, inputs: -1, start: 0, end: 0 };
  private drawnAt = 0;

  /** `seek(ms)`: ms from the session's start. */
  constructor(private seek: (ms: number) => void) {
    // One listener for every marker and stretch: they are redrawn often.
    this.markersEl.parentElement?.addEventListener('click', (ev) => {
      const t = (ev.target as HTMLElement).closest<HTMLElement>('[data-ms]');
      if (t) this.seek(Number(t.dataset.ms));
    });
  }

  render(markers: Markers, all: Marker[], span: Span): void {
    this.liveEdge.hidden = !span.live;
    const len = Math.max(1, span.end - span.start);
    const d = this.drawn;
    const moved = Math.abs(span.end - d.end) > len / 400 || span.start !== d.start;
    if (d.count === all.length && d.inputs === markers.inputs.length && !moved) return;
    // A live session moves the span and adds markers all the time: at most a few redraws a second
    // (each walks every marker), so that a busy session's timeline does not cost the replay frames.
    const now = performance.now();
    if (now - this.drawnAt < REDRAW_MS && d.count >= 0) return;
    this.drawnAt = now;
    this.drawn = { count: all.length, inputs: markers.inputs.length, start: span.start, end: span.end };
    const pct = (ts: number) => `${(Math.min(1, Math.max(0, (ts - span.start) / len)) * 100).toFixed(3)}%`;
    this.shading.replaceChildren(...inactiveStretches(markers.inputs, span.start, span.end).map((s) => {
      const label = `Inactive ${fmtDuration(s.from - span.start)} – ${fmtDuration(s.to - span.start)} · click to skip`;
      return el('div', { class: 'inactive', 'data-ms': String(s.to - span.start), title: label, style: `left:${pct(s.from)};width:calc(${pct(s.to)} - ${pct(s.from)})` });
    }));
    this.markersEl.replaceChildren(...thin(all, span.start, span.end).map((m) => {
      const label = `${m.label} · ${fmtDuration(m.ts - span.start)}`;
      return el('button', {
        type: 'button',
        class: 'marker',
        'data-testid': 'timeline-marker',
        'data-kind': m.kind,
        'data-seq': String(m.seq),
        'data-ms': String(m.ts - span.start),
        'data-label': label,
        'aria-label': label,
        style: `left:${pct(m.ts)}`,
      });
    }));
  }
}

/** Device, browser and OS as the hub reports them (hub versions without them: from the user agent). */
type Info = SessionInfo & { user_id?: string | null; browser?: string | null; os?: string | null; device?: string | null };

/** A rough reading of a user agent, for hubs that do not report browser, OS and device yet. */
export function fromUserAgent(ua: string | null | undefined): { browser: string | null; os: string | null; device: string | null } {
  if (!ua) return { browser: null, os: null, device: null };
  const pick = (pairs: [RegExp, string][]) => pairs.find(([re]) => re.test(ua))?.[1] ?? null;
  const browser = pick([[/Edg\//, 'Edge'], [/OPR\//, 'Opera'], [/Firefox\//, 'Firefox'], [/Chrome\//, 'Chrome'], [/Safari\//, 'Safari']]);
  const os = pick([[/Android/, 'Android'], [/iPhone|iPad|iPod/, 'iOS'], [/Windows/, 'Windows'], [/Mac OS X|Macintosh/, 'macOS'], [/CrOS/, 'ChromeOS'], [/Linux/, 'Linux']]);
  const device = /iPad|Tablet/.test(ua) ? 'Tablet' : /Mobi|iPhone|Android/.test(ua) ? 'Mobile' : 'Desktop';
  return { browser, os, device };
}

const capitalize = (s: string | null | undefined) => (s ? s[0].toUpperCase() + s.slice(1) : null);

export class DetailsView {
  private urlEl = document.querySelector('[data-testid="current-url"]') as HTMLElement;
  private vpEl = byId<HTMLElement>('vp-size');
  /** The heatmap of the page shown, in the visitor's viewport bucket. */
  private heatEl = document.querySelector<HTMLAnchorElement>('[data-testid="page-heatmap"]');
  private heatWidth = 0;
  private dl = byId<HTMLElement>('details');
  private info: Info | null = null;
  private shown = '';

  /** The session as GET /api/sessions/{id} describes it; null keeps what the stream said. */
  setInfo(info: Info | null): void { this.info = info; }

  render(markers: Markers, at: number, dims: { width: number; height: number }, s: { info: SessionInfo | null; durationMs: number; userId: string | null }): void {
    const page = pageAt(markers.pages, at);
    const url = page ? page.label.replace(/^Page: /, '') : '—';
    if (this.urlEl.textContent !== url || this.heatWidth !== dims.width) {
      this.urlEl.textContent = url;
      this.urlEl.title = url;
      this.heatWidth = dims.width;
      if (this.heatEl && page) this.heatEl.href = heatmapHref(url, dims.width);
    }
    const vp = dims.width && dims.height ? `${dims.width} × ${dims.height}` : '';
    if (this.vpEl.textContent !== vp) this.vpEl.textContent = vp;
    const info: Info | null = this.info ?? s.info;
    const ua = fromUserAgent(info?.user_agent);
    const rows: [string, string][] = [
      ['User', info?.user_id ?? s.userId ?? '—'],
      // The hub names devices in lower case ("desktop"), as filters take them.
      ['Device', capitalize(info?.device) ?? ua.device ?? '—'],
      ['Browser', info?.browser ?? ua.browser ?? '—'],
      ['OS', info?.os ?? ua.os ?? '—'],
      ['Start', fmtTime(info?.started_at)],
      ['Pages', String(markers.pages.length)],
      ['Duration', fmtDuration(s.durationMs)],
    ];
    const key = JSON.stringify(rows);
    if (key === this.shown) return;
    this.shown = key;
    this.dl.replaceChildren(...rows.flatMap(([k, v]) => [el('dt', {}, k), el('dd', { 'data-field': k.toLowerCase(), title: v }, v)]));
  }
}
