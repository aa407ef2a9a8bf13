import { describe, expect, expectTypeOf, it } from 'vitest';
import { digestOf } from '../../../base/digest.js';
import type {
  BindExecMount,
  CacheExecMount,
  CopyAction,
  ExecMeta,
  ExecOp,
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
} from '../../../solver/graph/index.js';
import { CACHE_FIELDS, computeVertexKey, NESTED_CACHE_FIELDS, type GitPin, type HttpPin, type ImagePin, type KeyKind, type LocalPin, type SourcePin } from '../../../solver/index.js';

const platform = { os: 'linux', architecture: 'amd64' };

/** Every op kind and every field of it: what its key hashes, and what it leaves out. A change here changes keys. */
interface Split {
  readonly hashed: readonly string[];
  readonly excluded: readonly string[];
}

const EXPECTED: Readonly<Record<string, Split>> = {
  exec: { hashed: ['meta', 'mounts', 'network', 'platform', 'security'], excluded: ['kind', 'proxyEnv', 'resources'] },
  file: { hashed: ['actions', 'base', 'platform'], excluded: ['kind'] },
  merge: { hashed: ['platform'], excluded: ['kind'] },
  'source.image': { hashed: ['digest', 'platform'], excluded: ['kind', 'ref', 'type'] },
  'source.local': { hashed: ['checksum', 'excludePatterns'], excluded: ['includePatterns', 'kind', 'name', 'platform', 'type'] },
  'source.git': { hashed: ['commit', 'keepGitDir', 'mtime', 'remote', 'subdir', 'submodules'], excluded: ['checksum', 'kind', 'platform', 'ref', 'type'] },
  'source.http': { hashed: ['digest', 'filename', 'mtime'], excluded: ['checksum', 'kind', 'platform', 'type', 'url'] },
} satisfies Record<KeyKind, Split>;

function expected(kind: string): Split {
  const split = EXPECTED[kind];
  if (split === undefined) throw new Error(`no expectation for ${kind}`);
  return split;
}

function split(decisions: object): Split {
  const entries = Object.entries(decisions);
  return {
    hashed: entries.filter(([, d]) => 'hash' in d).map(([name]) => name).sort(),
    excluded: entries.filter(([, d]) => 'exclude' in d).map(([name]) => name).sort(),
  };
}

/** One op of each kind with every field set, and the pin its key takes. */
interface Sample {
  readonly op: Op;
  readonly pin?: SourcePin;
}

const SAMPLES: Readonly<Record<string, Sample>> = {
  exec: {
    op: {
      kind: 'exec',
      meta: { args: ['true'], env: [], cwd: '/', user: '', hostname: 'h', extraHosts: [], shmSizeBytes: 1, ulimits: [], cgroupParent: 'ci' },
      mounts: [{ type: 'bind', input: 0, dest: '/', output: 0, readonly: false, selector: '/' }],
      network: 'none',
      security: 'sandbox',
      platform,
      proxyEnv: { httpProxy: 'http://proxy' },
      resources: { memoryBytes: 1 },
    },
  },
  file: { op: { kind: 'file', base: null, actions: [{ action: 'mkdir', path: '/w', mode: 0o755, makeParents: true }], platform } },
  merge: { op: { kind: 'merge', platform } },
  'source.image': { op: sourceOp({ type: 'image', ref: 'busybox' }), pin: { type: 'image', digest: digestOf('m') } },
  'source.local': { op: sourceOp({ type: 'local', name: 'context', includePatterns: [], excludePatterns: [] }), pin: { type: 'local', checksum: digestOf('c') } },
  'source.git': {
    op: sourceOp({ type: 'git', remote: 'r', ref: 'main', subdir: '', keepGitDir: false, submodules: true, mtime: 'commit', checksum: 'ab' }),
    pin: { type: 'git', commit: 'ab' },
  },
  'source.http': { op: sourceOp({ type: 'http', url: 'u', checksum: digestOf('f'), filename: 'f' }), pin: { type: 'http', digest: digestOf('f'), filename: 'f', mtime: '' } },
} satisfies Record<KeyKind, Sample>;

function sourceOp(source: SourceOp['source']): SourceOp {
  return { kind: 'source', source, platform };
}

/** The fields of a sample: the op's own, its source's and its pin's. */
function fieldsOf(sample: Sample): string[] {
  const { op, pin } = sample;
  const names = new Set(Object.keys(op));
  if (op.kind === 'source') {
    names.delete('source');
    for (const name of Object.keys(op.source)) names.add(name);
  }
  for (const name of Object.keys(pin ?? {})) names.add(name);
  return [...names].sort();
}

