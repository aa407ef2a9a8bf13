import { describe, expect, it } from 'vitest';
import type { Platform } from '../../../base/oci.js';
import { compileDockerfile } from '../../../frontend/index.js';
import type { ExecOp } from '../../../solver/graph/index.js';
import { compileOptions, vertices } from './compile-fixture.js';

const ARGS = 'ARG TARGETPLATFORM TARGETOS TARGETARCH TARGETVARIANT BUILDPLATFORM BUILDOS BUILDARCH BUILDVARIANT';
const ARG_TEXT = `FROM busybox\n${ARGS}\nRUN true\n`;

async function compile(text: string, targetPlatform: Platform) {
  return compileDockerfile(text, compileOptions({ targetPlatform, buildPlatform: { os: 'linux', architecture: 'amd64' } }));
}

function exec(def: Awaited<ReturnType<typeof compile>>): ExecOp {
  const op = vertices(def.root).find((v) => v.op.kind === 'exec')?.op;
  if (op?.kind !== 'exec') throw new Error('no RUN step in the graph');
  return op;
}

describe('platforms of a build', () => {
  it.each([
    [{ os: 'linux', architecture: 'arm' }, ['TARGETPLATFORM=linux/arm/v7', 'TARGETARCH=arm', 'TARGETVARIANT=v7']],
    [{ os: 'linux', architecture: 'arm', variant: 'v6' }, ['TARGETPLATFORM=linux/arm/v6', 'TARGETARCH=arm', 'TARGETVARIANT=v6']],
    [{ os: 'linux', architecture: 'arm64', variant: 'v8' }, ['TARGETPLATFORM=linux/arm64', 'TARGETARCH=arm64', 'TARGETVARIANT=']],
    [{ os: 'linux', architecture: 'aarch64' }, ['TARGETPLATFORM=linux/arm64', 'TARGETARCH=arm64', 'TARGETVARIANT=']],
    [{ os: 'linux', architecture: 'amd64', variant: 'v2' }, ['TARGETPLATFORM=linux/amd64/v2', 'TARGETARCH=amd64', 'TARGETVARIANT=v2']],
    [{ os: 'linux', architecture: 'amd64', variant: 'v1' }, ['TARGETPLATFORM=linux/amd64', 'TARGETARCH=amd64', 'TARGETVARIANT=']],
  ])('sets the TARGET* args of %j normalized, as BuildKit does', async (target, expected) => {
    const env = exec(await compile(`FROM --platform=$BUILDPLATFORM busybox\n${ARGS}\nRUN true\n`, target)).meta.env;
    expect(env).toEqual(expect.arrayContaining([...expected, 'TARGETOS=linux', 'BUILDPLATFORM=linux/amd64', 'BUILDOS=linux', 'BUILDARCH=amd64', 'BUILDVARIANT=']));
  });

  it('labels the image with the normalized target platform when the base matches it', async () => {
    const def = await compile('FROM --platform=linux/amd64 busybox AS base\nFROM scratch\nCOPY --from=base /bin/busybox /\n', { os: 'linux', architecture: 'arm' });
    expect([def.image.os, def.image.architecture, def.image.variant]).toEqual(['linux', 'arm', 'v7']);
    const arm64 = await compile('FROM scratch\n', { os: 'linux', architecture: 'arm64', variant: 'v8' });
    expect([arm64.image.architecture, arm64.image.variant]).toEqual(['arm64', undefined]);
  });

  it('runs the steps of a base made for another architecture for its own, and labels the image with it', async () => {
    // The fake busybox is linux/amd64 only: asking for arm64 gets it anyway, with a warning.
    const def = await compile(ARG_TEXT, { os: 'linux', architecture: 'arm64' });
    expect(def.warnings.map((w) => w.rule)).toEqual(['InvalidBaseImagePlatform']);
    const run = exec(def);
    expect(run.platform).toEqual({ os: 'linux', architecture: 'amd64' });
    // The args still name the platform asked for.
    expect(run.meta.env).toEqual(expect.arrayContaining(['TARGETPLATFORM=linux/arm64', 'TARGETARCH=arm64']));
    expect([def.image.os, def.image.architecture, def.image.variant]).toEqual(['linux', 'amd64', undefined]);
    // The image source keeps the platform it was resolved for.
    expect(vertices(def.root).find((v) => v.op.kind === 'source')?.op.platform).toEqual({ os: 'linux', architecture: 'arm64' });
  });

  it('carries a mismatched base platform into the stages built on it', async () => {
    const def = await compile('FROM busybox AS base\nFROM base\nRUN true\n', { os: 'linux', architecture: 'arm', variant: 'v7' });
    expect(exec(def).platform).toEqual({ os: 'linux', architecture: 'amd64' });
    expect(def.image.architecture).toBe('amd64');
  });

  it('takes, without a platform asked for, the platform of a base this machine runs, unremarked, as BuildKit does', async () => {
    const host: Platform = { os: 'linux', architecture: 'arm64' };
    const compileOn = (workers: readonly Platform[], text = ARG_TEXT) =>
      compileDockerfile(text, compileOptions({ targetPlatform: host, buildPlatform: host, implicitTargetPlatform: { workerPlatforms: () => Promise.resolve(workers) } }));
    // The fake busybox is linux/amd64: an amd64 emulator makes it the stage's platform.
    const emulated = await compileOn([host, { os: 'linux', architecture: 'amd64' }]);
    expect(emulated.warnings).toEqual([]);
    expect(exec(emulated).platform).toEqual({ os: 'linux', architecture: 'amd64' });
    expect(emulated.image.architecture).toBe('amd64');
    // Without one, the warning stays; so it does for FROM --platform, which names the platform itself.
    expect((await compileOn([host])).warnings.map((w) => w.rule)).toEqual(['InvalidBaseImagePlatform']);
    const fromPlatform = await compileOn([host, { os: 'linux', architecture: 'amd64' }], 'FROM --platform=linux/arm64 busybox\nRUN true\n');
    expect(fromPlatform.warnings.map((w) => w.rule)).toContain('InvalidBaseImagePlatform');
  });

  it('normalizes FROM --platform', async () => {
    const def = await compile('FROM --platform=linux/arm64/v8 busybox\nRUN true\n', { os: 'linux', architecture: 'amd64' });
    // The fake busybox is amd64: the warning names the normalized platform asked for.
    expect(def.warnings.filter((w) => w.rule === 'InvalidBaseImagePlatform').map((w) => w.message)).toEqual(['Base image busybox was pulled with platform "linux/amd64", expected "linux/arm64" for current build']);
  });
});
