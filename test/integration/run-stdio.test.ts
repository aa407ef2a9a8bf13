import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runTbuild } from '../helpers/cli.js';
import { useBuildEnvironment, useRemoteBuilder } from '../helpers/build-env.js';

// Docker 20.10 runs this Dockerfile with every line below printed, on the stream named: RUN's stdin, stdout and
// stderr are pipes (stdin at EOF), so /dev/stdout and /dev/stderr can be reopened, by root and by USER nobody alike.
const DOCKERFILE = [
  'FROM busybox',
  'RUN for fd in 0 1 2; do [ -p /proc/self/fd/$fd ] && echo pipe$fd; done; cat; cat /dev/stdin; echo "stdin-eof"',
  'RUN ln -s /dev/stderr /error.log && echo via-link >> /error.log && echo to-stderr > /dev/stderr && echo to-stdout > /dev/stdout',
  'USER nobody',
  'RUN echo nobody-stderr > /dev/stderr && echo nobody-stdout > /dev/stdout',
  '',
].join('\n');

const EXPECTED = {
  stdout: ['pipe0', 'pipe1', 'pipe2', 'stdin-eof', 'to-stdout', 'nobody-stdout'],
  stderr: ['via-link', 'to-stderr', 'nobody-stderr'],
};

/** streams collects the RUN output lines of --progress json by stream. */
function streams(stderr: string): { stdout: string[]; stderr: string[] } {
  const out = { stdout: [] as string[], stderr: [] as string[] };
  for (const line of stderr.split('\n')) {
    if (!line.startsWith('{')) continue;
    const event = JSON.parse(line) as { type: string; stream?: 'stdout' | 'stderr'; data?: string; vertex?: string };
    if (event.type !== 'vertex.log' || event.stream === undefined || event.data === undefined) continue;
    out[event.stream].push(...event.data.split('\n').filter((l) => l !== '' && !l.startsWith('sent ') && !l.startsWith('transferred ')));
  }
  return out;
}

describe('RUN stdio are pipes, as in BuildKit', () => {
  const env = useBuildEnvironment();
  const remote = useRemoteBuilder(env);
  const ctx = (): string => join(env.tmp.path, 'ctx');
  const embedded = (): string[] => ['--root', join(env.tmp.path, 'root'), '--config', env.config, '--no-cache'];

  beforeAll(async () => {
    await mkdir(ctx(), { recursive: true });
    await writeFile(join(ctx(), 'Dockerfile'), DOCKERFILE);
  });

  for (const runtime of ['sandbox', 'runc', 'crun'] as const) {
    it(`reopens /dev/stdout and /dev/stderr and keeps the two streams apart (${runtime})`, async () => {
      const select = runtime === 'sandbox' ? [] : ['--oci-runtime', runtime];
      const res = await runTbuild(['build', ...embedded(), ...select, '--progress', 'json', ctx()]);
      expect(res.code, res.stderr).toBe(0);
      expect(streams(res.stderr)).toEqual(EXPECTED);
    });
  }

  it('does the same on a remote builder', async () => {
    const res = await runTbuild(['build', '--builder', remote.address, '--no-cache', '--progress', 'json', ctx()]);
    expect(res.code, res.stderr).toBe(0);
    expect(streams(res.stderr)).toEqual(EXPECTED);
  });

  it('reports the exit code and the output written through /dev/stderr when RUN fails', async () => {
    const dir = join(env.tmp.path, 'failing');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'Dockerfile'), 'FROM busybox\nRUN echo "nginx: [emerg] bad config" > /dev/stderr; exit 4\n');
    const res = await runTbuild(['build', ...embedded(), '--progress', 'plain', dir]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('exit code: 4');
    expect(res.stderr).not.toContain('No such device or address');
    expect(res.stderr.split('\n').filter((l) => l.includes('nginx: [emerg] bad config')).length, res.stderr).toBeGreaterThanOrEqual(2);
  });
});
