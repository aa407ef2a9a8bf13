import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { collectOutput, REPO_ROOT, run, type CliResult } from './cli.js';

/** UnprivilegedUser is an ordinary account a test made, removed on dispose with its home and every process it ran. */
export interface UnprivilegedUser extends AsyncDisposable {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
  /** runTbuild runs bin/tbuild.js as this user, with a login's environment plus `env`. */
  runTbuild(args: readonly string[], options?: { cwd?: string; env?: NodeJS.ProcessEnv }): Promise<CliResult>;
  /** runAs runs a program as this user, with a login's environment plus `env`. */
  runAs(file: string, args: readonly string[], options?: { cwd?: string; env?: NodeJS.ProcessEnv }): Promise<CliResult>;
}

async function must(cmd: string, args: readonly string[]): Promise<string> {
  const r = await run(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

/** checkRootlessTools fails, naming the packages, when a tool rootless tbuild (or the test) runs is missing. */
export async function checkRootlessTools(extra: readonly string[] = []): Promise<void> {
  for (const tool of ['newuidmap', 'newgidmap', 'unshare', 'slirp4netns', ...extra]) {
    const found = await run('sh', ['-c', `command -v ${tool}`]);
    if (found.code !== 0) throw new Error(`rootless tests need ${tool} (Debian: uidmap, util-linux, slirp4netns)`);
  }
}

/** subordinateLine is the user's line of /etc/subuid or /etc/subgid, if any. */
export async function subordinateLine(file: string, name: string): Promise<string | undefined> {
  return (await readFile(file, 'utf8')).split('\n').find((l) => l.startsWith(`${name}:`));
}

/** pidsOf lists the processes whose real uid is one of `uids` (a namespace's user and the ids mapped under it). */
async function pidsOf(owns: (uid: number) => boolean): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^[0-9]+$/.test(name)) continue;
    let status: string;
    try {
      status = await readFile(`/proc/${name}/status`, 'utf8');
    } catch (err) {
      // The process ended while the list was read.
      if (err instanceof Error && 'code' in err && (err.code === 'ENOENT' || err.code === 'ESRCH')) continue;
      throw err;
    }
    const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
    if (owns(uid)) pids.push(Number(name));
  }
  return pids;
}

/**
 * createUnprivilegedUser adds an account with a home, and with a range of subordinate ids in /etc/subuid and
 * /etc/subgid unless `subordinateIds` is false. Disposing it kills what runs as the user or its subordinate ids, and
 * removes the account, its home and its ranges.
 */
export async function createUnprivilegedUser(options: { subordinateIds: boolean }): Promise<UnprivilegedUser> {
  const name = `tbrl${randomBytes(3).toString('hex')}`;
  const counts = options.subordinateIds ? [] : ['-K', 'SUB_UID_COUNT=0', '-K', 'SUB_GID_COUNT=0'];
  await must('useradd', ['--create-home', '--shell', '/bin/sh', ...counts, name]);
  const uid = Number((await must('id', ['-u', name])).trim());
  const gid = Number((await must('id', ['-g', name])).trim());
  const home = join('/home', name);
  const subuid = await subordinateLine('/etc/subuid', name);
  const start = Number(subuid?.split(':')[1] ?? Number.NaN);
  const count = Number(subuid?.split(':')[2] ?? 0);
  const dispose = async (): Promise<void> => {
    const owns = (id: number): boolean => id === uid || (id >= start && id < start + count);
    for (let round = 0; round < 5; round++) {
      const pids = await pidsOf(owns);
      if (pids.length === 0) break;
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch (err) {
          if (!(err instanceof Error && 'code' in err && err.code === 'ESRCH')) throw err;
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    await must('userdel', ['--remove', '--force', name]);
  };
  try {
    if (options.subordinateIds && subuid === undefined) throw new Error(`useradd gave ${name} no range in /etc/subuid (SUB_UID_COUNT in /etc/login.defs)`);
  } catch (err) {
    await dispose();
    throw err;
  }
  const runAs = (file: string, args: readonly string[], runOptions: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> => {
    const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: home, USER: name, LOGNAME: name, ...runOptions.env };
    return collectOutput(spawn(file, [...args], { cwd: runOptions.cwd ?? home, env, uid, gid, stdio: ['ignore', 'pipe', 'pipe'] }));
  };
  return {
    name,
    uid,
    gid,
    home,
    runTbuild: (args, runOptions = {}) => runAs(process.execPath, [join(REPO_ROOT, 'bin', 'tbuild.js'), ...args], runOptions),
    runAs,
    [Symbol.asyncDispose]: dispose,
  };
}
