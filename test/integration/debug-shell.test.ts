import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { detectCgroupLayout } from '../../executor/cgroup-layout.js';
import { cgroupParents, listCgroupChildren } from '../../executor/cgroup.js';
import { useBuildEnvironment } from '../helpers/build-env.js';
import { REPO_ROOT, runTbuild } from '../helpers/cli.js';
import { requireTmux, startTmux, type TmuxPane } from '../helpers/tmux.js';

/** PROMPT is busybox sh's prompt on the last line of the screen (the capture drops trailing blanks). */
const PROMPT = /[$#]$/;

const FAILING = `FROM busybox
ENV GREETING=hello-from-env
RUN mkdir -p /home/u && chown 1000:1000 /home/u
USER 1000:1000
WORKDIR /home/u
RUN --mount=type=cache,target=/cache,uid=1000 --mount=type=secret,id=tok,uid=1000 echo written > written.txt && echo cached > /cache/c && echo about to fail && exit 3
`;

/** pidsWith lists the processes whose command line contains `text` (a test's own state folder), but the terminal's own. */
async function pidsWith(text: string): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^[0-9]+$/.test(name) || Number(name) === process.pid) continue;
    // The tmux server and the pane's shell carry the tbuild command line they started.
    const comm = (await readFile(`/proc/${name}/comm`, 'utf8').catch(() => '')).trim();
    if (comm.startsWith('tmux') || comm === 'bash') continue;
    const cmdline = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(text)) pids.push(Number(name));
  }
  return pids;
}

/** expectNothingLeft checks a finished tbuild left no mount, process, cgroup or bundle of its state folder behind. */
async function expectNothingLeft(root: string, tbuildPids: readonly number[]): Promise<void> {
  expect((await readFile('/proc/mounts', 'utf8')).split('\n').filter((l) => l.includes(root))).toEqual([]);
  expect(await pidsWith(root)).toEqual([]);
  const layout = await detectCgroupLayout();
  for (const parent of cgroupParents(layout)) {
    const children = await listCgroupChildren(parent);
    // Named by the pid of the tbuild process: the sandbox's PID-…, runc's runc-PID-….
    expect(children.filter((c) => tbuildPids.some((pid) => c.startsWith(`${pid}-`) || c.startsWith(`runc-${pid}-`)))).toEqual([]);
  }
  const state = join(root, 'tmp', 'exec');
  for (const entry of await readdir(state)) {
    // The runtimes' own state folders stay; the containers in them must not.
    expect(entry).toMatch(/^(runc|crun)-state$/);
    expect(await readdir(join(state, entry))).toEqual([]);
  }
}

/** waitForExit waits for tbuild's exit in the pane and returns the screen with the terminal's line wraps undone. */
async function waitForExit(term: TmuxPane): Promise<string> {
  const screen = await term.waitFor((s) => (/\[exited \d+\]/.test(s) ? s : undefined), 'tbuild exiting');
  return screen.replaceAll('\n', '');
}

/** typeAndRead types a command line and waits for the marker it prints at its end. */
async function typeAndRead(term: TmuxPane, line: string, marker: string): Promise<string> {
  await term.sendKeys('-l', line);
  await term.sendKeys('Enter');
  return term.waitFor((s) => (s.split('\n').some((l) => l.trim() === marker) ? s : undefined), `the output of "${line}"`, 30_000);
}

