import { randomBytes } from 'node:crypto';
import { readFile, statfs } from 'node:fs/promises';
import { DiskFullError, SnapshotError, errnoCode } from '../base/errors.js';
import type { LeaseRecord, MetadataStore } from './metadata.js';

/** LeaseResourceKind names what a lease keeps: a snapshot (and its parents), a blob, or a cache record. */
export type LeaseResourceKind = 'snapshot' | 'blob' | 'cache-record';

/** LeaseAdd adds one resource to the lease, inside the transaction that looked it up. */
export type LeaseAdd = (kind: LeaseResourceKind, id: string) => void;

/**
 * StoreLease is the lease a process holds on the store while its builds run (containerd's leases): every snapshot,
 * blob and cache record a build finds or makes is added to it before the build uses it, and collection in any process
 * keeps what a live lease names. The builds of one process share it, as they share results of identical steps.
 */
export interface StoreLease {
  /** hold keeps the lease (taken on the first hold) until every hold is disposed; then it and what it names go. */
  hold(): Promise<AsyncDisposable>;
  /**
   * useSync runs a lookup and adds what it names to the lease in one write transaction, so collection either ran
   * before (the lookup finds nothing) or will keep what it found. With no hold, it only runs the lookup.
   */
  useSync<T>(lookup: (add: LeaseAdd) => T): T;
  /**
   * use is useSync in a transaction queued with the asynchronous writes: this thread does not wait for the disk, and what
   * the lookup added is named by the lease (has) once the promise resolves, when the transaction is durable.
   */
  use<T>(lookup: (add: LeaseAdd) => T): Promise<T>;
  /** addBlob adds a blob before the caller looks for it or writes it; it is committed when this resolves. */
  addBlob(digest: string): Promise<void>;
  /** has tells whether the held lease already names a resource (found there, it still exists). */
  has(kind: LeaseResourceKind, id: string): boolean;
  /** releaseIdle drops a lease no hold uses any more at once, instead of after its linger time (collection does first). */
  releaseIdle(): Promise<void>;
}

/**
 * LeaseTiming: a lease expires `expiryMs` after its last refresh, which comes every `refreshMs` while it is held; once
 * its last hold ends it stays `lingerMs` more (0: dropped at once), so that the next build of a resident builder finds
 * it with what it named, instead of writing a new lease and naming everything again. A lease older than `maxShareMs`
 * no longer lingers: builds that keep coming would otherwise keep it, and all they ever named, from collection.
 */
export interface LeaseTiming {
  readonly expiryMs: number;
  readonly refreshMs: number;
  readonly lingerMs?: number;
  readonly maxShareMs?: number;
}

const DEFAULT_TIMING: LeaseTiming = { expiryMs: 10 * 60_000, refreshMs: 60_000 };

/** createStoreLease returns this process's lease on the store behind `meta`; nothing is written until a build holds it. */
export function createStoreLease(meta: MetadataStore, timing: Partial<LeaseTiming> = {}): StoreLease {
  return new ProcessLease(meta, { ...DEFAULT_TIMING, ...timing });
}

/**
 * resourceKey is the key of one resource of a lease in the lease-resources table: `lease kind id`, space-separated
 * (no lease id, kind, digest, snapshot id or cache key holds a space; a NUL would make the database's key encoding
 * read the key back as an array).
 */
export function resourceKey(leaseId: string, kind: LeaseResourceKind, id: string): string {
  return `${leaseId} ${kind} ${id}`;
}

/** LeaseResource is one entry of the lease-resources table, read back. */
export interface LeaseResource {
  readonly lease: string;
  readonly kind: LeaseResourceKind;
  readonly id: string;
}

/** parseResourceKey reads a key of the lease-resources table; undefined for one this version does not know. */
export function parseResourceKey(key: string): LeaseResource | undefined {
  const [lease, kind, id, ...rest] = key.split(' ');
  if (lease === undefined || id === undefined || rest.length > 0) return undefined;
  if (kind !== 'snapshot' && kind !== 'blob' && kind !== 'cache-record') return undefined;
  return { lease, kind, id };
}

