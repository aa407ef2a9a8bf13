import { readFileSync } from 'node:fs';

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

/** userNamespace returns the id maps of this process's user namespace and whether it runs rootless. */
export function userNamespace(): UserNamespace {
  if (read !== undefined) return read;
  const uids = parseIdMap(readFileSync('/proc/self/uid_map', 'utf8'));
  const gids = parseIdMap(readFileSync('/proc/self/gid_map', 'utf8'));
  read = { rootless: !isFullMap(uids) || !isFullMap(gids), uids, gids };
  return read;
}

/** isRootless tells whether this process runs in a user namespace that maps only part of the ids (see UserNamespace). */
export function isRootless(): boolean {
  return userNamespace().rootless;
}

/** mapsId tells whether an id of this namespace has an owner outside it, so files can be given to it. */
export function mapsId(ranges: readonly IdRange[], id: number): boolean {
  return ranges.some((r) => id >= r.inside && id < r.inside + r.count);
}
