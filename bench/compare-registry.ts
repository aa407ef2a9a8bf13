/**
 * Removes what bench/compare.ts pushed to the loopback registry: each image's manifest (the registry's API), and, when
 * the registry is the one ../shared/bench/peers/setup.sh runs (its storage folder named in /etc/peers-registry), the
 * repositories' folders and the blobs no other repository links, so that repeated runs do not fill the disk.
 */
import { readdir, readFile, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';

const PEERS_REGISTRY_CONFIG = '/etc/peers-registry/config.yml';
const MANIFEST_TYPES = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.index.v1+json',
].join(', ');

/** split parses HOST/REPO:TAG. */
function split(ref: string): { host: string; repo: string; tag: string } {
  const slash = ref.indexOf('/');
  const colon = ref.lastIndexOf(':');
  return { host: ref.slice(0, slash), repo: ref.slice(slash + 1, colon), tag: ref.slice(colon + 1) };
}

async function deleteManifest(ref: string): Promise<void> {
  const { host, repo, tag } = split(ref);
  const head = await fetch(`http://${host}/v2/${repo}/manifests/${tag}`, { method: 'HEAD', headers: { accept: MANIFEST_TYPES } });
  if (head.status === 404) return; // the push did not happen (an interrupted run)
  const digest = head.headers.get('docker-content-digest');
  if (!head.ok || digest === null) throw new Error(`${ref}: the registry answers ${head.status} without a digest`);
  const del = await fetch(`http://${host}/v2/${repo}/manifests/${digest}`, { method: 'DELETE' });
  if (!del.ok && del.status !== 404) throw new Error(`${ref}: deleting ${digest} answers ${del.status}`);
}

/** storageRoot is the peers registry's storage folder, or undefined when its settings are not on this machine. */
async function storageRoot(): Promise<string | undefined> {
  const config = await readFile(PEERS_REGISTRY_CONFIG, 'utf8').catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  });
  const dir = /^\s*rootdirectory:\s*(\S+)/m.exec(config)?.[1];
  return dir === undefined ? undefined : join(dir, 'docker', 'registry', 'v2');
}

async function list(dir: string): Promise<string[]> {
  return readdir(dir).catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  });
}

/** LINKS are where a repository's folder links blobs: its layers and configs, its manifests. */
const LINKS = [['_layers', 'sha256'], ['_manifests', 'revisions', 'sha256']];

/** linkedBlobs adds the digests (hex) of the blobs the repository at dir links. */
async function linkedBlobs(dir: string, into: Set<string>): Promise<void> {
  for (const link of LINKS) for (const hex of await list(join(dir, ...link))) into.add(hex);
}

/** allLinkedBlobs adds the blob digests every repository under dir links. */
async function allLinkedBlobs(dir: string, into: Set<string>): Promise<void> {
  await linkedBlobs(dir, into);
  for (const entry of await list(dir)) if (!entry.startsWith('_')) await allLinkedBlobs(join(dir, entry), into);
}

/** removePushed deletes the images pushed as refs (all on one registry) and, on the peers registry, their blobs. */
export async function removePushed(refs: readonly string[]): Promise<void> {
  if (refs.length === 0) return;
  for (const ref of refs) await deleteManifest(ref);
  const root = await storageRoot();
  if (root === undefined) return;
  const repositories = join(root, 'repositories');
  const ours = new Set<string>();
  for (const ref of refs) {
    const dir = join(repositories, split(ref).repo);
    await linkedBlobs(dir, ours);
    await rm(dir, { recursive: true, force: true });
  }
  const parent = join(repositories, split(refs[0] ?? '').repo, '..');
  if ((await list(parent)).length === 0) await rmdir(parent);
  const kept = new Set<string>();
  await allLinkedBlobs(repositories, kept);
  for (const hex of ours) if (!kept.has(hex)) await rm(join(root, 'blobs', 'sha256', hex.slice(0, 2), hex), { recursive: true, force: true });
}