describe('tbuild build --on-error=shell', () => {
  const env = useBuildEnvironment();
  beforeAll(requireTmux);

  const context = async (name: string, dockerfile: string): Promise<string> => {
    const dir = join(env.tmp.path, name);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'Dockerfile'), dockerfile);
    await writeFile(join(dir, 'token'), 's3cret-token');
    return dir;
  };
  const tbuild = (args: readonly string[]): string[] => [process.execPath, join(REPO_ROOT, 'bin', 'tbuild.js'), ...args];

  it.each([['sandbox'], ['runc'], ['crun']])(
    'opens a shell in the failed RUN as it ended (%s), and the build ends with the step error',
    async (executor) => {
      const ctx = await context(`fail-${executor}`, FAILING);
      const root = join(env.tmp.path, `root-${executor}`);
      const runtime = executor === 'sandbox' ? [] : ['--oci-runtime', executor];
      const args = ['build', '--progress', 'plain', '--root', root, '--config', env.config, ...runtime];
      const argv = tbuild([...args, '--secret', `id=tok,src=${join(ctx, 'token')}`, '--on-error=shell', ctx]);
      await using term = await startTmux(argv, { columns: 120, rows: 40 });
      await term.waitFor((s) => (/Opening a shell in the failed step/.test(s) && PROMPT.test(s) ? true : undefined), 'the shell prompt');
      const tbuildPids = await pidsWith(root);
      // The step's files, environment, working folder, user and mounts, as the RUN had them.
      const screen = await typeAndRead(
        term,
        'echo "[$GREETING] [$(pwd)] [$(id -u):$(id -g)]"; cat written.txt /cache/c /run/secrets/tok; echo; ls /; echo END-1',
        'END-1',
      );
      expect(screen).toContain('[hello-from-env] [/home/u] [1000:1000]');
      expect(screen).toMatch(/^written$/m);
      expect(screen).toMatch(/^cached$/m);
      expect(screen).toContain('s3cret-token');
      expect(screen).toMatch(/\bbin\b.*\betc\b.*\bhome\b/);
      // Ctrl-C reaches the shell's foreground process, not tbuild: the shell is still there to answer.
      // The key goes once the shell runs the command line: sent at once, it may reach the line editor first.
      await typeAndRead(term, 'echo sleep-$((1+1)); sleep 60', 'sleep-2');
      await term.sendKeys('C-c');
      expect(await typeAndRead(term, 'echo still-$((40+2))', 'still-42')).toContain('still-42');
      await term.sendKeys('-l', 'exit');
      await term.sendKeys('Enter');
      const end = await waitForExit(term);
      expect(end).toContain('[exited 1]');
      expect(end).toMatch(/did not complete successfully: exit code: 3/);
      await expectNothingLeft(root, tbuildPids);
    },
    180_000,
  );

  it('follows a resize of the terminal (sandbox)', async () => {
    const ctx = await context('resize', 'FROM busybox\nRUN exit 5\n');
    const root = join(env.tmp.path, 'root-resize');
    const argv = tbuild(['build', '--progress', 'plain', '--root', root, '--config', env.config, '--on-error=shell', ctx]);
    await using term = await startTmux(argv, { columns: 100, rows: 30 });
    await term.waitFor((s) => (PROMPT.test(s) ? true : undefined), 'the shell prompt');
    const tbuildPids = await pidsWith(root);
    expect(await typeAndRead(term, 'stty size; echo END-A', 'END-A')).toMatch(/^30 100$/m);
    await term.resize(90, 25);
    expect(await typeAndRead(term, 'stty size; echo END-B', 'END-B')).toMatch(/^25 90$/m);
    await term.sendKeys('-l', 'exit');
    await term.sendKeys('Enter');
    expect(await waitForExit(term)).toMatch(/exit code: 5[\s\S]*\[exited 1\]/);
    await expectNothingLeft(root, tbuildPids);
  }, 120_000);

  it('cancels the steps still running, ends the build with the step error when the shell is killed, and runs --shell', async () => {
    // The slow stage runs beside the failing one: it is cancelled, not waited for, before the shell opens.
    const dockerfile = 'FROM busybox AS slow\nRUN sleep 90; echo slow > /slow\nFROM busybox AS failing\nRUN echo partial > /partial && exit 4\nFROM busybox\nCOPY --from=slow /slow /a\nCOPY --from=failing /partial /b\n';
    const ctx = await context('killed', dockerfile);
    const started = Date.now();
    const root = join(env.tmp.path, 'root-killed');
    const shell = JSON.stringify(['/bin/sh', '-c', 'echo custom-shell-$((6*7)); exec /bin/sh']);
    const argv = tbuild(['build', '--progress', 'plain', '--root', root, '--config', env.config, '--on-error=shell', '--shell', shell, ctx]);
    await using term = await startTmux(argv, { columns: 120, rows: 40 });
    const opened = await term.waitFor((s) => (s.includes('custom-shell-42') && PROMPT.test(s) ? s : undefined), 'the --shell command');
    expect(opened).toMatch(/^#(\d+) \[slow 2\/2\] RUN sleep 90[\s\S]*^#\1 CANCELED$[\s\S]*Opening a shell/m);
    expect(Date.now() - started).toBeLessThan(80_000);
    const tbuildPids = await pidsWith(root);
    expect(await typeAndRead(term, 'cat /partial; echo END', 'END')).toMatch(/^partial$/m);
    await term.sendKeys('-l', 'kill -9 $$');
    await term.sendKeys('Enter');
    const end = await waitForExit(term);
    expect(end).toMatch(/exit code: 4[\s\S]*\[exited 1\]/);
    await expectNothingLeft(root, tbuildPids);
  }, 120_000);

  it('stops the shell and removes its container when the terminal closes (runc)', async () => {
    const ctx = await context('hangup', 'FROM busybox\nRUN exit 6\n');
    const root = join(env.tmp.path, 'root-hangup');
    const argv = tbuild(['build', '--progress', 'plain', '--root', root, '--config', env.config, '--oci-runtime', 'runc', '--on-error=shell', ctx]);
    await using term = await startTmux(argv, { columns: 120, rows: 40 });
    await term.waitFor((s) => (PROMPT.test(s) ? true : undefined), 'the shell prompt');
    const tbuildPids = await pidsWith(root);
    expect(tbuildPids.length).toBeGreaterThan(0);
    // The shell is running when the terminal goes: tbuild gets SIGHUP.
    await term.hangUp();
    for (let i = 0; i < 200 && (await pidsWith(root)).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    await expectNothingLeft(root, tbuildPids);
  }, 120_000);

  it('refuses --on-error=shell without a terminal, before building', async () => {
    const ctx = await context('no-tty', 'FROM busybox\nRUN exit 1\n');
    const root = join(env.tmp.path, 'root-no-tty');
    const result = await runTbuild(['build', '--progress', 'plain', '--root', root, '--config', env.config, '--on-error=shell', ctx]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/Cannot use --on-error=shell: standard input and output must be a terminal/);
    expect(result.stderr).not.toMatch(/#1 /);
    const remote = await runTbuild(['build', '--builder', 'unix:///nonexistent.sock', '--on-error=shell', ctx]);
    expect(remote.code).toBe(2);
    expect(remote.stderr).toMatch(/Cannot use --on-error=shell with --builder/);
  }, 60_000);
});

describe('tbuild debug shell', () => {
  const env = useBuildEnvironment();
  beforeAll(requireTmux);
  const tbuildArgv = (args: readonly string[]): string[] => [process.execPath, join(REPO_ROOT, 'bin', 'tbuild.js'), ...args];
  const DOCKERFILE = 'FROM busybox\nENV STAGE_VAR=from-env\nWORKDIR /work\nRUN echo step-file > /work/made && chown 1234 /work\nUSER 1234\nRUN echo later > /work/later\n';

  it('opens a shell in an image of the store and in a step of the last build, as they were', async () => {
    const ctx = join(env.tmp.path, 'debug-ctx');
    await mkdir(ctx, { recursive: true });
    await writeFile(join(ctx, 'Dockerfile'), DOCKERFILE);
    const root = join(env.tmp.path, 'root-debug');
    const common = ['--root', root];
    const built = await runTbuild(['build', ...common, '--config', env.config, '--progress', 'plain', '-t', 'debug-me', ctx]);
    expect(built.code, built.stderr).toBe(0);
    const runStep = /^#(\d+) \[3\/4\] RUN echo step-file/m.exec(built.stderr)?.[1];
    expect(runStep).toBeDefined();

    {
      await using term = await startTmux(tbuildArgv(['debug', 'shell', ...common, 'debug-me']), { columns: 120, rows: 30 });
      await term.waitFor((s) => (PROMPT.test(s) ? true : undefined), 'the shell prompt');
      const screen = await typeAndRead(term, 'echo "[$STAGE_VAR] [$(pwd)] [$(id -u)]"; cat made later; touch /work/scratch; echo END-I', 'END-I');
      expect(screen).toContain('[from-env] [/work] [1234]');
      expect(screen).toMatch(/^step-file$/m);
      expect(screen).toMatch(/^later$/m);
      await term.sendKeys('-l', 'exit 7');
      await term.sendKeys('Enter');
      expect(await waitForExit(term)).toContain('[exited 7]');
    }
    {
      // The RUN step's result: its files, environment and folder, and the user it ran as (root: USER comes after it).
      await using term = await startTmux(tbuildArgv(['debug', 'shell', ...common, '--step', `#${runStep ?? ''}`]), { columns: 120, rows: 30 });
      await term.waitFor((s) => (PROMPT.test(s) ? true : undefined), 'the shell prompt');
      const screen = await typeAndRead(term, 'echo "[$STAGE_VAR] [$(pwd)] [$(id -u)]"; cat made; ls later scratch; echo END-S', 'END-S');
      expect(screen).toContain('[from-env] [/work] [0]');
      expect(screen).toMatch(/^step-file$/m);
      // Neither a later step's file nor the image shell's change is there.
      expect(screen).toMatch(/later: No such file/);
      expect(screen).toMatch(/scratch: No such file/);
      await term.sendKeys('-l', 'exit');
      await term.sendKeys('Enter');
      expect(await waitForExit(term)).toContain('[exited 0]');
    }
    await expectNothingLeft(root, []);

    const noTty = await runTbuild(['debug', 'shell', ...common, 'debug-me']);
    expect(noTty.code).toBe(2);
    expect(noTty.stderr).toMatch(/Cannot use tbuild debug shell: standard input and output must be a terminal/);
    await using tooFar = await startTmux(tbuildArgv(['debug', 'shell', ...common, '--step', '99']), { columns: 200, rows: 30 });
    expect(await waitForExit(tooFar)).toMatch(/Cannot open a shell in step #99: build \w+ has steps #1 to #\d+[\s\S]*\[exited 2\]/);
  }, 180_000);

  it('refuses a remote builder before anything starts, naming what to do instead', async () => {
    const refused = [
      await runTbuild(['debug', 'shell', '--builder', 'unix:///nonexistent.sock', '--step', '1']),
      await runTbuild(['debug', 'shell', 'busybox'], { env: { TBUILD_HOST: 'unix:///nonexistent.sock' } }),
    ];
    for (const r of refused) {
      // Not the terminal check, which comes after: nothing was looked at.
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('Cannot open a debug shell on a remote builder: the shell runs over the local store only');
      expect(r.stderr).toContain("hint: run 'tbuild debug shell --root DIR' on the builder's machine");
    }
    // --root names a local store: TBUILD_HOST is not asked (this one fails for want of a terminal instead).
    const local = await runTbuild(['debug', 'shell', '--root', join(env.tmp.path, 'root-unused'), 'busybox'], { env: { TBUILD_HOST: 'unix:///nonexistent.sock' } });
    expect(local.code).toBe(2);
    expect(local.stderr).toMatch(/Cannot use tbuild debug shell: standard input and output must be a terminal/);
  });

  it('gives a FROM, WORKDIR or COPY step the stage config as built up to that step', async () => {
    const ctx = join(env.tmp.path, 'config-ctx');
    await mkdir(ctx, { recursive: true });
    await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nENV STAGE_VAR=from-env\nUSER 1234\nWORKDIR /work\nCOPY a.txt /work/a.txt\nENV AFTER=later\nUSER 0\n');
    await writeFile(join(ctx, 'a.txt'), 'copied-file\n');
    const root = join(env.tmp.path, 'root-config');
    const built = await runTbuild(['build', '--root', root, '--config', env.config, '--progress', 'plain', ctx]);
    expect(built.code, built.stderr).toBe(0);
    const stepOf = (text: string): string => new RegExp(`^#(\\d+) \\[\\d/3\\] ${text}`, 'm').exec(built.stderr)?.[1] ?? `(no step "${text}")`;
    const cases = [
      // The base image's files and config (its PATH), root in /: nothing of the stage yet.
      { step: stepOf('FROM '), expected: '[] [] [/] [0]', copied: false },
      // ENV and USER before the WORKDIR, and the folder it made; not the ENV and USER after the COPY.
      { step: stepOf('WORKDIR /work'), expected: '[from-env] [] [/work] [1234]', copied: false },
      { step: stepOf('COPY a.txt'), expected: '[from-env] [] [/work] [1234]', copied: true },
    ];
    for (const c of cases) {
      await using term = await startTmux(tbuildArgv(['debug', 'shell', '--root', root, '--step', c.step]), { columns: 160, rows: 30 });
      await term.waitFor((s) => (PROMPT.test(s) ? true : undefined), `the shell prompt of step ${c.step}`);
      const screen = await typeAndRead(term, 'echo "[$STAGE_VAR] [$AFTER] [$(pwd)] [$(id -u)]" "[$PATH]"; cat /work/a.txt; echo END-C', 'END-C');
      // The image's PATH, kept by the stage.
      expect(screen.replaceAll('\n', ''), `step ${c.step}`).toContain(`${c.expected} [/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin]`);
      if (c.copied) expect(screen).toMatch(/^copied-file$/m);
      else expect(screen).toMatch(/can't open '\/work\/a.txt': No such file/);
      await term.sendKeys('-l', 'exit');
      await term.sendKeys('Enter');
      expect(await waitForExit(term)).toContain('[exited 0]');
    }
    await expectNothingLeft(root, []);
  }, 180_000);
});
