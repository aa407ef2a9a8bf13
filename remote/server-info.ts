import type { ControllerInfo } from '../controller/index.js';
import type { InfoMsg } from './admin-messages.js';

/** infoFor describes a running server: its controller, and what the server adds. */
export function infoFor(c: ControllerInfo, o: { version: string; addresses: readonly string[]; uptimeMs: number; platforms: readonly string[] }): InfoMsg {
  const p = c.platform;
  return {
    version: o.version,
    root: c.root,
    platform: { os: p.os, architecture: p.architecture, variant: p.variant ?? '' },
    maxParallelBuilds: c.maxParallelBuilds,
    running: c.running,
    queued: c.queued,
    addresses: o.addresses,
    uptimeMs: o.uptimeMs,
    platforms: o.platforms,
  };
}
