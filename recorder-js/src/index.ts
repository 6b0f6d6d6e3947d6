// Public API of the StreamDOM recorder: StreamDOM.init(options) -> { sessionId, stop() }.

import type { record } from '@rrweb/record';
import type { ClockSync } from './clock';
import { Recorder } from './recorder';
import { sessionIdFor } from './storage';

type RecordOptions = NonNullable<Parameters<typeof record>[0]>;

export interface InitOptions {
  /** 1–64 chars of [A-Za-z0-9_-]; default: one per browser tab, kept across pages of the site. */
  sessionId?: string;
  /** Hub base URL, e.g. https://hub.example.com; default: where this script was loaded from. */
  endpoint?: string;
  /** The project's public ingest key; default: the `?key=` of this script's own URL. */
  key?: string;
  /** Replace every input's value with asterisks (default true). */
  maskAllInputs?: boolean;
  maskInputOptions?: RecordOptions['maskInputOptions'];
  /** Elements whose text is masked. */
  maskTextSelector?: string;
  /** Elements recorded as empty boxes. */
  blockSelector?: string;
  /** Elements whose input events are not recorded. */
  ignoreSelector?: string;
  /** Passed to rrweb's record() last, overriding everything above. */
  recordOptions?: Partial<RecordOptions>;
}

export interface Handle {
  sessionId: string;
  /** Estimate of the hub's clock (hubNow(), offset), reported to the hub after each update. */
  clock: ClockSync;
  stop(): Promise<void>;
}

// Latency first: rrweb's defaults hold mouse positions back for 500 ms and throttle scroll to 100 ms.
const SAMPLING = {
  mousemove: 20,
  mousemoveCallback: 0,
  scroll: 33,
};
// Late viewers start at the newest full snapshot; this bounds how much history they need.
const CHECKOUT_EVERY_MS = 10 * 60 * 1000;
// Privacy defaults; opt out per element with rrweb's classes, or via recordOptions.
const BLOCK_SELECTOR = '[data-streamdom-block]';
const MASK_TEXT_SELECTOR = '[data-streamdom-mask]';

let defaultEndpoint: string | undefined;
let defaultKey: string | undefined;
let active: Handle | undefined;

/** @internal Set by the bundle entry points from where the script itself was loaded (and its `?key=`). */
export function setDefaultEndpoint(url: string | undefined | null): void {
  if (!url) return;
  try {
    const parsed = new URL(url, location.href);
    defaultEndpoint = parsed.origin;
    defaultKey = parsed.searchParams.get('key') ?? undefined;
  } catch { /* keep fallback */ }
}

function init(options: InitOptions = {}): Handle {
  if (active) {
    console.warn('StreamDOM: already recording; returning the running session');
    return active;
  }
  const sessionId = sessionIdFor(options.sessionId);
  const endpoint = (options.endpoint ?? defaultEndpoint ?? location.origin).replace(/\/+$/, '');
  const key = options.key ?? defaultKey;
  if (!key) console.warn('StreamDOM: no project key (add ?key=… to the script URL); the hub will refuse the recording');
  const recorder = new Recorder(sessionId, endpoint, key ?? '', {
    maskAllInputs: options.maskAllInputs ?? true,
    maskInputOptions: { password: true, ...options.maskInputOptions },
    maskTextSelector: options.maskTextSelector ?? MASK_TEXT_SELECTOR,
    blockSelector: options.blockSelector ?? BLOCK_SELECTOR,
    ignoreSelector: options.ignoreSelector,
    sampling: SAMPLING,
    checkoutEveryNms: CHECKOUT_EVERY_MS,
    ...options.recordOptions,
  });
  recorder.start();
  const handle: Handle = {
    sessionId,
    clock: recorder.socket.clock,
    stop: () => {
      if (active === handle) active = undefined;
      return recorder.stop();
    },
  };
  active = handle;
  return handle;
}

/** Stop the running recording, if any (what `handle.stop()` does, for code that kept no handle). */
function stop(): Promise<void> {
  return active ? active.stop() : Promise.resolve();
}

const StreamDOM = { init, stop };
export { StreamDOM as StreamDom, StreamDOM };
export { ClockSync } from './clock';
export default StreamDOM;
