import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useBuildEnvironment } from '../helpers/build-env.js';
import { REPO_ROOT, run } from '../helpers/cli.js';

/** JSON.parse of a file as a record. */
async function readJson(path: string): Promise<Record<string, unknown>> {
  const value: unknown = JSON.parse(await readFile(path, 'utf8'));
  if (typeof value !== 'object' || value === null) throw new Error(`${path} holds no JSON object`);
  return Object.fromEntries(Object.entries(value));
}

/** blobPath is where an OCI layout keeps a blob. */
function blobPath(layout: string, digest: unknown): string {
  if (typeof digest !== 'string') throw new Error('expected a digest');
  return join(layout, 'blobs', ...digest.split(':'));
}

/** packedFiles reads the paths `npm pack --json` lists. */
function packedFiles(json: string): Set<string> {
  const parsed: unknown = JSON.parse(json);
  const first: unknown = Array.isArray(parsed) ? parsed[0] : undefined;
  const files: unknown[] = typeof first === 'object' && first !== null && 'files' in first && Array.isArray(first.files) ? first.files : [];
  return new Set(files.map((f) => (typeof f === 'object' && f !== null && 'path' in f ? String(f.path) : '')));
}

describe('tbuild as a library', () => {
  const env = useBuildEnvironment();

  it('runs the SDK example: a Dockerfile from a string built into an OCI archive through createController', async () => {
    const out = join(env.tmp.path, 'sdk.tar');
    const res = await run(process.execPath, [join(REPO_ROOT, 'examples', 'sdk', 'build-oci.mjs'), out, '--root', join(env.tmp.path, 'sdk-root'), '--config', env.config], {
      cwd: env.tmp.path,
    });
    expect(res.code, res.stderr).toBe(0);
    const printed: unknown = JSON.parse(res.stdout);
    expect(printed).toMatchObject({ imageId: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), out });
    // The archive is an OCI layout whose image holds the file the RUN wrote.
    const layout = join(env.tmp.path, 'sdk-layout');
    expect((await run('mkdir', ['-p', layout])).code).toBe(0);
    expect((await run('tar', ['-xf', out, '-C', layout])).code).toBe(0);
    const index = await readJson(join(layout, 'index.json'));
    const [entry] = Array.isArray(index['manifests']) ? index['manifests'] : [];
    const manifest = await readJson(blobPath(layout, Object.fromEntries(Object.entries(entry ?? {}))['digest']));
    const layers = Array.isArray(manifest['layers']) ? manifest['layers'] : [];
    const top = Object.fromEntries(Object.entries(layers.at(-1) ?? {}));
    const hello = await run('tar', ['-xzOf', blobPath(layout, top['digest']), 'hello.txt']);
    expect(hello.stdout).toBe('built by the tbuild SDK\n');
  });

  it("packs what `import { createController } from 'tbuild'` and the CLI need", async () => {
    const res = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO_ROOT });
    expect(res.code, res.stderr).toBe(0);
    const files = packedFiles(res.stdout);
    for (const needed of ['package.json', 'dist/index.js', 'dist/index.d.ts', 'dist/controller/index.d.ts', 'dist/bundle/main.cjs', 'dist/bundle/main.cjs.sha256', 'bin/load-bundle.js', 'bin/tbuild.js', 'bin/tbuild', 'bin/launcher.js', 'native/install.sh', 'native/Makefile', 'native/helper/tbuild-sandbox.c', 'proto/tbuild.proto', 'examples/sdk/build-oci.mjs']) {
      expect(files, needed).toContain(needed);
    }
    // native/build/ is this machine's: npm install builds the native programs on the machine it installs to.
    expect([...files].filter((f) => f.startsWith('dist/bench/') || f.startsWith('test/') || f.startsWith('native/build/'))).toEqual([]);
  });
});
