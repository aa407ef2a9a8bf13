import { readFileSync } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, ownedRootfsOutput, run, runTbuild, unpackOwnedRootfs, writeMirrorConfig, type TempDir } from '../helpers/cli.js';
import { CONFORMANCE_ROOT } from '../conformance/conformance-root.js';
import { seedBusybox, startRegistry, type TestRegistry } from '../fixtures/registry.js';

const HOST_ARCH = ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' } as Record<string, string>)[process.arch] ?? process.arch;

/** ImageConfig is the part of an OCI image config these tests read. */
interface ImageConfig {
  author?: string;
  config: {
    User?: string;
    Env?: string[];
    Cmd?: string[] | null;
    Entrypoint?: string[] | null;
    WorkingDir?: string;
    Labels?: Record<string, string>;
    ExposedPorts?: Record<string, object>;
    Volumes?: Record<string, object>;
    StopSignal?: string;
    OnBuild?: string[] | null;
    Shell?: string[];
    Healthcheck?: { Test?: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; StartInterval?: number; Retries?: number };
  };
}

describe('Dockerfile instructions, end to end', () => {
  let registry: TestRegistry;
  let tmp: TempDir;
  let config: string;
  const base = (): string[] => ['--root', join(tmp.path, 'root'), '--config', config, '--progress', 'plain'];

  beforeAll(async () => {
    registry = await startRegistry();
    await seedBusybox(registry.host);
    tmp = await makeTempDir();
    config = await writeMirrorConfig(tmp.path, registry.host);
  });

  afterAll(async () => {
    await tmp?.[Symbol.asyncDispose]();
    await registry?.stop();
  });

  async function context(name: string, files: Record<string, string>): Promise<string> {
    const dir = join(tmp.path, name);
    await mkdir(dir, { recursive: true });
    for (const [path, text] of Object.entries(files)) {
      await mkdir(join(dir, path, '..'), { recursive: true });
      await writeFile(join(dir, path), text);
    }
    return dir;
  }

  /** build builds dir into a local folder and an OCI archive and returns both. */
  async function build(name: string, dir: string, extra: readonly string[] = []): Promise<{ rootfs: string; image: ImageConfig }> {
    const rootfs = join(tmp.path, `${name}-rootfs`);
    const archive = join(tmp.path, `${name}.tar`);
    const res = await runTbuild(['build', ...base(), ...extra, '-t', `${name}:test`, ...ownedRootfsOutput(rootfs), '--output', `type=oci,dest=${archive}`, dir]);
    expect(res.code, res.stderr).toBe(0);
    await unpackOwnedRootfs(rootfs);
    const inspect = await run('skopeo', ['inspect', '--raw', '--config', `oci-archive:${archive}`]);
    expect(inspect.code, inspect.stderr).toBe(0);
    return { rootfs, image: JSON.parse(inspect.stdout) as ImageConfig };
  }

  const text = (rootfs: string, path: string): Promise<string> => readFile(join(rootfs, path), 'utf8');

  it('resolves ARG before FROM, per-stage defaults, --build-arg, ARG scoping, built-in platform ARGs, AS names and COPY --from by index', async () => {
    const dir = await context('args', {
      Dockerfile: [
        'ARG BASE=busybox',
        'ARG GLOBAL=global-default',
        'ARG OVERRIDE=dockerfile-default',
        'FROM --platform=$BUILDPLATFORM ${BASE} AS builder',
        'RUN echo "[$GLOBAL][$BASE][$TARGETARCH]" > /unscoped.txt',
        'ARG GLOBAL',
        'ARG OVERRIDE',
        'ARG LOCAL=local-default',
        'RUN echo "$GLOBAL $OVERRIDE $LOCAL" > /args.txt',
        'ARG TARGETARCH',
        'ARG TARGETOS',
        'ARG TARGETPLATFORM',
        'ARG BUILDPLATFORM',
        'RUN echo "$TARGETOS $TARGETARCH $TARGETPLATFORM $BUILDPLATFORM" > /platform.txt',
        '',
        'FROM builder AS second',
        'ARG LOCAL',
        'RUN echo "second [$LOCAL]" > /second.txt',
        '',
        'FROM busybox',
        'ARG LOCAL=final-default',
        'RUN echo "$LOCAL" > /final-local.txt',
        'COPY --from=0 /args.txt /unscoped.txt /platform.txt /out/',
        'COPY --from=second /second.txt /out/',
        '',
      ].join('\n'),
    });
    const { rootfs } = await build('args', dir, ['--build-arg', 'OVERRIDE=from-cli']);
    expect(await text(rootfs, 'out/unscoped.txt')).toBe('[][][]\n');
    expect(await text(rootfs, 'out/args.txt')).toBe('global-default from-cli local-default\n');
    expect(await text(rootfs, 'out/platform.txt')).toBe(`linux ${HOST_ARCH} linux/${HOST_ARCH} linux/${HOST_ARCH}\n`);
    // A stage built FROM another stage inherits its declared ARGs, as in BuildKit.
    expect(await text(rootfs, 'out/second.txt')).toBe('second [local-default]\n');
    expect(await text(rootfs, 'final-local.txt')).toBe('final-default\n');
    await expect(stat(join(rootfs, 'args.txt'))).rejects.toThrow();
  });

  it('runs exec, shell and heredoc RUNs, expands both ENV forms, honours SHELL, WORKDIR, USER and COPY --chown, and records the image metadata', async () => {
    const dir = await context('run-env', {
      'a.txt': 'a\n',
      Dockerfile: [
        'FROM busybox',
        'ENV OLD_STYLE hello old world',
        // C sees A as it was before this ENV (unset), as in BuildKit.
        'ENV A=1 B="two words" C=${A}-x',
        'ENV D=$B E=${C}',
        'RUN ["/bin/sh", "-c", "echo exec:$A > /exec.txt"]',
        'RUN echo "shell:$OLD_STYLE|$C|$D|$E" > /shell.txt',
        'RUN <<EOF',
        'echo line1 > /heredoc.txt',
        'echo "line2 $A" >> /heredoc.txt',
        'echo line3 >> /heredoc.txt',
        'EOF',
        'RUN case $- in *e*) echo errexit;; *) echo plain;; esac > /shell-before.txt',
        'SHELL ["/bin/sh", "-ec"]',
        'RUN case $- in *e*) echo errexit;; *) echo plain;; esac > /shell-after.txt',
        'RUN echo "tbapp:x:1234:1300:tbapp:/home/tbapp:/bin/sh" >> /etc/passwd && echo "appgrp:x:1300:" >> /etc/group && chmod 1777 /tmp',
        'WORKDIR /w',
        'WORKDIR sub/dir',
        'RUN pwd > /pwd.txt',
        'USER tbapp',
        'RUN touch /tmp/by-name',
        'USER 2345:3456',
        'RUN touch /tmp/by-ids && id -u > /tmp/id.txt',
        'COPY --chown=tbapp a.txt /chown/name.txt',
        'COPY --chown=11:22 a.txt /chown/ids.txt',
        'COPY --chown=tbapp:appgrp a.txt /chown/both.txt',
        'ENV LABEL_VALUE=from-env',
        'LABEL one=1 "two"="two words" three=${LABEL_VALUE}',
        'MAINTAINER Jane Doe <jane@example.com>',
        'EXPOSE 80 8000-8002/tcp 53/udp',
        'VOLUME ["/data", "/logs"]',
        'VOLUME /plain /plain2',
        'STOPSIGNAL SIGQUIT',
        'HEALTHCHECK --interval=30s --timeout=5s --start-period=1m --start-interval=2s --retries=4 CMD ["/bin/check", "--fast"]',
        'ENTRYPOINT ["/bin/echo", "entry"]',
        'CMD ["arg1", "arg2"]',
        '',
      ].join('\n'),
    });
    const { rootfs, image } = await build('run-env', dir);
    expect(await text(rootfs, 'exec.txt')).toBe('exec:1\n');
    expect(await text(rootfs, 'shell.txt')).toBe('shell:hello old world|-x|two words|-x\n');
    expect(await text(rootfs, 'heredoc.txt')).toBe('line1\nline2 1\nline3\n');
    expect(await text(rootfs, 'shell-before.txt')).toBe('plain\n');
    expect(await text(rootfs, 'shell-after.txt')).toBe('errexit\n');
    expect(await text(rootfs, 'pwd.txt')).toBe('/w/sub/dir\n');
    expect((await stat(join(rootfs, 'w/sub/dir'))).isDirectory()).toBe(true);

    const byName = await stat(join(rootfs, 'tmp/by-name'));
    expect([byName.uid, byName.gid]).toEqual([1234, 1300]);
    const byIds = await stat(join(rootfs, 'tmp/by-ids'));
    expect([byIds.uid, byIds.gid]).toEqual([2345, 3456]);
    expect(await text(rootfs, 'tmp/id.txt')).toBe('2345\n');
    const chownName = await stat(join(rootfs, 'chown/name.txt'));
    expect([chownName.uid, chownName.gid]).toEqual([1234, 1300]);
    const chownIds = await stat(join(rootfs, 'chown/ids.txt'));
    expect([chownIds.uid, chownIds.gid]).toEqual([11, 22]);
    const chownBoth = await stat(join(rootfs, 'chown/both.txt'));
    expect([chownBoth.uid, chownBoth.gid]).toEqual([1234, 1300]);

    const c = image.config;
    expect(c.Env).toEqual(expect.arrayContaining(['OLD_STYLE=hello old world', 'A=1', 'B=two words', 'C=-x', 'D=two words', 'E=-x']));
    expect(c.Shell).toEqual(['/bin/sh', '-ec']);
    expect(c.WorkingDir).toBe('/w/sub/dir');
    expect(c.User).toBe('2345:3456');
    expect(c.Labels).toMatchObject({ one: '1', two: 'two words', three: 'from-env' });
    expect(image.author).toBe('Jane Doe <jane@example.com>');
    expect(Object.keys(c.ExposedPorts ?? {}).sort()).toEqual(['53/udp', '80/tcp', '8000/tcp', '8001/tcp', '8002/tcp']);
    expect(Object.keys(c.Volumes ?? {}).sort()).toEqual(['/data', '/logs', '/plain', '/plain2']);
    expect(c.StopSignal).toBe('SIGQUIT');
    expect(c.Healthcheck).toEqual({
      Test: ['CMD', '/bin/check', '--fast'],
      Interval: 30_000_000_000,
      Timeout: 5_000_000_000,
      StartPeriod: 60_000_000_000,
      StartInterval: 2_000_000_000,
      Retries: 4,
    });
    expect(c.Entrypoint).toEqual(['/bin/echo', 'entry']);
    expect(c.Cmd).toEqual(['arg1', 'arg2']);
  });

  it('wraps shell-form CMD, ENTRYPOINT and HEALTHCHECK in the shell, clears an inherited CMD on ENTRYPOINT, and stores HEALTHCHECK NONE', async () => {
    const shellForm = await context('shell-form', {
      Dockerfile: ['FROM busybox', 'HEALTHCHECK CMD wget -q -O- http://localhost/ || exit 1', 'ENTRYPOINT exec /bin/echo "$HOME"', ''].join('\n'),
    });
    const first = (await build('shell-form', shellForm)).image.config;
    expect(first.Entrypoint).toEqual(['/bin/sh', '-c', 'exec /bin/echo "$HOME"']);
    expect(first.Cmd ?? null).toBeNull();
    expect(first.Healthcheck?.Test).toEqual(['CMD-SHELL', 'wget -q -O- http://localhost/ || exit 1']);

    const none = await context('healthcheck-none', {
      Dockerfile: ['FROM busybox', 'HEALTHCHECK --interval=10s CMD true', 'HEALTHCHECK NONE', 'SHELL ["/bin/ash", "-c"]', 'CMD echo hi', ''].join('\n'),
    });
    const second = (await build('healthcheck-none', none)).image.config;
    expect(second.Healthcheck?.Test).toEqual(['NONE']);
    expect(second.Cmd).toEqual(['/bin/ash', '-c', 'echo hi']);
  });

  it('stores ONBUILD triggers in a pushed image and runs them in a build FROM it', async () => {
    const parent = await context('onbuild-parent', {
      Dockerfile: ['FROM busybox', 'ONBUILD RUN echo triggered > /onbuild.txt', 'ONBUILD ENV FROM_TRIGGER=yes', ''].join('\n'),
    });
    const archive = join(tmp.path, 'onbuild-parent.tar');
    const parentRootfs = join(tmp.path, 'onbuild-parent-rootfs');
    const ref = `${registry.host}/test/base:1`;
    const pushed = await runTbuild(['build', ...base(), '--output', `type=image,name=${ref},push=true`, '--output', `type=oci,dest=${archive}`, '--output', `type=local,dest=${parentRootfs}`, parent]);
    expect(pushed.code, pushed.stderr).toBe(0);
    const inspect = await run('skopeo', ['inspect', '--raw', '--config', `oci-archive:${archive}`]);
    expect(inspect.code, inspect.stderr).toBe(0);
    expect((JSON.parse(inspect.stdout) as ImageConfig).config.OnBuild).toEqual(['RUN echo triggered > /onbuild.txt', 'ENV FROM_TRIGGER=yes']);
    // The image that declares the triggers does not run them itself.
    await expect(stat(join(parentRootfs, 'onbuild.txt'))).rejects.toThrow();
    const child = await context('onbuild-child', { Dockerfile: `FROM ${ref}\nRUN echo "env:$FROM_TRIGGER" > /child.txt\n` });
    const { rootfs, image } = await build('onbuild-child', child);
    expect(await text(rootfs, 'onbuild.txt')).toBe('triggered\n');
    expect(await text(rootfs, 'child.txt')).toBe('env:yes\n');
    expect(image.config.Env).toContain('FROM_TRIGGER=yes');
    expect(image.config.OnBuild ?? []).toEqual([]);
  });

  it('filters the context with .dockerignore and its ! exceptions, and prefers <Dockerfile>.dockerignore', async () => {
    const files = {
      'keep.txt': 'keep\n',
      'debug.log': 'debug\n',
      'important.log': 'important\n',
      'secret/key': 'key\n',
      'docs/readme.md': 'docs\n',
      '.dockerignore': '# comment\n*.log\n!important.log\nsecret\n',
      'other.Dockerfile': 'FROM scratch\nCOPY . /ctx/\n',
      'other.Dockerfile.dockerignore': 'docs/\n',
      Dockerfile: 'FROM scratch\nCOPY . /ctx/\n',
    };
    const dir = await context('ignore', files);
    const plain = (await build('ignore', dir)).rootfs;
    expect(await text(plain, 'ctx/keep.txt')).toBe('keep\n');
    expect(await text(plain, 'ctx/important.log')).toBe('important\n');
    expect(await text(plain, 'ctx/docs/readme.md')).toBe('docs\n');
    await expect(stat(join(plain, 'ctx/debug.log'))).rejects.toThrow();
    await expect(stat(join(plain, 'ctx/secret'))).rejects.toThrow();

    const named = (await build('ignore-named', dir, ['-f', join(dir, 'other.Dockerfile')])).rootfs;
    expect(await text(named, 'ctx/debug.log')).toBe('debug\n');
    expect(await text(named, 'ctx/secret/key')).toBe('key\n');
    await expect(stat(join(named, 'ctx/docs'))).rejects.toThrow();
  });

  describe('whole-build .dockerignore cases of shared/conformance/dockerignore', () => {
    const cases = (JSON.parse(readFileSync(join(CONFORMANCE_ROOT, 'dockerignore', 'cases.json'), 'utf8')) as { buildkit_integration: BuildkitCase[] }).buildkit_integration;

    it.each(cases.map((c) => [c.name, c] as const))('%s', async (name, c) => {
      const files: Record<string, string> = {};
      for (const [path, content] of Object.entries(c.context ?? { Dockerfile: '<the dockerfile>', '.dockerignore': '<the dockerignore>' })) {
        files[path] = content === '<the dockerfile>' ? (c.dockerfile ?? '') : content === '<the dockerignore>' ? (c.dockerignore ?? '') : content;
      }
      const dir = await context(`case-${name}`, files);
      const builds = c.builds ?? [{ dockerfile: 'Dockerfile', succeeds: c.build_error !== true }];
      for (const b of builds) {
        const out = join(tmp.path, `case-${name}-${b.dockerfile}-out`);
        const res = await runTbuild(['build', ...base(), '-f', join(dir, b.dockerfile), '--output', `type=local,dest=${out}`, dir]);
        if (!b.succeeds) {
          expect(res.code, res.stderr).not.toBe(0);
          expect(res.stderr).toMatch(/ignore pattern/);
          continue;
        }
        expect(res.code, res.stderr).toBe(0);
        for (const [path, content] of Object.entries(c.result_present ?? {})) expect(await text(out, path)).toBe(content);
        for (const path of c.result_absent ?? []) await expect(stat(join(out, path)), path).rejects.toThrow();
      }
    });
  });
});

/** BuildkitCase is one row of the buildkit_integration section of the .dockerignore conformance data. */
interface BuildkitCase {
  name: string;
  dockerfile?: string;
  dockerignore?: string;
  context?: Record<string, string>;
  result_present?: Record<string, string>;
  result_absent?: string[];
  build_error?: boolean;
  builds?: { dockerfile: string; succeeds: boolean }[];
}
