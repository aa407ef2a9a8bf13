import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, runTbuild, writeMirrorConfig, type TempDir } from '../helpers/cli.js';
import { startServe, type ServeProcess } from '../helpers/remote-server.js';
import { seedBusybox, startRegistry, type TestRegistry } from '../fixtures/registry.js';

interface IndexJson {
  readonly manifests: readonly { readonly digest: string; readonly annotations?: Record<string, string> }[];
}

/**
 * `--build-context NAME=oci-layout://DIR[:TAG][@DIGEST]`: an image written by `-o type=oci,tar=false` replaces a base
 * image, in an embedded build and on a remote builder (which reads the layout's blobs from the client through the
 * call); bad input names the flag.
 */
describe('tbuild build --build-context NAME=oci-layout://…', () => {
  let registry: TestRegistry;
  let tmp: TempDir;
  let config: string;
  let server: ServeProcess;
  let builder: string;
  let layout = '';
  let digest = '';
  const embedded = (): string[] => ['build', '--root', join(tmp.path, 'root'), '--config', config, '--progress', 'plain'];
  const remote = (): string[] => ['build', '--builder', builder, '--progress', 'plain'];
  const env = (): NodeJS.ProcessEnv => ({ XDG_CONFIG_HOME: join(tmp.path, 'client', 'config'), XDG_CACHE_HOME: join(tmp.path, 'client', 'cache') });

  /** context writes a build context whose Dockerfile reads the layout image's file and variable. */
  const context = async (name: string): Promise<string> => {
    const dir = join(tmp.path, name);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'Dockerfile'), 'FROM base\nRUN cat /from-layout > /out && echo "$marker" >> /out\n');
    return dir;
  };

  beforeAll(async () => {
    registry = await startRegistry();
    await seedBusybox(registry.host);
    tmp = await makeTempDir('tbuild-layout-context-');
    config = await writeMirrorConfig(tmp.path, registry.host);
    builder = `unix://${join(tmp.path, 'run', 'tbuild.sock')}`;
    server = await startServe(['--addr', builder, '--root', join(tmp.path, 'server-root'), '--config', config]);
    const src = join(tmp.path, 'layout-src');
    await mkdir(src);
    await writeFile(join(src, 'Dockerfile'), 'FROM busybox\nRUN echo from-the-layout > /from-layout\nENV marker=layout-env\n');
    layout = join(tmp.path, 'layout');
    const made = await runTbuild([...embedded(), '--output', `type=oci,dest=${layout},tar=false,"name=org/base:v1,org/base:v2"`, src]);
    expect(made.code, made.stderr).toBe(0);
    const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as IndexJson;
    expect(index.manifests.map((m) => m.annotations?.['org.opencontainers.image.ref.name'])).toEqual(['v1', 'v2']);
    digest = index.manifests[0]?.digest ?? '';
  });

  afterAll(async () => {
    await server?.stop();
    await tmp?.[Symbol.asyncDispose]();
    await registry?.stop();
  });

  it('builds FROM the layout image by tag and by digest, embedded and on a remote builder alike', async () => {
    const ctx = await context('ctx');
    const outs: string[] = [];
    for (const [mode, flags] of [['embedded', embedded()], ['remote', remote()]] as const) {
      for (const ref of [`${layout}:v2`, `${layout}@${digest}`]) {
        const out = join(tmp.path, `out-${mode}-${outs.length}`);
        const res = await runTbuild([...flags, '--build-context', `base=oci-layout://${ref}`, '--output', `type=local,dest=${out}`, ctx], { env: env() });
        expect(res.code, res.stderr).toBe(0);
        outs.push(await readFile(join(out, 'out'), 'utf8'));
        // The registry is never asked for an image named base.
        expect(res.stderr).not.toMatch(/docker\.io\/library\/base/);
      }
    }
    expect(outs).toEqual(Array(4).fill('from-the-layout\nlayout-env\n'));
  });

  it('refuses a missing layout, an unknown tag and a digest the layout lacks, naming the flag, embedded and remote', async () => {
    const ctx = await context('ctx-bad');
    const missing = `sha256:${'0'.repeat(64)}`;
    const cases = [
      [`base=oci-layout://${join(tmp.path, 'nowhere')}`, `Cannot use --build-context base=oci-layout://${join(tmp.path, 'nowhere')}:latest: ${join(tmp.path, 'nowhere')} is not an OCI layout: it has no index.json`],
      [`base=oci-layout://${layout}:v9`, `Cannot use --build-context base=oci-layout://${layout}:v9: ${join(layout, 'index.json')} has 2 images and none is tagged v9 (its tags are v1, v2)`],
      [`base=oci-layout://${layout}@${missing}`, `Cannot use --build-context base=oci-layout://${layout}@${missing}: the layout has no blob ${missing}`],
      [`Base=oci-layout://${layout}:v1`, `Cannot use --build-context Base=oci-layout://${layout}:v1: an OCI layout context's name must be a valid image name`],
    ];
    for (const flags of [embedded(), remote()]) {
      for (const [value, message] of cases) {
        const res = await runTbuild([...flags, '--build-context', value ?? '', ctx], { env: env() });
        expect(res.code, res.stderr).toBe(2);
        expect(res.stderr).toContain(message);
      }
    }
  });

  it('on a remote builder, reports a layer the client cannot serve', async () => {
    // A copy of the layout without its largest blob (the busybox layer): the image resolves, its layer cannot be read.
    const broken = join(tmp.path, 'broken-layout');
    const made = await runTbuild([...embedded(), '--output', `type=oci,dest=${broken},tar=false`, join(tmp.path, 'layout-src')]);
    expect(made.code, made.stderr).toBe(0);
    const blobs = join(broken, 'blobs', 'sha256');
    const sizes = await Promise.all((await readdir(blobs)).map(async (f) => ({ f, size: (await readFile(join(blobs, f))).length })));
    const layer = sizes.sort((a, b) => b.size - a.size)[0]?.f ?? '';
    await rm(join(blobs, layer));
    const ctx = await context('ctx-broken');
    // A server that never unpacked this layer has to ask for it: a fresh builder.
    const fresh = `unix://${join(tmp.path, 'run', 'fresh.sock')}`;
    await using second = await startServe(['--addr', fresh, '--root', join(tmp.path, 'fresh-root'), '--config', config]);
    expect(second.addresses).toHaveLength(1);
    const res = await runTbuild(['build', '--builder', fresh, '--progress', 'plain', '--build-context', `base=oci-layout://${broken}`, ctx], { env: env() });
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain(`Cannot read a blob of an OCI layout context from the client: ${broken}: the layout has no blob sha256:${layer}`);
  });
});
