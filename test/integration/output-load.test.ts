import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract } from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, runTbuild, writeMirrorConfig, type TempDir } from '../helpers/cli.js';
import { seedBusybox, startRegistry, type TestRegistry } from '../fixtures/registry.js';

/** LoadRequest is what an engine was sent on POST /images/load: the path and the archive's files by name. */
interface LoadRequest {
  readonly url: string;
  readonly files: ReadonlyMap<string, Buffer>;
}

async function readArchive(req: IncomingMessage): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const ex = extract();
  ex.on('entry', (header, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: unknown) => {
      if (Buffer.isBuffer(c)) chunks.push(c);
    });
    stream.on('end', () => {
      files.set(header.name, Buffer.concat(chunks));
      next();
    });
  });
  await pipeline(Readable.from(req), ex);
  return files;
}

describe('--load: the image goes to the engine DOCKER_HOST names', () => {
  let registry: TestRegistry;
  let tmp: TempDir;
  let engine: Server;
  const loads: LoadRequest[] = [];

  beforeAll(async () => {
    registry = await startRegistry();
    await seedBusybox(registry.host);
    tmp = await makeTempDir();
    // A stand-in for the Docker Engine's API on a unix socket: it keeps each archive it is sent.
    engine = createServer((req, res) => {
      readArchive(req).then(
        (files) => {
          loads.push({ url: req.url ?? '', files });
          res.end('{"stream":"Loaded image"}\n');
        },
        (err: unknown) => {
          res.statusCode = 500;
          res.end(String(err));
        },
      );
    });
    engine.listen(join(tmp.path, 'docker.sock'));
    await once(engine, 'listening');
  });

  afterAll(async () => {
    engine?.close();
    await tmp?.[Symbol.asyncDispose]();
    await registry?.stop();
  });

  it('sends one docker archive naming the tags, whose manifest lists the image layers', async () => {
    const config = await writeMirrorConfig(tmp.path, registry.host);
    const ctx = join(tmp.path, 'ctx');
    await mkdir(ctx);
    await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nRUN echo loaded > /loaded\n');
    const res = await runTbuild(['build', '--root', join(tmp.path, 'root'), '--config', config, '--progress', 'plain', '-t', 'loaded:v1', '--load', ctx], {
      env: { DOCKER_HOST: `unix://${join(tmp.path, 'docker.sock')}` },
    });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toContain('loading the image into Docker');
    expect(loads).toHaveLength(1);
    const [load] = loads;
    expect(load?.url).toBe('/images/load?quiet=1');
    const manifest = JSON.parse(load?.files.get('manifest.json')?.toString() ?? '[]') as { RepoTags: string[]; Layers: string[]; Config: string }[];
    expect(manifest).toHaveLength(1);
    expect(manifest[0]?.RepoTags).toEqual(['loaded:v1']);
    // busybox's layer and the RUN's.
    expect(manifest[0]?.Layers).toHaveLength(2);
    for (const layer of manifest[0]?.Layers ?? []) expect(load?.files.has(layer)).toBe(true);
    expect(load?.files.has(manifest[0]?.Config ?? '')).toBe(true);
  });
});
