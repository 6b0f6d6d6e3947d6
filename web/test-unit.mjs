// Runs the TypeScript unit tests (recorder-js/src/**/*.test.ts, static/**/*.test.ts): Node 20
// cannot run .ts, so esbuild bundles each into a temporary folder and `node --test` runs those.
// Usage: node web/test-unit.mjs [node --test options…]
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

async function find(dir) {
  const found = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== 'node_modules') found.push(...(await find(path)));
    else if (entry.name.endsWith('.test.ts')) found.push(path);
  }
  return found;
}

const files = [...(await find(join(root, 'recorder-js/src'))), ...(await find(join(root, 'static')))].sort();
if (!files.length) throw new Error('no *.test.ts files found');
const out = await mkdtemp(join(tmpdir(), 'streamdom-unit-'));
let status = 1;
try {
  const entryPoints = Object.fromEntries(files.map((f) => [relative(root, f).replace(/\.ts$/, '').replaceAll('/', '__'), f]));
  await esbuild.build({
    entryPoints,
    outdir: out,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'inline',
    absWorkingDir: root,
    // @streamdom/recorder from its sources, not its built dist/ (see its package.json exports).
    conditions: ['streamdom-source'],
    logLevel: 'warning',
  });
  const bundles = (await readdir(out)).filter((n) => n.endsWith('.mjs')).sort().map((n) => join(out, n));
  const run = spawnSync(process.execPath, ['--test', ...process.argv.slice(2), ...bundles], { stdio: 'inherit' });
  status = run.status ?? 1;
  if (run.status !== 0) console.error(`unit tests failed (${basename(out)}: ${bundles.length} files)`);
} finally {
  await rm(out, { recursive: true, force: true });
}
process.exit(status);
