import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, runTbuild, type TempDir } from '../helpers/cli.js';
import { startTmux, type TmuxPane } from '../helpers/tmux.js';

const exec = promisify(execFile);

/** requireShell fails, naming the package, when a shell the completion scripts are for is missing. */
async function requireShell(shell: 'zsh' | 'fish'): Promise<void> {
  try {
    await exec(shell, ['-c', 'exit 0']);
  } catch (err) {
    throw new Error(`Cannot test ${shell} completion: ${shell} is missing (apt-get install ${shell}, or run scripts/setup.sh)`, { cause: err });
  }
}

// A folder to complete in: two folders (build contexts) and a file.
let dir: TempDir;
let work = '';
beforeAll(async () => {
  dir = await makeTempDir('shell-completion-');
  work = join(dir.path, 'work');
  await mkdir(join(work, 'alpha'), { recursive: true });
  await mkdir(join(work, 'beta'));
  await writeFile(join(work, 'notes.txt'), '');
});
afterAll(async () => {
  await dir[Symbol.asyncDispose]();
});

/** script writes `tbuild completion SHELL` to a file and returns its path. */
async function script(shell: 'zsh' | 'fish'): Promise<string> {
  const res = await runTbuild(['completion', shell]);
  expect([res.code, res.stderr]).toEqual([0, '']);
  const file = join(dir.path, `tbuild.${shell}`);
  await writeFile(file, res.stdout);
  return file;
}

describe('fish completion', () => {
  let file = '';
  beforeAll(async () => {
    await requireShell('fish');
    file = await script('fish');
  });
  // fish's own entry point: what it offers for a command line, one candidate (and its description) per line.
  const complete = async (line: string): Promise<string[]> => {
    const { stdout } = await exec('fish', ['-c', 'source $argv[1]; complete -C $argv[2]', file, line], { cwd: work });
    return stdout.split('\n').filter((l) => l !== '').map((l) => l.split('\t')[0] ?? '');
  };

  it('completes commands, subcommands and their options', async () => {
    expect(await complete('tbuild his')).toEqual(['history']);
    expect(await complete('tbuild --root /x --debug pr')).toEqual(['prune']);
    expect(await complete('tbuild prune --f')).toEqual(['--filter', '--force']);
    expect(await complete('tbuild imagetools ')).toEqual(['create', 'inspect']);
    expect(await complete('tbuild completion ')).toEqual(['bash', 'fish', 'zsh']);
    expect(await complete('tbuild --v')).toEqual(['--version']);
  });

  it('gives a subcommand named as a command only its own options', async () => {
    expect(await complete('tbuild imagetools inspect --r')).toEqual(['--raw']);
    const historyPrune = await complete('tbuild history prune --');
    expect(historyPrune).toContain('--keep-duration');
    expect(historyPrune).not.toContain('--force');
  });

  it('completes folders for a build context and files for option values', async () => {
    expect(await complete('tbuild build ')).toEqual(['alpha/', 'beta/']);
    expect(await complete('tbuild --root no')).toEqual(['notes.txt']);
    expect(await complete('tbuild build -f no')).toEqual(['notes.txt']);
  });
});

describe('zsh completion', () => {
  let term: TmuxPane;
  beforeAll(async () => {
    await requireShell('zsh');
    const file = await script('zsh');
    term = await startTmux(['zsh', '-f'], { columns: 150, rows: 40 });
    // As the help says: the script sourced in a shell whose completion system is on.
    await term.sendKeys('-l', `PS1='P> '; autoload -U compinit && compinit -u; source ${file}; cd ${work}; print READY`);
    await term.sendKeys('Enter');
    await term.waitFor((s) => (/^READY$/m.test(s) ? true : undefined), 'the shell ready', 15_000);
  });
  afterAll(async () => {
    // Closing the terminal ends the shell at once, where disposing it would wait for it to end on Ctrl-C.
    await term.hangUp();
    await term[Symbol.asyncDispose]();
  });

  /** completeLine types a line and Tab on a cleared screen, and returns the screen once `shown` matches it. */
  const completeLine = async (line: string, shown: RegExp): Promise<string> => {
    await term.sendKeys('C-c');
    await term.sendKeys('-l', 'clear');
    await term.sendKeys('Enter');
    await term.waitFor((s) => (s.trim() === 'P>' ? true : undefined), 'a cleared screen', 30_000);
    await term.sendKeys('-l', line);
    await term.sendKeys('Tab');
    return term.waitFor((s) => (shown.test(s) ? s : undefined), `the completion of "${line}"`, 30_000);
  };

  it('completes commands, subcommands and their options', async () => {
    await completeLine('tbuild his', /^P> tbuild history\s*$/m);
    await completeLine('tbuild --root /x pr', /^P> tbuild --root \/x prune\s*$/m);
    await completeLine('tbuild prune --f', /^--filter\s+--force$/m);
    await completeLine('tbuild imagetools ', /^create\s+inspect$/m);
    const historyPrune = await completeLine('tbuild history prune --', /--keep-duration/);
    expect(historyPrune).not.toContain('--force');
  });

  it('completes folders for a build context and files for the value of an option before the command', async () => {
    await completeLine('tbuild build ', /^alpha\s+beta$/m);
    await completeLine('tbuild --root no', /^P> tbuild --root notes\.txt\s*$/m);
  });
});
