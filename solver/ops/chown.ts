import { readFile } from 'node:fs/promises';
import { FileOpError } from '../../base/errors.js';
import type { FsView } from '../../cache/index.js';
import type { Chown } from '../graph/index.js';

/** Owner is a numeric uid and gid. */
export interface Owner {
  readonly uid: number;
  readonly gid: number;
}

async function readTable(view: FsView, path: string): Promise<string[][]> {
  const entry = await view.lookup(path, { followLast: true });
  if (entry === undefined || !entry.stats.isFile()) return [];
  const text = await readFile(entry.hostPath, 'utf8');
  return text.split('\n').filter((l) => l.length > 0 && !l.startsWith('#')).map((l) => l.split(':'));
}

const NUMERIC = /^\d+$/;

/** resolveChown turns a `--chown` user/group given by name or id into numbers, using the image's own files. */
export async function resolveChown(chown: Chown, view: FsView): Promise<Owner> {
  let uid: number;
  let gid: number;
  if (NUMERIC.test(chown.user)) {
    uid = Number(chown.user);
    gid = uid;
  } else {
    const row = (await readTable(view, '/etc/passwd')).find((r) => r[0] === chown.user);
    if (row === undefined) throw chownError(`unable to find user ${chown.user}: no matching entries in passwd file`);
    uid = Number(row[2]);
    gid = Number(row[3]);
  }
  if (chown.group !== undefined) {
    if (NUMERIC.test(chown.group)) gid = Number(chown.group);
    else {
      const row = (await readTable(view, '/etc/group')).find((r) => r[0] === chown.group);
      if (row === undefined) throw chownError(`unable to find group ${chown.group}: no matching entries in group file`);
      gid = Number(row[2]);
    }
  }
  return { uid, gid };
}

function chownError(message: string): Error {
  return new FileOpError(`Cannot resolve --chown: ${message}`);
}
