// Builds the recorder bundles and the dashboard into one flat folder: node web/build.mjs --out DIR
import * as esbuild from 'esbuild';
import { copyFile, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const staticDir = join(root, 'static');
const recorderDir = join(root, 'recorder-js');

function outDir(argv) {
  const i = argv.indexOf('--out');
  if (i < 0 || !argv[i + 1]) throw new Error('usage: node web/build.mjs --out <DIR>');
  return resolve(argv[i + 1]);
}

// Browsers that have WebSocket, fetch keepalive and ES2020 syntax (import.meta); older ones are not worth the bytes.
const common = { bundle: true, minify: true, target: ['es2020'], legalComments: 'none', logLevel: 'warning', absWorkingDir: root };

async function main() {
  const out = outDir(process.argv);
  await mkdir(out, { recursive: true });
  const started = Date.now();
  await Promise.all([
    esbuild.build({ ...common, entryPoints: [join(recorderDir, 'src/entry-iife.ts')], format: 'iife', outfile: join(out, 'streamdom.js') }),
    esbuild.build({ ...common, entryPoints: [join(recorderDir, 'src/entry-esm.ts')], format: 'esm', outfile: join(out, 'streamdom.mjs') }),
    esbuild.build({ ...common, entryPoints: { dashboard: join(staticDir, 'dashboard.ts'), watch: join(staticDir, 'watch.ts'), login: join(staticDir, 'login.ts'), projects: join(staticDir, 'projects.ts') }, format: 'iife', outdir: out }),
    esbuild.build({ ...common, entryPoints: [join(staticDir, 'style.css')], outfile: join(out, 'style.css') }),
    // The replayer's cursor and click styles.
    esbuild.build({ ...common, entryPoints: [createRequire(import.meta.url).resolve('rrweb/dist/style.css')], outfile: join(out, 'rrweb.css') }),
    copyFile(join(staticDir, 'index.html'), join(out, 'index.html')),
    copyFile(join(staticDir, 'watch.html'), join(out, 'watch.html')),
    copyFile(join(staticDir, 'login.html'), join(out, 'login.html')),
    copyFile(join(staticDir, 'projects.html'), join(out, 'projects.html')),
  ]);

  const sizes = {};
  for (const name of (await readdir(out)).sort()) {
    if (name === 'sizes.json') continue;
    const data = await readFile(join(out, name));
    sizes[name] = { raw: data.length, gzip: gzipSync(data, { level: 9 }).length };
  }
  await writeFile(join(out, 'sizes.json'), JSON.stringify(sizes, null, 2) + '\n');
  const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
  console.log(`streamdom.js: ${kb(sizes['streamdom.js'].gzip)} gzip (${kb(sizes['streamdom.js'].raw)} raw); built ${Object.keys(sizes).length} files into ${out} in ${Date.now() - started} ms`);
}

main().catch((err) => {
  // esbuild has already printed its diagnostics; keep the failure short.
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
