/**
 * bin/tbuild.js compiles the bundle with V8's code cache kept in $XDG_CACHE_HOME/tbuild/code: the first run of a kind
 * of command writes it, later runs read it, a cache V8 rejects is written again, and a folder that cannot be written
 * costs nothing but the cache.
 */
import { chmod, cp, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REPO_ROOT, run, runTbuild } from '../helpers/cli.js';

let home: string;
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'tbuild-code-cache-'));
});
afterEach(async () => {
  await chmod(home, 0o700);
  await rm(home, { recursive: true, force: true });
});

const folder = (): string => join(home, 'tbuild', 'code');
const version = (): Promise<{ code: number; stdout: string; stderr: string }> => runTbuild(['--version'], { env: { XDG_CACHE_HOME: home } });

describe('the code cache', () => {
  it('is written by the first run, named after the bundle, and read, not written, by the next', async () => {
    const first = await version();
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^tbuild \d/);
    const files = await readdir(folder());
    const digest = (await readFile(join(REPO_ROOT, 'dist', 'bundle', 'main.cjs.sha256'), 'utf8')).slice(0, 32);
    expect(files).toEqual([expect.stringMatching(new RegExp(`^${digest}-\\d+-${process.version.replace(/\./g, '\\.')}-${process.arch}-other\\.v8$`))]);
    const written = await stat(join(folder(), files[0]!));
    expect(written.size).toBeGreaterThan(10_000);
    const second = await version();
    expect(second.stdout).toBe(first.stdout);
    const kept = await stat(join(folder(), files[0]!));
    expect([kept.ino, kept.mtimeMs]).toEqual([written.ino, written.mtimeMs]);
  });

  it('is written again when V8 rejects it, and the command runs from source meanwhile', async () => {
    await version();
    const [name] = await readdir(folder());
    const path = join(folder(), name!);
    await writeFile(path, Buffer.alloc(4096, 7));
    const res = await version();
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^tbuild \d/);
    expect((await stat(path)).size).toBeGreaterThan(10_000);
  });

  it('keeps one cache per kind of command: a build apart from the others', async () => {
    await version();
    const res = await runTbuild(['build', '--help'], { env: { XDG_CACHE_HOME: home } });
    expect(res.code, res.stderr).toBe(0);
    expect((await readdir(folder())).map((f) => f.replace(/^.*-/, '')).sort()).toEqual(['build.v8', 'other.v8']);
  });

  it('costs nothing but the cache where the folder cannot be written', async () => {
    await chmod(home, 0o500);
    // As root the mode does not stop a write: a file where the folder should be does.
    await writeFile(join(home, 'tbuild'), 'not a folder');
    const res = await version();
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^tbuild \d/);
    expect(res.stderr).toBe('');
  });

  it('says what to run where the bundle was never built, instead of a stack', async () => {
    await cp(join(REPO_ROOT, 'bin'), join(home, 'checkout', 'bin'), { recursive: true });
    const res = await run(process.execPath, [join(home, 'checkout', 'bin', 'tbuild.js'), '--version'], { env: { XDG_CACHE_HOME: home } });
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(`ERROR: tbuild is not built: ${join(home, 'checkout', 'dist', 'bundle', 'main.cjs')} is missing\nHint: run 'npm run build' in ${join(home, 'checkout')}\n`);
  });
});
