import type { Digest } from '../base/digest.js';
import { assertNever, InternalError } from '../base/errors.js';
import type {
  BindExecMount,
  CacheExecMount,
  CopyAction,
  ExecMeta,
  ExecMount,
  ExecOp,
  FileAction,
  FileOp,
  GitSource,
  HttpSource,
  ImageSource,
  LocalSource,
  MergeOp,
  MkdirAction,
  MkfileAction,
  Op,
  SecretExecMount,
  SourceOp,
  SshExecMount,
  TmpfsExecMount,
} from './graph/index.js';

/** ImagePin is what an image source resolved to: the manifest for the build's platform. */
export interface ImagePin {
  readonly type: 'image';
  readonly digest: Digest;
}

/** LocalPin is the checksum of the files a local source reads. */
export interface LocalPin {
  readonly type: 'local';
  readonly checksum: Digest;
}

/** GitPin is the commit a git source resolved to. */
export interface GitPin {
  readonly type: 'git';
  readonly commit: string;
}

/** HttpPin is what a URL served: the file's digest, its name and its Last-Modified time ('' without one). */
export interface HttpPin {
  readonly type: 'http';
  readonly digest: string;
  readonly filename: string;
  readonly mtime: string;
}

/**
 * SourcePin is the identity a source op resolves to when it is keyed, as BuildKit keys sources by what they pin
 * (manifest digest, commit, content checksum), never by a name that may move.
 */
export type SourcePin = ImagePin | LocalPin | GitPin | HttpPin;

/** KeyKind names the kind of op a key stands for: an op kind, or `source.<type>` for sources. */
export type KeyKind = 'exec' | 'file' | 'merge' | `source.${SourceOp['source']['type']}`;

/** Hash puts a field in the key: under its own name and as it is, unless existing keys have it otherwise. */
export interface Hash<V> {
  readonly hash: true;
  /** The name the field has in the key. */
  readonly as?: string;
  /** The form the field has in the key (undefined leaves it out). */
  readonly form?: (value: V) => unknown;
}

/** Exclude leaves a field out of the key, for the reason given. */
export interface Exclude {
  readonly exclude: string;
}

/**
 * FieldDecisions decides every field of T: a type gaining a field without a decision does not compile. A hashed
 * field is hashed whole unless its form picks from it by a table of its own (the process, mounts and file actions).
 */
export type FieldDecisions<T> = { readonly [K in keyof T]-?: Hash<T[K]> | Exclude };

const HASH = { hash: true } as const;
const NAMED_BY_KIND = { exclude: 'the key kind names it' } as const;
const PINNED_ONLY = { exclude: 'a source is the same for every platform; what it pins is hashed' } as const;

type SourceFields<S extends SourceOp['source'], P extends SourcePin> = Omit<SourceOp, 'source'> & S & P;

