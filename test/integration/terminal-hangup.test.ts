import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBuildEnvironment } from '../helpers/build-env.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { requireTmux, startTmux } from '../helpers/tmux.js';

// Runs tbuild in a session of its own on the terminal, so closing the terminal sends it no signal (the test sends
// them), and writes its pid and then how it ended (128 + signal, or its exit status) where the test reads them.
const WRAPPER = 'trap "" HUP; pid=$1; status=$2; shift 2; setsid "$@" & echo $! > "$pid"; wait $!; echo $? > "$status"';

/** readWhenWritten reads a file the wrapper writes, waiting for it. */
async function readWhenWritten(file: string, what: string): Promise<string> {
  for (let i = 0; i < 600; i++) {
    const text = await readFile(file, 'utf8').catch((err: unknown) => {
      if (err instanceof Error && 'code' in err && err.code === 'ENOENT') return '';
      throw err;
    });
    if (text.endsWith('\n')) return text.trim();
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`The wrapper never wrote ${what}`);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    if (err instanceof Error && 'code' in err && err.code === 'ESRCH') return false;
    throw err;
  }
}

/** leftBehind lists the mounts and processes that name a state folder. */
async function leftBehind(root: string): Promise<string[]> {
  const mounts = (await readFile('/proc/mounts', 'utf8')).split('\n').filter((l) => l.includes(root));
  const { readdir } = await import('node:fs/promises');
  const processes: string[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^[0-9]+$/.test(name) || Number(name) === process.pid) continue;
    const cmdline = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    // The tmux pane's shell carries the command line it started.
    if (cmdline.includes(root) && !cmdline.startsWith('sh\0-c\0trap') && !cmdline.includes('tmux')) processes.push(cmdline);
  }
  return [...mounts, ...processes];
}

describe('a build whose terminal closed', () => {
  const env = useBuildEnvironment();
  beforeAll(requireTmux);

  const start = async (name: string, dockerfile: string) => {
    const dir = join(env.tmp.path, name);
    await mkdir(join(dir, 'ctx'), { recursive: true });
    await writeFile(join(dir, 'ctx', 'Dockerfile'), dockerfile);
    const root = join(dir, 'root');
    const files = { pid: join(dir, 'pid'), status: join(dir, 'status'), out: join(dir, 'out') };
    const tbuild = [process.execPath, join(REPO_ROOT, 'bin', 'tbuild.js'), 'build', '--progress', 'tty', '--root', root, '--config', env.config, '-o', `type=local,dest=${files.out}`, join(dir, 'ctx')];
    const term = await startTmux(['sh', '-c', WRAPPER, 'sh', files.pid, files.status, ...tbuild], { columns: 100, rows: 30 });
    await term.waitFor((s) => (/ => => # started/.test(s) ? true : undefined), 'the step output');
    const pid = Number(await readWhenWritten(files.pid, 'the pid'));
    return { term, pid, root, files };
  };

  it('ends by SIGTERM after cleaning up when SIGHUP and then SIGTERM come, instead of aborting in Node', async () => {
    const { term, pid, root, files } = await start('term', 'FROM busybox\nRUN --network=none echo started && sleep 60\n');
    await using _term = term;
    await term.hangUp();
    // The live view's writes to the closed terminal fail: the build goes on.
    await new Promise((r) => setTimeout(r, 500));
    expect(isRunning(pid)).toBe(true);
    process.kill(pid, 'SIGHUP');
    process.kill(pid, 'SIGTERM');
    expect(await readWhenWritten(files.status, 'the status')).toBe('143');
    expect(await leftBehind(root)).toEqual([]);
  }, 120_000);

  it('goes on to the end and exits with its own status when no signal comes', async () => {
    const { term, files } = await start('finish', 'FROM busybox\nRUN --network=none echo started && sleep 3 && echo made > /made\n');
    await using _term = term;
    await term.hangUp();
    expect(await readWhenWritten(files.status, 'the status')).toBe('0');
    expect(await readFile(join(files.out, 'made'), 'utf8')).toBe('made\n');
  }, 120_000);
});
