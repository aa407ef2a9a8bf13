import { randomBytes } from 'node:crypto';
import { isDigest, type Digest } from '../base/digest.js';
import { hostPlatform } from '../base/oci.js';
import { commitDigestSet, redactCredentials, type ProvenanceCapture, type ProvenanceSecret, type ProvenanceStep } from '../exporter/index.js';
import { walkVertices, type Op, type RunResources, type Vertex } from '../solver/graph/index.js';
import type { SourcePin } from '../solver/index.js';
import { layoutContextArg } from './layout-contexts.js';
import type { BuildRequest, ContextOrigin } from './request.js';

/** ImageResolutions remembers what each image reference the build pinned was named by: `ref@manifest` → ref and digest. */
export class ImageResolutions {
  readonly #byPinned = new Map<string, { ref: string; named: Digest; diffIds: readonly Digest[]; local?: true }>();

  /**
   * add records a resolution: the reference as written, the digest it named (an index, or the manifest itself) and
   * the image's layers by diff ID. An image of the client's OCI layout is pinned in the graph as `layoutRef`
   * (`oci-layout://NAME@DIGEST`) and named by `ref` (`NAME@DIGEST`).
   */
  add(ref: string, manifest: string, named: Digest, diffIds: readonly Digest[], layoutRef?: string): void {
    if (layoutRef !== undefined) this.#byPinned.set(layoutRef, { ref, named, diffIds, local: true });
    else this.#byPinned.set(ref.includes('@') ? ref : `${ref}@${manifest}`, { ref, named, diffIds });
  }

  /** diffIdsOf lists the layers of a pinned image source by diff ID, bottom first. */
  diffIdsOf(pinned: string): readonly Digest[] | undefined {
    return this.#byPinned.get(pinned)?.diffIds;
  }

  /** of finds the reference and named digest of a pinned image source; a reference the user pinned names itself. */
  of(pinned: string): { ref: string; digest: Digest; local?: true } | undefined {
    const known = this.#byPinned.get(pinned);
    if (known !== undefined) return { ref: known.ref, digest: known.named, ...(known.local === true ? { local: true } : {}) };
    const at = pinned.lastIndexOf('@');
    const digest = pinned.slice(at + 1);
    return at < 0 || !isDigest(digest) ? undefined : { ref: pinned, digest };
  }
}

/** frontendArgs writes the request's options as BuildKit's Dockerfile frontend receives them from buildx. */
function frontendArgs(request: BuildRequest, layoutDigests: ReadonlyMap<string, Digest> | undefined): Record<string, string> {
  const args: Record<string, string> = {};
  for (const [k, v] of request.buildArgs ?? []) args[`build-arg:${k}`] = v;
  for (const [k, v] of Object.entries(request.labels ?? {})) args[`label:${k}`] = v;
  if (request.target !== undefined) args['target'] = request.target;
  if (request.noCache === true) args['no-cache'] = '';
  else if ((request.noCacheFilter ?? []).length > 0) args['no-cache'] = (request.noCacheFilter ?? []).join(',');
  if (request.network !== undefined && request.network !== 'default') args['force-network-mode'] = request.network;
  if ((request.extraHosts ?? []).length > 0) args['add-hosts'] = (request.extraHosts ?? []).map((h) => `${h.host}=${h.ip}`).join(',');
  if (request.shmSizeBytes !== undefined) args['shm-size'] = String(request.shmSizeBytes);
  if ((request.ulimits ?? []).length > 0) args['ulimit'] = (request.ulimits ?? []).map((u) => `${u.name}=${u.soft}:${u.hard}`).join(',');
  if (request.cgroupParent !== undefined) args['cgroup-parent'] = request.cgroupParent;
  Object.assign(args, resourceArgs(request.resources ?? {}));
  for (const c of request.buildContexts ?? []) {
    if (c.type === 'local') args[`context:${c.name}`] = `local:${c.name}`;
    else if (c.type === 'image') args[`context:${c.name}`] = `docker-image://${c.ref}`;
    else if (c.type === 'oci-layout') args[`context:${c.name}`] = layoutContextArg(c, layoutDigests?.get(c.name));
    else args[`context:${c.name}`] = redactCredentials(c.url);
  }
  return args;
}

/** resourceArgs names cgroup limits as buildx sends them to BuildKit's Dockerfile frontend (`memory`, `cpushares` …). */
function resourceArgs(r: RunResources): Record<string, string> {
  const attrs: [string, number | string | undefined][] = [
    ['memory', r.memoryBytes],
    ['memswap', r.memorySwapBytes],
    ['cpushares', r.cpuShares],
    ['cpuperiod', r.cpuPeriodUs],
    ['cpuquota', r.cpuQuotaUs],
    ['cpusetcpus', r.cpusetCpus],
    ['cpusetmems', r.cpusetMems],
  ];
  return Object.fromEntries(attrs.flatMap(([k, v]) => (v === undefined ? [] : [[k, String(v)]])));
}

/**
 * stepOp is an op as the provenance records it: proxy settings, which may carry credentials, are left out, and so are
 * cgroup limits, which BuildKit keeps in op metadata (the build's arguments record them).
 */
function stepOp(op: Op): unknown {
  if (op.kind !== 'exec' || (op.proxyEnv === undefined && op.resources === undefined)) return op;
  const { proxyEnv: _proxyEnv, resources: _resources, ...rest } = op;
  return rest;
}

