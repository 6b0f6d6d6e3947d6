// Builds the recorder bundles and the dashboard into one flat folder: node web/build.mjs --out DIR
import { gzipAsync as zopfliGzip } from '@gfx/zopfli';
import * as esbuild from 'esbuild';
import { copyFile, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib';
import { minify } from 'terser';
import { bundledDeclarations } from '../recorder-js/types.mjs';

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
// `streamdom-source`: the dashboard imports @streamdom/recorder from its sources (package.json exports).
const common = { bundle: true, minify: true, target: ['es2020'], legalComments: 'none', logLevel: 'warning', absWorkingDir: root, conditions: ['streamdom-source'] };

/**
 * rrweb's canvas recorder left out of the recorder bundles: StreamDOM does not record canvas
 * contents (`recordCanvas` is not offered), yet rrweb's CanvasManager, its WebGL and 2D patches
 * and an inline worker (whose Blob every page built at load) were 10 KB of the 107 KB bundle,
 * 2.7 KB of it in brotli. The manager is replaced by one that does nothing; the code only it
 * used is then dropped by tree shaking. A new rrweb layout fails the build here, not silently.
 */
const withoutCanvas = {
  name: 'streamdom-without-canvas',
  setup(build) {
    build.onLoad({ filter: /@rrweb[\\/]record[\\/]dist[\\/]record\.js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      const from = source.indexOf("const jsContent = '");
      const to = source.indexOf('class StylesheetManager {');
      if (from < 0 || to < from || !source.slice(from, to).includes('class CanvasManager {')) {
        throw new Error(`web/build.mjs: @rrweb/record's canvas code is not where expected in ${args.path}; update withoutCanvas`);
      }
      const stub = 'class CanvasManager { reset() {} freeze() {} unfreeze() {} lock() {} unlock() {} }\n';
      return { contents: source.slice(0, from) + stub + source.slice(to), loader: 'js' };
    });
  },
};
const recorder = { ...common, plugins: [withoutCanvas] };

// Served precompressed: the hub picks a file's .br or .gz variant by Accept-Encoding (src/assets.rs).
const COMPRESSIBLE = /\.(js|mjs|css|html|json|mts|svg)$/;
const gzip = (data) => gzipSync(data, { level: 9 });
const brotli = (data) => brotliCompressSync(data, { params: { [zlib.BROTLI_PARAM_QUALITY]: 11, [zlib.BROTLI_PARAM_MODE]: zlib.BROTLI_MODE_TEXT, [zlib.BROTLI_PARAM_SIZE_HINT]: data.length } });

/**
 * The recorder bundles go on every page view of a tracked site, so they get what the dashboard's
 * bundles do not: a second minifier after esbuild (terser, two compress passes, nothing unsafe)
 * and gzip by zopfli. Together 31.9 → 29.1 KB gzip and 28.3 → 26.8 KB br for streamdom.js,
 * for about 3 s more build time.
 */
const RECORDER_BUNDLES = new Set(['streamdom.js', 'streamdom.mjs']);

/** Rewrites a recorder bundle in place with terser, keeping a leading `//` banner line. */
async function squeeze(file, module) {
  const code = await readFile(file, 'utf8');
  const banner = code.startsWith('//') ? code.slice(0, code.indexOf('\n') + 1) : '';
  const out = await minify(code.slice(banner.length), { module, ecma: 2020, compress: { passes: 2 }, format: { comments: false, preamble: banner.trimEnd() || undefined } });
  if (!out.code) throw new Error(`terser produced nothing for ${file}`);
  await writeFile(file, out.code);
}

/** The inline loader, minified, with `__STREAMDOM_SRC__` where the hub puts the script's URL. */
async function loader() {
  const source = await readFile(join(recorderDir, 'loader/loader.js'), 'utf8');
  const { code } = await esbuild.transform(source, { minify: true, target: 'es5', legalComments: 'none' });
  if (!code.includes('"__STREAMDOM_SRC__"')) throw new Error('the minified loader lost its URL placeholder');
  return code.trim();
}

async function main() {
  const out = outDir(process.argv);
  await mkdir(out, { recursive: true });
  const started = Date.now();
  const snippet = await loader();
  await Promise.all([
    writeFile(join(out, 'loader.js'), snippet),
    writeFile(join(out, 'streamdom.d.mts'), bundledDeclarations()),
    esbuild.build({ ...recorder, entryPoints: [join(recorderDir, 'src/entry-iife.ts')], format: 'iife', outfile: join(out, 'streamdom.js') }),
    // Deno (and tools that follow it) find the types from the module itself.
    esbuild.build({ ...recorder, entryPoints: [join(recorderDir, 'src/entry-esm.ts')], format: 'esm', outfile: join(out, 'streamdom.mjs'), banner: { js: '// @ts-self-types="./streamdom.d.mts"' } }),
    // The sessions page shows the loader when there is nothing to list yet.
    esbuild.build({ ...common, entryPoints: { dashboard: join(staticDir, 'dashboard.ts'), watch: join(staticDir, 'watch.ts'), login: join(staticDir, 'login.ts'), projects: join(staticDir, 'projects.ts'), online: join(staticDir, 'online.ts'), heatmap: join(staticDir, 'heatmap.ts'), numbers: join(staticDir, 'numbers.ts') }, format: 'iife', outdir: out, define: { STREAMDOM_LOADER: JSON.stringify(snippet) } }),
    esbuild.build({ ...common, entryPoints: [join(staticDir, 'style.css')], outfile: join(out, 'style.css') }),
    esbuild.build({ ...common, entryPoints: [join(staticDir, 'watch.css')], outfile: join(out, 'watch.css') }),
    // The replayer's cursor and click styles.
    esbuild.build({ ...common, entryPoints: [createRequire(import.meta.url).resolve('rrweb/dist/style.css')], outfile: join(out, 'rrweb.css') }),
    copyFile(join(staticDir, 'index.html'), join(out, 'index.html')),
    copyFile(join(staticDir, 'watch.html'), join(out, 'watch.html')),
    copyFile(join(staticDir, 'login.html'), join(out, 'login.html')),
    copyFile(join(staticDir, 'projects.html'), join(out, 'projects.html')),
    copyFile(join(staticDir, 'online.html'), join(out, 'online.html')),
    copyFile(join(staticDir, 'heatmap.html'), join(out, 'heatmap.html')),
    copyFile(join(staticDir, 'numbers.html'), join(out, 'numbers.html')),
  ]);
  await Promise.all([...RECORDER_BUNDLES].map((name) => squeeze(join(out, name), name.endsWith('.mjs'))));

  // sizes.json: bytes the hub sends for each file, raw and in each encoding it has.
  const sizes = {};
  for (const name of (await readdir(out)).sort()) {
    if (name === 'sizes.json' || /\.(gz|br)$/.test(name)) continue;
    const data = await readFile(join(out, name));
    sizes[name] = { raw: data.length };
    if (!COMPRESSIBLE.test(name)) continue;
    const gz = RECORDER_BUNDLES.has(name) ? (d) => zopfliGzip(d, { numiterations: 15 }) : gzip;
    for (const [ext, encode] of [['gz', gz], ['br', brotli]]) {
      const packed = Buffer.from(await encode(data));
      // A variant no smaller than the file is not worth a header.
      if (packed.length >= data.length) continue;
      await writeFile(join(out, `${name}.${ext}`), packed);
      sizes[name][ext === 'gz' ? 'gzip' : 'br'] = packed.length;
    }
  }
  await writeFile(join(out, 'sizes.json'), JSON.stringify(sizes, null, 2) + '\n');
  const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
  const js = sizes['streamdom.js'];
  console.log(`streamdom.js: ${kb(js.br)} br, ${kb(js.gzip)} gzip (${kb(js.raw)} raw); built ${Object.keys(sizes).length} files into ${out} in ${Date.now() - started} ms`);
}

main().catch((err) => {
  // esbuild has already printed its diagnostics; keep the failure short.
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
