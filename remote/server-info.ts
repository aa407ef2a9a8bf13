import type { ControllerInfo } from '../controller/index.js';
import type { InfoMsg } from './admin-messages.js';
import type { TenantLimits, TenantLoad } from './tenant-gate.js';

/** TenantInfo is the calling tenant as Info describes it: its name, load and limits. */
export interface TenantInfo extends TenantLoad, TenantLimits {
  readonly name: string;
}

/** infoFor describes a running server: its controller, and what the server adds. */
export function infoFor(
  c: ControllerInfo,
  o: { version: string; addresses: readonly string[]; uptimeMs: number; platforms: readonly string[]; tenant: TenantInfo },
): InfoMsg {
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
    tenant: o.tenant.name,
    tenantRunning: o.tenant.running,
    tenantQueued: o.tenant.queued,
    tenantMaxBuilds: o.tenant.maxBuilds ?? 0,
    tenantMaxQueued: o.tenant.maxQueued ?? -1,
  };
}
