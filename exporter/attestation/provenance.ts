import { digestHex, type Digest } from '../../base/digest.js';
import { lineRanges, type SourceLocation } from '../../base/errors.js';
import { formatPlatform, type Descriptor, type Platform } from '../../base/oci.js';
import { imagePackageUrl } from './purl.js';

/** SLSA_PROVENANCE_V02 is the predicate type of a SLSA provenance v0.2 predicate. */
export const SLSA_PROVENANCE_V02 = 'https://slsa.dev/provenance/v0.2';
/** BUILD_TYPE is the buildType of BuildKit's v0.2 provenance, whose structure tbuild's follows. */
export const BUILD_TYPE = 'https://mobyproject.org/buildkit@v1';
/** FRONTEND names the frontend that compiled the build, as BuildKit names its Dockerfile frontend. */
export const FRONTEND = 'dockerfile.v0';

/** ProvenanceStep is one vertex of the build graph: its digest, op (as data), inputs and Dockerfile location. */
export interface ProvenanceStep {
  readonly digest: string;
  readonly op: unknown;
  readonly inputs: readonly { readonly digest: string; readonly output: number }[];
  readonly location?: SourceLocation;
}

/** ProvenanceSecret is a secret or SSH agent a RUN mounted, by id; values are never recorded. */
export interface ProvenanceSecret {
  readonly id: string;
  readonly optional: boolean;
}

/** ProvenanceCapture is what a build records for its provenance: its request, the sources it pinned and its graph. */
export interface ProvenanceCapture {
  /** The frontend options as BuildKit receives them (`build-arg:K`, `label:K`, `target`, `context:NAME` …). */
  readonly args: Readonly<Record<string, string>>;
  /** The Dockerfile's name (entryPoint) and, for a context fetched from a URL, that URL and what it resolved to. */
  readonly configSource: { readonly entryPoint?: string; readonly uri?: string; readonly digest?: Readonly<Record<string, string>> };
  /** Names of the local sources the build read (the context, the Dockerfile, local named contexts). */
  readonly locals: readonly string[];
  /**
   * Base images as referenced (without the pin) with the digest their reference named (an index or a manifest);
   * `local` for an image of the client's OCI layout, which BuildKit names as an OCI package.
   */
  readonly images: readonly { readonly ref: string; readonly platform: Platform; readonly digest: Digest; readonly local?: boolean }[];
  readonly git: readonly { readonly url: string; readonly commit: string }[];
  readonly http: readonly { readonly url: string; readonly digest: Digest }[];
  readonly secrets: readonly ProvenanceSecret[];
  readonly ssh: readonly ProvenanceSecret[];
  /** Whether a RUN had network access (a build without is hermetic when its materials are complete). */
  readonly networkAccess: boolean;
  /** The graph, inputs before their users; the last step is the result. Empty for a build of nothing. */
  readonly steps: readonly ProvenanceStep[];
  readonly dockerfile: { readonly name: string; readonly data: Uint8Array };
  readonly builderPlatform: Platform;
  /**
   * The version control checkout the context came from, as buildx reports it (`source`: its remote URL, `revision`:
   * its commit, `localdir:NAME`: where a local source is in the checkout); empty when it is none.
   */
  readonly vcs: Readonly<Record<string, string>>;
  readonly invocationId: string;
  readonly startedOn: Date;
}

/** ProvenanceOptions are the `--attest type=provenance` attributes and what the export adds. */
export interface ProvenanceOptions {
  readonly mode: 'min' | 'max';
  readonly builderId?: string;
  readonly reproducible?: boolean;
  readonly finishedOn: Date;
  /** Layer chains of step results in the image (mode=max), by vertex digest, bottom first. */
  readonly layers?: ReadonlyMap<string, readonly Descriptor[]>;
  /** The version of the Dockerfile frontend (tbuild's own), as BuildKit records its frontend's. */
  readonly dockerfileVersion?: string;
}

/** ProvenancePredicate is a SLSA v0.2 provenance predicate, its members in the order BuildKit writes them. */
export interface ProvenancePredicate {
  readonly builder: { readonly id: string };
  readonly buildType: string;
  readonly materials?: readonly { readonly uri: string; readonly digest?: Readonly<Record<string, string>> }[];
  readonly invocation: {
    readonly configSource: ProvenanceCapture['configSource'];
    readonly parameters: Readonly<Record<string, unknown>>;
    readonly environment: { readonly platform: string; readonly dockerfileVersion?: string };
  };
  readonly buildConfig?: { readonly llbDefinition: readonly unknown[]; readonly digestMapping: Readonly<Record<string, string>> };
  readonly metadata: ProvenanceMetadata;
}

