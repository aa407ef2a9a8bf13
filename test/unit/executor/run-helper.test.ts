import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InternalError } from '../../../base/errors.js';
import { runHelper } from '../../../executor/run-helper.js';

// Stand-in helpers: shell scripts that write result lines on fd 3 as the sandbox helper does.
describe('runHelper result lines', () => {
  let dir = '';
  const helper = async (name: string, body: string): Promise<string> => {
    const file = join(dir, name);
    await writeFile(file, `#!/bin/sh\n${body}\n`);
    await chmod(file, 0o755);
    return file;
  };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tbuild-run-helper-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('returns the outcome of well-formed lines', async () => {
    const file = await helper('good', `echo '{"type":"started","pid":1}' >&3; echo '{"type":"exited","exitCode":7}' >&3`);
    const outcome = await runHelper(file, dir, {}, { signal: new AbortController().signal });
    expect(outcome).toEqual({ type: 'exited', exitCode: 7 });
  });

  it('fails the run, not the process, on a line that is not JSON, and stops the helper', async () => {
    const file = await helper('garbage', `echo 'not json' >&3; exec sleep 30`);
    const started = Date.now();
    const run = runHelper(file, dir, {}, { signal: new AbortController().signal });
    await expect(run).rejects.toBeInstanceOf(InternalError);
    await expect(run).rejects.toThrow(/Bad sandbox helper line "not json"/);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('keeps the reason of an error line the helper recognised, and only a known one', async () => {
    const masked = await helper('masked', `echo '{"type":"error","stage":"setup","reason":"proc-masked","message":"mount /proc: Operation not permitted"}' >&3`);
    expect(await runHelper(masked, dir, {}, { signal: new AbortController().signal })).toEqual({
      type: 'error',
      stage: 'setup',
      reason: 'proc-masked',
      message: 'mount /proc: Operation not permitted',
    });
    const other = await helper('other', `echo '{"type":"error","stage":"setup","reason":"surprise","message":"m"}' >&3`);
    expect(await runHelper(other, dir, {}, { signal: new AbortController().signal })).toEqual({ type: 'error', stage: 'setup', message: 'm' });
  });

  it('fails the run on a line of an unknown type', async () => {
    const file = await helper('unknown', `echo '{"type":"surprise"}' >&3`);
    await expect(runHelper(file, dir, {}, { signal: new AbortController().signal })).rejects.toThrow(/Bad sandbox helper line: \{"type":"surprise"\}/);
  });
});
