// Entry of streamdom.js (<script src>): the hub's origin is where this very script came from.

import StreamDOM, { setDefaultEndpoint } from './index';

// currentScript is only set while the script first runs, so read it now.
const script = document.currentScript as HTMLScriptElement | null;
setDefaultEndpoint(script?.src, !!script?.hasAttribute('data-mask-all-text'));
const w = window as unknown as Record<string, unknown>;
w.StreamDOM = w.StreamDom = StreamDOM;
