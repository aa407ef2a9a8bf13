import { readFileSync } from 'node:fs';
import { errnoCode, SnapshotError } from './errors.js';

/**
 * IdRange is one line of a user namespace's id map: `count` ids from `inside` in the namespace are `outside` + the
 * same offset in the parent namespace.
 */
export interface IdRange {
  readonly inside: number;
  readonly outside: number;
  readonly count: number;
}

/** UserNamespace is the id maps of this process's user namespace, read from /proc/self/{uid,gid}_map. */
export interface UserNamespace {
  /**
   * Whether the namespace maps only part of the ids: tbuild was started by an ordinary user and runs as root of a user
   * namespace of its own (rootless), with no privilege over the host's files, devices, cgroups or network.
   */
  readonly rootless: boolean;
  readonly uids: readonly IdRange[];
  readonly gids: readonly IdRange[];
}

/** The initial user namespace maps every id to itself: 0 0 4294967295. */
const FULL_RANGE = 4294967295;

/** parseIdMap reads the text of a /proc/PID/uid_map or gid_map file. */
export function parseIdMap(text: string): IdRange[] {
  const out: IdRange[] = [];
  for (const line of text.split('\n')) {
    const [inside, outside, count] = line.trim().split(/\s+/).map(Number);
    if (inside === undefined || outside === undefined || count === undefined || Number.isNaN(count)) continue;
    out.push({ inside, outside, count });
  }
  return out;
}

/** isFullMap tells whether a map is the initial namespace's (every id is itself). */
function isFullMap(ranges: readonly IdRange[]): boolean {
  return ranges.length === 1 && ranges[0]?.inside === 0 && ranges[0].outside === 0 && ranges[0].count === FULL_RANGE;
}

// The maps are fixed for the life of a process once it runs tbuild's code (a process can enter another user namespace
// only while single-threaded, which Node never is): read once, on first use.
let read: UserNamespace | undefined;

/**
 * userNamespace returns the id maps of this process's user namespace and whether it runs rootless. The uid map alone
 * tells that (only a process privileged over every uid of the parent namespace can map them all, which an ordinary
 * user never is), so a build as root reads that one file; the gid map is read when first asked for.
 */
export function userNamespace(): UserNamespace {
  if (read !== undefined) return read;
  const uids = parseIdMap(readFileSync('/proc/self/uid_map', 'utf8'));
  let gids: readonly IdRange[] | undefined;
  read = {
    rootless: !isFullMap(uids),
    uids,
    get gids() {
      return (gids ??= parseIdMap(readFileSync('/proc/self/gid_map', 'utf8')));
    },
  };
  return read;
}

/** isRootless tells whether this process runs in a user namespace that maps only part of the ids (see UserNamespace). */
export function isRootless(): boolean {
  return userNamespace().rootless;
}

/** hostUid is the host's id of this process's user: the one its uid maps to outside every user namespace it is in (one). */
export function hostUid(): number {
  const uid = process.getuid?.() ?? 0;
  const range = userNamespace().uids.find((r) => uid >= r.inside && uid < r.inside + r.count);
  return range === undefined ? uid : range.outside + (uid - range.inside);
}

/** mapsId tells whether an id of this namespace has an owner outside it, so files can be given to it. */
export function mapsId(ranges: readonly IdRange[], id: number): boolean {
  return ranges.some((r) => id >= r.inside && id < r.inside + r.count);
}

/** SubordinateRange is one range of /etc/subuid or /etc/subgid: ids an ordinary user may map into its namespaces. */
export interface SubordinateRange {
  readonly start: number;
  readonly count: number;
}

/**
 * subordinateRanges reads the ranges /etc/subuid or /etc/subgid (their text) grants a user, named by login name or
 * numeric id as newuidmap accepts either.
 */
export function subordinateRanges(text: string, user: { readonly name: string; readonly id: number }): SubordinateRange[] {
  const out: SubordinateRange[] = [];
  for (const line of text.split('\n')) {
    const [owner, start, count] = line.trim().split(':');
    if (owner === undefined || start === undefined || count === undefined) continue;
    if (owner !== user.name && owner !== String(user.id)) continue;
    const range = { start: Number(start), count: Number(count) };
    if (Number.isInteger(range.start) && Number.isInteger(range.count) && range.count > 0) out.push(range);
  }
  return out;
}

/**
 * unmappedOwnerError is what a chown that failed throws: rootless, the kernel refuses (EINVAL) an owner the user
 * namespace does not map, which with no subordinate ids is any but root; that is said, with the fix. Any other
 * failure is returned unchanged.
 */
export function unmappedOwnerError(err: unknown, path: string, owner: { readonly uid: number; readonly gid: number }): unknown {
  if (errnoCode(err) !== 'EINVAL' || !isRootless()) return err;
  const ns = userNamespace();
  if (mapsId(ns.uids, owner.uid) && mapsId(ns.gids, owner.gid)) return err;
  const ids = (ranges: readonly IdRange[]): string => {
    const list = ranges.map((r) => (r.count === 1 ? `${r.inside}` : `${r.inside}-${r.inside + r.count - 1}`)).join(', ');
    return ranges.length === 1 && ranges[0]?.count === 1 ? `id ${list}` : `ids ${list}`;
  };
  return new SnapshotError(
    `Cannot give "${path}" to owner ${owner.uid}:${owner.gid}: tbuild runs rootless, and its user namespace maps only user ${ids(ns.uids)} and group ${ids(ns.gids)}`,
    { cause: err, hint: 'give the user a range of subordinate ids in /etc/subuid and /etc/subgid (see README, Rootless)' },
  );
}
