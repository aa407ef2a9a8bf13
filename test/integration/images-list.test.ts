import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { seedMultiarchBusybox, SEED_TIMEOUT_MS } from '../fixtures/multiarch-busybox.js';
import { useBuildEnvironment } from '../helpers/build-env.js';
import { runTbuild } from '../helpers/cli.js';

describe('tbuild images: dangling images, filters and formats', () => {
  const env = useBuildEnvironment();
  const root = (): string => join(env.tmp.path, 'root');
  const ctx = (): string => join(env.tmp.path, 'ctx');
  const build = async (text: string, ...flags: string[]): Promise<string> => {
    await writeFile(join(ctx(), 'Dockerfile'), text);
    const res = await runTbuild(['build', '--root', root(), '--config', env.config, '-q', ...flags, ctx()]);
    expect(res.code, res.stderr).toBe(0);
    return res.stdout.trim();
  };
  const images = async (...args: string[]): Promise<string> => {
    const res = await runTbuild(['images', '--root', root(), ...args]);
    expect(res.code, res.stderr).toBe(0);
    return res.stdout;
  };

  beforeAll(async () => {
    await mkdir(ctx(), { recursive: true });
    await seedMultiarchBusybox(env.registry.host);
  }, SEED_TIMEOUT_MS);

  it('keeps an untagged build as a dangling image, addressable by its ID until rmi removes it', async () => {
    const id = await build('FROM busybox\nRUN echo dangling > /d\n', '-o', 'type=image');
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    const short = id.slice(7, 19);
    expect(await images()).toMatch(new RegExp(`^<none>\\s+<none>\\s+${short}\\s`, 'm'));
    expect(await images('-q', '--filter', 'dangling=true')).toBe(`${short}\n`);
    expect(await images('-q', '--no-trunc', '-f', 'dangling=true')).toBe(`${id}\n`);
    expect(await images('-q', '-f', 'dangling=false')).not.toContain(short);

    const removed = await runTbuild(['rmi', '--root', root(), id]);
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toBe(`Deleted: ${id}\n`);
    expect(await images('-q')).not.toContain(short);
  });

  it('leaves the image a rebuild took the tag from dangling, and a tag makes a dangling image named', async () => {
    const first = await build('FROM busybox\nRUN echo one > /v\n', '-t', 'moved:1');
    const second = await build('FROM busybox\nRUN echo two > /v\n', '-t', 'moved:1');
    expect(second).not.toBe(first);
    expect(await images('-q', '--no-trunc', 'moved')).toBe(`${second}\n`);
    expect(await images('-q', '--no-trunc', '-f', 'dangling=true')).toContain(first);
    // A build of the named image without a tag adds no dangling record.
    expect(await build('FROM busybox\nRUN echo two > /v\n', '-o', 'type=image')).toBe(second);
    expect(await images('-q', '--no-trunc', '-f', 'dangling=true')).not.toContain(second);
  });

  it('filters by reference patterns and a REPOSITORY[:TAG] argument, and formats rows as docker images does', async () => {
    const id = await build('FROM busybox\nRUN echo ref > /r\n', '-t', 'refs/app:1', '-t', 'refs/app:2', '-t', 'other:1');
    const short = id.slice(7, 19);
    const format = ['--format', '{{.Repository}}:{{.Tag}} {{.ID}}'];
    expect((await images(...format, '--filter', 'reference=refs/*')).split('\n').sort()).toEqual(['', `refs/app:1 ${short}`, `refs/app:2 ${short}`]);
    expect(await images(...format, '--filter', 'reference=refs/app:1')).toBe(`refs/app:1 ${short}\n`);
    expect(await images(...format, 'other')).toBe(`other:1 ${short}\n`);
    expect(await images(...format, '-f', 'reference=*:1', '-f', 'reference=refs/app')).toContain(`other:1 ${short}\n`);
    // * does not cross a slash, as Go's path.Match.
    expect(await images(...format, '-f', 'reference=*')).not.toContain('refs/app');

    const table = await images('--format', 'table {{.Repository}}\\t{{.Tag}}\\t{{.Size}}', 'other');
    expect(table).toMatch(/^REPOSITORY {3}TAG {7}SIZE\nother {8}1 {9}\d+(\.\d+)?[kMG]?B\n$/);
    const json = JSON.parse((await images('--format', 'json', 'other')).trim()) as Record<string, string>;
    expect(Object.keys(json)).toEqual(['Containers', 'CreatedAt', 'CreatedSince', 'Digest', 'ID', 'Repository', 'SharedSize', 'Size', 'Tag', 'UniqueSize', 'VirtualSize']);
    expect(json).toMatchObject({ ID: short, Repository: 'other', Tag: '1' });
    expect(json['CreatedAt']).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000 UTC$/);

    const bad = await runTbuild(['images', '--root', root(), '-f', 'color=x']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("Invalid filter 'color'");

    // Labels, and the images made before or after another one, as docker images filters them.
    const labelled = (await build('FROM busybox\nLABEL tier=web\nRUN echo labelled > /l\n', '-t', 'labelled:1')).slice(7, 19);
    expect(await images('-q', '-f', 'label=tier')).toBe(`${labelled}\n`);
    expect(await images('-q', '-f', 'label=tier=web', '-f', 'dangling=false')).toBe(`${labelled}\n`);
    expect(await images('-q', '-f', 'label=tier=db')).toBe('');
    expect(await images(...format, '-f', 'since=other:1')).toBe(`labelled:1 ${labelled}\n`);
    expect(await images('-q', '-f', 'before=labelled:1')).toContain(short);
    expect(await images('-q', '-f', 'before=labelled:1')).not.toContain(labelled);
  });

  it('names an image of several platforms by its index digest, as its build printed', async () => {
    await writeFile(join(ctx(), 'f'), 'multi\n');
    const id = await build('FROM busybox-multiarch\nCOPY f /f\n', '--platform', 'linux/amd64,linux/arm64', '-t', 'multi-id:1');
    const listed = await images('-q', '--no-trunc', 'multi-id');
    expect(listed).toBe(`${id}\n`);
    // The ID is the digest of the image index the store keeps, which lists each platform's image.
    const index = JSON.parse(await readFile(join(root(), 'content', 'blobs', 'sha256', id.slice(7)), 'utf8')) as { mediaType: string; manifests: { platform: { architecture: string } }[] };
    expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(index.manifests.map((m) => m.platform.architecture)).toEqual(['amd64', 'arm64']);
    const removed = await runTbuild(['rmi', '--root', root(), id.slice(7, 19)]);
    expect(removed.stdout).toBe(`Untagged: multi-id:1\nDeleted: ${id}\n`);
  });
});
