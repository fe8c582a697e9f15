// Bundles the compiled service (tsc's output in DIST) into its entry points,
// DIST/main/{api,migrate,operator}.js, and the chunks they share: a start then
// reads a few files instead of resolving and reading some 1,500 modules, which
// was most of the API's start-up. Code loaded on first use (the AWS SDK, the
// mailer) stays in chunks of its own, read only then. DIST is replaced.
//
//   node service/bundle.mjs DIST
//
// Run by service/build-artifact.sh (the image's build) and by the pressure
// suite's compiled run, so both measure the same files.
import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const dist = path.resolve(process.argv[2] ?? '');
if (!process.argv[2] || !fs.existsSync(path.join(dist, 'main', 'api.js'))) {
  console.error('usage: node service/bundle.mjs DIST (the output of tsc -p service/tsconfig.build.json)');
  process.exit(2);
}
const out = `${dist}.bundle`;
fs.rmSync(out, { recursive: true, force: true });

await build({
  entryPoints: ['api', 'migrate', 'operator'].map((name) => path.join(dist, 'main', `${name}.js`)),
  outdir: path.join(out, 'main'),
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: [
    // Native modules: their binaries are found next to their packages at run time.
    'argon2',
    'better-sqlite3',
    // knex's dialects for other databases, and bunyan's optional helpers: not installed, never loaded.
    'mariadb',
    'pg',
    'pg-native',
    'pg-query-stream',
    'sqlite3',
    'mysql',
    'tedious',
    'oracledb',
    'dtrace-provider',
    'mv',
    'safe-json-stringify',
    'source-map-support',
  ],
  // CommonJS dependencies call require() for Node's modules; an ES module has none of its own.
  banner: { js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);" },
  // The process keeps its modules' source text on the heap (V8 compiles functions lazily from it):
  // without the white space and comments it is 5.5 MiB instead of 15 (idle RSS 101 MiB instead of
  // 111) and there is less to parse at start. Names are kept, so stack traces still name functions.
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
});
fs.rmSync(dist, { recursive: true });
fs.renameSync(out, dist);
