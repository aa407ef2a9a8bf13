import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { run, runTbuild } from '../helpers/cli.js';
import { useBuildEnvironment, useRemoteBuilder } from '../helpers/build-env.js';
import { plainSteps } from '../helpers/plain-steps.js';

// What Docker 20.10 printed for `RUN env | grep -i proxy | sort` with the same build args (ALL_PROXY aside: BuildKit
// 0.8 drops it, current BuildKit passes it like the others, and tbuild follows current BuildKit).
const PROXY_ARGS = ['HTTP_PROXY=http://a:1', 'https_proxy=http://s:2', 'NO_PROXY=n', 'FTP_PROXY=f', 'all_proxy=socks://x'];
const EXPECTED_ENV = [
  'ALL_PROXY=socks://x',
  'FTP_PROXY=f',
  'HTTPS_PROXY=http://s:2',
  'HTTP_PROXY=http://a:1',
  'NO_PROXY=n',
  'all_proxy=socks://x',
  'ftp_proxy=f',
  'http_proxy=http://a:1',
  'https_proxy=http://s:2',
  'no_proxy=n',
];

/** runOutput collects the output lines (`#N 0.123 text`) of the RUN step of plain progress, without number and time. */
function runOutput(stderr: string): string[] {
  const n = stderr.split('\n').find((l) => /^#\d+ \[\d+\/\d+\] RUN /.test(l))?.split(' ')[0];
  return stderr
    .split('\n')
    .filter((l) => n !== undefined && l.startsWith(`${n} `))
    .map((l) => /^#\d+ \d+\.\d+ (.*)$/.exec(l)?.[1])
    .filter((l): l is string => l !== undefined);
}

function buildArgs(values: readonly string[]): string[] {
  return values.flatMap((v) => ['--build-arg', v]);
}

async function historyOf(tar: string): Promise<string[]> {
  const res = await run('skopeo', ['inspect', '--config', `oci-archive:${tar}`]);
  expect(res.code, res.stderr).toBe(0);
  const cfg = JSON.parse(res.stdout) as { history: { created_by?: string }[]; config: { Env?: string[] } };
  return [...cfg.history.map((h) => h.created_by ?? ''), ...(cfg.config.Env ?? [])];
}

describe('proxy build args reach RUN without an ARG, outside the cache key and the history', () => {
  const env = useBuildEnvironment();
  const remote = useRemoteBuilder(env);
  const ctx = (): string => join(env.tmp.path, 'ctx');
  const embedded = (): string[] => ['--root', join(env.tmp.path, 'root'), '--config', env.config, '--progress', 'plain'];

  beforeAll(async () => {
    await mkdir(ctx(), { recursive: true });
    await writeFile(join(ctx(), 'Dockerfile'), 'FROM busybox\nRUN env | grep -i proxy | sort; echo proxy-run\n');
  });

  it('sets each proxy variable in upper and lower case, and a changed value keeps RUN cached', async () => {
    const tar = join(env.tmp.path, 'proxy.tar');
    const first = await runTbuild(['build', ...embedded(), ...buildArgs(PROXY_ARGS), '--output', `type=oci,dest=${tar}`, ctx()]);
    expect(first.code, first.stderr).toBe(0);
    expect(runOutput(first.stderr)).toEqual([...EXPECTED_ENV, 'proxy-run']);
    const history = await historyOf(tar);
    expect(history.join('\n')).not.toMatch(/proxy=|PROXY=/);
    const changed = await runTbuild(['build', ...embedded(), '--build-arg', 'HTTP_PROXY=http://other:3', ctx()]);
    expect(changed.code, changed.stderr).toBe(0);
    const step = plainSteps(changed.stderr).find((s) => s.name.includes('RUN env'));
    expect(step?.cached, changed.stderr).toBe(true);
  });

  it('passes them through a remote builder', async () => {
    const res = await runTbuild(['build', '--builder', remote.address, '--progress', 'plain', ...buildArgs(PROXY_ARGS), ctx()]);
    expect(res.code, res.stderr).toBe(0);
    expect(runOutput(res.stderr)).toEqual([...EXPECTED_ENV, 'proxy-run']);
  });

  it('treats an explicit ARG HTTP_PROXY as a build arg: in the history and the cache key', async () => {
    const dir = join(env.tmp.path, 'declared');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'Dockerfile'), 'FROM busybox\nARG HTTP_PROXY\nRUN env | grep -i proxy | sort -u; echo "arg=$HTTP_PROXY"\n');
    const tar = join(env.tmp.path, 'declared.tar');
    const first = await runTbuild(['build', ...embedded(), '--build-arg', 'HTTP_PROXY=http://a:1', '--output', `type=oci,dest=${tar}`, dir]);
    expect(first.code, first.stderr).toBe(0);
    expect(runOutput(first.stderr)).toEqual(['HTTP_PROXY=http://a:1', 'http_proxy=http://a:1', 'arg=http://a:1']);
    expect(await historyOf(tar)).toContain('RUN |1 HTTP_PROXY=http://a:1 /bin/sh -c env | grep -i proxy | sort -u; echo "arg=$HTTP_PROXY" # buildkit');
    const changed = await runTbuild(['build', ...embedded(), '--build-arg', 'HTTP_PROXY=http://b:1', dir]);
    expect(changed.code, changed.stderr).toBe(0);
    expect(runOutput(changed.stderr)).toContain('arg=http://b:1');
  });
});
