import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { startCountingProxy } from '../fixtures/counting-proxy.js';
import { useBuildEnvironment } from '../helpers/build-env.js';
import { REPO_ROOT, runTbuild, writeMirrorConfig } from '../helpers/cli.js';
import { requireTmux, startTmux } from '../helpers/tmux.js';

const COLUMNS = 100;
const ROWS = 30;

/** A step's line of the live view and the seconds it shows. */
function stepSeconds(screen: string, step: string): number | undefined {
  const line = screen.split('\n').find((l) => l.includes(step));
  const m = line === undefined ? null : / (\d+\.\d)s$/.exec(line);
  return m === null ? undefined : Number(m[1]);
}

function headerSeconds(screen: string): number | undefined {
  const m = /^\[\+\] Building (\d+\.\d)s /m.exec(screen);
  return m === null ? undefined : Number(m[1]);
}

describe('the tty progress view in a real terminal', () => {
  const env = useBuildEnvironment();
  beforeAll(requireTmux);

  const tbuild = (args: readonly string[]): string[] => [process.execPath, join(REPO_ROOT, 'bin', 'tbuild.js'), ...args];
  const context = async (name: string, dockerfile: string): Promise<string> => {
    const dir = join(env.tmp.path, name);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'Dockerfile'), dockerfile);
    return dir;
  };

  it('advances the elapsed time of a silent step and of the build, and follows a resize', async () => {
    const ctx = await context('silent', 'FROM busybox\nRUN sleep 4\n');
    const root = join(env.tmp.path, 'root-silent');
    const argv = tbuild(['build', '--progress', 'tty', '--root', root, '--config', env.config, '-o', `type=local,dest=${join(env.tmp.path, 'out-silent')}`, ctx]);
    await using term = await startTmux(argv, { columns: COLUMNS, rows: ROWS });
    const first = await term.waitFor((s) => {
      const t = stepSeconds(s, 'RUN sleep 4');
      return t !== undefined && t < 3 ? { step: t, build: headerSeconds(s) } : undefined;
    }, 'the running step with its time');
    const later = await term.waitFor((s) => {
      const t = stepSeconds(s, 'RUN sleep 4');
      return t !== undefined && t >= first.step + 0.5 && !/FINISHED/.test(s) ? { step: t, build: headerSeconds(s), screen: s } : undefined;
    }, 'the step time advancing');
    expect(later.build).toBeGreaterThan(first.build ?? Number.POSITIVE_INFINITY);
    // The running step and the header are drawn once: a redraw replaces them.
    expect(later.screen.match(/RUN sleep 4/g)).toHaveLength(1);
    expect(later.screen.match(/\[\+\] Building/g)).toHaveLength(1);

    await term.resize(60, ROWS);
    const narrow = await term.waitFor((s) => (s.includes('FINISHED') ? s : undefined), 'the build finishing');
    for (const line of narrow.split('\n')) expect(line.length).toBeLessThanOrEqual(60);
    expect(narrow.match(/\[\+\] Building/g)).toHaveLength(1);
    expect(narrow).toMatch(/^ => \[2\/2\] RUN sleep 4 +4\.\d+s$/m);
    // Colours: the finished step is painted blue (tmux carries the colour over from the line before).
    expect(await term.captureStyled()).toMatch(/\x1b\[34m[^\x1b]* => \[2\/2\] RUN sleep 4/);
  });

  it('counts every step of the solve in the header from the start, so its total does not grow as steps start', async () => {
    const ctx = await context('count', 'FROM busybox\nRUN sleep 1\nRUN sleep 1 && echo a\nRUN sleep 1 && echo b\nRUN echo c\n');
    const argv = tbuild(['build', '--progress', 'tty', '--no-cache', '--root', join(env.tmp.path, 'root-count'), '--config', env.config, ctx]);
    await using term = await startTmux(argv, { columns: COLUMNS, rows: ROWS });
    // Every header drawn while the build runs: (finished/total).
    const seen = new Set<string>();
    const screen = await term.waitFor((s) => {
      const m = /^\[\+\] Building \d+\.\ds \((\d+)\/(\d+)\)/m.exec(s);
      if (m !== null) seen.add(`${m[1]}/${m[2]}`);
      return s.includes('FINISHED') ? s : undefined;
    }, 'the build finishing');
    expect(screen).toMatch(/^\[\+\] Building \d+\.\ds \(5\/5\) FINISHED$/m);
    // Before the solve nothing is known (0/0); from then on every header counts the 5 steps, while RUNs still run too.
    const headers = [...seen].filter((h) => h !== '0/0');
    expect(headers.some((h) => h === '1/5' || h === '2/5' || h === '3/5')).toBe(true);
    expect(headers.filter((h) => !h.endsWith('/5'))).toEqual([]);
  });

  it('shows the bytes and rate of a pull from the loopback registry while it runs', async () => {
    const ctx = await context('big', 'FROM busybox\nRUN head -c 3000000 /dev/urandom > /big\n');
    const name = `${env.registry.host}/tty/big:1`;
    const pushed = await runTbuild(['build', '--root', join(env.tmp.path, 'root-push'), '--config', env.config, '--output', `type=image,name=${name},push=true`, ctx]);
    expect(pushed.code, pushed.stderr).toBe(0);

    await using proxy = await startCountingProxy(env.registry.host);
    proxy.mode = { kind: 'throttle', bytesPerSecond: 1_000_000 };
    const config = await writeMirrorConfig(await context('proxy-config', ''), proxy.host);
    const user = await context('user', `FROM ${proxy.host}/tty/big:1\nRUN test -s /big\n`);
    const argv = tbuild(['build', '--progress', 'tty', '--root', join(env.tmp.path, 'root-pull'), '--config', config, '-o', `type=local,dest=${join(env.tmp.path, 'out-pull')}`, user]);
    await using term = await startTmux(argv, { columns: COLUMNS, rows: ROWS });
    const transfer = /^ => => sha256:[0-9a-f]+ ([\d.]+)([kM]?B) \/ (3\.0\d)MB ([\d.]+[kM]?B)\/s +(\d+\.\d)s$/m;
    const running = await term.waitFor((s) => {
      const m = transfer.exec(s);
      return m !== null && m[2] === 'MB' && Number(m[1]) > 0 ? m : undefined;
    }, 'a layer download with its bytes and rate');
    expect(Number(running[1])).toBeLessThan(Number(running[3]));
    const done = await term.waitFor((s) => (s.includes('FINISHED') ? s : undefined), 'the build finishing');
    expect(done).toMatch(/^ => => sha256:[0-9a-f]+ 3\.0\dMB \/ 3\.0\dMB +\d+\.\ds$/m);
  });

  it('leaves a clean screen and a visible cursor when interrupted with Ctrl-C', async () => {
    // No network namespace: a Ctrl-C that reaches slirp4netns too leaves the namespace file bound (differences.md).
    const ctx = await context('cancel', 'FROM busybox\nRUN --network=none echo started && sleep 60\n');
    const argv = tbuild(['build', '--progress', 'tty', '--root', join(env.tmp.path, 'root-cancel'), '--config', env.config, '-o', `type=local,dest=${join(env.tmp.path, 'out-cancel')}`, ctx]);
    await using term = await startTmux(argv, { columns: COLUMNS, rows: ROWS });
    await term.waitFor((s) => (/ => => # started/.test(s) ? true : undefined), 'the step output');
    await term.sendKeys('C-c');
    const screen = await term.waitFor((s) => (/\[exited \d+\]/.test(s) ? s : undefined), 'the command exiting');
    expect(screen).toContain('[exited 130]');
    expect(screen).not.toContain('[+[+]');
    expect(screen.match(/\[\+\] Building/g)).toHaveLength(1);
    expect(screen).toMatch(/^ => CANCELED \[2\/2\] RUN --network=none echo started && sleep 60 +\d+\.\ds$/m);
    expect(screen).toMatch(/Build cancelled/);
    // Nothing of the live lines is left below the final header.
    const lines = screen.split('\n');
    const header = lines.findIndex((l) => l.startsWith('[+] Building'));
    expect(lines.slice(header + 1).filter((l) => l.startsWith(' => '))).toEqual([]);
    expect(await term.cursorVisible()).toBe(true);
  });
});
