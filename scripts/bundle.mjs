// Bundles the CLI into one CommonJS file, dist/bundle/main.cjs, that bin/tbuild.js compiles with V8's code cache:
// a cached rebuild is dominated by process start-up, and a start that deserialises the code compiled by an earlier
// run skips resolving, parsing and compiling it (a warm `tiny` build: 0.73x the CPU time of loading the 50 chunks of
// an esbuild ES module split, in one run). Lazily imported parts (executor, registry client, server, undici) stay
// lazy: esbuild wraps each module reached through import() in an initialiser that runs on its first import, so what a
// build does not use is never evaluated. test/integration/start-cost.test.ts checks which modules a build initialises.
// Beside the bundle goes its SHA-256 (main.cjs.sha256): V8 checks a code cache only against the source's length,
// so the cache is named after the digest of the source it was made from.
import { createHash } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { build } from 'esbuild';

const outfile = 'dist/bundle/main.cjs';
await rm('dist/bundle', { recursive: true, force: true });

await build({
  entryPoints: ['cli/main.ts'],
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  outfile,
  external: ['lmdb', 'koffi', '@grpc/grpc-js', '@grpc/proto-loader'],
  // A script compiled by node:vm cannot import(): lazy imports of Node's modules and of the external packages become
  // require(), and import.meta.url the bundle's own URL, which bin/load-bundle.js passes in beside CommonJS's names.
  supported: { 'dynamic-import': false },
  define: { 'import.meta.url': '__tbuildBundleUrl' },
  logLevel: 'warning',
});

// The layer tar thread's program (exporter/layer/tar-worker.ts), which the bundle starts from beside itself: an ES
// module of its own, loaded only by a process that exports a layer.
await build({
  entryPoints: ['exporter/layer/tar-worker.ts'],
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outfile: 'dist/bundle/tar-worker.js',
  external: ['koffi'],
  // The modules it reaches through cache/index.ts import the metadata database, which making a tar never uses: an
  // import without side effects is dropped, so the thread never loads it.
  plugins: [{ name: 'lmdb-unused', setup: (b) => b.onResolve({ filter: /^lmdb$/ }, () => ({ path: 'lmdb', external: true, sideEffects: false })) }],
  logLevel: 'warning',
});

const digest = createHash('sha256').update(await readFile(outfile)).digest('hex');
await writeFile(`${outfile}.sha256`, `${digest}\n`);
