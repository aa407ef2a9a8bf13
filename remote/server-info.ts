import type PQueue from 'p-queue';
import { hostPlatform } from '../base/oci.js';
import type { InfoMsg } from './admin-messages.js';

/** infoFor describes a running server. */
export function infoFor(o: { version: string; root: string; maxParallelBuilds: number; queue: PQueue; addresses: readonly string[]; uptimeMs: number }): InfoMsg {
  const p = hostPlatform();
  return {
    version: o.version,
    root: o.root,
    platform: { os: p.os, architecture: p.architecture, variant: p.variant ?? '' },
    maxParallelBuilds: o.maxParallelBuilds,
    running: o.queue.pending,
    queued: o.queue.size,
    addresses: o.addresses,
    uptimeMs: o.uptimeMs,
  };
}
