// Checks that @streamdom/recorder packs into an installable npm package, and that the types the
// hub serves beside streamdom.mjs stand alone: `npm pack`, unpack the tarball into a scratch
// project's node_modules (its dependencies linked from this checkout, so no registry is needed),
// import every export in Node, and type-check a consumer of each with tsc. Run by tests/package.rs.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { bundledDeclarations } from '../recorder-js/types.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });

function fail(message) {
  console.error(`check-package: ${message}`);
  process.exit(1);
}

/** tsc over `files` with `options`; returns the diagnostics as text ('' when clean). */
function typecheck(files, options) {
  const program = ts.createProgram(files, { strict: true, noEmit: true, lib: ['lib.es2020.d.ts', 'lib.dom.d.ts'], types: [], ...options });
  const problems = ts.getPreEmitDiagnostics(program);
  return ts.formatDiagnostics(problems, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => '\n' });
}

const scratch = await mkdtemp(join(tmpdir(), 'streamdom-package-'));
try {
  // 1. Pack (prepack builds dist/); the build's own log comes before npm's JSON.
  const out = run('npm', ['pack', '-w', 'recorder-js', '--pack-destination', scratch, '--json'], root);
  const [packed] = JSON.parse(out.slice(out.search(/^\[/m)));
  const files = packed.files.map((f) => f.path);
  for (const want of ['package.json', 'dist/index.js', 'dist/index.d.ts', 'dist/clock.js', 'dist/protocol.d.ts', 'dist/reconnect.js', 'loader/loader.js']) {
    if (!files.includes(want)) fail(`the tarball lacks ${want}: ${files.join(', ')}`);
  }
  const unwanted = files.filter((f) => f.endsWith('.test.ts') || f.startsWith('node_modules/'));
  if (unwanted.length) fail(`the tarball carries ${unwanted.join(', ')}`);

  // 2. Install it as npm would: unpacked under node_modules, its dependencies beside it.
  const consumer = join(scratch, 'consumer');
  const pkgDir = join(consumer, 'node_modules/@streamdom/recorder');
  await mkdir(pkgDir, { recursive: true });
  run('tar', ['xzf', join(scratch, packed.filename), '-C', pkgDir, '--strip-components=1'], scratch);
  for (const dep of ['@rrweb', 'rrweb']) await symlink(join(root, 'node_modules', dep), join(consumer, 'node_modules', dep));
  await writeFile(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));

  // 3. Node imports every export (rrweb's recorder loads without a DOM; it needs one only to record).
  const probe = `
    const main = await import('@streamdom/recorder');
    const { ClockSync } = await import('@streamdom/recorder/clock');
    const { CLOSE } = await import('@streamdom/recorder/protocol');
    const { Backoff } = await import('@streamdom/recorder/reconnect');
    const ok = typeof main.default.init === 'function' && typeof main.StreamDOM.stop === 'function'
      && typeof main.default.identify === 'function' && typeof main.StreamDOM.track === 'function'
      && main.ClockSync === ClockSync && typeof CLOSE === 'object' && typeof new Backoff().next() === 'number';
    if (!ok) throw new Error('missing exports: ' + Object.keys(main));
    console.log('imported');`;
  if (!run('node', ['--input-type=module', '-e', probe], consumer).includes('imported')) fail('the package did not import in Node');

  // 4. A TypeScript consumer, resolving as Node does; @ts-expect-error fails if types were `any`.
  await writeFile(join(consumer, 'use.ts'), `
    import StreamDOM, { type Handle, type InitOptions } from '@streamdom/recorder';
    import { ClockSync } from '@streamdom/recorder/clock';
    import type { HubToRecorder } from '@streamdom/recorder/protocol';
    const options: InitOptions = { sessionId: 'checkout-1', maskAllInputs: false, recordOptions: { sampling: { scroll: 50 } } };
    const handle: Handle = StreamDOM.init(options);
    const offset: number = handle.clock.offset;
    const clock: ClockSync = handle.clock;
    const stopped: Promise<void> = StreamDOM.stop();
    const identified: boolean = StreamDOM.identify('user-42', { plan: 'pro' });
    const tracked: boolean = StreamDOM.track('checkout', { total: 1 });
    StreamDOM.init({ console: false, pages: false, network: { bodies: [new RegExp('/api/')], headers: ['/api/'] }, maskParams: ['email'] });
    // @ts-expect-error an event name is a string
    StreamDOM.track(3);
    // @ts-expect-error the clock's types come through index.d.ts's own imports
    const wrong: string = handle.clock.offset;
    // @ts-expect-error sessionId is a string
    StreamDOM.init({ sessionId: 1 });
    // @ts-expect-error no such option
    StreamDOM.init({ sessionIdd: 'x' });
    const kind: HubToRecorder['type'] = 'welcome';
    export { offset, clock, stopped, kind, wrong, identified, tracked };
  `);
  const consumerErrors = typecheck([join(consumer, 'use.ts')], { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, skipLibCheck: true });
  if (consumerErrors) fail(`a consumer of the package does not type-check:\n${consumerErrors}`);

  // 5. The hub's /streamdom.d.mts, beside a streamdom.mjs as on the hub, checked in full.
  const served = join(scratch, 'served');
  await mkdir(served);
  await writeFile(join(served, 'streamdom.d.mts'), bundledDeclarations());
  await writeFile(join(served, 'streamdom.mjs'), '');
  await writeFile(join(served, 'use.mts'), `
    import StreamDOM, { type InitOptions, ClockSync } from './streamdom.mjs';
    const options: InitOptions = { sessionId: 'a', maskInputOptions: { email: true }, recordOptions: { sampling: { scroll: 50 } } };
    const offset: number = StreamDOM.init(options).clock.offset;
    const identified: boolean = StreamDOM.identify('user-42');
    StreamDOM.init({ network: { bodies: ['/api/'] }, console: false });
    // @ts-expect-error network options are patterns
    StreamDOM.init({ network: { bodies: [1] } });
    // @ts-expect-error sessionId is a string
    StreamDOM.init({ sessionId: 1 });
    export { offset, ClockSync, identified };
  `);
  const servedErrors = typecheck([join(served, 'use.mts')], { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, skipLibCheck: false });
  if (servedErrors) fail(`the served streamdom.d.mts does not type-check:\n${servedErrors}`);
  console.log(`check-package: ${packed.filename} (${packed.size} bytes, ${files.length} files) installs, imports and type-checks; so does streamdom.d.mts`);
} finally {
  await rm(scratch, { recursive: true, force: true });
}
