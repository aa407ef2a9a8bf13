import { describe, expect, it } from 'vitest';
import { DockerfileError } from '../../../base/errors.js';
import { compileDockerfile, type BuildDefinition, type CompileOptions, type NamedContext, type SourceDateResolver, type SourceDateSubject } from '../../../frontend/index.js';
import { walkVertices } from '../../../solver/graph/index.js';
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

  it('dates the directories WORKDIR creates at the epoch, as BuildKit\'s frontend makes its mkdir', async () => {
    const mkdirs = async (buildArgs: Record<string, string>) => {
      const { def } = await history('FROM busybox\nWORKDIR /app/data\n', buildArgs);
      return [...walkVertices(def.root === null ? [] : [def.root.vertex])].flatMap((v) => (v.op.kind === 'file' ? v.op.actions : []));
    };
    expect(await mkdirs({ SOURCE_DATE_EPOCH: '1000000000' })).toEqual([{ action: 'mkdir', path: '/app/data', mode: 0o755, makeParents: true, timestamp: 1_000_000_000 }]);
    expect(await mkdirs({})).toEqual([{ action: 'mkdir', path: '/app/data', mode: 0o755, makeParents: true }]);
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
    // A stage it names must hold a source only.
    expect((await failure('base')) as DockerfileError).toMatchObject({ message: 'SOURCE_DATE_EPOCH stage must use FROM scratch', location: { startLine: 1 } });
    // Without a resolver (as BuildKit without a client) the context dates nothing.
    expect((await history(TEXT, { SOURCE_DATE_EPOCH: 'context' })).def.sourceDateEpoch).toBeUndefined();
  });
});

const URL_SOURCE = 'https://example.com/src/archive.tar';

/** compileDated compiles with a resolver that answers `dates` by subject (context, or a source's URL or remote). */
async function compileDated(text: string, dates: Record<string, number | undefined>, over: Partial<CompileOptions> = {}) {
  const asked: SourceDateSubject[] = [];
  const resolveSourceDate: SourceDateResolver = (subject) => {
    asked.push(subject);
    const key = subject.kind === 'context' ? 'context' : subject.source.type === 'http' ? subject.source.url : subject.source.remote;
    return Promise.resolve(dates[key]);
  };
  const def = await compileDockerfile(text, compileOptions({ resolveSourceDate, ...over }));
  return { def, asked };
}

/** lastRunEnv is the environment of the definition's last RUN. */
function lastRunEnv(def: BuildDefinition): readonly string[] {
  let env: readonly string[] = [];
  for (const v of walkVertices(def.root === null ? [] : [def.root.vertex])) if (v.op.kind === 'exec') env = v.op.meta.env;
  return env;
}

