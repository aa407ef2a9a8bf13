import { readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import { ExecError } from '../base/errors.js';
import { LayeredTree } from '../native/index.js';
import type { OverlayRootfs, ResolvedUser } from './types.js';

interface PasswdEntry {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
}

interface GroupEntry {
  readonly name: string;
  readonly gid: number;
  readonly members: readonly string[];
}

const MAX_SYMLINK_HOPS = 16;

function parseId(text: string): number | undefined {
  return /^[0-9]+$/.test(text) && Number(text) <= 0xfffffffe ? Number(text) : undefined;
}

function parseLines<T>(text: string | null, minFields: number, make: (f: string[]) => T | undefined): T[] {
  if (text === null) return [];
  const out: T[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const fields = line.split(':');
    if (fields.length < minFields) continue;
    const entry = make(fields);
    if (entry !== undefined) out.push(entry);
  }
  return out;
}

function parsePasswd(text: string | null): PasswdEntry[] {
  return parseLines(text, 4, (f) => {
    const uid = parseId(f[2] ?? '');
    const gid = parseId(f[3] ?? '');
    return uid === undefined || gid === undefined ? undefined : { name: f[0] ?? '', uid, gid, home: f[5] ?? '' };
  });
}

function parseGroup(text: string | null): GroupEntry[] {
  return parseLines(text, 3, (f) => {
    const gid = parseId(f[2] ?? '');
    const members = (f[3] ?? '').split(',').map((m) => m.trim()).filter((m) => m !== '');
    return gid === undefined ? undefined : { name: f[0] ?? '', gid, members };
  });
}

/**
 * rootfsTree looks paths up in a RUN's rootfs as its overlay mount will show it: the upperdir over the lowerdirs, which
 * are committed layers and never change.
 */
export function rootfsTree(rootfs: OverlayRootfs): LayeredTree {
  return new LayeredTree([rootfs.upperdir, ...rootfs.lowerdirs], { fixedFrom: 1 });
}

/** readLayeredFile reads an absolute rootfs path from layers, following symlinks inside the rootfs. */
export async function readLayeredFile(tree: LayeredTree, file: string): Promise<string | null> {
  let current = file;
  for (let hop = 0; hop < MAX_SYMLINK_HOPS; hop++) {
    const found = await tree.lookup(current);
    if (found.kind === 'missing') return null;
    const rest = found.kind === 'blocked' ? path.posix.relative(found.component, current) : '';
    const at = found.kind === 'blocked' ? found.component : current;
    if (!found.stats.isSymbolicLink()) {
      if (found.kind === 'blocked' || !found.stats.isFile()) return null;
      return await readFile(found.hostPath, 'utf8');
    }
    // Resolve the link inside the rootfs: an absolute target is relative to the rootfs root, never the host's.
    const target = await readlink(found.hostPath);
    current = path.posix.resolve(path.posix.dirname(at), target, rest);
  }
  return null;
}

function startError(message: string, argv: readonly string[]): ExecError {
  return new ExecError(message, { code: 'EXEC_START', argv });
}

/**
 * resolveUser turns a Dockerfile USER value ("", "name", "uid", "name:group", "uid:gid") into numeric ids using the
 * image's own /etc/passwd and /etc/group, following Docker's rules, with the home directory runc would give it.
 */
export async function resolveUser(
  tree: LayeredTree,
  user: string,
  options: { signal: AbortSignal; argv?: readonly string[] },
): Promise<ResolvedUser> {
  const argv = options.argv ?? [];
  const colon = user.indexOf(':');
  const userArg = colon < 0 ? user : user.slice(0, colon);
  const groupArg = colon < 0 ? '' : user.slice(colon + 1);
  const passwd = parsePasswd(await readLayeredFile(tree, '/etc/passwd'));
  options.signal.throwIfAborted();
  const wantUid = parseId(userArg === '' ? '0' : userArg);
  const entry = passwd.find((p) => (wantUid === undefined ? p.name === userArg : p.uid === wantUid));
  if (entry === undefined && wantUid === undefined) {
    throw startError(`unable to find user ${userArg}: no matching entries in passwd file`, argv);
  }
  const uid = entry?.uid ?? wantUid ?? 0;
  let gid = entry?.gid ?? 0;
  const home = entry?.home ?? '/';
  const needGroups = groupArg !== '' ? parseId(groupArg) === undefined : entry !== undefined;
  const groups = needGroups ? parseGroup(await readLayeredFile(tree, '/etc/group')) : [];
  options.signal.throwIfAborted();
  if (groupArg !== '') {
    const wantGid = parseId(groupArg);
    const group = wantGid === undefined ? groups.find((g) => g.name === groupArg) : undefined;
    if (wantGid === undefined && group === undefined) {
      throw startError(`unable to find group ${groupArg}: no matching entries in group file`, argv);
    }
    gid = wantGid ?? group?.gid ?? 0;
    return { uid, gid, additionalGids: [gid], home };
  }
  // Without an explicit group, the user's supplementary groups are the ones listing it as a member.
  const name = entry?.name;
  const memberOf = name === undefined ? [] : groups.filter((g) => g.members.includes(name)).map((g) => g.gid);
  return { uid, gid, additionalGids: withPrimaryGid(gid, memberOf), home };
}

/**
 * withPrimaryGid puts the primary gid first among the supplementary groups unless they already hold it, as BuildKit
 * does since CVE-2023-25173: a group the image's /etc/group leaves out must not be dropped by the process's setgroups,
 * or files denying that group (mode 0705 and the like) would open to it.
 */
function withPrimaryGid(gid: number, supplementary: readonly number[]): number[] {
  const unique = [...new Set(supplementary)];
  return unique.includes(gid) ? unique : [gid, ...unique];
}
