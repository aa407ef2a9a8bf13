import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { COMPAT_DIR } from './cases.js';
import type { NamedImage } from './fingerprint.js';
import { readImageArchive } from './image-reader.js';

const execFileAsync = promisify(execFile);

/** BASE_NAMES maps each base of the corpus to its image reference. */
export const BASE_NAMES = { busybox: 'busybox:latest', debian: 'debian:bookworm' } as const;

/** BASES_CACHE is where make-bases.sh keeps the base images it made (one OCI layout each). */
export const BASES_CACHE = process.env['TBUILD_COMPAT_CACHE'] ?? '/var/cache/tbuild-compat';

/**
 * makeBases makes the corpus's base images (cached after the first run), pushes them to the registry at host and
 * returns them read, to fingerprint builds relative to them.
 */
export async function makeBases(host: string): Promise<NamedImage[]> {
  await execFileAsync(join(COMPAT_DIR, 'make-bases.sh'), [host], { env: { ...process.env, TBUILD_COMPAT_CACHE: BASES_CACHE } });
  return [
    { name: 'busybox', image: await readImageArchive(join(BASES_CACHE, 'busybox', 'oci')) },
    { name: 'debian', image: await readImageArchive(join(BASES_CACHE, 'debian', 'oci')) },
  ];
}
