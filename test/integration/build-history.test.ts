import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runTbuild } from '../helpers/cli.js';
import { useBuildEnvironment } from '../helpers/build-env.js';

/** runBytes runs the CLI and keeps standard output as bytes. */
function runBytes(args: readonly string[]): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'tbuild.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out), stderr }));
  });
}

interface ListedRecord {
  readonly ref: string;
  readonly status: string;
  readonly total_steps: number;
  readonly cached_steps: number;
  readonly target?: string;
  readonly outputs: readonly string[];
}

describe('build history', () => {
  const env = useBuildEnvironment();
  let ctx: string;
  let root: string;
  const build = (...args: string[]): ReturnType<typeof runTbuild> => runTbuild(['build', '--root', root, '--config', env.config, '--progress', 'plain', ...args, ctx]);
  const history = (...args: string[]): ReturnType<typeof runTbuild> => runTbuild(['history', ...args, '--root', root]);
  const listed = async (): Promise<ListedRecord[]> => {
    const ls = await history('ls', '--format', 'json');
    expect(ls.code, ls.stderr).toBe(0);
    return ls.stdout
      .trim()
      .split('\n')
      .map((l): ListedRecord => JSON.parse(l));
  };

  beforeAll(async () => {
    ctx = join(env.tmp.path, 'ctx');
    root = join(env.tmp.path, 'root');
    await mkdir(join(ctx, 'src'), { recursive: true });
    await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox AS app\nARG VERSION=1.0\nCOPY src/ /app/\nRUN echo "version $VERSION" && cat /app/app.js\nARG FAIL=no\nRUN test "$FAIL" != yes\n');
    await writeFile(join(ctx, 'src', 'app.js'), 'console.log(1)\n');
    await writeFile(join(ctx, 'src', 'lib.js'), 'export {}\n');
  });

  it('records a built, a cached, a changed and a failed build; ls lists them; explain names the changed file and build arg', async () => {
    expect((await build('--build-arg', 'VERSION=1.2')).code).toBe(0);
    const cached = await build('--build-arg', 'VERSION=1.2', '--target', 'app');
    expect(cached.code, cached.stderr).toBe(0);
    await writeFile(join(ctx, 'src', 'app.js'), 'console.log(2)\n');
    const changed = await build('--build-arg', 'VERSION=1.3', '--target', 'app', '--explain');
    expect(changed.code, changed.stderr).toBe(0);
    // --explain says it under each step that ran, before the step's DONE.
    expect(changed.stderr).toMatch(/#(\d+) \[2\/4\] COPY src\/ \/app\/\n#\1 ran because \(compared with build \w+\):\n#\1   - `src\/app.js` changed \(sha256:[0-9a-f]{12} → sha256:[0-9a-f]{12}\)\n#\1 DONE/);
    expect(changed.stderr).toMatch(/#(\d+)   - build arg `VERSION` 1.2 → 1.3\n(#\1 .*\n)*#\1 DONE/);
    expect(changed.stderr).not.toContain('lib.js');
    const failed = await build('--build-arg', 'VERSION=1.3', '--build-arg', 'FAIL=yes', '--target', 'app');
    expect(failed.code).toBe(1);

    const records = await listed();
    expect(records.map((r) => r.status)).toEqual(['Error', 'Completed', 'Completed', 'Completed']);
    const [failedRec, changedRec, cachedRec] = records;
    expect(cachedRec?.cached_steps).toBe(cachedRec?.total_steps);
    // Its steps wrote nothing: no log file, and no logs.
    const cachedLogs = await history('logs', cachedRec?.ref ?? '');
    expect(cachedLogs.code, cachedLogs.stderr).toBe(0);
    expect(cachedLogs.stdout).toBe('');
    expect(changedRec?.cached_steps).toBeLessThan(changedRec?.total_steps ?? 0);
    expect(changedRec?.target).toBe('app');
    const table = await history('ls');
    expect(table.stdout).toMatch(/^BUILD ID\s+NAME\s+STATUS\s+STEPS/);
    expect(table.stdout).toContain(`${failedRec?.ref ?? '?'}   ctx (app)   Error`);

    const explained = await history('explain', changedRec?.ref ?? '');
    expect(explained.code, explained.stderr).toBe(0);
    expect(explained.stdout).toMatch(/#\d+ \[2\/4\] COPY src\/ \/app\/\n  ran because \(compared with build \w+\):\n    - `src\/app.js` changed \(sha256:[0-9a-f]{12} → sha256:[0-9a-f]{12}\)\n/);
    expect(explained.stdout).toContain('- build arg `VERSION` 1.2 → 1.3');
    expect(explained.stdout).not.toContain('lib.js');

    const inspected = await history('inspect', failedRec?.ref ?? '');
    expect(inspected.stdout).toMatch(/Status:\s+Error/);
    expect(inspected.stdout).toMatch(/Error: .*exit code: 1\n --> Dockerfile:6\n in step #\d+/);
    expect(inspected.stdout).toMatch(/#\d+\s+FAILED\s+[\d.]+s\s+no\s+/);
    expect(inspected.stdout).toMatch(/Build Arg:\s+FAIL=yes/);

    // Without a ref, the last build; `--step` explains one step.
    const last = await history('explain', '--step', '1');
    expect(last.stdout).toMatch(/^#1 /);
  });

  it('explains a step run again after its cache record was pruned, and under --no-cache', async () => {
    const again = join(env.tmp.path, 'again');
    await mkdir(again, { recursive: true });
    await writeFile(join(again, 'Dockerfile'), 'FROM busybox\nRUN echo same-step\n');
    const run = (...args: string[]): ReturnType<typeof runTbuild> => runTbuild(['build', '--root', root, '--config', env.config, '--progress', 'plain', ...args, again]);
    expect((await run()).code).toBe(0);
    const [first] = await listed();
    const pruned = await runTbuild(['prune', '--all', '--root', root]);
    expect(pruned.code, pruned.stderr).toBe(0);
    const rebuilt = await run('--explain');
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    expect(rebuilt.stderr).toMatch(new RegExp(`#(\\d+) \\[2/2\\] RUN echo same-step\n(#\\1 .*\n)*#\\1   - cache record pruned \\(the same cache key was cached by build ${first?.ref ?? '?'}\\)\n`));
    expect((await run('--no-cache')).code).toBe(0);
    const explained = await history('explain');
    expect(explained.stdout).toMatch(/\[2\/2\] RUN echo same-step\n  ran because:\n    - `--no-cache`\n/);
  });

  it('keeps a 10 MiB step log byte for byte', async () => {
    const big = join(env.tmp.path, 'big');
    await mkdir(big, { recursive: true });
    // Random bytes: not text, so any decoding or clipping on the way would show.
    await writeFile(join(big, 'Dockerfile'), 'FROM busybox\nRUN head -c 10485760 /dev/urandom > /blob && cat /blob && echo to-stderr >&2\n');
    const out = join(env.tmp.path, 'big-out');
    const built = await runTbuild(['build', '--root', root, '--config', env.config, '--progress', 'quiet', '-o', `type=local,dest=${out}`, big]);
    expect(built.code, built.stderr).toBe(0);
    const [record] = await listed();
    const inspected = JSON.parse((await history('inspect', '--format', 'json')).stdout) as { steps: { index: number; name: string; logBytes: number }[] };
    const step = inspected.steps.find((s) => s.name.includes('urandom'));
    expect(step?.logBytes).toBe(10485760 + 'to-stderr\n'.length);
    const logs = await runBytes(['history', 'logs', record?.ref ?? '', '--step', String(step?.index), '--root', root]);
    expect(logs.code, logs.stderr).toBe(0);
    const blob = await readFile(join(out, 'blob'));
    expect(logs.stdout.length).toBe(blob.length + 'to-stderr\n'.length);
    const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
    expect(sha(logs.stdout.subarray(0, blob.length))).toBe(sha(blob));
    expect(logs.stdout.subarray(blob.length).toString()).toBe('to-stderr\n');
  });

  it('marks a build whose process was killed as interrupted', async () => {
    const slow = join(env.tmp.path, 'slow');
    await mkdir(slow, { recursive: true });
    await writeFile(join(slow, 'Dockerfile'), 'FROM busybox\nRUN echo started && sleep 60\n');
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'tbuild.js'), 'build', '--root', root, '--config', env.config, '--progress', 'plain', slow], { stdio: ['ignore', 'ignore', 'pipe'] });
    const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
    let seen = '';
    await new Promise<void>((resolve) =>
      child.stderr.on('data', (d: Buffer) => {
        seen += d.toString();
        if (/\d started\n/.test(seen)) resolve();
      }),
    );
    const running = await listed();
    expect(running[0]?.status).toBe('Running');
    child.kill('SIGKILL');
    await exited;
    const after = await listed();
    expect(after[0]?.ref).toBe(running[0]?.ref);
    expect(after[0]?.status).toBe('Interrupted');
  });

  it('marks a build stopped with Ctrl-C as canceled, with the step it stopped in', async () => {
    const slow = join(env.tmp.path, 'slow-cancel');
    await mkdir(slow, { recursive: true });
    await writeFile(join(slow, 'Dockerfile'), 'FROM busybox\nRUN echo waiting && sleep 60\n');
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'tbuild.js'), 'build', '--root', root, '--config', env.config, '--progress', 'plain', slow], { stdio: ['ignore', 'ignore', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    let seen = '';
    await new Promise<void>((resolve) =>
      child.stderr.on('data', (d: Buffer) => {
        seen += d.toString();
        // The step's output line (`#2 0.310 waiting`), not its name.
        if (/\d waiting\n/.test(seen)) resolve();
      }),
    );
    child.kill('SIGINT');
    expect(await exited).not.toBe(0);
    const [canceled] = await listed();
    expect(canceled?.status).toBe('Canceled');
    const inspected = JSON.parse((await history('inspect', canceled?.ref ?? '', '--format', 'json')).stdout) as { status: string; steps: { name: string; status: string }[] };
    expect(inspected.status).toBe('cancelled');
    expect(inspected.steps.find((s) => s.name.includes('sleep 60'))?.status).toBe('cancelled');
    expect((await history('logs', canceled?.ref ?? '')).stdout).toMatch(/^#\d+ waiting\n$/);
  });

  it('removes records by ref and prunes by count', async () => {
    const before = await listed();
    expect(before.length).toBeGreaterThan(3);
    const [newest, second] = before;
    const rm = await history('rm', second?.ref.slice(0, 10) ?? '');
    expect(rm.code, rm.stderr).toBe(0);
    expect(rm.stdout.trim()).toBe(second?.ref);
    const pruned = await history('prune', '--keep', '1');
    expect(pruned.stdout).toBe(`Removed ${before.length - 2} build records\n`);
    expect((await listed()).map((r) => r.ref)).toEqual([newest?.ref]);
    const missing = await history('inspect', second?.ref ?? '');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`Cannot find build record "${second?.ref ?? ''}"`);
  });
});
