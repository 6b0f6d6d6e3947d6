// Entry of streamdom.mjs (import from the hub): the hub's origin is the module's own URL.

import StreamDOM, { setDefaultEndpoint } from './index';

setDefaultEndpoint(import.meta.url);
export { StreamDOM, StreamDom, ClockSync } from './index';
export default StreamDOM;
