// A session as the hub sends it, for the sessions page's unit tests.

import type { Session } from './types';

export const T0 = Date.UTC(2026, 10, 24, 10);
export function session(over: Partial<Session> = {}): Session {
  return {
    id: 's1', project: 'default', active: false, started_at: new Date(T0).toISOString(), last_event_at: new Date(T0 + 60_000).toISOString(),
    ended_at: null, duration_ms: 60_000, url: 'https://shop.example/pricing', user_agent: 'Mozilla/5.0', event_count: 10, raw_bytes: 1, stored_bytes: 1,
    first_event_ts: T0, user_id: 'alice', traits: { plan: 'pro', email: 'alice@example.com' }, browser: 'Chrome', os: 'Linux', device: 'desktop',
    viewport: { width: 1280, height: 800 }, page_count: 2, active_ms: 20_000, error_count: 1, click_count: 5, rage_click_count: 0, custom_event_count: 0, ...over,
  };
}