/** NESTED_CACHE_FIELDS decides the fields of the parts of ops that have a table of their own. */
export const NESTED_CACHE_FIELDS = {
  // BuildKit hashes the process's limits (shm size, ulimits) and extra hosts too: they change what it may make.
  'exec.meta': {
    args: HASH,
    env: HASH,
    cwd: HASH,
    user: HASH,
    hostname: HASH,
    extraHosts: HASH,
    shmSizeBytes: HASH,
    ulimits: HASH,
    // In BuildKit's ExecOp meta, so in its cache key: a step run elsewhere in the cgroup tree is another step.
    cgroupParent: HASH,
  } satisfies FieldDecisions<ExecMeta>,
  'exec.mount.bind': { type: HASH, input: HASH, dest: HASH, output: HASH, readonly: HASH, selector: HASH } satisfies FieldDecisions<BindExecMount>,
  'exec.mount.cache': {
    type: HASH,
    dest: HASH,
    id: HASH,
    sharing: HASH,
    readonly: HASH,
    input: HASH,
    selector: HASH,
    mode: HASH,
    uid: HASH,
    gid: HASH,
  } satisfies FieldDecisions<CacheExecMount>,
  'exec.mount.tmpfs': { type: HASH, dest: HASH, sizeBytes: HASH } satisfies FieldDecisions<TmpfsExecMount>,
  // A secret's value is never hashed: only where and how it is mounted.
  'exec.mount.secret': { type: HASH, id: HASH, dest: HASH, env: HASH, required: HASH, mode: HASH, uid: HASH, gid: HASH } satisfies FieldDecisions<SecretExecMount>,
  'exec.mount.ssh': { type: HASH, id: HASH, dest: HASH, required: HASH, setEnv: HASH, mode: HASH, uid: HASH, gid: HASH } satisfies FieldDecisions<SshExecMount>,
  'file.copy': {
    action: HASH,
    input: HASH,
    sources: HASH,
    dest: HASH,
    chown: HASH,
    chmod: HASH,
    excludes: HASH,
    extractArchives: HASH,
    parents: HASH,
  } satisfies FieldDecisions<CopyAction>,
  // The time of the directories made is in what the step makes (WORKDIR under SOURCE_DATE_EPOCH).
  'file.mkdir': { action: HASH, path: HASH, mode: HASH, makeParents: HASH, chown: HASH, timestamp: HASH } satisfies FieldDecisions<MkdirAction>,
  'file.mkfile': { action: HASH, path: HASH, mode: HASH, data: HASH, chown: HASH } satisfies FieldDecisions<MkfileAction>,
} as const;

/** CACHE_FIELDS is the decision for every field of every op kind, and of what each source pins. */
export const CACHE_FIELDS = {
  exec: {
    kind: NAMED_BY_KIND,
    meta: { hash: true, form: (meta) => pick(meta, NESTED_CACHE_FIELDS['exec.meta']) },
    mounts: { hash: true, form: (mounts) => mounts.map(pickMount) },
    network: HASH,
    security: HASH,
    platform: HASH,
    proxyEnv: { exclude: 'proxy settings change how a process reaches the network, not what it makes (BuildKit leaves them out too)' },
    resources: { exclude: 'limits change how fast a process runs or whether it completes, not what it makes (BuildKit keeps them in op metadata)' },
  } satisfies FieldDecisions<ExecOp>,
  file: {
    kind: NAMED_BY_KIND,
    base: HASH,
    actions: { hash: true, form: (actions) => actions.map(pickAction) },
    platform: HASH,
  } satisfies FieldDecisions<FileOp>,
  merge: { kind: NAMED_BY_KIND, platform: HASH } satisfies FieldDecisions<MergeOp>,
  'source.image': {
    kind: NAMED_BY_KIND,
    type: NAMED_BY_KIND,
    platform: HASH,
    ref: { exclude: 'the pinned manifest stands for the reference: a moved tag must miss the cache' },
    digest: HASH,
  } satisfies FieldDecisions<SourceFields<ImageSource, ImagePin>>,
  'source.local': {
    kind: NAMED_BY_KIND,
    type: NAMED_BY_KIND,
    platform: PINNED_ONLY,
    name: { exclude: 'the checksum of the files read stands for the context' },
    includePatterns: { exclude: 'the checksum covers exactly the files they include' },
    excludePatterns: { hash: true, as: 'excludes' },
    checksum: HASH,
  } satisfies FieldDecisions<SourceFields<LocalSource, LocalPin>>,
  'source.git': {
    kind: NAMED_BY_KIND,
    type: NAMED_BY_KIND,
    platform: PINNED_ONLY,
    remote: HASH,
    ref: { exclude: 'the commit it resolves to stands for it' },
    subdir: HASH,
    keepGitDir: HASH,
    // Hashed only when it changes the checkout, so keys made before the field existed stay as they were.
    submodules: { hash: true, as: 'skipSubmodules', form: (submodules) => (submodules === false ? true : undefined) },
    mtime: HASH,
    checksum: { exclude: 'it only checks the commit, which is hashed' },
    commit: HASH,
  } satisfies FieldDecisions<SourceFields<GitSource, GitPin>>,
  'source.http': {
    kind: NAMED_BY_KIND,
    type: NAMED_BY_KIND,
    platform: PINNED_ONLY,
    url: { exclude: 'the file it serves stands for it, as BuildKit keys a URL by its content' },
    checksum: { exclude: 'it only checks the content, whose digest is hashed' },
    // The pin's file name is hashed: the source's, or the server's when the source names none.
    filename: HASH,
    digest: HASH,
    mtime: HASH,
  } satisfies FieldDecisions<SourceFields<HttpSource, HttpPin>>,
} as const satisfies Record<KeyKind, object>;

