import { UsageError } from '../base/errors.js';
import { preimageOf } from '../cache/index.js';
import type { ExecResult, Executor, NetworkMode, ProcessSpec } from '../executor/index.js';
import type { HistoryAccess } from './history-access.js';
import { findBaseImage } from './debug-base-image.js';
import { DEFAULT_SHELL, type DebugShell } from './debug-shell.js';
import { findStoredImage, readJsonBlob } from './stored-image.js';
import type { Store } from './store.js';

/** DebugTarget names what `tbuild debug shell` opens a shell in: an image of the store, or a step of a build record. */
export type DebugTarget =
  | { readonly kind: 'image'; readonly image: string }
  /** Step `#N` of a build record (its ref, or the newest record when absent), as plain progress numbered it. */
  | { readonly kind: 'step'; readonly ref: string | undefined; readonly step: number };

/** ShellSite is a resolved target: the snapshot to run over and the process settings it had. */
interface ShellSite {
  readonly snapshotId: string;
  readonly process: Omit<ProcessSpec, 'args'>;
  readonly network: NetworkMode;
  readonly what: string;
}

/** A step whose settings are unknown (an internal step, or a record made before steps kept them) gets what a container of an image without config gets. */
const BARE_PROCESS: Omit<ProcessSpec, 'args'> = { env: [], cwd: '/', user: '' };

interface ImageConfigFile {
  readonly config?: { readonly Env?: readonly string[]; readonly WorkingDir?: string; readonly User?: string };
}

/** configProcess is the process an image config gives a container: its Env, WorkingDir and User. */
function configProcess(value: ImageConfigFile): Omit<ProcessSpec, 'args'> {
  const c = value.config ?? {};
  return { env: c.Env ?? [], cwd: c.WorkingDir || '/', user: c.User ?? '' };
}

async function imageSite(store: Store, arg: string): Promise<ShellSite> {
  const rec = findStoredImage(store, arg);
  if (rec.snapshotId === null) {
    throw new UsageError(`Cannot open a shell in ${arg}: its layers are not unpacked in this store`, { hint: 'build it again without --cache-from, or run a build FROM it' });
  }
  const { value } = await readJsonBlob<ImageConfigFile>(store, rec.configDigest);
  return { snapshotId: rec.snapshotId, process: configProcess(value), network: 'default', what: arg };
}

/** execSettings reads a RUN's environment, working folder, user and network from its recorded cache key preimage. */
export function execSettings(preimage: unknown): { process: Omit<ProcessSpec, 'args'>; network: NetworkMode } | undefined {
  if (typeof preimage !== 'object' || preimage === null || !('kind' in preimage) || preimage.kind !== 'exec' || !('fields' in preimage)) return undefined;
  const fields = preimage.fields as { meta?: { env?: unknown; cwd?: unknown; user?: unknown }; network?: unknown };
  const meta = fields.meta;
  if (meta === undefined || !Array.isArray(meta.env) || typeof meta.cwd !== 'string' || typeof meta.user !== 'string') return undefined;
  const network = fields.network === 'none' || fields.network === 'host' ? fields.network : 'default';
  return { process: { env: meta.env.filter((e): e is string => typeof e === 'string'), cwd: meta.cwd, user: meta.user }, network };
}

function stepSite(store: Store, records: HistoryAccess, ref: string | undefined, index: number): ShellSite {
  const record = records.get(ref);
  const step = record.steps.find((s) => s.index === index);
  if (step === undefined) {
    throw new UsageError(`Cannot open a shell in step #${index}: build ${record.ref} has steps #1 to #${record.steps.length}`, { hint: `tbuild history inspect ${record.ref} lists them` });
  }
  const what = `#${index} ${step.name}`;
  const base = step.cacheKey === undefined ? undefined : findBaseImage(store.meta, preimageOf(store.meta, record, step.cacheKey));
  if (base !== undefined) {
    // A FROM step: the base image's files, and the stage's settings as of the step (else the image config's).
    if (base.snapshotId === null) throw new UsageError(`Cannot open a shell in step ${what}: its image has no layers`);
    return { snapshotId: base.snapshotId, process: step.process ?? configProcess(base.config), network: 'default', what };
  }
  const cached = step.cacheKey === undefined ? undefined : store.meta.cacheRecords.get(step.cacheKey);
  if (step.cacheKey === undefined || cached === undefined) {
    const why = step.status === 'failed' ? 'it failed (tbuild build --on-error=shell opens a shell in a failing step)' : step.status === 'cancelled' ? 'it was cancelled' : 'its result is no longer in the build cache';
    throw new UsageError(`Cannot open a shell in step ${what}: ${why}`);
  }
  if (cached.snapshotId === null) throw new UsageError(`Cannot open a shell in step ${what}: its result is an empty filesystem`);
  // A RUN's settings are in its key's preimage; another Dockerfile step's are the stage's as of that step.
  const settings = execSettings(preimageOf(store.meta, record, step.cacheKey));
  return { snapshotId: cached.snapshotId, process: settings?.process ?? step.process ?? BARE_PROCESS, network: settings?.network ?? 'default', what };
}

/**
 * openDebugShell runs a shell over the result of a target, on the terminal the shell names: a scratch layer over the
 * snapshot takes its changes and is thrown away after. It returns how the shell ended.
 */
export async function openDebugShell(
  target: DebugTarget,
  shell: DebugShell,
  deps: { readonly store: Store; readonly records: HistoryAccess; readonly executor: () => Promise<Executor>; readonly signal: AbortSignal },
): Promise<ExecResult> {
  const { store } = deps;
  // Held while the shell runs, as a build holds it: a prune in any process keeps the snapshot found below and its parents.
  await using _lease = await store.lease.hold();
  const site = target.kind === 'image' ? await imageSite(store, target.image) : stepSite(store, deps.records, target.ref, target.step);
  if (!store.snapshotter.exists(site.snapshotId)) throw new UsageError(`Cannot open a shell in ${site.what}: its files are no longer in the store`);
  await using scratch = await store.snapshotter.prepare(site.snapshotId);
  shell.starting?.({ stepName: site.what });
  // Awaited here: the scratch layer must outlive the shell.
  return await (await deps.executor()).run(
    {
      rootfs: { lowerdirs: scratch.lowerdirs, upperdir: scratch.dir, workdir: scratch.workdir },
      process: { ...site.process, args: shell.args ?? DEFAULT_SHELL },
      network: site.network,
      security: 'sandbox',
      mounts: [],
      terminal: shell.terminal,
    },
    { signal: deps.signal },
  );
}
