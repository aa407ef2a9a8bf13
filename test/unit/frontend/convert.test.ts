import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DockerfileError } from '../../../base/errors.js';
import { compileDockerfile, type CompileOptions } from '../../../frontend/index.js';
import type { ExecOp, FileOp, SourceOp } from '../../../solver/graph/index.js';
import { compileOptions, DIGEST, fakeResolver, vertices } from './compile-fixture.js';

const options = compileOptions;

async function compileError(text: string, over: Partial<CompileOptions> = {}): Promise<DockerfileError> {
  try {
    await compileDockerfile(text, options(over));
  } catch (err) {
    if (err instanceof DockerfileError) return err;
    throw err;
  }
  throw new Error('expected an error');
}

const HELLO = `FROM busybox
RUN echo hello > /hello.txt && echo world > /world.txt
COPY app.sh /usr/local/bin/
ENV GREETING="hello world" MODE=prod
WORKDIR /app
USER nobody
LABEL org.example.name=hello version=1
EXPOSE 8080 53/udp
ENTRYPOINT ["/usr/local/bin/app.sh"]
CMD ["--greet"]
`;

describe('compileDockerfile', () => {
  it('compiles a hello Dockerfile into a chain of ops and an image config', async () => {
    const def = await compileDockerfile(HELLO, options());
    const vs = vertices(def.root);
    expect(vs.map((v) => v.metadata.name)).toEqual([
      '[1/4] FROM docker.io/library/busybox:latest@' + DIGEST,
      '[2/4] RUN echo hello > /hello.txt && echo world > /world.txt',
      '[internal] load build context',
      '[3/4] COPY app.sh /usr/local/bin/',
      '[4/4] WORKDIR /app',
    ]);
    const [from, run, ctx, copy, workdir] = vs;
    expect((from?.op as SourceOp).source).toEqual({ type: 'image', ref: `docker.io/library/busybox:latest@${DIGEST}` });
    const exec = run?.op as ExecOp;
    expect(exec.meta).toEqual({
      args: ['/bin/sh', '-c', 'echo hello > /hello.txt && echo world > /world.txt'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      cwd: '/',
      user: '',
    });
    expect(exec.mounts).toEqual([{ type: 'bind', input: 0, dest: '/', output: 0, readonly: false }]);
    expect(run?.inputs[0]?.vertex).toBe(from);
    expect((ctx?.op as SourceOp).source).toEqual({ type: 'local', name: 'context', includePatterns: ['app.sh'], excludePatterns: [] });
    expect((copy?.op as FileOp).actions).toEqual([
      { action: 'copy', input: 1, sources: ['app.sh'], dest: '/usr/local/bin/', excludes: [], extractArchives: false, parents: false },
    ]);
    expect(copy?.inputs.map((e) => e.vertex)).toEqual([run, ctx]);
    expect((workdir?.op as FileOp).actions).toEqual([{ action: 'mkdir', path: '/app', mode: 0o755, makeParents: true }]);
    expect(workdir?.metadata.location).toEqual({ file: 'Dockerfile', startLine: 5, endLine: 5 });
    // A debug shell in a non-RUN step gets the stage as of that step: the ENV before the WORKDIR, not the USER after.
    const PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
    expect(copy?.metadata.process).toEqual({ env: [PATH], cwd: '/', user: '' });
    expect(from?.metadata.process).toEqual({ env: [PATH], cwd: '/', user: '' });
    expect(workdir?.metadata.process).toEqual({ env: [PATH, 'GREETING=hello world', 'MODE=prod'], cwd: '/app', user: '' });
    expect(run?.metadata.process).toBeUndefined();
    // A missing context path fails while the context is read: the COPY is where it points.
    expect(ctx?.metadata.location).toEqual({ file: 'Dockerfile', startLine: 3, endLine: 3 });

    expect(def.image.architecture).toBe('amd64');
    expect(def.image.rootfs.diff_ids).toEqual([]);
    expect(def.image.config).toMatchObject({
      Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'GREETING=hello world', 'MODE=prod'],
      WorkingDir: '/app',
      User: 'nobody',
      Labels: { 'org.example.name': 'hello', version: '1' },
      ExposedPorts: { '8080/tcp': {}, '53/udp': {} },
      Entrypoint: ['/usr/local/bin/app.sh'],
      Cmd: ['--greet'],
    });
    expect(def.image.history?.map((h) => [h.created_by, h.empty_layer === true])).toEqual([
      ['BUSYBOX', false],
      ['RUN /bin/sh -c echo hello > /hello.txt && echo world > /world.txt # buildkit', false],
      ['COPY app.sh /usr/local/bin/ # buildkit', false],
      ['ENV GREETING=hello world MODE=prod', true],
      ['WORKDIR /app', false],
      ['USER nobody', true],
      ['LABEL org.example.name=hello version=1', true],
      ['EXPOSE [53/udp 8080/tcp]', true],
      ['ENTRYPOINT ["/usr/local/bin/app.sh"]', true],
      ['CMD ["--greet"]', true],
    ]);
    expect(def.warnings).toEqual([]);
  });

  it('builds only the stages the target needs', async () => {
    const text = `FROM busybox AS base
RUN echo base
FROM alpine AS unused
RUN echo unused
FROM base AS build
RUN echo build
FROM scratch AS final
COPY --from=build /out /out
`;
    const calls: string[] = [];
    const def = await compileDockerfile(text, options({ resolveImageConfig: fakeResolver(calls) }));
    expect(calls).toEqual(['busybox']);
    const names = vertices(def.root).map((v) => v.metadata.name);
    expect(names).toEqual([
      '[base 1/2] FROM docker.io/library/busybox:latest@' + DIGEST,
      '[base 2/2] RUN echo base',
      '[build 1/1] RUN echo build',
      '[final 1/1] COPY --from=build /out /out',
    ]);
    const copy = vertices(def.root).at(-1)?.op as FileOp;
    expect(copy.base).toBeNull();
    expect(copy.actions[0]).toMatchObject({ action: 'copy', input: 0, sources: ['/out'], dest: '/out' });
    expect(def.stageName).toBe('final');

    const build = await compileDockerfile(text, options({ target: 'build' }));
    expect(vertices(build.root)).toHaveLength(3);
    expect(build.stageName).toBe('build');
  });

  it('dedupes identical vertices across stages', async () => {
    const def = await compileDockerfile('FROM busybox AS a\nRUN echo x\nFROM busybox AS b\nRUN echo x\nFROM scratch\nCOPY --from=a /x /a\nCOPY --from=b /x /b\n', options());
    const vs = vertices(def.root);
    expect(vs.filter((v) => v.op.kind === 'exec')).toHaveLength(1);
  });

  it('scopes ARGs: global defaults, stage re-declaration, build-arg override and RUN env', async () => {
    const text = `ARG BASE=busybox
ARG VERSION=1
FROM \${BASE}
ARG VERSION
ARG MODE=dev
ARG UNSET
RUN echo $VERSION $MODE
ENV FROMARG=$MODE
`;
    const def = await compileDockerfile(text, options({ buildArgs: new Map([['MODE', 'prod']]) }));
    const run = vertices(def.root).find((v) => v.op.kind === 'exec')?.op as ExecOp;
    expect(run.meta.env).toEqual(['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'VERSION=1', 'MODE=prod']);
    expect(def.image.config?.Env).toEqual(['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'FROMARG=prod']);
    expect(def.image.history?.find((h) => h.created_by?.startsWith('RUN'))?.created_by).toBe(
      'RUN |3 VERSION=1 MODE=prod UNSET= /bin/sh -c echo $VERSION $MODE # buildkit',
    );
  });

  it('provides the built-in platform args', async () => {
    const text = 'FROM --platform=$BUILDPLATFORM busybox\nARG TARGETPLATFORM TARGETARCH BUILDARCH BUILDVARIANT\nRUN echo $TARGETPLATFORM\n';
    const def = await compileDockerfile(text, options());
    const vs = vertices(def.root);
    // arm64/v8 is normalized to arm64, as BuildKit's worker platform is.
    expect(vs[0]?.op.platform).toEqual({ os: 'linux', architecture: 'arm64' });
    expect((vs[1]?.op as ExecOp).meta.env).toEqual(expect.arrayContaining(['TARGETPLATFORM=linux/amd64', 'TARGETARCH=amd64', 'BUILDARCH=arm64', 'BUILDVARIANT=']));
  });

  it('wraps shell forms in SHELL and warns about shell-form CMD', async () => {
    const def = await compileDockerfile('FROM busybox\nCMD echo hi\nSHELL ["/bin/bash", "-c"]\nRUN echo x\nENTRYPOINT run me\n', options());
    const run = vertices(def.root).find((v) => v.op.kind === 'exec')?.op as ExecOp;
    expect(run.meta.args).toEqual(['/bin/bash', '-c', 'echo x']);
    expect(def.image.config?.Cmd).toEqual(['/bin/sh', '-c', 'echo hi']);
    expect(def.image.config?.Entrypoint).toEqual(['/bin/bash', '-c', 'run me']);
    expect(def.warnings.map((w) => [w.rule, w.location?.startLine])).toEqual([['JSONArgsRecommended', 2]]);
  });

  it('turns a RUN heredoc into the shell script and a COPY heredoc into a file on scratch it copies, as BuildKit does', async () => {
    const def = await compileDockerfile('FROM busybox\nRUN <<EOF\necho one\necho two\nEOF\nCOPY --chmod=u+x <<EOT /etc/motd\nhi $USER\nEOT\n', options());
    const vs = vertices(def.root);
    expect((vs[1]?.op as ExecOp).meta.args).toEqual(['/bin/sh', '-c', 'echo one\necho two\n']);
    expect(vs[1]?.metadata.name).toBe('[2/3] RUN <<EOF (echo one...)');
    expect(vs[2]?.metadata.name).toBe('[internal] preparing inline document');
    expect((vs[2]?.op as FileOp).actions).toEqual([{ action: 'mkfile', path: '/EOT', mode: 0o644, data: 'hi \n' }]);
    expect((vs[3]?.op as FileOp).actions).toEqual([
      { action: 'copy', input: 1, sources: ['/EOT'], dest: '/etc/motd', chmod: 'u+x', excludes: [], extractArchives: false, parents: false },
    ]);
  });

  it('copies a COPY heredoc after the paths and writes it after them in history, as BuildKit orders them', async () => {
    const def = await compileDockerfile('FROM busybox\nCOPY <<EOT app.sh /last\nhi\nEOT\n', options());
    const copy = vertices(def.root).find((v) => v.metadata.name.includes('COPY'))?.op as FileOp;
    expect(copy.actions.map((a) => (a.action === 'copy' ? a.sources : []))).toEqual([['app.sh'], ['/EOT']]);
    expect(def.image.history?.at(-1)?.created_by).toBe('COPY app.sh <<EOT /last # buildkit');
  });

  it('copies the sources of ADD in the order written, URLs between paths of the context', async () => {
    const def = await compileDockerfile('FROM busybox\nADD a.txt https://example.com/f b.txt /dst\n', options());
    const add = vertices(def.root).find((v) => v.metadata.name.includes('ADD'))?.op as FileOp;
    expect(add.actions.map((a) => (a.action === 'copy' ? a.sources : []))).toEqual([['a.txt'], ['f'], ['b.txt']]);
  });

  it('runs ONBUILD triggers of the base image first', async () => {
    const def = await compileDockerfile('FROM withonbuild\nRUN echo mine\n', options());
    const names = vertices(def.root).map((v) => v.metadata.name);
    expect(names.slice(1)).toEqual(['[2/3] ONBUILD RUN echo triggered', '[3/3] RUN echo mine']);
    expect(def.image.config?.OnBuild).toBeUndefined();
  });

  it('reports checks with locations', async () => {
    const def = await compileDockerfile('FROM busybox as Build\nENV A 1\nMAINTAINER me\nCOPY $NOPE /x\n', options());
    expect(def.warnings.map((w) => [w.rule, w.location?.startLine])).toEqual([
      ['StageNameCasing', 1],
      ['FromAsCasing', 1],
      ['MaintainerDeprecated', 3],
      ['LegacyKeyValueFormat', 2],
      ['UndefinedVar', 4],
    ]);
    expect(def.image.author).toBe('me');
  });

  it('fails on an unknown target, naming it', async () => {
    const err = await compileError('FROM busybox AS build\nFROM scratch AS out\n', { target: 'buld' });
    expect(err.message).toBe('target stage "buld" could not be found (did you mean build?)');
  });

  it('fails on COPY --from of an unknown stage, at the instruction', async () => {
    const err = await compileError('FROM busybox AS build\nFROM scratch\nCOPY --from=buidl /a /b\n');
    expect(err.message).toMatch(/Cannot resolve "buidl" for COPY --from.*did you mean build\?/);
    expect(err.location?.startLine).toBe(3);
  });

  it('warns of a duplicate stage name (DuplicateStageName) and builds on the nearest stage of that name before', async () => {
    const def = await compileDockerfile('FROM scratch AS a\nENV N=1\nFROM scratch AS a\nENV N=2\nFROM a\n', options());
    expect(def.warnings.map((w) => [w.rule, w.message, w.location?.startLine])).toEqual([
      ['DuplicateStageName', 'Duplicate stage name "a", stage names should be unique', 3],
    ]);
    expect(def.image.config?.Env).toContain('N=2');
  });

  it('fails on unknown instructions with locations', async () => {
    const err = await compileError('FROM busybox\nRUNN echo\n');
    expect(err.message).toBe('dockerfile parse error on line 2: unknown instruction: RUNN (did you mean RUN?)');
    expect(err.location?.startLine).toBe(2);
  });

  it('marks the RUNs of --no-cache-filter stages, and only those, as BuildKit does', async () => {
    const def = await compileDockerfile('FROM busybox AS a\nWORKDIR /w\nCOPY x /x\nRUN echo x\n', options({ noCacheFilter: ['a'] }));
    expect(vertices(def.root).filter((v) => v.metadata.ignoreCache === true).map((v) => v.metadata.name)).toEqual(['[4/4] RUN echo x']);
  });

  it('marks ops of --no-cache-filter stages the target reaches through COPY --from and RUN --mount, and ignores unknown names', async () => {
    const text = 'FROM busybox AS Gen\nRUN echo a\nFROM busybox AS mnt\nRUN echo b\nFROM busybox\nCOPY --from=gen /a /a\nRUN --mount=from=mnt,target=/m echo c\n';
    const def = await compileDockerfile(text, options({ noCacheFilter: ['GEN', 'mnt', 'nosuchstage'] }));
    const marked = vertices(def.root).map((v) => [v.metadata.name, v.metadata.ignoreCache === true]);
    expect(marked).toEqual([
      ['[stage-2 1/3] FROM docker.io/library/busybox:latest@' + DIGEST, false],
      ['[gen 2/2] RUN echo a', true],
      ['[stage-2 2/3] COPY --from=gen /a /a', false],
      ['[mnt 2/2] RUN echo b', true],
      ['[stage-2 3/3] RUN --mount=from=mnt,target=/m echo c', false],
    ]);
  });

  it('compiles FROM scratch with no change to a null root', async () => {
    const def = await compileDockerfile('FROM scratch\nENV A=b\n', options());
    expect(def.root).toBeNull();
    expect(def.image.config?.Env).toEqual(['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'A=b']);
  });
});

describe('golden graphs', () => {
  const dir = fileURLToPath(new URL('../../golden/frontend/', import.meta.url));
  for (const name of ['hello']) {
    it(`matches ${name}/graph.json`, async () => {
      const text = await readFile(join(dir, name, 'Dockerfile'), 'utf8');
      const def = await compileDockerfile(text, options());
      const graph = {
        root: def.root === null ? null : { vertex: def.root.vertex.digest, output: def.root.output },
        vertices: vertices(def.root).map((v) => ({ digest: v.digest, name: v.metadata.name, op: v.op, inputs: v.inputs.map((e) => [e.vertex.digest, e.output]) })),
        image: def.image,
        warnings: def.warnings,
      };
      const actual = `${JSON.stringify(graph, null, 2)}\n`;
      const file = join(dir, name, 'graph.json');
      if (process.env['UPDATE_GOLDEN'] === '1') await writeFile(file, actual);
      expect(actual).toBe(await readFile(file, 'utf8'));
    });
  }
});

describe('step names of one of several platforms', () => {
  it('start with the stage platform, and name the target when the stage declares its TARGET arguments', async () => {
    const text = `FROM --platform=$BUILDPLATFORM busybox AS build
RUN echo plain
ARG TARGETARCH
RUN echo $TARGETARCH
FROM busybox
COPY --from=build / /
`;
    const over = { targetPlatform: { os: 'linux', architecture: 'arm64' }, buildPlatform: { os: 'linux', architecture: 'amd64' }, platformPrefix: true };
    const names = vertices((await compileDockerfile(text, options(over))).root).map((v) => v.metadata.name);
    expect(names, names.join('; ')).toContain('[linux/amd64 build 2/3] RUN echo plain');
    expect(names).toContain('[linux/amd64->arm64 build 3/3] RUN echo arm64');
    expect(names).toContain('[linux/arm64 stage-1 2/2] COPY --from=build / /');
  });
});
