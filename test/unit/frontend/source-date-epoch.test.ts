import { describe, expect, it } from 'vitest';
import { DockerfileError } from '../../../base/errors.js';
import { compileDockerfile } from '../../../frontend/index.js';
import { compileOptions } from './compile-fixture.js';

const EPOCH = '2001-09-09T01:46:40Z';
const TEXT = 'FROM busybox AS base\nENV A=1\nFROM base\nRUN echo hi\nCMD ["x"]\n';

async function history(text: string, buildArgs: Record<string, string> = {}) {
  const def = await compileDockerfile(text, compileOptions({ buildArgs: new Map(Object.entries(buildArgs)) }));
  return { def, entries: def.image.history?.map((h) => [h.created_by, h.created]) };
}

describe('SOURCE_DATE_EPOCH in the Dockerfile frontend', () => {
  it('dates every entry the build adds, in every stage, at the epoch and leaves the base image entries as they are', async () => {
    const { def, entries } = await history(TEXT, { SOURCE_DATE_EPOCH: '1000000000' });
    expect(entries).toEqual([
      ['BUSYBOX', '2024-01-01T00:00:00Z'],
      ['ENV A=1', EPOCH],
      ['RUN /bin/sh -c echo hi # buildkit', EPOCH],
      ['CMD ["x"]', EPOCH],
    ]);
    expect(def.sourceDateEpoch).toBe(1_000_000_000);
  });

  it('leaves what the build adds undated without it, for the exporter to date', async () => {
    const { def, entries } = await history(TEXT);
    expect(entries?.slice(1).map(([, created]) => created)).toEqual([undefined, undefined, undefined]);
    expect(def.sourceDateEpoch).toBeUndefined();
  });

  it('takes the default of a global ARG, and a --build-arg over it, an empty one turning it off', async () => {
    const text = `ARG SOURCE_DATE_EPOCH=1000000000\n${TEXT}`;
    expect((await history(text)).def.sourceDateEpoch).toBe(1_000_000_000);
    expect((await history(text, { SOURCE_DATE_EPOCH: '0' })).entries?.[1]).toEqual(['ENV A=1', '1970-01-01T00:00:00Z']);
    expect((await history(text, { SOURCE_DATE_EPOCH: '' })).def.sourceDateEpoch).toBeUndefined();
    // An ARG inside a stage is not a build-wide setting.
    expect((await history('FROM busybox\nARG SOURCE_DATE_EPOCH=5\nENV A=1\n')).def.sourceDateEpoch).toBeUndefined();
  });

  it('refuses a value that is not a whole number of seconds with BuildKit\'s message, and takes `context` as none', async () => {
    const failure = async (value: string): Promise<unknown> =>
      compileDockerfile(TEXT, compileOptions({ buildArgs: new Map([['SOURCE_DATE_EPOCH', value]]) })).catch((e: unknown) => e);
    const err = await failure('not-a-timestamp');
    expect(err).toBeInstanceOf(DockerfileError);
    expect((err as DockerfileError).message).toBe('invalid SOURCE_DATE_EPOCH: not-a-timestamp');
    expect((await failure('base')) as DockerfileError).toMatchObject({ message: expect.stringContaining('from a stage or a named context is not supported') });
    // BuildKit dates a local context by nothing.
    expect((await history(TEXT, { SOURCE_DATE_EPOCH: 'context' })).def.sourceDateEpoch).toBeUndefined();
  });
});
