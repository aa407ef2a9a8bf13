import { request } from 'node:http';
import { PassThrough } from 'node:stream';
import { ExportError } from '../base/errors.js';
import type { ContentProvider } from '../cache/index.js';
import { writeDockerArchive } from './docker-archive.js';
import type { BuiltImage } from './image.js';

/** DockerEndpoint is where a Docker Engine listens: a unix socket or a TCP address. */
export type DockerEndpoint = { readonly socketPath: string } | { readonly host: string; readonly port: number };

/** dockerEndpoint reads a DOCKER_HOST value (unix:// or tcp://), defaulting to /var/run/docker.sock. */
export function dockerEndpoint(raw: string | undefined): DockerEndpoint {
  if (raw === undefined || raw === '') return { socketPath: '/var/run/docker.sock' };
  if (raw.startsWith('unix://')) return { socketPath: raw.slice('unix://'.length) };
  const m = /^tcp:\/\/([^:/]+):(\d+)\/?$/.exec(raw);
  if (m?.[1] !== undefined && m[2] !== undefined) return { host: m[1], port: Number(m[2]) };
  throw new ExportError(`Cannot use DOCKER_HOST="${raw}": expected unix:///path or tcp://host:port`);
}

/** loadIntoDocker streams the image as a docker tarball into a running Docker Engine (`docker load`). */
export async function loadIntoDocker(
  image: BuiltImage,
  store: ContentProvider,
  options: { names: readonly string[]; endpoint: DockerEndpoint; signal: AbortSignal },
): Promise<string> {
  const body = new PassThrough();
  const response = new Promise<string>((resolve, reject) => {
    const req = request(
      { ...options.endpoint, method: 'POST', path: '/images/load?quiet=1', headers: { 'Content-Type': 'application/x-tar' }, signal: options.signal },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          if ((res.statusCode ?? 500) >= 300) reject(new ExportError(`Cannot load the image into Docker: ${res.statusCode}: ${text.trim()}`));
          else if (/"error"/.test(text)) reject(new ExportError(`Cannot load the image into Docker: ${text.trim()}`));
          else resolve(text);
        });
        res.on('error', reject);
      },
    );
    req.on('error', (err) =>
      reject(new ExportError('Cannot load the image into Docker: the engine cannot be reached', { cause: err, hint: 'start dockerd or set DOCKER_HOST' })),
    );
    body.pipe(req);
  });
  const written = writeDockerArchive(image, store, body, { names: options.names, signal: options.signal }).then(() => body.end());
  const [text] = await Promise.all([response, written]);
  return text;
}
