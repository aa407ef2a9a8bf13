import { createReadStream } from 'node:fs';
import { chmod, chown, lstat, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { walkMerged } from '../merged-walk.js';
import type { Statement, StatementSubject } from './statement.js';

/** ATTESTATION_FILE_NAMES are the names BuildKit gives attestations written into local and tar outputs. */
export const ATTESTATION_FILE_NAMES = { provenance: 'provenance.json', sbom: 'sbom.spdx.json' } as const;

/**
 * fileSubjects names every regular file of a filesystem (snapshot directories stacked bottom→top) by its path and
 * sha256, as BuildKit's local and tar exporters make the subjects of the attestations they write beside the files.
 */
export async function fileSubjects(layerDirs: readonly string[], options: { signal: AbortSignal }): Promise<StatementSubject[]> {
  const out: StatementSubject[] = [];
  for await (const entry of walkMerged(layerDirs, options)) {
    if (!entry.stat.isFile()) continue;
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(entry.source, { signal: options.signal })) hash.update(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
    out.push({ name: entry.rel, digest: { sha256: hash.digest('hex') } });
  }
  return out;
}

/** AttestationLayer is a folder holding attestation files, stacked on a filesystem's layers; disposing removes it. */
export interface AttestationLayer extends AsyncDisposable {
  readonly dir: string;
}

/**
 * writeAttestationLayer writes statements as files (indented JSON, mode 0600, dated `mtime`) into a new folder under
 * `tmp` that stacks on top of a filesystem's layers, as BuildKit merges them into a local or tar output. The folder's
 * root takes the metadata of the filesystem's root (`root`), which a stacked root stands for; without a filesystem
 * (a result without files) it keeps its own.
 */
export async function writeAttestationLayer(files: readonly { readonly name: string; readonly statement: Statement }[], o: { tmp: string; root?: string; mtime: Date }): Promise<AttestationLayer> {
  const dir = await mkdtemp(join(o.tmp, 'attestations-'));
  const remove = (): Promise<void> => rm(dir, { recursive: true, force: true });
  try {
    for (const f of files) {
      const path = join(dir, f.name);
      await writeFile(path, JSON.stringify(f.statement, null, 2), { mode: 0o600 });
      await utimes(path, o.mtime, o.mtime);
    }
    if (o.root !== undefined) {
      const root = await lstat(o.root);
      await chown(dir, root.uid, root.gid);
      await chmod(dir, root.mode & 0o7777);
      await utimes(dir, root.atime, root.mtime);
    }
  } catch (err) {
    await remove();
    throw err;
  }
  return { dir, [Symbol.asyncDispose]: remove };
}
