import { createReadStream } from 'node:fs';
import { readlink } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { digestOf, type Digest } from '../../base/digest.js';
import { FileOpError } from '../../base/errors.js';
import { createLayeredView } from '../../cache/fs-view.js';
import type { Op } from '../graph/index.js';
import { expandSource, type CopySource, type Match } from './copy-match.js';
import type { OpDeps } from './deps.js';
import type { Ref } from './ref.js';

/**
 * contentSelectors lists the paths an op reads of one input when only their files matter (BuildKit's content-based
 * cache): a COPY's sources, a read-only or discarded bind mount's source. Undefined when the op depends on the input
 * otherwise (a root or written mount, the COPY's destination, a cache mount seeded from it, excluded paths).
 */
export function contentSelectors(op: Op, index: number): readonly string[] | undefined {
  switch (op.kind) {
    case 'exec': {
      const using = op.mounts.filter((m) => m.type !== 'tmpfs' && m.type !== 'secret' && m.type !== 'ssh' && m.input === index);
      if (using.length === 0) return undefined;
      const selectors: string[] = [];
      for (const m of using) {
        if (m.type !== 'bind' || m.dest === '/' || (!m.readonly && m.output !== null)) return undefined;
        selectors.push(m.selector ?? '/');
      }
      return selectors;
    }
    case 'file': {
      if (op.base === index) return undefined;
      const copies = op.actions.filter((a) => a.action === 'copy' && a.input === index);
      if (copies.length === 0 || copies.some((a) => a.action !== 'copy' || a.excludes.length > 0)) return undefined;
      return copies.flatMap((a) => (a.action === 'copy' ? a.sources : []));
    }
    case 'source':
    case 'merge':
      return undefined;
  }
}

/**
 * digestSelectedContent digests the files below the selected paths of a snapshot result (paths, types, modes,
 * contents, link targets); undefined for a result that is not a snapshot, or when a path is missing (running the op
 * then reports it).
 */
export async function digestSelectedContent(ref: Ref, selectors: readonly string[], deps: OpDeps, signal: AbortSignal): Promise<Digest | undefined> {
  if (ref.kind !== 'snapshot') return undefined;
  const dirs = deps.snapshotter.chain(ref.snapshotId).map((id) => deps.snapshotter.dir(id)).reverse();
  const source: CopySource = { view: createLayeredView(dirs), isExcluded: () => false };
  const lines: string[] = [];
  for (const selector of selectors) {
    let matches: Match[];
    try {
      matches = await expandSource(selector, source);
    } catch (err) {
      if (err instanceof FileOpError) return undefined;
      throw err;
    }
    lines.push(`selector ${selector}`);
    for (const m of matches) await describeTree(m, source, lines, signal);
  }
  return digestOf(lines.join('\n'));
}

async function describeTree(m: Match, source: CopySource, lines: string[], signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  const st = m.entry.stats;
  // Owners count: COPY --from keeps them.
  const mode = `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
  if (st.isDirectory()) {
    lines.push(`${m.relPath}\0dir ${mode}`);
    const children = [...(await source.view.list(`/${m.relPath}`, m.entry))].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [name, entry] of children) await describeTree({ relPath: m.relPath === '' ? name : `${m.relPath}/${name}`, entry }, source, lines, signal);
  } else if (st.isFile()) {
    const hash = createHash('sha256');
    await pipeline(createReadStream(m.entry.hostPath), hash, { signal });
    lines.push(`${m.relPath}\0file ${mode} ${hash.digest('hex')}`);
  } else if (st.isSymbolicLink()) {
    lines.push(`${m.relPath}\0link ${await readlink(m.entry.hostPath)}`);
  } else {
    lines.push(`${m.relPath}\0special ${st.mode.toString(8)} ${st.rdev}`);
  }
}
