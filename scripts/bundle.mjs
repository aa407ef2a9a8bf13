// Bundles the CLI into dist/bundle/ so that starting tbuild loads a few files instead of a hundred
// modules: a cached rebuild is dominated by process start-up. Lazily loaded parts (executor,
// registry client, server) stay in chunks of their own. Native and large packages stay external; undici is bundled
// (it then loads in about half the time; a build re-checking a base tag waits for it) into a chunk of its own that the
// registry client imports on its first request. test/integration/start-cost.test.ts checks what a build loads.
import { rm } from 'node:fs/promises';
import { build } from 'esbuild';

// Chunk names change with their content: start from an empty folder so old chunks do not pile up.
await rm('dist/bundle', { recursive: true, force: true });

await build({
  entryPoints: ['cli/main.ts'],
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outdir: 'dist/bundle',
  external: ['lmdb', 'koffi', '@grpc/grpc-js', '@grpc/proto-loader'],
  // CommonJS dependencies bundled into ESM still call require() for Node's own modules.
  banner: { js: "import { createRequire as __tbuildCreateRequire } from 'node:module'; const require = __tbuildCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
