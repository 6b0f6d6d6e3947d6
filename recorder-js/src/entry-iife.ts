// Entry of streamdom.js (<script src>): the hub's origin is where this very script came from.

import { warn } from './console';
import StreamDOM, { setDefaultEndpoint } from './index';

// currentScript is only set while the script first runs (async scripts included), so read it now.
const script = document.currentScript as HTMLScriptElement | null;
setDefaultEndpoint(script?.src, !!script?.hasAttribute('data-mask-all-text'));
const w = window as unknown as Record<string, unknown>;
// The inline loader (recorder-js/loader/loader.js) left a stub whose `_q` holds the calls made
// before this script arrived: replace it, then make them in order.
const stub = w.StreamDOM as { _q?: [string, ArrayLike<unknown>][] } | undefined;
w.StreamDOM = w.StreamDom = StreamDOM;
for (const [method, args] of Array.isArray(stub?._q) ? stub._q : []) {
  const fn = (StreamDOM as Record<string, unknown>)[method];
  try {
    if (typeof fn === 'function') fn(...Array.from(args));
    else warn(`StreamDOM: no method ${method}`);
  } catch (e) {
    // The site's own call was wrong (e.g. an invalid sessionId); say so without throwing into the page.
    warn(e instanceof Error ? e.message : e);
  }
}
