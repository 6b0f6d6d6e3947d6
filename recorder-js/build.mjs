// Builds the npm package into dist/: ES modules (esbuild; dependencies stay imports) and their
// declarations (tsc, through types.mjs). `npm pack` runs it (prepack); the hub's own bundles are
// web/build.mjs's job.
import * as esbuild from 'esbuild';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { declarations, withExtensions } from './types.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
// What package.json `exports` names; shared code goes to chunks.
const ENTRIES = ['index', 'clock', 'protocol', 'reconnect'];

await rm(dist, { recursive: true, force: true });
await mkdir(dist, { recursive: true });
await esbuild.build({
  entryPoints: ENTRIES.map((e) => join(here, 'src', `${e}.ts`)),
  outdir: dist,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2020'],
  packages: 'external',
  chunkNames: 'chunks/[name]-[hash]',
  logLevel: 'warning',
});
for (const [name, text] of declarations()) {
  if (name.startsWith('entry-')) continue;
  await writeFile(join(dist, name), withExtensions(text));
}
console.log(`@streamdom/recorder: built ${dist}`);