/** ProvenanceMetadata is the metadata of a v0.2 predicate with BuildKit's extension fields. */
export interface ProvenanceMetadata {
  readonly buildInvocationID: string;
  readonly buildStartedOn: string;
  readonly buildFinishedOn: string;
  readonly completeness: { readonly parameters: boolean; readonly environment: boolean; readonly materials: boolean };
  readonly reproducible?: boolean;
  readonly 'https://mobyproject.org/buildkit@v1#metadata': Readonly<Record<string, unknown>>;
  readonly 'https://mobyproject.org/buildkit@v1#hermetic'?: boolean;
}

/** goTime writes a time as Go's RFC 3339 with nanoseconds does: trailing zeros of the fraction dropped. */
export function goTime(date: Date): string {
  return date.toISOString().replace(/\.(\d*?)0*Z$/, (_m, digits: string) => (digits === '' ? 'Z' : `.${digits}Z`));
}

/**
 * redactCredentials masks the user and password of a URL as BuildKit does (`https://xxxxx:xxxxx@host/repo.git`), so
 * a provenance never carries them; text that is no URL is left as it is.
 */
export function redactCredentials(text: string): string {
  if (!URL.canParse(text)) return text;
  const u = new URL(text);
  if (u.username === '' && u.password === '') return text;
  if (u.username !== '') u.username = 'xxxxx';
  if (u.password !== '') u.password = 'xxxxx';
  return u.toString();
}

function digestSet(d: Digest): Record<string, string> {
  return { sha256: digestHex(d) };
}

/** commitDigestSet names a git commit by its algorithm: sha256 for 64 hex digits, else sha1. */
export function commitDigestSet(commit: string): Record<string, string> {
  return commit.length === 64 ? { sha256: commit } : { sha1: commit };
}

/** configSourceOf is the capture's config source with credentials of its URL masked, members in BuildKit's order. */
function configSourceOf(c: ProvenanceCapture): ProvenanceCapture['configSource'] {
  const { uri, digest, entryPoint } = c.configSource;
  return { ...(uri === undefined ? {} : { uri: redactCredentials(uri) }), ...(digest === undefined ? {} : { digest }), ...(entryPoint === undefined ? {} : { entryPoint }) };
}

/** materialsOf lists the pinned inputs: images by package URL, then git repositories, then downloads. */
function materialsOf(c: ProvenanceCapture): NonNullable<ProvenancePredicate['materials']> {
  return [
    ...c.images.map((i) => ({ uri: imagePackageUrl(i.ref, i.platform, i.local === true ? 'oci' : 'docker'), digest: digestSet(i.digest) })),
    ...c.git.map((g) => ({ uri: redactCredentials(g.url), digest: commitDigestSet(g.commit) })),
    ...c.http.map((h) => ({ uri: redactCredentials(h.url), digest: digestSet(h.digest) })),
  ];
}

/** minArgs leaves out build args and labels (they may hold anything), as BuildKit's mode=min does. */
function minArgs(args: Readonly<Record<string, string>>): { args: Record<string, string>; complete: boolean } {
  const kept = Object.entries(args).filter(([k]) => !k.startsWith('build-arg:') && !k.startsWith('label:'));
  return { args: Object.fromEntries(kept), complete: kept.length === Object.keys(args).length };
}

