// Compares tbuild's emulated builds with Docker 20.10's BuildKit building the same Dockerfile for the same platforms
// on the multi-platform busybox fixture. What Docker built is recorded in emulation-docker.json; with
// TBUILD_RECORD_DOCKER=1 this test builds with Docker (needs its daemon and the same binfmt_misc emulators) and
// records it again before comparing.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readTar } from '../compat/tar-reader.js';
import { MULTIARCH_REPOSITORY, seedMultiarchBusybox, SEED_TIMEOUT_MS } from '../fixtures/multiarch-busybox.js';
import { useBuildEnvironment } from '../helpers/build-env.js';
import { runTbuild } from '../helpers/cli.js';
import { unpackOciArchive, useEmulators } from '../helpers/emulation.js';

const EXPECTED = join(import.meta.dirname, 'emulation-docker.json');
const PLATFORMS = ['linux/arm64', 'linux/arm/v7'] as const;

const DOCKERFILE = `ARG BASE=busybox-multiarch
FROM \${BASE} AS build
ARG TARGETPLATFORM TARGETOS TARGETARCH TARGETVARIANT
RUN mkdir /out && uname -m > /out/machine && echo "$TARGETPLATFORM|$TARGETOS|$TARGETARCH|$TARGETVARIANT" > /out/args \\
 && od -An -tx1 -j18 -N2 /bin/busybox > /out/elf-machine && touch /out/owned && chown 1000:1000 /out/owned \\
 && chmod 640 /out/owned && ln -s machine /out/link && mkdir -m 710 /out/dir
FROM scratch AS files
COPY --from=build /out /
FROM \${BASE}
COPY --from=build /out /out
`;

/** FileRecord is what the comparison keeps of one path the build wrote. */
interface FileRecord {
  readonly type: string;
  readonly mode: string;
  readonly uid: number;
  readonly gid: number;
  readonly sha256?: string;
  readonly link?: string;
}

/** Built is what one platform's build made: the files of the `files` stage and the image's platform. */
interface Built {
  readonly files: Record<string, FileRecord>;
  readonly image: { readonly os: string; readonly architecture: string; readonly variant?: string };
}

type Recording = Record<(typeof PLATFORMS)[number], Built>;

async function listTar(archive: string): Promise<Record<string, FileRecord>> {
  const files: Record<string, FileRecord> = {};
  await readTar(createReadStream(archive), (e) => {
    const path = e.path.replace(/^\.?\/+/, '').replace(/\/$/, '');
    if (path === '' || path === '.') return;
    files[path] = {
      type: e.type,
      mode: e.mode.toString(8),
      uid: e.uid,
      gid: e.gid,
      ...(e.type === 'file' ? { sha256: e.sha256 } : {}),
      ...(e.type === 'symlink' ? { link: e.linkname } : {}),
    };
  });
  return files;
}

function docker(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, DOCKER_BUILDKIT: '1', DOCKER_API_VERSION: process.env['DOCKER_API_VERSION'] ?? '1.41' };
    const child = spawn(process.env['DOCKER'] ?? '/usr/bin/docker', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(output) : reject(new Error(`docker ${args.join(' ')} failed (${code}):\n${output.slice(-4000)}`))));
  });
}

/** recordDocker builds each platform with Docker's BuildKit and writes what it made to emulation-docker.json. */
async function recordDocker(context: string, registryHost: string, out: string): Promise<void> {
  const recording: Partial<Recording> = {};
  for (const platform of PLATFORMS) {
    const flags = ['build', '--platform', platform, '--build-arg', `BASE=${registryHost}/${MULTIARCH_REPOSITORY}`];
    const tar = join(out, `docker-${platform.replaceAll('/', '-')}.tar`);
    await docker([...flags, '--target', 'files', '-o', `type=tar,dest=${tar}`, context]);
    const tag = `tbuild-emulation-${platform.replaceAll('/', '-')}`;
    await docker([...flags, '-t', tag, context]);
    const [os = '', architecture = '', variant = ''] = (await docker(['image', 'inspect', tag, '--format', '{{.Os}} {{.Architecture}} {{.Variant}}'])).trim().split(' ');
    await docker(['rmi', tag]);
    recording[platform] = { files: await listTar(tar), image: { os, architecture, ...(variant === '' ? {} : { variant }) } };
  }
  await writeFile(EXPECTED, `${JSON.stringify(recording, null, 2)}\n`);
}

describe('emulated builds compared with Docker 20.10 BuildKit', () => {
  const env = useBuildEnvironment();
  useEmulators();
  let context: string;
  let expected: Recording;

  beforeAll(async () => {
    await seedMultiarchBusybox(env.registry.host);
    context = join(env.tmp.path, 'context');
    await mkdir(context);
    await writeFile(join(context, 'Dockerfile'), DOCKERFILE);
    if (process.env['TBUILD_RECORD_DOCKER'] === '1') await recordDocker(context, env.registry.host, env.tmp.path);
    expected = JSON.parse(await readFile(EXPECTED, 'utf8')) as Recording;
  }, SEED_TIMEOUT_MS);

  it.each(PLATFORMS)('writes the same files and platform as Docker for --platform %s', async (platform) => {
    const name = platform.replaceAll('/', '-');
    const flags = ['build', '--root', join(env.tmp.path, 'root'), '--config', env.config, '--progress', 'plain', '--platform', platform];
    const tar = join(env.tmp.path, `tbuild-${name}.tar`);
    const files = await runTbuild([...flags, '--target', 'files', '-o', `type=tar,dest=${tar}`, context]);
    expect(files.code, files.stderr).toBe(0);
    const archive = join(env.tmp.path, `tbuild-${name}-oci.tar`);
    const image = await runTbuild([...flags, '-t', 'emulated:1', '-o', `type=oci,dest=${archive}`, context]);
    expect(image.code, image.stderr).toBe(0);
    const unpacked = await unpackOciArchive(archive, join(env.tmp.path, `unpacked-${name}`));
    const built: Built = {
      files: await listTar(tar),
      image: { os: unpacked.os, architecture: unpacked.architecture, ...(unpacked.variant === undefined ? {} : { variant: unpacked.variant }) },
    };
    expect(built).toEqual(expected[platform]);
    // The image's copy of the files holds the same output.
    const machine = createHash('sha256').update(await readFile(join(unpacked.rootfs, 'out/machine'))).digest('hex');
    expect(machine).toBe(expected[platform].files['machine']?.sha256);
  });
});
