// Where a heatmap's points go on the replayed page: by element (its selector path found in the
// replay's document, the offset within it) and else by page coordinates. Pure, unit-tested.

import type { HeatPoint } from '@streamdom/recorder/protocol';

export interface Placed { x: number; y: number; count: number; by: 'element' | 'page' }

/** The part of a DOM element `place` reads (a replayed page's, never trusted to run anything). */
export interface Box { left: number; top: number; width: number; height: number }

/** `find(selector)`: the element's box in page coordinates, or null (not found, or not a valid selector). */
export function place(points: HeatPoint[], find: (selector: string) => Box | null): Placed[] {
  const boxes = new Map<string, Box | null>();
  return points.map((p) => {
    if (p.selector && p.ox !== null && p.oy !== null) {
      if (!boxes.has(p.selector)) boxes.set(p.selector, find(p.selector));
      const b = boxes.get(p.selector);
      if (b) return { x: b.left + p.ox * b.width, y: b.top + p.oy * b.height, count: p.count, by: 'element' };
    }
    return { x: p.x, y: p.y, count: p.count, by: 'page' };
  });
}

/** The viewport bucket of a width, as the hub splits heatmaps. */
export function bucketOf(width: number | null | undefined): 'mobile' | 'tablet' | 'desktop' {
  if (width && width < 768) return 'mobile';
  if (width && width < 1024) return 'tablet';
  return 'desktop';
}

/** The heatmap page of a recorded URL (its path, without query or fragment) in that width's bucket. */
export function heatmapHref(url: string, width?: number | null): string {
  let path = url;
  try { path = new URL(url, 'http://x').pathname; } catch { /* keep as is */ }
  return `/heatmaps?url=${encodeURIComponent(path)}&bucket=${bucketOf(width)}`;
}
