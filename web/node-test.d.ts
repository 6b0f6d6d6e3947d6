// The few declarations of node:test and node:assert/strict that the unit tests (*.test.ts) use, so
// that `npm run typecheck` covers them without adding @types/node as a dependency.

declare module 'node:test' {
  type Body = () => void | Promise<void>;
  export function test(name: string, fn: Body): Promise<void>;
  export function describe(name: string, fn: () => void): void;
  export function it(name: string, fn: Body): void;
  export default test;
}

declare module 'node:assert/strict' {
  function assert(value: unknown, message?: string): asserts value;
  namespace assert {
    function ok(value: unknown, message?: string): asserts value;
    function equal<T>(actual: unknown, expected: T, message?: string): asserts actual is T;
    function notEqual(actual: unknown, expected: unknown, message?: string): void;
    function deepEqual<T>(actual: unknown, expected: T, message?: string): asserts actual is T;
    function match(value: string, pattern: RegExp, message?: string): void;
  }
  export default assert;
}