/** sortedRecord orders keys as Go writes a map. */
function sortedRecord<T>(record: Readonly<Record<string, T>>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * provenancePredicate describes a build as BuildKit's SLSA v0.2 provenance does. mode=min records the frontend, the
 * options other than build args and labels, the materials and the times; mode=max adds build args, labels, secret
 * and SSH ids, the build graph (tbuild's ops where BuildKit records LLB), the Dockerfile with each step's lines, and
 * the image layers each step's result became.
 */
export function provenancePredicate(c: ProvenanceCapture, o: ProvenanceOptions): ProvenancePredicate {
  const max = o.mode === 'max';
  const scrubbed = max ? { args: { ...c.args }, complete: true } : minArgs(c.args);
  const parameters: Record<string, unknown> = {
    frontend: FRONTEND,
    ...(Object.keys(scrubbed.args).length === 0 ? {} : { args: sortedRecord(scrubbed.args) }),
    ...(max && c.secrets.length > 0 ? { secrets: c.secrets.map((s) => ({ id: s.id, ...(s.optional ? { optional: true } : {}) })) } : {}),
    ...(max && c.ssh.length > 0 ? { ssh: c.ssh.map((s) => ({ id: s.id, ...(s.optional ? { optional: true } : {}) })) } : {}),
    ...(c.locals.length === 0 ? {} : { locals: c.locals.map((name) => ({ name })) }),
  };
  const completeMaterials = c.locals.length === 0;
  const steps = max ? buildSteps(c.steps) : undefined;
  const materials = materialsOf(c);
  const vcs = Object.entries(c.vcs).filter(([, v]) => v !== '').map(([k, v]): [string, string] => [k, k === 'source' ? redactCredentials(v) : v]);
  const buildkitMetadata: Record<string, unknown> = {
    ...(vcs.length === 0 ? {} : { vcs: sortedRecord(Object.fromEntries(vcs)) }),
    ...(steps === undefined || c.steps.length === 0 ? {} : { source: sourceOf(c, steps.ids) }),
    ...(steps === undefined ? {} : layersOf(o.layers, steps.ids)),
  };
  return {
    builder: { id: o.builderId ?? '' },
    buildType: BUILD_TYPE,
    ...(materials.length === 0 ? {} : { materials }),
    invocation: {
      configSource: configSourceOf(c),
      parameters,
      environment: { platform: formatPlatform(c.builderPlatform), ...(o.dockerfileVersion === undefined ? {} : { dockerfileVersion: o.dockerfileVersion }) },
    },
    ...(steps === undefined || c.steps.length === 0 ? {} : { buildConfig: { llbDefinition: steps.list, digestMapping: steps.mapping } }),
    metadata: {
      buildInvocationID: c.invocationId,
      buildStartedOn: goTime(c.startedOn),
      buildFinishedOn: goTime(o.finishedOn),
      completeness: { parameters: scrubbed.complete, environment: true, materials: completeMaterials },
      ...(o.reproducible === true ? { reproducible: true } : {}),
      'https://mobyproject.org/buildkit@v1#metadata': buildkitMetadata,
      ...(completeMaterials && !c.networkAccess ? { 'https://mobyproject.org/buildkit@v1#hermetic': true } : {}),
    },
  };
}

/**
 * buildSteps numbers the graph as BuildKit numbers LLB: step0… with inputs before their users, plus a last step whose
 * only input is the result (BuildKit's definition ends with such a vertex).
 */
function buildSteps(steps: readonly ProvenanceStep[]): { list: unknown[]; ids: Map<string, string>; mapping: Record<string, string> } {
  const ids = new Map<string, string>();
  steps.forEach((s, i) => ids.set(s.digest, `step${i}`));
  const input = (d: { digest: string; output: number }): string => `${ids.get(d.digest) ?? d.digest}:${d.output}`;
  const list: unknown[] = steps.map((s) => ({ id: ids.get(s.digest), op: s.op, ...(s.inputs.length === 0 ? {} : { inputs: s.inputs.map(input) }) }));
  const result = steps[steps.length - 1];
  if (result !== undefined) list.push({ id: `step${steps.length}`, inputs: [input({ digest: result.digest, output: 0 })] });
  return { list, ids, mapping: sortedRecord(Object.fromEntries(ids)) };
}

/** sourceOf maps each step to its Dockerfile lines and carries the Dockerfile itself, as BuildKit's source metadata does. */
function sourceOf(c: ProvenanceCapture, ids: ReadonlyMap<string, string>): Record<string, unknown> {
  const locations: Record<string, unknown> = {};
  for (const s of c.steps) {
    const id = ids.get(s.digest);
    if (s.location !== undefined && id !== undefined) locations[id] = { locations: [{ ranges: lineRanges(s.location) }] };
  }
  return {
    locations: sortedRecord(locations),
    infos: [{ filename: c.dockerfile.name, language: 'Dockerfile', data: Buffer.from(c.dockerfile.data).toString('base64') }],
  };
}

/** layersOf names the image layers each step's result became: `stepN:0` → its chain, bottom first. */
function layersOf(layers: ProvenanceOptions['layers'], ids: ReadonlyMap<string, string>): { layers?: Record<string, unknown> } {
  const out: Record<string, unknown> = {};
  for (const [digest, chain] of layers ?? []) {
    const id = ids.get(digest);
    if (id !== undefined && chain.length > 0) out[`${id}:0`] = [chain.map((d) => ({ mediaType: d.mediaType, digest: d.digest, size: d.size }))];
  }
  return Object.keys(out).length === 0 ? {} : { layers: sortedRecord(out) };
}
