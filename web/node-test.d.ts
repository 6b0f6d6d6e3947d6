// The few declarations of node:test and node:assert/strict that the unit tests (*.test.ts) use, so
// that `npm run typecheck` covers them without adding @types/node as a dependency.

declare module 'node:test' {
  type Body = () => void | Promise<void>;
  export function test(name: string, fn: Body): Promise<void>;
  export function describe(name: string, fn: () => void): void;
  export function it(name: string, fn: Body): void;
  export function before(fn: Body): void;
  export function after(fn: Body): void;
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
    function throws(fn: () => unknown, expected?: RegExp | (new (...args: never[]) => Error), message?: string): void;
  }
  export default assert;
}

// A real local HTTP server for the recorder's network tests.
declare module 'node:http' {
  interface IncomingMessage { url?: string; on(event: 'data', f: (chunk: Uint8Array) => void): void; on(event: 'end', f: () => void): void }
  interface ServerResponse {
    writeHead(status: number, headers?: Record<string, string | number>): ServerResponse;
    write(chunk: string): boolean;
    end(chunk?: string | Uint8Array): void;
  }
  export interface Server {
    listen(port: number, host: string, cb: () => void): void;
    address(): { port: number } | string | null;
    close(cb?: () => void): void;
    closeAllConnections(): void;
  }
  export function createServer(handler?: (req: IncomingMessage, res: ServerResponse) => void): Server;
}

/** Node's process, for the tests that watch for unhandled rejections. */
declare const process: {
  on(event: 'unhandledRejection', f: (reason: unknown) => void): void;
  off(event: 'unhandledRejection', f: (reason: unknown) => void): void;
};
