import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { freePort } from '../fixtures/registry.js';
import { useBuildEnvironment } from '../helpers/build-env.js';
import { REPO_ROOT } from '../helpers/cli.js';

const env = useBuildEnvironment();

/** remoteSection is the README's "Remote builds" section: its shell blocks, and the commands and errors it shows. */
async function remoteSection(): Promise<{ shell: string[]; console: string[] }> {
  const readme = await readFile(join(REPO_ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Remote builds\n');
  const end = readme.indexOf('\n## ', start + 1);
  expect(start, 'README has a "Remote builds" section').toBeGreaterThan(0);
  const text = readme.slice(start, end);
  const blocks = (lang: string): string[] => [...text.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].flatMap((m) => (m[1] ?? '').split('\n').filter((l) => l !== ''));
  return { shell: blocks('sh'), console: blocks('console') };
}

describe('README "Remote builds"', () => {
  it('works as it says, step by step, with loopback addresses and temp folders', async () => {
    const { shell, console: shown } = await remoteSection();
    expect(shell.filter((l) => l.startsWith('tbuild serve')).length).toBeGreaterThanOrEqual(3);
    const ports = new Map<string, string>();
    for (const port of ['8443', '8444', '8445', '8446']) ports.set(port, String(await freePort()));
    let roots = 0;
    // The README's paths and ports become the test's own: a state folder per server, the suite's settings file.
    const local = (line: string): string =>
      line
        .replace(/127\.0\.0\.1:(\d{4})/g, (_, p: string) => `127.0.0.1:${ports.get(p) ?? p}`)
        .replaceAll('/var/lib/tbuild', () => join(env.tmp.path, `state-${++roots}`))
        .replaceAll('/etc/tbuild/tbuild.toml', env.config)
        .replaceAll('/run/tbuild/', join(env.tmp.path, 'run') + '/');
    const tbuild = `"${process.execPath}" "${join(REPO_ROOT, 'bin', 'tbuild.js')}"`;
    const script = [
      'set -euo pipefail',
      `tbuild() { ${tbuild} "$@"; }`,
      'wait_listening() { for _ in $(seq 600); do grep -q \'"msg":"listening"\' "$1" && return 0; sleep 0.1; done; cat "$1"; return 1; }',
      "trap 'kill $(jobs -p) 2>/dev/null; wait' EXIT",
      // A server runs as node itself, not through the function, so that the EXIT trap's kill reaches it.
      ...shell.map((line, i) => (/^tbuild serve .*&$/.test(line) ? `${tbuild}${local(line).slice('tbuild'.length, -1)} --log-format json 2>serve-${i}.log & wait_listening serve-${i}.log` : local(line))),
      // The errors the section shows, run while its servers are up: each command's output, marked.
      ...shown.filter((l) => l.startsWith('$ ')).map((l, i) => `echo "@@ ${i}"; (${local(l.slice(2))}) 2>&1 || true`),
      'tar -tf app.tar index.json >/dev/null && tar -tf rootfs.tar bin/busybox >/dev/null && echo "@@ outputs ok"',
    ].join('\n');
    const cwd = join(env.tmp.path);
    const res = await promisify(execFile)('bash', ['-c', script], { cwd, maxBuffer: 16 << 20, timeout: 300_000 });
    const out = res.stdout;
    expect(out).toContain('Builder:\ttcp://127.0.0.1:');
    expect(out).toContain('@@ outputs ok');
    // Each error shown: its ERROR and hint lines, in order, for its command.
    const outputs = out.split(/^@@ /m).slice(1);
    let command = -1;
    for (const line of shown) {
      if (line.startsWith('$ ')) {
        command++;
        continue;
      }
      const got = outputs[command] ?? '';
      expect(got, `${shown.filter((l) => l.startsWith('$ '))[command] ?? ''}`).toContain(local(line));
    }
    expect(command).toBeGreaterThanOrEqual(6);
  }, 400_000);
});