/** CacheFields are the named values an op's key hashes. */
export interface CacheFields {
  readonly kind: KeyKind;
  readonly fields: Readonly<Record<string, unknown>>;
}

/** cacheFields picks what an op's key hashes; a source op needs its pin, resolved when it is keyed. */
export function cacheFields(op: Op, pin?: SourcePin): CacheFields {
  switch (op.kind) {
    case 'exec':
      return { kind: 'exec', fields: pick(op, CACHE_FIELDS.exec) };
    case 'file':
      return { kind: 'file', fields: pick(op, CACHE_FIELDS.file) };
    case 'merge':
      return { kind: 'merge', fields: pick(op, CACHE_FIELDS.merge) };
    case 'source':
      return sourceFields(op, pin);
    default:
      return assertNever(op, 'op');
  }
}

function sourceFields(op: SourceOp, pin: SourcePin | undefined): CacheFields {
  const { source, ...rest } = op;
  const mismatch = (): never => {
    throw new InternalError(`Cannot key the ${source.type} source: ${pin === undefined ? 'no pin was resolved' : `it was given a pin of type ${pin.type}`}`);
  };
  switch (source.type) {
    case 'image':
      return pin?.type === 'image' ? { kind: 'source.image', fields: pick({ ...rest, ...source, ...pin }, CACHE_FIELDS['source.image']) } : mismatch();
    case 'local':
      return pin?.type === 'local' ? { kind: 'source.local', fields: pick({ ...rest, ...source, ...pin }, CACHE_FIELDS['source.local']) } : mismatch();
    case 'git':
      return pin?.type === 'git' ? { kind: 'source.git', fields: pick({ ...rest, ...source, ...pin }, CACHE_FIELDS['source.git']) } : mismatch();
    case 'http':
      return pin?.type === 'http' ? { kind: 'source.http', fields: pick({ ...rest, ...source, ...pin }, CACHE_FIELDS['source.http']) } : mismatch();
    default:
      return assertNever(source, 'source');
  }
}

function pickMount(mount: ExecMount): Record<string, unknown> {
  switch (mount.type) {
    case 'bind':
      return pick(mount, NESTED_CACHE_FIELDS['exec.mount.bind']);
    case 'cache':
      return pick(mount, NESTED_CACHE_FIELDS['exec.mount.cache']);
    case 'tmpfs':
      return pick(mount, NESTED_CACHE_FIELDS['exec.mount.tmpfs']);
    case 'secret':
      return pick(mount, NESTED_CACHE_FIELDS['exec.mount.secret']);
    case 'ssh':
      return pick(mount, NESTED_CACHE_FIELDS['exec.mount.ssh']);
    default:
      return assertNever(mount, 'mount');
  }
}

function pickAction(action: FileAction): Record<string, unknown> {
  switch (action.action) {
    case 'copy':
      return pick(action, NESTED_CACHE_FIELDS['file.copy']);
    case 'mkdir':
      return pick(action, NESTED_CACHE_FIELDS['file.mkdir']);
    case 'mkfile':
      return pick(action, NESTED_CACHE_FIELDS['file.mkfile']);
    default:
      return assertNever(action, 'file action');
  }
}

/** pick collects the hashed fields of a value, each under its name in the key and in its form there. */
function pick<T>(value: T, decisions: FieldDecisions<T>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name in decisions) {
    const decision = decisions[name];
    if ('exclude' in decision) continue;
    const field = value[name];
    const hashed = decision.form === undefined ? field : decision.form(field);
    // Canonical JSON leaves undefined out anyway; leaving it out here keeps preimages plain data.
    if (hashed !== undefined) out[decision.as ?? name] = hashed;
  }
  return out;
}
