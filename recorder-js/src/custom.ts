// StreamDOM.identify and StreamDOM.track: the site's own events as rrweb Custom events (type 5),
// checked before they are taken, and kept in order until a recording can take them.

import { utf8Length } from './buffer';

/** rrweb's EventType.Custom and EventType.Plugin. */
export const CUSTOM = 5;
export const PLUGIN = 6;
export const MAX_USER_ID_LENGTH = 256;
export const MAX_EVENT_NAME_LENGTH = 256;
/** Traits and properties, as JSON. */
export const MAX_PAYLOAD_BYTES = 8 * 1024;
/** Calls kept before `init` (or between a `stop` and the next `init`); later ones are dropped. */
export const MAX_QUEUED = 100;

export interface ReportedEvent { type: number; timestamp: number; data: unknown }

export const customEvent = (tag: string, payload: unknown, timestamp = Date.now()): ReportedEvent =>
  ({ type: CUSTOM, timestamp, data: { tag, payload } });

export const pluginEvent = (plugin: string, payload: unknown, timestamp = Date.now()): ReportedEvent =>
  ({ type: PLUGIN, timestamp, data: { plugin, payload } });

/** A copy of `value` as JSON would carry it, or why it cannot be taken. */
function payload(value: unknown, what: string): { ok: Record<string, unknown> } | { error: string } {
  if (value === undefined) return { ok: {} };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { error: `${what}: not a JSON object` };
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    // Cycles, BigInt.
  }
  if (json === undefined) return { error: `${what}: not JSON-serializable` };
  if (utf8Length(json) > MAX_PAYLOAD_BYTES) return { error: `${what}: over ${MAX_PAYLOAD_BYTES} bytes of JSON` };
  // A copy: later changes the page makes to its object are not part of this event.
  return { ok: JSON.parse(json) as Record<string, unknown> };
}

/** `$identify` for a user id (a non-empty string of at most MAX_USER_ID_LENGTH characters) and traits. */
export function identifyEvent(userId: unknown, traits?: unknown): ReportedEvent | string {
  if (typeof userId === 'number' && Number.isFinite(userId)) userId = String(userId);
  if (typeof userId !== 'string' || !userId || userId.length > MAX_USER_ID_LENGTH) {
    return `identify: the user id must be 1–${MAX_USER_ID_LENGTH} characters`;
  }
  const p = payload(traits, 'identify: traits');
  return 'error' in p ? p.error : customEvent('$identify', { user_id: userId, traits: p.ok });
}

/** A custom event `name` (not starting with `$`, reserved for StreamDOM) with its properties. */
export function trackEvent(name: unknown, properties?: unknown): ReportedEvent | string {
  if (typeof name !== 'string' || !name || name.length > MAX_EVENT_NAME_LENGTH) {
    return `track: the name must be 1–${MAX_EVENT_NAME_LENGTH} characters`;
  }
  if (name.startsWith('$')) return `track: ${name}: names starting with $ are StreamDOM's`;
  const p = payload(properties, 'track: properties');
  return 'error' in p ? p.error : customEvent(name, p.ok);
}

/** Events made while nothing records, handed over in order to the next recording. */
export class PendingEvents {
  private events: ReportedEvent[] = [];
  dropped = 0;

  push(e: ReportedEvent): void {
    if (this.events.length < MAX_QUEUED) this.events.push(e);
    else this.dropped++;
  }

  drain(to: (e: ReportedEvent) => void): void {
    this.events.splice(0).forEach(to);
  }
}