describe('SOURCE_DATE_EPOCH naming what dates the build', () => {
  const RUN_EPOCH = 'FROM busybox\nARG SOURCE_DATE_EPOCH\nRUN echo "$SOURCE_DATE_EPOCH"\n';

  it('dates the build by its context, and hands the seconds to an ARG of a stage', async () => {
    const { def, asked } = await compileDated(RUN_EPOCH, { context: 1_700_000_302 }, { buildArgs: new Map([['SOURCE_DATE_EPOCH', 'context']]) });
    expect(asked).toEqual([{ kind: 'context' }]);
    expect(def.sourceDateEpoch).toBe(1_700_000_302);
    expect(lastRunEnv(def)).toContain('SOURCE_DATE_EPOCH=1700000302');
  });

  it('drops the arg when the context tells no date, so that a stage ARG has no value', async () => {
    const { def } = await compileDated(RUN_EPOCH, {}, { buildArgs: new Map([['SOURCE_DATE_EPOCH', 'context']]) });
    expect(def.sourceDateEpoch).toBeUndefined();
    expect(lastRunEnv(def).some((e) => e.startsWith('SOURCE_DATE_EPOCH='))).toBe(false);
  });

  it('dates the build by the one ADD of a source-only stage, its words expanded with its own ARGs', async () => {
    const text = `ARG SOURCE_DATE_EPOCH=mysource\nARG HOST=example.com\nFROM scratch AS MySource\nARG DIR=src\nADD --checksum=sha256:${'0'.repeat(64)} https://\${HOST}/\${DIR}/archive.tar /\n${RUN_EPOCH}`;
    const { def, asked } = await compileDated(text, { [URL_SOURCE]: 1_700_000_402 });
    expect(asked).toEqual([{ kind: 'source', source: { type: 'http', url: URL_SOURCE, filename: 'archive.tar', checksum: `sha256:${'0'.repeat(64)}` } }]);
    expect(def.sourceDateEpoch).toBe(1_700_000_402);
    expect(lastRunEnv(def)).toContain('SOURCE_DATE_EPOCH=1700000402');
  });

  it('dates the build by a git ADD of the stage', async () => {
    const { def, asked } = await compileDated('ARG SOURCE_DATE_EPOCH=src\nFROM scratch AS src\nADD https://example.com/repo.git#v1 /\nFROM scratch\n', { 'https://example.com/repo.git': 1_600_000_000 });
    expect(asked[0]).toMatchObject({ kind: 'source', source: { type: 'git', remote: 'https://example.com/repo.git', ref: 'v1', keepGitDir: false } });
    expect(def.sourceDateEpoch).toBe(1_600_000_000);
  });

  it('lets a --build-arg number win over the stage, which is then not read', async () => {
    const text = `ARG SOURCE_DATE_EPOCH=mysource\nFROM scratch AS mysource\nADD ${URL_SOURCE} /\nFROM scratch\n`;
    const { def, asked } = await compileDated(text, {}, { buildArgs: new Map([['SOURCE_DATE_EPOCH', '1700000502']]) });
    expect(asked).toEqual([]);
    expect(def.sourceDateEpoch).toBe(1_700_000_502);
  });

  it('dates the build by a named context at a URL, read as the file `context`; other named contexts date nothing', async () => {
    const text = 'ARG SOURCE_DATE_EPOCH=mysource\nFROM scratch\n';
    const url = { namedContexts: new Map<string, NamedContext>([['mysource', { type: 'url', url: URL_SOURCE }]]) };
    const { def, asked } = await compileDated(text, { [URL_SOURCE]: 1_700_000_601 }, url);
    expect(asked).toEqual([{ kind: 'source', source: { type: 'http', url: URL_SOURCE, filename: 'context' } }]);
    expect(def.sourceDateEpoch).toBe(1_700_000_601);
    const image = { namedContexts: new Map<string, NamedContext>([['mysource', { type: 'image', ref: 'busybox' }]]) };
    expect((await compileDated(text, {}, image)).def.sourceDateEpoch).toBeUndefined();
  });

  it('refuses a stage that is not a source only, with BuildKit\'s messages at the stage', async () => {
    const failure = (stage: string): Promise<unknown> =>
      compileDated(`ARG SOURCE_DATE_EPOCH=s\n${stage}FROM scratch\n`, {}).then(
        () => undefined,
        (e: unknown) => e,
      );
    const cases: [string, string][] = [
      ['FROM scratch AS s\nCOPY a /\n', 'SOURCE_DATE_EPOCH stage does not meet source-only requirements: unsupported copy instruction'],
      ['FROM scratch AS s\nRUN true\n', 'SOURCE_DATE_EPOCH stage does not meet source-only requirements: unsupported run instruction'],
      ['FROM scratch AS s\nADD a /\n', 'SOURCE_DATE_EPOCH stage source must be a single HTTP(S) or Git ADD'],
      [`FROM scratch AS s\nADD ${URL_SOURCE} ${URL_SOURCE} /\n`, 'SOURCE_DATE_EPOCH stage must contain exactly one remote ADD source'],
      [`FROM scratch AS s\nADD ${URL_SOURCE} /\nADD ${URL_SOURCE} /b\n`, 'SOURCE_DATE_EPOCH stage must contain exactly one remote ADD'],
      ['FROM scratch AS s\nARG X=1\n', 'SOURCE_DATE_EPOCH stage must contain exactly one remote ADD'],
    ];
    for (const [stage, message] of cases) {
      const err = await failure(stage);
      expect(err, stage).toBeInstanceOf(DockerfileError);
      expect(err, stage).toMatchObject({ message, location: { startLine: 2 } });
    }
  });
});