/** leaseRange is the key range of the lease-resources table holding one lease's resources. */
function leaseRange(leaseId: string): { start: string; end: string } {
  // '!' sorts right after the space that ends the lease id.
  return { start: `${leaseId} `, end: `${leaseId}!` };
}

class ProcessLease implements StoreLease {
  readonly #meta: MetadataStore;
  readonly #timing: LeaseTiming;
  #holds = 0;
  #id: string | undefined;
  #record: LeaseRecord | undefined;
  #timer: NodeJS.Timeout | undefined;
  #refreshFailure: unknown;
  readonly #named = new Set<string>();
  /** Set while the lease lingers after its last hold: it drops the lease when it fires. */
  #linger: NodeJS.Timeout | undefined;
  /** Why the last lingering lease could not be dropped, for releaseIdle's next caller. */
  #lingerFailure: unknown;
  /** Holds start and end one after the other: a hold taken while the last one ends waits for a fresh lease. */
  #queue: Promise<unknown> = Promise.resolve();
  /** Leases set aside past their share time while builds still held them, by id. */
  readonly #retired = new Map<string, RetiredLease>();

  constructor(meta: MetadataStore, timing: LeaseTiming) {
    this.#meta = meta;
    this.#timing = timing;
  }

  async hold(): Promise<AsyncDisposable> {
    let held: string | undefined;
    await this.#serial(async () => {
      // Builds that keep overlapping never leave the lease without a hold: past its share time, the next build takes a
      // new one, and the old one goes with the last build that holds it.
      if (this.#holds > 0 && Date.now() - (this.#record?.createdAt ?? 0) > (this.#timing.maxShareMs ?? Infinity)) await this.#take(true);
      else if (this.#holds === 0) {
        clearTimeout(this.#linger);
        this.#linger = undefined;
        // A lease reclaimed while it lingered names nothing that still counts: a new one is taken.
        if (this.#id !== undefined && this.#refreshFailure !== undefined) this.#dropQuietly();
        if (this.#id === undefined) await this.#take();
      }
      this.#holds++;
      held = this.#id;
    });
    let released = false;
    return {
      [Symbol.asyncDispose]: () =>
        this.#serial(() => {
          if (released) return Promise.resolve();
          released = true;
          const retired = held === undefined ? undefined : this.#retired.get(held);
          if (retired !== undefined) {
            this.#releaseRetired(retired);
            return Promise.resolve();
          }
          if (--this.#holds > 0) return Promise.resolve();
          const lingerMs = this.#timing.lingerMs ?? 0;
          const shared = Date.now() - (this.#record?.createdAt ?? 0);
          // A lease reclaimed while the build ran is dropped now, and the build told.
          if (lingerMs <= 0 || shared > (this.#timing.maxShareMs ?? Infinity) || this.#refreshFailure !== undefined) this.#drop();
          else {
            // A lease the database could not drop goes unrefreshed: it expires, and collection reclaims it.
            this.#linger = setTimeout(() => {
              this.releaseIdle().catch((err: unknown) => {
                this.#lingerFailure = err;
              });
            }, lingerMs);
            this.#linger.unref();
          }
          return Promise.resolve();
        }),
    };
  }

  /** #retire sets the current lease aside for the builds that hold it (refreshed until the last ends); none is current then. */
  #retire(): void {
    const id = this.#id;
    const record = this.#record;
    if (id === undefined || record === undefined) return;
    clearInterval(this.#timer);
    const retired: RetiredLease = { id, record, holds: this.#holds, failure: this.#refreshFailure, timer: undefined };
    retired.timer = setInterval(() => {
      const renewed = renewLease(this.#meta, retired.id, retired.record, this.#timing.expiryMs);
      if (renewed.record !== undefined) retired.record = renewed.record;
      retired.failure ??= renewed.failure;
    }, this.#timing.refreshMs);
    retired.timer.unref();
    this.#retired.set(id, retired);
    this.#id = undefined;
    this.#record = undefined;
    this.#holds = 0;
    this.#refreshFailure = undefined;
    this.#named.clear();
  }

  /** #releaseRetired ends one build's hold on a retired lease: the last one drops it, and tells a refresh that failed. */
  #releaseRetired(retired: RetiredLease): void {
    if (--retired.holds > 0) return;
    clearInterval(retired.timer);
    this.#retired.delete(retired.id);
    dropLease(this.#meta, retired.id);
    if (retired.failure !== undefined) throw new SnapshotError('Cannot keep the lease of this build on the store', { cause: retired.failure });
  }

  releaseIdle(): Promise<void> {
    return this.#serial(() => {
      if (this.#holds === 0 && this.#id !== undefined) this.#dropQuietly();
      const failure = this.#lingerFailure;
      this.#lingerFailure = undefined;
      if (failure !== undefined) throw new SnapshotError('Cannot drop the lease of the last builds on the store', { cause: failure });
      return Promise.resolve();
    });
  }

  useSync<T>(lookup: (add: LeaseAdd) => T): T {
    const id = this.#id;
    if (id === undefined) return lookup(() => undefined);
    const added: string[] = [];
    const found = this.#meta.transactSync(() => lookup(this.#adder(id, added)));
    // Only once the transaction committed: a lookup that threw left nothing in the lease.
    for (const key of added) this.#named.add(key);
    return found;
  }

  async use<T>(lookup: (add: LeaseAdd) => T): Promise<T> {
    const id = this.#id;
    if (id === undefined) return lookup(() => undefined);
    const added: string[] = [];
    const found = await this.#meta.transact(() => lookup(this.#adder(id, added)));
    for (const key of added) this.#named.add(key);
    return found;
  }

  /** #adder writes the resources a lookup names into lease `id`, inside the lookup's transaction, collecting their keys. */
  #adder(id: string, added: string[]): LeaseAdd {
    return (kind, resource) => {
      const key = resourceKey(id, kind, resource);
      if (this.#named.has(key)) return;
      this.#meta.leaseResources.putSync(key, true);
      added.push(key);
    };
  }

  addBlob(digest: string): Promise<void> {
    const id = this.#id;
    if (id === undefined) return Promise.resolve();
    const key = resourceKey(id, 'blob', digest);
    if (this.#named.has(key)) return Promise.resolve();
    this.#meta.transactSync(() => this.#meta.leaseResources.putSync(key, true));
    this.#named.add(key);
    return Promise.resolve();
  }

  has(kind: LeaseResourceKind, id: string): boolean {
    return this.#id !== undefined && this.#named.has(resourceKey(this.#id, kind, id));
  }

  #serial(step: () => Promise<void>): Promise<void> {
    const next = this.#queue.then(step);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  /** #take takes a new lease; with `retireCurrent`, the current one is set aside for its builds once the new one is there. */
  async #take(retireCurrent = false): Promise<void> {
    await requireMetadataRoom(this.#meta.path);
    const processStart = await readProcessStart(process.pid);
    if (processStart === undefined) throw new SnapshotError(`Cannot take a lease on the store: the start time of process ${process.pid} is unknown`);
    const now = Date.now();
    const id = `${process.pid}-${randomBytes(6).toString('hex')}`;
    const record: LeaseRecord = { pid: process.pid, processStart, createdAt: now, expiresAt: now + this.#timing.expiryMs };
    // Committed before the build looks anything up: collection in another process sees it from then on.
    this.#meta.transactSync(() => this.#meta.leases.putSync(id, record));
    // At once from there: a lookup between the two would find no lease to add what it found to.
    if (retireCurrent) this.#retire();
    this.#id = id;
    this.#record = record;
    this.#refreshFailure = undefined;
    this.#timer = setInterval(() => this.#refresh(), this.#timing.refreshMs);
    this.#timer.unref();
  }

  #refresh(): void {
    const id = this.#id;
    const record = this.#record;
    if (id === undefined || record === undefined) return;
    const renewed = renewLease(this.#meta, id, record, this.#timing.expiryMs);
    if (renewed.record !== undefined) this.#record = renewed.record;
    if (renewed.failure === undefined) return;
    // Reclaimed while this process could not refresh it (stopped past its expiry): what it named may be gone, so
    // nothing counts as leased any more, and the build is told when it ends.
    if (renewed.reclaimed) this.#named.clear();
    this.#refreshFailure ??= renewed.failure;
  }

  /** #dropQuietly drops a lease no build holds: a refresh failure has no build left to tell. */
  #dropQuietly(): void {
    this.#refreshFailure = undefined;
    this.#drop();
  }

  #drop(): void {
    clearTimeout(this.#linger);
    this.#linger = undefined;
    clearInterval(this.#timer);
    const id = this.#id;
    this.#id = undefined;
    this.#record = undefined;
    this.#named.clear();
    if (id !== undefined) dropLease(this.#meta, id);
    if (this.#refreshFailure !== undefined) throw new SnapshotError('Cannot keep the lease of this build on the store', { cause: this.#refreshFailure });
  }
}

/** RetiredLease is a lease set aside past its share time: the builds that held it keep it until the last one ends. */
interface RetiredLease {
  readonly id: string;
  record: LeaseRecord;
  holds: number;
  /** Why a refresh failed (or that collection reclaimed it), for the last build that holds it. */
  failure: unknown;
  timer: NodeJS.Timeout | undefined;
}

/**
 * renewLease pushes a lease's expiry forward; `reclaimed` when collection had already removed it (the record is written
 * again, but what it named may be gone), `failure` when that or the write failed.
 */
function renewLease(meta: MetadataStore, id: string, record: LeaseRecord, expiryMs: number): { record?: LeaseRecord; reclaimed?: boolean; failure?: unknown } {
  const renewed = { ...record, expiresAt: Date.now() + expiryMs };
  try {
    const kept = meta.transactSync(() => {
      const found = meta.leases.get(id) !== undefined;
      meta.leases.putSync(id, renewed);
      return found;
    });
    return kept ? { record: renewed } : { record: renewed, reclaimed: true, failure: new Error(`lease ${id} was reclaimed by collection`) };
  } catch (err) {
    return { failure: err };
  }
}

/**
 * METADATA_ROOM_BYTES is the free space a lease asks of the disk holding the metadata database before its builds
 * write: the database's writes (leases, records, history) stay far below it, so they do not find the disk full midway,
 * where the database's asynchronous commits cannot fail cleanly.
 */
export const METADATA_ROOM_BYTES = 1 << 20;

async function requireMetadataRoom(dir: string): Promise<void> {
  const st = await statfs(dir);
  const free = st.bavail * st.bsize;
  if (free >= METADATA_ROOM_BYTES) return;
  throw new DiskFullError(`Cannot write to the store: the disk holding "${dir}" is full (${Math.floor(free / 1024)} KiB free, the metadata database needs ${METADATA_ROOM_BYTES / 1024} KiB)`, { path: dir });
}

/**
 * dropLease removes a lease and every resource it names, in one transaction. Given the expiry the caller judged it by,
 * it leaves a lease refreshed since alone and returns false.
 */
export function dropLease(meta: MetadataStore, leaseId: string, judgedExpiry?: number): boolean {
  return meta.transactSync(() => {
    if (judgedExpiry !== undefined && meta.leases.get(leaseId)?.expiresAt !== judgedExpiry) return false;
    meta.leases.removeSync(leaseId);
    for (const key of meta.leaseResources.getKeys(leaseRange(leaseId))) meta.leaseResources.removeSync(key);
    return true;
  }, { freeing: true });
}

/** LeaseState is whether a lease still protects what it names, and why not. */
export type LeaseState = { readonly live: true } | { readonly live: false; readonly reason: string };

/** leaseState judges a lease: its process must run (same pid, same start time) and its expiry must not have passed. */
export async function leaseState(record: LeaseRecord, now: number): Promise<LeaseState> {
  if (record.expiresAt < now) return { live: false, reason: `it expired ${Math.round((now - record.expiresAt) / 1000)} s ago` };
  const start = await readProcessStart(record.pid);
  if (start === undefined) return { live: false, reason: `process ${record.pid} is not running` };
  if (start !== record.processStart) return { live: false, reason: `process ${record.pid} is another process than the one that took it` };
  return { live: true };
}

/** LiveLease is a lease whose process runs and whose expiry has not passed: what it names is in use. */
export interface LiveLease {
  readonly id: string;
  readonly pid: number;
}

/** liveLeases lists the leases judged live now (the store is in use by their processes' builds, pushes, saves or loads). */
export async function liveLeases(meta: MetadataStore, now = Date.now()): Promise<LiveLease[]> {
  const out: LiveLease[] = [];
  for (const { key, value } of meta.leases.getRange()) if ((await leaseState(value, now)).live) out.push({ id: key, pid: value.pid });
  return out;
}

/**
 * reclaimLeases drops the leases of processes that died and those that expired, and resources whose lease is gone (added
 * by a process that could not know its lease was reclaimed); it returns how many leases it dropped.
 */
export async function reclaimLeases(meta: MetadataStore, now = Date.now()): Promise<number> {
  let dropped = 0;
  for (const { key, value } of meta.leases.getRange()) {
    if ((await leaseState(value, now)).live) continue;
    // A lease refreshed since it was read is live after all.
    if (dropLease(meta, key, value.expiresAt)) dropped++;
  }
  meta.transactSync(() => {
    for (const key of meta.leaseResources.getKeys()) {
      const res = parseResourceKey(key);
      if (res === undefined || meta.leases.get(res.lease) === undefined) meta.leaseResources.removeSync(key);
    }
  });
  return dropped;
}

/** LeasedResources is what the unexpired leases name, by kind. */
export interface LeasedResources {
  readonly snapshots: ReadonlySet<string>;
  readonly blobs: ReadonlySet<string>;
  readonly cacheRecords: ReadonlySet<string>;
}

/**
 * leasedResources reads what unexpired leases name; collection calls it inside its transaction. A lease whose process
 * died since reclaimLeases looked still counts: it is kept one more round, never dropped while it may be in use.
 */
export function leasedResources(meta: MetadataStore, now: number): LeasedResources {
  const live = new Set<string>();
  for (const { key, value } of meta.leases.getRange()) if (value.expiresAt >= now) live.add(key);
  const out = { snapshots: new Set<string>(), blobs: new Set<string>(), cacheRecords: new Set<string>() };
  for (const key of meta.leaseResources.getKeys()) {
    const res = parseResourceKey(key);
    if (res === undefined || !live.has(res.lease)) continue;
    if (res.kind === 'snapshot') out.snapshots.add(res.id);
    else if (res.kind === 'blob') out.blobs.add(res.id);
    else out.cacheRecords.add(res.id);
  }
  return out;
}

/** readProcessStart is a process's start time in clock ticks after boot (field 22 of /proc/<pid>/stat), or undefined when it is gone. */
export async function readProcessStart(pid: number): Promise<number | undefined> {
  let stat: string;
  try {
    stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ESRCH') return undefined;
    throw err;
  }
  // The command name (field 2) is in parentheses and may hold spaces: fields are counted after its closing one.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const start = Number(fields[19]);
  return Number.isInteger(start) ? start : undefined;
}

/** NO_LEASE leases nothing: the store parts of tools that never build (checks, tests) take it. */
export const NO_LEASE: StoreLease = Object.freeze({
  hold: () => Promise.resolve({ [Symbol.asyncDispose]: () => Promise.resolve() }),
  useSync: <T>(lookup: (add: LeaseAdd) => T): T => lookup(() => undefined),
  use: <T>(lookup: (add: LeaseAdd) => T): Promise<T> => Promise.resolve(lookup(() => undefined)),
  addBlob: () => Promise.resolve(),
  has: () => false,
  releaseIdle: () => Promise.resolve(),
});
