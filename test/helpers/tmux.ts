import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makeTempDir } from './cli.js';

const exec = promisify(execFile);

/** TmuxPane is a command running in a real terminal: a detached tmux server of its own, on a private socket. */
export interface TmuxPane extends AsyncDisposable {
  /** capture is the visible screen as text, one line per row, without trailing blanks. */
  capture(): Promise<string>;
  /** captureStyled is the visible screen with its colours as escape sequences. */
  captureStyled(): Promise<string>;
  sendKeys(...keys: string[]): Promise<void>;
  resize(columns: number, rows: number): Promise<void>;
  cursorVisible(): Promise<boolean>;
  /** waitFor polls the screen until `find` returns a value, failing with the last screen after `timeoutMs`. */
  waitFor<T>(find: (screen: string) => T | undefined, what: string, timeoutMs?: number): Promise<T>;
  /** hangUp closes the terminal at once (the tmux server goes, its command gets SIGHUP), as closing a terminal window does. */
  hangUp(): Promise<void>;
}

/** requireTmux fails, naming the package, when tmux cannot run here (scripts/setup.sh installs it). */
export async function requireTmux(): Promise<void> {
  try {
    await exec('tmux', ['-V']);
  } catch (err) {
    throw new Error('Cannot run the terminal tests: tmux is missing (apt-get install tmux, or run scripts/setup.sh)', { cause: err });
  }
}

/**
 * startTmux runs `argv` in a new terminal of `columns` × `rows` with TERM=xterm-256color and colours on. When it exits the pane
 * prints `[exited CODE]` and stays open, so its last screen and cursor can be read; disposing kills the server and
 * its socket folder.
 */
export async function startTmux(argv: readonly string[], o: { columns: number; rows: number; env?: Record<string, string> }): Promise<TmuxPane> {
  const dir = await makeTempDir('progress-terminal-');
  const socket = join(dir.path, 'tmux.sock');
  const tmux = async (...args: string[]): Promise<string> => (await exec('tmux', ['-S', socket, ...args])).stdout;
  // NO_COLOR empty: colours on, whatever the test runner's environment says.
  const env = Object.entries({ TERM: 'xterm-256color', NO_COLOR: '', ...o.env }).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
  const conf = join(dir.path, 'tmux.conf');
  const exitFile = join(dir.path, 'exit-code');
  await writeFile(conf, 'set -g status off\n');
  try {
    await exec('tmux', ['-S', socket, '-f', conf, 'new-session', '-d', '-x', String(o.columns), '-y', String(o.rows), ...env, `${argv.map(quote).join(' ')}; code=$?; echo $code > ${quote(exitFile)}; echo "[exited $code]"; exec sleep 3600`]);
  } catch (err) {
    await dir[Symbol.asyncDispose]();
    throw err;
  }
  const capture = async (): Promise<string> => (await tmux('capture-pane', '-p', '-t', '0')).replace(/\s+$/, '');
  const waitFor = async <T>(find: (screen: string) => T | undefined, what: string, timeoutMs = 60_000): Promise<T> => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const screen = await capture();
      const found = find(screen);
      if (found !== undefined) return found;
      if (Date.now() > until) throw new Error(`The terminal never showed ${what}; its screen:\n${screen}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  let hungUp = false;
  return {
    capture,
    captureStyled: async () => tmux('capture-pane', '-p', '-e', '-t', '0'),
    sendKeys: async (...keys) => void (await tmux('send-keys', '-t', '0', ...keys)),
    resize: async (columns, rows) => void (await tmux('resize-window', '-t', '0', '-x', String(columns), '-y', String(rows))),
    cursorVisible: async () => (await tmux('display-message', '-p', '-t', '0', '#{cursor_flag}')).trim() === '1',
    waitFor,
    hangUp: async () => {
      hungUp = true;
      await stopServer(socket);
    },
    async [Symbol.asyncDispose]() {
      try {
        // A terminal hung up already has nothing left to stop.
        if (hungUp) return;
        // A command still running gets Ctrl-C and the time to clean up (a hangup would kill tbuild before it unmounts).
        if ((await exitCode(exitFile)) === undefined) {
          await tmux('send-keys', '-t', '0', 'C-c');
          const until = Date.now() + 30_000;
          while ((await exitCode(exitFile)) === undefined && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
        }
      } finally {
        await stopServer(socket);
        await dir[Symbol.asyncDispose]();
      }
    },
  };
}

/** quote makes an argument one word for the shell tmux runs the command with. */
function quote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** exitCode reads the code the command exited with, or undefined while it runs. */
async function exitCode(file: string): Promise<number | undefined> {
  try {
    return Number((await readFile(file, 'utf8')).trim());
  } catch (err) {
    if (err instanceof Error && 'code' in err && err.code === 'ENOENT') return undefined;
    throw err;
  }
}

/** stopServer kills the tmux server; one that is gone already (its pane's shell ended) is what was wanted. */
async function stopServer(socket: string): Promise<void> {
  try {
    await exec('tmux', ['-S', socket, 'kill-server']);
  } catch (err) {
    const stderr = err instanceof Error && 'stderr' in err ? String(err.stderr) : '';
    if (!/no server running|server exited unexpectedly|error connecting/.test(stderr)) throw err;
  }
}
