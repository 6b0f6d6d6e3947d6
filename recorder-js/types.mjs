// The recorder's type declarations, made with the TypeScript compiler API (no files written):
// per module for the npm package (build.mjs), and as one self-contained module for the hub's
// /streamdom.d.mts (web/build.mjs), which has no node_modules to resolve imports against.
import ts from 'typescript';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** Map of `name.d.ts` → text for every module under src/ but the tests. */
export function declarations() {
  const configPath = join(here, 'tsconfig.build.json');
  const { config, error } = ts.readConfigFile(configPath, ts.sys.readFile);
  if (error) throw new Error(ts.flattenDiagnosticMessageText(error.messageText, '\n'));
  const parsed = ts.parseJsonConfigFileContent(config, ts.sys, here);
  const program = ts.createProgram(parsed.fileNames, parsed.options);
  const out = new Map();
  const result = program.emit(undefined, (file, text) => out.set(file.slice(parsed.options.outDir.length + 1), text), undefined, true);
  const problems = ts.getPreEmitDiagnostics(program).concat(result.diagnostics);
  if (problems.length) throw new Error(ts.formatDiagnostics(problems, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => here, getNewLine: () => '\n' }));
  return out;
}

/**
 * Relative imports in declarations need the extension under Node's ESM resolution
 * (`moduleResolution: node16`/`nodenext`): `from './clock'` becomes `from './clock.js'`.
 */
export function withExtensions(text) {
  return text.replace(/(from\s+'\.\/[\w-]+)(')/g, '$1.js$2');
}

// The bundle's public surface: protocol (wire types), clock (ClockSync), index (StreamDOM).
const BUNDLED = ['protocol.d.ts', 'clock.d.ts', 'index.d.ts'];
// rrweb's record() options are the recordOptions field's type; a URL import cannot resolve
// '@rrweb/record', so the served declarations accept any option by name instead.
const RRWEB_IMPORT = "import type { record } from '@rrweb/record';";
const RRWEB_STANDIN = 'declare function record(options?: { maskInputOptions?: { [input: string]: boolean | undefined }; [option: string]: unknown }): unknown;';

/** One module declaring what streamdom.mjs exports, with no imports. */
export function bundledDeclarations(decls = declarations()) {
  const parts = BUNDLED.map((name) => {
    const text = decls.get(name);
    if (text === undefined) throw new Error(`no declarations for ${name}`);
    return text
      .replace(RRWEB_IMPORT, RRWEB_STANDIN)
      .split('\n')
      // Imports and re-exports between the bundled modules: their declarations are all here.
      .filter((line) => !/^(import|export) .* from '\.\/[\w-]+';$/.test(line))
      .join('\n');
  });
  const text = parts.join('\n');
  const left = text.match(/^.*\bfrom '.*$/m);
  if (left) throw new Error(`the served declarations still import: ${left[0]}`);
  return `// Types of streamdom.mjs, served by the hub beside it (@ts-self-types, X-TypeScript-Types).\n${text}`;
}
