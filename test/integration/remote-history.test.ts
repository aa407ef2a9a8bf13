import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OtlpTraces } from '../../cli/history-trace.js';
import { makeTempDir, runTbuild, writeMirrorConfig, type CliResult, type TempDir } from '../helpers/cli.js';
import { startServe, type ServeProcess } from '../helpers/remote-server.js';
import { seedBusybox, startRegistry, type TestRegistry } from '../fixtures/registry.js';

interface Listed {
  readonly ref: string;
  readonly status: string;
}

describe('tbuild history --builder: the builder keeps the records, each client sees its own builds', () => {
  let registry: TestRegistry;
  let tmp: TempDir;
  let server: ServeProcess;
  let builder: string;
  let ctx: string;
  const clientEnv = (name: string): Record<string, string> => ({ XDG_CONFIG_HOME: join(tmp.path, name, 'config'), XDG_CACHE_HOME: join(tmp.path, name, 'cache') });
  const history = (client: string, ...args: string[]): Promise<CliResult> => runTbuild(['history', ...args, '--builder', builder], { env: clientEnv(client) });
  const listed = async (client: string): Promise<Listed[]> => {
    const ls = await history(client, 'ls', '--format', 'json');
    expect(ls.code, ls.stderr).toBe(0);
    return ls.stdout
      .split('\n')
      .filter((l) => l !== '')
      .map((l): Listed => JSON.parse(l));
  };

  beforeAll(async () => {
    registry = await startRegistry();
    await seedBusybox(registry.host);
    tmp = await makeTempDir('tbuild-remote-history-');
    const config = await writeMirrorConfig(tmp.path, registry.host);
    builder = `unix://${join(tmp.path, 'run', 'tbuild.sock')}`;
    ctx = join(tmp.path, 'ctx');
    await mkdir(ctx, { recursive: true });
    // 9 MB of output: more than one page of HistoryLogs and more than gRPC's default 4 MiB message.
    await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nARG V=1\nRUN head -c 9000000 /dev/zero | tr "\\0" a && echo " v$V"\n');
    server = await startServe(['--addr', builder, '--root', join(tmp.path, 'server-root'), '--config', config]);
  });

  afterAll(async () => {
    await server?.stop();
    await tmp?.[Symbol.asyncDispose]();
    await registry?.stop();
  });

  it('lists, inspects, explains, traces and prints the logs of a client’s builds; another client sees none of them', async () => {
    const build = (...args: string[]): Promise<CliResult> => runTbuild(['build', '--builder', builder, ...args, ctx], { env: clientEnv('a') });
    const first = await build('--progress', 'quiet');
    expect(first.code, first.stderr).toBe(0);
    const second = await build('--progress', 'plain', '--build-arg', 'V=2', '--explain');
    expect(second.code, second.stderr.slice(-2000)).toBe(0);
    expect(second.stderr).toContain('   - build arg `V` 1 → 2');

    const records = await listed('a');
    expect(records.map((r) => r.status)).toEqual(['Completed', 'Completed']);
    const [last, earlier] = records;

    const explained = await history('a', 'explain');
    expect(explained.code, explained.stderr).toBe(0);
    expect(explained.stdout).toContain(`ran because (compared with build ${earlier?.ref ?? '?'}):\n    - build arg \`V\` 1 → 2\n`);

    const inspected = await history('a', 'inspect', last?.ref ?? '');
    expect(inspected.stdout).toMatch(/Build Arg:\s+V=2/);
    const step = /#(\d+)\s+COMPLETED\s+.*RUN head/.exec(inspected.stdout)?.[1];
    expect(step, inspected.stdout).toBeDefined();
    const logs = await history('a', 'logs', last?.ref ?? '', '--step', step ?? '');
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout.length).toBe(9000000 + ' v2\n'.length);
    expect(logs.stdout).toBe(`${'a'.repeat(9000000)} v2\n`);

    // The trace comes from the builder's record: its steps' times, and (html) their output.
    const otlp = await history('a', 'trace', last?.ref ?? '', '--format', 'otlp');
    expect(otlp.code, otlp.stderr).toBe(0);
    const spans = (JSON.parse(otlp.stdout) as OtlpTraces).resourceSpans[0]?.scopeSpans[0]?.spans ?? [];
    expect(spans[0]?.name).toBe('build');
    expect(spans.filter((s) => s.name.includes('RUN head -c 9000000'))).toHaveLength(1);
    const page = join(tmp.path, 'trace.html');
    const html = await history('a', 'trace', last?.ref ?? '', '-o', page);
    expect(html.code, html.stderr).toBe(0);
    expect(await readFile(page, 'utf8')).toContain(`earlier bytes left out: tbuild history logs ${last?.ref ?? ''} --step ${step ?? ''} prints them all]`);

    // Another client (another client id) sees none of them, nor can it name one.
    expect(await listed('b')).toEqual([]);
    const other = await history('b', 'inspect', last?.ref ?? '');
    expect(other.code).toBe(2);
    expect(other.stderr).toContain(`Cannot find build record "${last?.ref ?? ''}"`);
    expect((await history('b', 'prune')).stdout).toBe('Removed 0 build records\n');

    const rm = await history('a', 'rm', earlier?.ref ?? '');
    expect(rm.stdout.trim()).toBe(earlier?.ref);
    expect((await history('a', 'prune', '--keep', '0')).stdout).toBe('Removed 1 build record\n');
    expect(await listed('a')).toEqual([]);
  });
});