describe('cache fields', () => {
  it('decides every field of every op kind: each is hashed or excluded with a reason', () => {
    expect(Object.keys(CACHE_FIELDS).sort()).toEqual(Object.keys(EXPECTED).sort());
    for (const [kind, decisions] of Object.entries(CACHE_FIELDS)) {
      expect(split(decisions), kind).toEqual(expected(kind));
      for (const [name, d] of Object.entries(decisions)) if ('exclude' in d) expect(d.exclude.length, `${kind}.${name}`).toBeGreaterThan(10);
    }
  });

  it('has a decision for every field a sample of each kind sets, and no other', () => {
    for (const [kind, sample] of Object.entries(SAMPLES)) {
      const { hashed, excluded } = expected(kind);
      expect(fieldsOf(sample), kind).toEqual([...hashed, ...excluded].sort());
    }
  });

  it('decides the fields of processes, mounts and file actions, all hashed', () => {
    expect(Object.fromEntries(Object.entries(NESTED_CACHE_FIELDS).map(([part, d]) => [part, split(d).excluded]))).toEqual({
      'exec.meta': [],
      'exec.mount.bind': [],
      'exec.mount.cache': [],
      'exec.mount.tmpfs': [],
      'exec.mount.secret': [],
      'exec.mount.ssh': [],
      'file.copy': [],
      'file.mkdir': [],
      'file.mkfile': [],
    });
  });

  it('keeps excluded fields out of the key and every hashed field in it', () => {
    for (const [kind, sample] of Object.entries(SAMPLES)) {
      const key = (op: Op, pin = sample.pin): string => computeVertexKey(op, { ...(pin === undefined ? {} : { pin }), inputs: [] }).key;
      const base = key(sample.op);
      for (const name of expected(kind).excluded.filter((n) => n !== 'kind' && n !== 'type')) {
        expect(key(changed(sample.op, name)), `${kind}.${name}`).toBe(base);
      }
      for (const name of expected(kind).hashed) {
        const k = sample.pin !== undefined && name in sample.pin ? key(sample.op, changed(sample.pin, name)) : key(changed(sample.op, name));
        expect(k, `${kind}.${name}`).not.toBe(base);
      }
    }
  });

  it('fails to compile when an op type gains a field without a decision', () => {
    expectTypeOf<keyof typeof CACHE_FIELDS.exec>().toEqualTypeOf<keyof ExecOp>();
    expectTypeOf<keyof typeof CACHE_FIELDS.file>().toEqualTypeOf<keyof FileOp>();
    expectTypeOf<keyof typeof CACHE_FIELDS.merge>().toEqualTypeOf<keyof MergeOp>();
    expectTypeOf<keyof typeof CACHE_FIELDS['source.image']>().toEqualTypeOf<Exclude<keyof SourceOp, 'source'> | keyof ImageSource | keyof ImagePin>();
    expectTypeOf<keyof typeof CACHE_FIELDS['source.local']>().toEqualTypeOf<Exclude<keyof SourceOp, 'source'> | keyof LocalSource | keyof LocalPin>();
    expectTypeOf<keyof typeof CACHE_FIELDS['source.git']>().toEqualTypeOf<Exclude<keyof SourceOp, 'source'> | keyof GitSource | keyof GitPin>();
    expectTypeOf<keyof typeof CACHE_FIELDS['source.http']>().toEqualTypeOf<Exclude<keyof SourceOp, 'source'> | keyof HttpSource | keyof HttpPin>();
    expectTypeOf<keyof typeof NESTED_CACHE_FIELDS['exec.meta']>().toEqualTypeOf<keyof ExecMeta>();
    expectTypeOf<keyof typeof NESTED_CACHE_FIELDS['exec.mount.bind']>().toEqualTypeOf<keyof BindExecMount>();
    expectTypeOf<keyof typeof NESTED_CACHE_FIELDS['exec.mount.cache']>().toEqualTypeOf<keyof CacheExecMount>();
    expectTypeOf<keyof typeof NESTED_CACHE_FIELDS['exec.mount.tmpfs']>().toEqualTypeOf<keyof TmpfsExecMount>();
    expectTypeOf<keyof typeof NESTED_CACHE_FIELDS['exec.mount.secret']>().toEqualTypeOf<keyof SecretExecMount>();
    expectTypeOf<keyof typeof NESTED_CACHE_FIELDS['exec.mount.ssh']>().toEqualTypeOf<keyof SshExecMount>();
    expectTypeOf<keyof typeof NESTED_CACHE_FIELDS['file.copy']>().toEqualTypeOf<keyof CopyAction>();
    expectTypeOf<keyof typeof NESTED_CACHE_FIELDS['file.mkdir']>().toEqualTypeOf<keyof MkdirAction>();
    expectTypeOf<keyof typeof NESTED_CACHE_FIELDS['file.mkfile']>().toEqualTypeOf<keyof MkfileAction>();
    expect(Object.keys(CACHE_FIELDS)).toHaveLength(Object.keys(SAMPLES).length);
  });
});

/** changed returns a copy of an op or pin with one field (of a source op, maybe its source's) set to another value. */
function changed<T extends Op | SourcePin>(value: T, name: string): T {
  const copy = structuredClone(value);
  const holder: object = 'source' in copy && name in copy.source ? copy.source : copy;
  Reflect.set(holder, name, other(Reflect.get(holder, name)));
  return copy;
}

function other(value: unknown): unknown {
  if (Array.isArray(value)) return [...value, value.length === 0 ? 'x' : value[0]];
  if (typeof value === 'boolean') return !value;
  if (typeof value === 'number') return value + 1;
  if (typeof value === 'string') return `${value}-changed`;
  if (value === null) return 1;
  // An object changes in its first field: fields no table decides are never hashed.
  const [first] = Object.keys(value ?? {});
  return first === undefined ? { changed: true } : Object.assign({}, value, { [first]: other(Reflect.get(value ?? {}, first)) });
}
