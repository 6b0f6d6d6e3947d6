// Public API of the StreamDOM recorder: StreamDOM.init(options) -> { sessionId, stop() }.

import type { record } from '@rrweb/record';
import type { ClockSync } from './clock';
import { PrivacyPolicy, scrub } from './privacy';
import { nodeById, Recorder } from './recorder';
import { sessionIdFor } from './storage';

type RecordOptions = NonNullable<Parameters<typeof record>[0]>;

export interface PrivacyChoices {
  /** Mask the value of every input, textarea and select (default true); passwords and hidden inputs always. */
  maskAllInputs?: boolean;
  /** Per type or tag, on top of the above (e.g. `{ email: true }` with `maskAllInputs: false`). */
  maskInputOptions?: RecordOptions['maskInputOptions'];
  /** Mask every text of the page (default false). */
  maskAllText?: boolean;
  /** More elements whose text is masked, besides `.streamdom-mask`, `[data-streamdom-mask]` and `.rr-mask`. */
  maskTextSelector?: string;
  /** More elements recorded as empty boxes, besides `.streamdom-block`, `[data-streamdom-block]` and `.rr-block`. */
  blockSelector?: string;
  /** Elements whose input events are not recorded, besides `.rr-ignore`. */
  ignoreSelector?: string;
}

/** What is masked by default and how to change it: see privacy.ts and the README's "Keeping private data out". */
export interface InitOptions extends PrivacyChoices {
  /** 1–64 chars of [A-Za-z0-9_-]; default: one per browser tab, kept across pages of the site. */
  sessionId?: string;
  /** Hub base URL, e.g. https://hub.example.com; default: where this script was loaded from. */
  endpoint?: string;
  /** The project's public ingest key; default: the `?key=` of this script's own URL. */
  key?: string;
  /** Passed to rrweb's record() last, overriding everything above (privacy included). */
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
let defaultEndpoint: string | undefined;
let defaultKey: string | undefined;
let defaultMaskAllText = false;
let active: Handle | undefined;

/**
 * @internal Set by the bundle entry points from where the script itself was loaded: its `?key=`,
 * and `maskAllText` from `?maskAllText=1` or a `data-mask-all-text` attribute on the script tag.
 */
export function setDefaultEndpoint(url: string | undefined | null, maskAllText = false): void {
  defaultMaskAllText ||= maskAllText;
  if (!url) return;
  try {
    const parsed = new URL(url, location.href);
    defaultEndpoint = parsed.origin;
    defaultKey = parsed.searchParams.get('key') ?? undefined;
    const flag = parsed.searchParams.get('maskAllText');
    if (flag !== null) defaultMaskAllText = flag !== '0' && flag !== 'false';
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
  const privacy = new PrivacyPolicy({ ...options, maskAllText: options.maskAllText ?? defaultMaskAllText });
  // rrweb's mirror maps the ids in an event to the page's live nodes when the event is emitted.
  const rules = privacy.rules(nodeById);
  const recorder = new Recorder(sessionId, endpoint, key ?? '', {
    ...privacy.recordOptions(),
    plugins: [{ name: 'streamdom/privacy', eventProcessor: (e) => scrub(e, rules), options: {} }],
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
