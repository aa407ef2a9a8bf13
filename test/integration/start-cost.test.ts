/**
 * What `node bin/tbuild.js build` initialises before it builds: every build started without the resident builder pays
 * for it. The bundle is read as built (dist/bundle/main.cjs, one CommonJS file): esbuild marks each module with a
 * `// path` comment and wraps every module that something imports lazily in an initialiser (`init_x` for ours,
 * `require_x` for CommonJS packages) that runs on its first import. A module's static imports are the initialisers it
 * calls as statements; its lazy imports call them inside `Promise.resolve().then(...)`. A cached build is then run to
 * see which of Node's own modules it loaded.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { useBuildEnvironment } from '../helpers/build-env.js';
import { REPO_ROOT, runTbuild } from '../helpers/cli.js';

const BUNDLE = join(REPO_ROOT, 'dist', 'bundle', 'main.cjs');

/** BundleModules is the bundle read as modules: each one's static imports, by module path. */
interface BundleModules {
  readonly imports: ReadonlyMap<string, ReadonlySet<string>>;
}

async function readBundle(): Promise<BundleModules> {
  const text = await readFile(BUNDLE, 'utf8');
  const initialiserPaths = new Map<string, string>();
  for (const m of text.matchAll(/^var ((?:init|require)_\w+) = __(?:esm|commonJS)\(\{\n\s+"([^"]+)"\(/gm)) initialiserPaths.set(m[1]!, m[2]!);
  const imports = new Map<string, Set<string>>();
  let current: Set<string> | undefined;
  for (const line of text.split('\n')) {
    const marker = /^\/\/ (\S+\.(?:ts|js|cjs|mjs|json))$/.exec(line);
    if (marker !== null) {
      const path = marker[1]!.replace(/^.*node_modules\//, 'node_modules/');
      current = imports.get(path) ?? new Set<string>();
      imports.set(path, current);
      continue;
    }
    if (current === undefined || line.includes('Promise.resolve().then(')) continue;
    for (const call of line.matchAll(/\b((?:init|require)_\w+)\(\)/g)) {
      const target = initialiserPaths.get(call[1]!);
      if (target !== undefined) current.add(target.replace(/^.*node_modules\//, 'node_modules/'));
    }
  }
  return { imports };
}

/** staticModules lists the modules that initialising `roots` initialises: the roots and their static imports. */
function staticModules(bundle: BundleModules, roots: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const pending = [...roots];
  for (let m = pending.pop(); m !== undefined; m = pending.pop()) {
    if (seen.has(m)) continue;
    seen.add(m);
    pending.push(...(bundle.imports.get(m) ?? []));
  }
  return seen;
}

/** LAZY are the parts a build whose steps are all cached never runs: each must load only when first used. */
const LAZY: ReadonlyArray<readonly [string, RegExp]> = [
  ['undici (the registry client talks through it)', /^node_modules\/undici\//],
  [
    'the registry client and login (registry/lazy.ts): a build loads only references, settings (the shared cache settings among them), blob locations and platform matching (and registry/index.ts, which re-exports them)',
    /^registry\/(?!reference|config|shared-cache-settings|blob-locations|platform-match|index\.ts$)/,
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

describe('what a direct build initialises', () => {
  it('initialises the controller without the parts a cached build does not use; they stay in the bundle for when they are', async () => {
    const bundle = await readBundle();
    // A build starts cli/main.ts and imports three modules lazily: the build's command, the controller and
    // remote/index.ts, from which it reads which builder is in use, if any.
    const build = staticModules(bundle, ['cli/main.ts', 'cli/build-run.ts', 'controller/index.ts', 'remote/index.ts']);
    // The walk found the build path itself.
    for (const core of ['cli/main.ts', 'cli/build-run.ts', 'controller/controller.ts', 'solver/solver.ts', 'frontend/convert/dispatch.ts', 'remote/builder-store.ts']) expect(build).toContain(core);
    const everything = [...bundle.imports.keys()];
    for (const [what, pattern] of LAZY) {
      expect([...build].filter((m) => pattern.test(m)), `${what} loads with a build`).toEqual([]);
      expect(everything.some((m) => pattern.test(m)), `${what} is in the bundle`).toBe(true);
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
