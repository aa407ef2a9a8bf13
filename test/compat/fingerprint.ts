import type { FsNode, HistoryEntry, Image, Rootfs } from './image-reader.js';

/** PathRecord is what the fingerprint keeps of one path (never its times). */
export interface PathRecord {
  readonly type: FsNode['type'];
  /** Octal permission bits incl. setuid/setgid/sticky, e.g. "4755". */
  readonly mode: string;
  readonly uid: number;
  readonly gid: number;
  /** Regular files only. */
  readonly size?: number;
  readonly sha256?: string;
  /** Symlinks only. */
  readonly link?: string;
  /** Devices only: "major,minor". */
  readonly device?: string;
  /** Extended attributes (base64 values), when any. */
  readonly xattrs?: Readonly<Record<string, string>>;
  /** Other paths of the image that are hard links to the same file, when any. */
  readonly hardlinks?: readonly string[];
}

/** PathChange is a path the build added, changed (any field differs from the base's) or removed. */
export type PathChange = ({ readonly change: 'added' | 'changed' } & PathRecord) | { readonly change: 'removed' };

/** HistoryRecord is one history entry without its date. */
export interface HistoryRecord {
  /** ISO date, only when the fingerprint compares dates (SOURCE_DATE_EPOCH cases). */
  readonly created?: string;
  readonly created_by: string;
  readonly comment?: string;
  readonly empty_layer: boolean;
}

/** Fingerprint describes an image relative to its base image: what the build added on top. */
export interface Fingerprint {
  /** Name of the base whose layers the image starts with ("scratch" for none). */
  readonly base: string;
  /** Number of layers the build added to the base's. */
  readonly layers: number;
  /** History entries the build added to the base's. */
  readonly history: readonly HistoryRecord[];
  /** The image config fields compared (empty values left out). */
  readonly config: Readonly<Record<string, unknown>>;
  readonly paths: Readonly<Record<string, PathChange>>;
}

/** NamedImage is a base image the fingerprint can be relative to. */
export interface NamedImage {
  readonly name: string;
  readonly image: Image;
}

const CONFIG_FIELDS = [
  'Env', 'Cmd', 'Entrypoint', 'WorkingDir', 'User', 'Labels', 'ExposedPorts', 'Volumes', 'StopSignal', 'Healthcheck', 'OnBuild', 'Shell',
] as const;

function isEmpty(value: unknown): boolean {
  if (value === null || value === undefined || value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  return typeof value === 'object' && Object.keys(value).length === 0;
}

function pickConfig(image: Image): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const config = image.config.config ?? {};
  for (const key of CONFIG_FIELDS) if (!isEmpty(config[key])) out[key] = config[key];
  out['os'] = image.config.os;
  out['architecture'] = image.config.architecture;
  return out;
}

function hardlinkGroups(rootfs: Rootfs): Map<number, string[]> {
  const groups = new Map<number, string[]>();
  for (const [path, node] of rootfs) {
    if (node.type !== 'file') continue;
    const group = groups.get(node.inode);
    if (group === undefined) groups.set(node.inode, [path]);
    else group.push(path);
  }
  return groups;
}

function toRecord(path: string, node: FsNode, groups: Map<number, string[]>): PathRecord {
  const links = (groups.get(node.inode) ?? []).filter((p) => p !== path).sort();
  return {
    type: node.type,
    mode: node.mode.toString(8).padStart(4, '0'),
    uid: node.uid,
    gid: node.gid,
    ...(node.type === 'file' ? { size: node.size, sha256: node.sha256 } : {}),
    ...(node.type === 'symlink' ? { link: node.linkname } : {}),
    ...(node.type === 'char' || node.type === 'block' ? { device: `${node.devmajor},${node.devminor}` } : {}),
    ...(Object.keys(node.xattrs).length > 0 ? { xattrs: sortKeys(node.xattrs) } : {}),
    ...(node.type === 'file' && links.length > 0 ? { hardlinks: links } : {}),
  };
}

function sortKeys<T>(record: Readonly<Record<string, T>>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Chooses the base whose layers (diff IDs) the image starts with, the longest such base. */
function chooseBase(image: Image, bases: readonly NamedImage[]): NamedImage | undefined {
  let best: NamedImage | undefined;
  for (const base of bases) {
    const ids = base.image.diffIds;
    if (ids.length > image.diffIds.length || !ids.every((id, i) => image.diffIds[i] === id)) continue;
    if (best === undefined || ids.length > best.image.diffIds.length) best = base;
  }
  return best;
}

const isoDate = (date: string | undefined): string => (date === undefined ? '(none)' : new Date(date).toISOString());

function historyRecord(h: HistoryEntry, dates: boolean): HistoryRecord {
  return {
    ...(dates ? { created: isoDate(h.created) } : {}),
    created_by: h.created_by ?? '',
    ...(h.comment ? { comment: h.comment } : {}),
    empty_layer: h.empty_layer === true,
  };
}

/** FingerprintOptions choose what a fingerprint includes besides the always-compared fields. */
export interface FingerprintOptions {
  /** Include the image's and the added history entries' dates (normally left out: they are build times). */
  readonly dates?: boolean;
}

/** fingerprintImage describes image relative to the base it was built on (one of bases, else scratch). */
export function fingerprintImage(image: Image, bases: readonly NamedImage[], options: FingerprintOptions = {}): Fingerprint {
  const dates = options.dates === true;
  const base = chooseBase(image, bases);
  const baseRootfs: Rootfs = base?.image.rootfs ?? new Map();
  const baseGroups = hardlinkGroups(baseRootfs);
  const groups = hardlinkGroups(image.rootfs);
  const paths: Record<string, PathChange> = {};
  for (const [path, node] of image.rootfs) {
    const record = toRecord(path, node, groups);
    const before = baseRootfs.get(path);
    if (before === undefined) paths[path] = { change: 'added', ...record };
    else if (JSON.stringify(toRecord(path, before, baseGroups)) !== JSON.stringify(record)) paths[path] = { change: 'changed', ...record };
  }
  for (const path of baseRootfs.keys()) if (!image.rootfs.has(path)) paths[path] = { change: 'removed' };
  const baseHistory = base?.image.config.history?.length ?? 0;
  return {
    base: base?.name ?? 'scratch',
    layers: image.diffIds.length - (base?.image.diffIds.length ?? 0),
    history: (image.config.history ?? []).slice(baseHistory).map((h) => historyRecord(h, dates)),
    config: { ...pickConfig(image), ...(dates ? { created: isoDate(image.config.created) } : {}) },
    paths: sortKeys(paths),
  };
}
