import { Fields } from './wire-fields.js';
import type { PlatformMsg } from './messages.js';

/** BuildInfoMsg is the state of one build on the server. */
export interface BuildInfoMsg {
  readonly buildId: string;
  readonly clientId: string;
  readonly state: string;
  readonly createdMs: number;
  readonly finishedMs: number;
  readonly error: string;
}

/** InfoMsg describes a server. */
export interface InfoMsg {
  readonly version: string;
  readonly root: string;
  readonly platform: PlatformMsg;
  readonly maxParallelBuilds: number;
  readonly running: number;
  readonly queued: number;
  readonly addresses: readonly string[];
  readonly uptimeMs: number;
}

/** PruneMsg carries the `tbuild prune` options. */
export interface PruneMsg {
  readonly all: boolean;
  readonly until: string;
  readonly keepStorage: string;
}

/** decodeBuildInfo reads a decoded BuildInfo. */
export function decodeBuildInfo(v: unknown): BuildInfoMsg {
  const f = new Fields(v, 'BuildInfo');
  return { buildId: f.str('buildId'), clientId: f.str('clientId'), state: f.str('state'), createdMs: f.num('createdMs'), finishedMs: f.num('finishedMs'), error: f.str('error') };
}

/** decodeInfo reads a decoded InfoResponse. */
export function decodeInfo(v: unknown): InfoMsg {
  const f = new Fields(v, 'InfoResponse');
  const p = f.sub('platform');
  return {
    version: f.str('version'),
    root: f.str('root'),
    platform: { os: p?.str('os') ?? '', architecture: p?.str('architecture') ?? '', variant: p?.str('variant') ?? '' },
    maxParallelBuilds: f.num('maxParallelBuilds'),
    running: f.num('running'),
    queued: f.num('queued'),
    addresses: f.strings('addresses'),
    uptimeMs: f.num('uptimeMs'),
  };
}

/** decodePrune reads a decoded PruneRequest. */
export function decodePrune(v: unknown): PruneMsg {
  const f = new Fields(v, 'PruneRequest');
  return { all: f.bool('all'), until: f.str('until'), keepStorage: f.str('keepStorage') };
}

/** decodeText reads a message whose one field is `text`. */
export function decodeText(v: unknown): { readonly text: string } {
  return { text: new Fields(v, 'response').str('text') };
}

/** decodeEmpty reads a message without fields. */
export function decodeEmpty(v: unknown): Record<string, never> {
  new Fields(v, 'request');
  return {};
}
