// A session as the sessions page reads it: the API's and the feed's SessionInfo with the fields
// the hub derives per session (issue 16). The page still reads them as optional, saying "—" and
// judging filters on them "unknown", should a hub (an older one mid-upgrade) leave them out.

import type { SessionInfo } from '@streamdom/recorder/protocol';

export interface Derived {
  user_id: string | null;
  traits: Record<string, unknown> | null;
  browser: string | null;
  os: string | null;
  device: string | null;
  viewport: { width: number; height: number } | string | null;
  page_count: number;
  active_ms: number;
  error_count: number;
  click_count: number;
  rage_click_count: number;
}

export type Session = SessionInfo & Partial<Derived>;
