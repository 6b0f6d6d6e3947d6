// The inline loader that sites paste (README, the dashboard's empty state, the first-start output).
// web/build.mjs minifies it and the hub fills in the script URL (with its `?key=`) for the placeholder. Like the snippets of the
// established analytics tools, it defines a stub `StreamDOM` at once, so `StreamDOM.init(...)` written
// right after it never throws, even when the hub is unreachable; the calls wait in `_q` until
// streamdom.js (loaded async, off the page's critical path) arrives and replays them.
// ES5 on purpose: it runs unbundled in every browser that loads the page.
(function (w, d, src) {
  if (w.StreamDOM) return;
  var q = [];
  var stub = { _q: q };
  ['init', 'stop', 'identify', 'track'].forEach(function (m) {
    stub[m] = function () { q.push([m, arguments]); };
  });
  w.StreamDOM = stub;
  var s = d.createElement('script');
  s.async = true;
  s.src = src;
  d.head.appendChild(s);
})(window, document, '__STREAMDOM_SRC__');