/** CaptureInput is what a build knows of itself once its graph is solved. */
export interface CaptureInput {
  readonly request: BuildRequest;
  readonly root: Vertex | undefined;
  readonly dockerfile: Uint8Array;
  /** The name the Dockerfile was given as (`Dockerfile`). */
  readonly dockerfileName: string;
  /** The URL a context was fetched from and what it resolved to; undefined for a folder. */
  readonly contextOrigin: ContextOrigin | undefined;
  /** The digest the image of each `oci-layout://` context was found at, by context name (buildx sends it so). */
  readonly layoutDigests?: ReadonlyMap<string, Digest>;
  readonly images: ImageResolutions;
  /** What each source resolved to when it was keyed (git commits, download digests), by vertex digest. */
  readonly pins: ReadonlyMap<string, SourcePin>;
  readonly startedOn: Date;
}

/** GraphCapture is what the graph itself tells the provenance: its steps, pinned sources, secrets and network use. */
type GraphCapture = Pick<ProvenanceCapture, 'steps' | 'images' | 'git' | 'http' | 'secrets' | 'ssh' | 'networkAccess'>;

/** captureGraph walks the solved graph, inputs before their users, collecting what each op tells the provenance. */
function captureGraph(input: CaptureInput): GraphCapture {
  const out: { steps: ProvenanceStep[]; images: ProvenanceCapture['images'][number][]; git: { url: string; commit: string }[]; http: { url: string; digest: Digest }[] } = {
    steps: [],
    images: [],
    git: [],
    http: [],
  };
  const secrets = new Map<string, ProvenanceSecret>();
  const ssh = new Map<string, ProvenanceSecret>();
  let networkAccess = false;
  for (const v of input.root === undefined ? [] : walkVertices([input.root])) {
    const { op } = v;
    out.steps.push({ digest: v.digest, op: stepOp(op), inputs: v.inputs.map((e) => ({ digest: e.vertex.digest, output: e.output })), ...(v.metadata.location === undefined ? {} : { location: v.metadata.location }) });
    const pin = input.pins.get(v.digest);
    if (op.kind === 'source') {
      const s = op.source;
      if (s.type === 'image') {
        const named = input.images.of(s.ref);
        if (named !== undefined && !out.images.some((i) => i.ref === named.ref && i.digest === named.digest)) out.images.push({ ...named, platform: op.platform });
      } else if (s.type === 'git' && pin?.type === 'git') out.git.push({ url: s.ref === '' ? s.remote : `${s.remote}#${s.ref}`, commit: pin.commit });
      else if (s.type === 'http' && pin?.type === 'http' && isDigest(pin.digest)) out.http.push({ url: s.url, digest: pin.digest });
    } else if (op.kind === 'exec') {
      for (const m of op.mounts) {
        if (m.type === 'secret') secrets.set(m.id, { id: m.id, optional: !m.required });
        if (m.type === 'ssh') ssh.set(m.id, { id: m.id, optional: !m.required });
      }
      const network = op.network === 'default' ? (input.request.network ?? 'default') : op.network;
      if (network !== 'none') networkAccess = true;
    }
  }
  return { ...out, secrets: [...secrets.values()], ssh: [...ssh.values()], networkAccess };
}

/**
 * captureProvenance collects what the provenance of a build records: its options, the sources it pinned (images by
 * the digest their reference named, git commits, download digests), secret and SSH ids, network use and the graph.
 * A context fetched from a URL is the config source and a material, as BuildKit records a remote context; no local
 * folder of the client is then read for it.
 */
export function captureProvenance(input: CaptureInput): ProvenanceCapture {
  const { request } = input;
  const graph = captureGraph(input);
  const entryPoint = input.dockerfileName || 'Dockerfile';
  const remote = input.contextOrigin;
  const git = remote?.type === 'git' ? [{ url: withoutSubdir(remote.url), commit: remote.commit }, ...graph.git] : graph.git;
  const http = remote?.type === 'http' && isDigest(remote.digest) ? [{ url: remote.url, digest: remote.digest }, ...graph.http] : graph.http;
  const named = (request.buildContexts ?? []).flatMap((c) => (c.type === 'local' ? [c.name] : []));
  return {
    ...graph,
    args: frontendArgs(request, input.layoutDigests),
    configSource: remote === undefined ? { entryPoint } : { uri: remote.url, digest: remote.type === 'git' ? commitDigestSet(remote.commit) : { sha256: remote.digest.replace(/^sha256:/, '') }, entryPoint },
    locals: remote === undefined ? ['context', 'dockerfile', ...named] : named,
    git,
    http,
    dockerfile: { name: entryPoint, data: input.dockerfile },
    builderPlatform: hostPlatform(),
    vcs: request.vcs ?? {},
    invocationId: invocationId(),
    startedOn: input.startedOn,
  };
}

/**
 * withoutSubdir is a git context URL as its material: the repository at its ref (`URL#REF`), without the folder a
 * `#REF:FOLDER` fragment picks, as BuildKit records the git source the context came from.
 */
function withoutSubdir(url: string): string {
  const hash = url.indexOf('#');
  if (hash < 0) return url;
  const ref = url.slice(hash + 1).split(':')[0] ?? '';
  return ref === '' ? url.slice(0, hash) : `${url.slice(0, hash)}#${ref}`;
}

/** invocationId is a build id as BuildKit makes them: 25 random base-36 characters. */
function invocationId(): string {
  return [...randomBytes(25)].map((b) => (b % 36).toString(36)).join('');
}
