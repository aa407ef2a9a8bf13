import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { isExecutableOnPath } from '../base/fs.js';
import type { OciRuntime } from './executor-choice.js';

/** Readiness is whether a builder can take builds now, with the reason when it cannot. */
export type Readiness = { readonly ready: true } | { readonly ready: false; readonly reason: string };

/** ReadinessOptions name what a builder builds with: its store folder and the runtime of RUN steps. */
export interface ReadinessOptions {
  readonly root: string;
  readonly ociRuntime?: OciRuntime | undefined;
  /** The PATH the runtime is looked up in (the caller's environment: the controller reads no process state). */
  readonly searchPath: string;
}

/**
 * checkReadiness tells whether a builder whose controller is open can build: its store folder is still there and
 * writable, and what runs RUN steps is installed (tbuild's sandbox helper, or runc/crun on the PATH). It never throws:
 * a failed check is the reason given.
 */
export async function checkReadiness(o: ReadinessOptions): Promise<Readiness> {
  try {
    await access(o.root, constants.W_OK);
  } catch (err) {
    return { ready: false, reason: `the store folder "${o.root}" is not writable: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (o.ociRuntime !== undefined) {
    const found = await isExecutableOnPath(o.ociRuntime, o.searchPath).catch((err: unknown) => err);
    if (found === true) return { ready: true };
    return { ready: false, reason: `the OCI runtime "${o.ociRuntime}" is not on the PATH${found === false ? '' : `: ${String(found)}`}` };
  }
  try {
    // The executor module loads only here, as for a build's first RUN: a controller's chunk does not carry it.
    const { findHelper } = await import('../executor/index.js');
    const helper = await findHelper();
    await access(helper, constants.X_OK);
    return { ready: true };
  } catch (err) {
    return { ready: false, reason: `the sandbox cannot run: ${err instanceof Error ? err.message : String(err)}` };
  }
}
