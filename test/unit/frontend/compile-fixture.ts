import type { Digest } from '../../../base/digest.js';
import type { ImageConfig } from '../../../base/oci.js';
import type { CompileOptions, ResolvedImageConfig } from '../../../frontend/index.js';
import { walkVertices, type Edge } from '../../../solver/graph/index.js';

/** BUSYBOX is the config the fake resolver returns for busybox and alpine. */
export const BUSYBOX: ImageConfig = {
  architecture: 'amd64',
  os: 'linux',
  config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'] },
  rootfs: { type: 'layers', diff_ids: [`sha256:${'1'.repeat(64)}` as Digest] },
  history: [{ created_by: 'BUSYBOX', created: '2024-01-01T00:00:00Z' }],
};

/** DIGEST is the manifest digest every fake-resolved image has. */
export const DIGEST = `sha256:${'a'.repeat(64)}`;

/** fakeResolver resolves busybox, alpine and withonbuild (busybox with an ONBUILD trigger), recording each ref. */
export function fakeResolver(calls: string[] = []): CompileOptions['resolveImageConfig'] {
  return async (ref) => {
    calls.push(ref);
    const name = ref.replace(/:.*$/, '');
    if (name !== 'busybox' && name !== 'alpine' && name !== 'withonbuild') throw new Error(`manifest unknown: ${ref}`);
    const tag = ref.includes(':') ? ref : `${ref}:latest`;
    const config: ImageConfig = name === 'withonbuild' ? { ...BUSYBOX, config: { ...BUSYBOX.config, OnBuild: ['RUN echo triggered'] } } : BUSYBOX;
    const resolved: ResolvedImageConfig = { ref: `docker.io/library/${tag}`, digest: DIGEST, config };
    return resolved;
  };
}

/** compileOptions is a linux/amd64 compilation with the fake resolver, overridden by `over`. */
export function compileOptions(over: Partial<CompileOptions> = {}): CompileOptions {
  return {
    file: 'Dockerfile',
    buildArgs: new Map(),
    targetPlatform: { os: 'linux', architecture: 'amd64' },
    buildPlatform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
    resolveImageConfig: fakeResolver(),
    signal: new AbortController().signal,
    ...over,
  };
}

/** vertices lists every vertex reachable from a root edge. */
export function vertices(root: Edge | null) {
  return root === null ? [] : [...walkVertices([root.vertex])];
}
