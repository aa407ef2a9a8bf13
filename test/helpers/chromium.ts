import { spawn } from 'node:child_process';
import { access } from 'node:fs/promises';
import type { CliResult } from './cli.js';

/** CHROMIUM is Debian's headless-capable browser (apt-get install chromium). */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * runHeadlessChromium runs chromium --headless on a page with extra arguments (--dump-dom, --screenshot=FILE …), in
 * its own process group with its profile in `profileDir`, and kills that group once it exits or times out, so no
 * browser process outlives the call.
 */
export async function runHeadlessChromium(url: string, args: readonly string[], options: { readonly profileDir: string; readonly timeoutMs?: number }): Promise<CliResult> {
  await access(CHROMIUM).catch((err: unknown) => {
    throw new Error(`Cannot run the browser test: ${CHROMIUM} is missing (apt-get install -y chromium)`, { cause: err });
  });
  // As root chromium needs --no-sandbox; the profile folder keeps it out of $HOME.
  const argv = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-extensions', `--user-data-dir=${options.profileDir}`, '--window-size=1200,700', ...args, url];
  const child = spawn(CHROMIUM, argv, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const killGroup = (): void => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch (err) {
      // ESRCH: the group has already gone, which is what we want.
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  };
  const timer = setTimeout(killGroup, options.timeoutMs ?? 60_000);
  try {
    const code = await new Promise<number>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (c) => resolve(c ?? -1));
    });
    return { code, stdout, stderr };
  } finally {
    clearTimeout(timer);
    killGroup();
  }
}
