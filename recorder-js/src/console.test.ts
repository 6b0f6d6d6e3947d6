// Unit tests of console.ts: messages become entries of the shared console shape while the page's
// console behaves exactly as before; errors and rejections are reported with their stacks; the
// recorder never records itself and never loops.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BURST, ConsoleRecorder, type ConsoleEntry, PER_SECOND, traceOf, warn } from './console';

type Fn = (...args: unknown[]) => unknown;

/** A console whose methods remember how they were called. */
function fakeConsole() {
  const calls: { level: string; self: unknown; args: unknown[] }[] = [];
  const target: Record<string, Fn> = {};
  for (const level of ['log', 'info', 'warn', 'error', 'debug']) {
    target[level] = function (this: unknown, ...args: unknown[]) {
      calls.push({ level, self: this, args });
      if (args[0] === 'throw') throw new Error('the console itself failed');
      return `${level}-returned`;
    };
  }
  return { target, calls };
}

function setup(redact = (s: string) => s) {
  const { target, calls } = fakeConsole();
  const win = new EventTarget();
  const entries: ConsoleEntry[] = [];
  const rec = new ConsoleRecorder((e) => entries.push(e), redact, target, win as unknown as Window);
  rec.install();
  return { target, calls, win, entries, rec };
}

describe('ConsoleRecorder', () => {
  it('records every level in the console plugin shape, with a trace that starts at the caller', () => {
    const { target, entries } = setup();
    function pageCode(level: string) { target[level](`a ${level}`, { n: 1 }); }
    for (const level of ['log', 'info', 'warn', 'error', 'debug']) pageCode(level);
    assert.deepEqual(entries.map((e) => [e.level, e.payload, e.source]), ['log', 'info', 'warn', 'error', 'debug'].map((l) => [l, [`a ${l}`, '{"n":1}'], 'console']));
    assert.match(entries[0].trace[0], /^at pageCode /, entries[0].trace.join('\n'));
  });

  it('leaves the page its console: same this, arguments, return value and exception', () => {
    const { target, calls } = setup();
    const self = { me: true };
    assert.equal(target.info.call(self, 'x', 2), 'info-returned');
    assert.deepEqual(calls[0], { level: 'info', self, args: ['x', 2] });
    assert.throws(() => target.log('throw'), /the console itself failed/);
  });

  it('does not record what it logs itself, nor logs made while it records (no recursion)', () => {
    const { target, entries, calls } = setup();
    const realWarn = console.warn;
    console.warn = target.warn as typeof console.warn;
    try { warn('StreamDOM: a warning of its own'); } finally { console.warn = realWarn; }
    assert.equal(calls.length, 1, 'the warning is shown');
    assert.equal(entries.length, 0, 'and not recorded');
    // A page object whose toJSON logs while being described.
    target.log({ toJSON() { target.log('inside toJSON'); return 'described'; } });
    assert.deepEqual(entries.map((e) => e.payload), [['"described"']]);
    assert.equal(calls.length, 3, 'the nested log still reached the console');
  });

  it('takes masked input values out of the text', () => {
    const { target, entries } = setup((s) => s.split('hunter2').join('*******'));
    target.log('password is', 'hunter2');
    assert.deepEqual(entries[0].payload, ['password is', '*******']);
  });

  it('records uncaught errors and unhandled rejections with their stacks', () => {
    const { win, entries } = setup();
    const err = (function thrower() { return new RangeError('out of range'); })();
    win.dispatchEvent(Object.assign(new Event('error'), { error: err, message: 'Uncaught RangeError: out of range', filename: 'https://x/app.js', lineno: 3, colno: 9 }));
    win.dispatchEvent(Object.assign(new Event('error'), { error: null, message: 'Script error.', filename: '', lineno: 0, colno: 0 }));
    win.dispatchEvent(Object.assign(new Event('unhandledrejection'), { reason: (function rejecter() { return new Error('rejected'); })() }));
    win.dispatchEvent(Object.assign(new Event('unhandledrejection'), { reason: { code: 7 } }));
    assert.deepEqual(entries.map((e) => [e.level, e.source, e.payload]), [
      ['error', 'uncaught', ['RangeError: out of range']],
      ['error', 'uncaught', ['Script error.']],
      ['error', 'unhandledrejection', ['Error: rejected']],
      ['error', 'unhandledrejection', ['{"code":7}']],
    ]);
    assert.match(entries[0].trace[0], /^at thrower /);
    assert.match(entries[2].trace[0], /^at rejecter /);
    assert.deepEqual(entries[3].trace, []);
  });

  it('records a burst, then drops what a page logs in a loop', () => {
    const { target, entries, calls } = setup();
    const t0 = Date.now();
    for (let i = 0; i < BURST * 3; i++) target.log(i);
    // However slow the machine, no more than the burst and what the rate refilled meanwhile.
    const refilled = Math.ceil(((Date.now() - t0 + 1) / 1000) * PER_SECOND);
    assert.ok(entries.length >= BURST && entries.length <= BURST + refilled, `${entries.length}`);
    assert.ok(entries.length < BURST * 3, 'most of the loop is dropped');
    assert.equal(calls.length, BURST * 3, 'every message still reaches the console');
  });

  it('gives the console back on uninstall, and records nothing after', () => {
    const { target, win, entries, rec } = setup();
    const wrapped = target.log;
    rec.uninstall();
    assert.notEqual(target.log, wrapped);
    target.log('after');
    win.dispatchEvent(Object.assign(new Event('error'), { error: new Error('late') }));
    assert.equal(entries.length, 0);
  });
});

describe('traceOf', () => {
  it('keeps frames of V8 and Firefox stacks, without the message', () => {
    assert.deepEqual(traceOf('Error: x\n    at a (https://s/a.js:1:2)\n    at b (https://s/b.js:3:4)'), ['at a (https://s/a.js:1:2)', 'at b (https://s/b.js:3:4)']);
    assert.deepEqual(traceOf('a@https://s/a.js:1:2\nb@https://s/b.js:3:4', 1), ['b@https://s/b.js:3:4']);
    assert.deepEqual(traceOf(undefined), []);
  });
});
