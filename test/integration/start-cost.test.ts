/**
 * What `node bin/tbuild.js build` loads before it builds: every build started without the resident builder pays for
 * it. The bundle is read as built (dist/bundle): a chunk's modules are marked by esbuild's `// path` comments, and its
 * static imports are what loads with it. A cached build is then run to see which of Node's own modules it loaded.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { useBuildEnvironment } from '../helpers/build-env.js';
import { REPO_ROOT, runTbuild } from '../helpers/cli.js';

const BUNDLE = join(REPO_ROOT, 'dist', 'bundle');

/** staticModules lists the source modules of a chunk and of every chunk it imports statically. */
async function staticModules(entry: string): Promise<Set<string>> {
  const modules = new Set<string>();
  const seen = new Set<string>();
  const pending = [entry];
  for (let chunk = pending.pop(); chunk !== undefined; chunk = pending.pop()) {
    if (seen.has(chunk)) continue;
    seen.add(chunk);
    const text = await readFile(join(BUNDLE, chunk), 'utf8');
    for (const m of text.matchAll(/^\/\/ (\S+\.(?:ts|js|cjs|mjs|json))$/gm)) modules.add(m[1]!.replace(/^.*node_modules\//, 'node_modules/'));
    for (const m of text.matchAll(/^(?:import|export)\s[^;]*?from\s*"\.\/([^"]+)";/gm)) pending.push(m[1]!);
    for (const m of text.matchAll(/^import\s*"\.\/([^"]+)";/gm)) pending.push(m[1]!);
  }
  return modules;
}

/** chunkNamed finds the chunk esbuild made for a lazily imported module (`controller-HASH.js`). */
async function chunkNamed(name: string): Promise<string> {
  const found = (await readdir(BUNDLE)).filter((f) => new RegExp(`^${name}-[A-Z0-9]+\\.js$`).test(f));
  expect(found, `one ${name} chunk in dist/bundle`).toHaveLength(1);
  return found[0]!;
}

/** LAZY are the parts a build whose steps are all cached never runs: each must load only when first used. */
const LAZY: ReadonlyArray<readonly [string, RegExp]> = [
  ['undici (the registry client talks through it)', /^node_modules\/undici\//],
  [
    'the registry client and login (registry/lazy.ts): a build loads only references, settings, blob locations and platform matching',
    /^registry\/(?!reference|config|blob-locations|platform-match)/,
  ],
  ['the executor (sandbox, runtime spec, binfmt_misc)', /^executor\//],
  [
    'the outputs besides the image store, image indexes, cache exports and attestations (exporter/lazy.ts)',
    /^(exporter\/(oci-archive|docker-archive|local-dir|image-index|rootfs-tar|docker-load|cache-export|attestation\/(?!provenance\.ts|purl\.ts))|controller\/(exporters\/(archive|files|load)|attestation-statements)\.ts)/,
  ],
  ['imagetools (inspecting and assembling images in a registry)', /^controller\/imagetools-/],
  ['the build of several platforms (image index assembly)', /^controller\/platforms-/],
  ['tar-stream (tbuild load reads archives with it)', /^node_modules\/tar-stream\//],
  ['how a build picks a remote builder\'s server (node ranking and DNS, remote/lazy.ts): a build without a builder only reads which one is in use', /^remote\/(node-ranking|builder-route)\.ts$/],
];

describe('what a direct build loads', () => {
  it('loads the controller without the parts a cached build does not use; they stay in the bundle for when they are', async () => {
    // remote/index.ts (chunk `remote`) loads too: a build reads from it which builder is in use, if any.
    const chunks = ['main.js', ...(await Promise.all(['build-run', 'controller', 'remote'].map(chunkNamed)))];
    const build = new Set((await Promise.all(chunks.map(staticModules))).flatMap((m) => [...m]));
    // The walk found the build path itself.
    for (const core of ['cli/main.ts', 'cli/build-run.ts', 'controller/controller.ts', 'solver/solver.ts', 'frontend/convert/dispatch.ts', 'remote/builder-store.ts']) expect(build).toContain(core);
    const everything = new Set<string>();
    for (const f of (await readdir(BUNDLE)).filter((f) => f.endsWith('.js'))) for (const m of await staticModules(f)) everything.add(m);
    for (const [what, pattern] of LAZY) {
      expect([...build].filter((m) => pattern.test(m)), `${what} loads with a build`).toEqual([]);
      expect([...everything].some((m) => pattern.test(m)), `${what} is in the bundle`).toBe(true);
    }
  });
});

describe('a cached build started directly', () => {
  const env = useBuildEnvironment();

  it("loads none of Node's TLS and HTTP/2 modules, which a build pulling its base image does", async () => {
    const ctx = join(env.tmp.path, 'ctx');
    await mkdir(ctx, { recursive: true });
    await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nRUN echo built > /built\nCOPY a.txt /a.txt\n');
    await writeFile(join(ctx, 'a.txt'), 'a\n');
    // Records the built-in modules the process loaded, as it exits.
    const probe = join(env.tmp.path, 'probe.mjs');
    await writeFile(
      probe,
      "import { writeFileSync } from 'node:fs';\nprocess.on('exit', () => writeFileSync(process.env.PROBE_OUT, process.moduleLoadList.join('\\n')));\n",
    );
    const builtins = async (name: string): Promise<{ loaded: string[]; progress: string }> => {
      const out = join(env.tmp.path, `${name}.txt`);
      const args = ['build', '--config', env.config, '--root', join(env.tmp.path, 'root'), '--progress', 'plain', ctx];
      const res = await runTbuild(args, { env: { NODE_OPTIONS: `--import=${pathToFileURL(probe).href}`, PROBE_OUT: out } });
      expect(res.code, res.stderr).toBe(0);
      const loaded = (await readFile(out, 'utf8')).split('\n').filter((l) => l.startsWith('NativeModule ')).map((l) => l.slice('NativeModule '.length));
      return { loaded, progress: res.stdout + res.stderr };
    };
    const cold = await builtins('cold');
    expect(cold.loaded).toEqual(expect.arrayContaining(['tls', 'http2']));
    const warm = await builtins('warm');
    // Every step came from the cache: the RUN and the COPY.
    expect(warm.progress).toMatch(/\] RUN echo built > \/built\n#\d+ CACHED\n/);
    expect(warm.progress).toMatch(/\] COPY a\.txt \/a\.txt\n#\d+ CACHED\n/);
    expect(warm.loaded).toContain('fs');
    expect(warm.loaded.filter((m) => ['tls', '_tls_wrap', 'http2', 'internal/http2/core', 'worker_threads'].includes(m))).toEqual([]);
  });
});
