import { DockerfileError } from '../base/errors.js';
import { hostPlatform } from '../base/oci.js';
import type { ProgressSink } from '../base/progress.js';
import { compileDockerfile, FindingsError, type BuildDefinition, type BuildWarning, type RunSettings } from '../frontend/index.js';
import { formatReference } from '../registry/index.js';
import { parseLayoutRef, type ImageResolver } from '../solver/ops/index.js';
import { describeRequest, describeResult, inspectResult } from './describe-result.js';
import { workerPlatforms } from './emulation.js';
import { ImageResolutions } from './provenance-capture.js';
import type { BuildInputs } from './resolve-inputs.js';
import { createSourceDateResolver } from './source-date.js';
import type { BuildEnvironment, BuildRequest, BuildResult } from './request.js';

/** CompileRequest is the slice of a request the compile stage reads: what the frontend makes of the Dockerfile. */
export type CompileRequest = Pick<
  BuildRequest,
  'buildArgs' | 'target' | 'platform' | 'noCache' | 'noCacheFilter' | 'check' | 'print' | 'extraHosts' | 'shmSizeBytes' | 'ulimits' | 'cgroupParent' | 'resources'
> & { readonly environment?: Pick<BuildEnvironment, 'sourceDateEpoch' | 'processEnv'> };

/** Compiled is a Dockerfile compiled for building: its graph and image config, and what the export takes from it. */
export interface Compiled {
  readonly kind: 'compiled';
  readonly definition: BuildDefinition;
  /** The check findings, as text lines of the result. */
  readonly warnings: readonly string[];
  /** The build arg BUILDKIT_INLINE_CACHE asks for an inline cache, as `docker build` lets it. */
  readonly inlineCache: boolean;
  /** What each base image reference resolved to, which the provenance records. */
  readonly images: ImageResolutions;
}

/** CompileStage compiles one request's Dockerfile; a build that moved a base image compiles again with the same stage. */
export interface CompileStage {
  /** described answers `--call targets|outline|…` from the Dockerfile alone; undefined when the request compiles. */
  readonly described: BuildResult | undefined;
  /** compile resolves base images and compiles the graph; `--check` and `--print` answer without building. */
  compile(images: ImageResolver, o: { readonly signal: AbortSignal; readonly progress: ProgressSink }): Promise<Compiled | { readonly kind: 'inspected'; readonly result: BuildResult }>;
}

/**
 * createCompileStage takes the compile slice of a request, once, and the inputs the frontend reads; `platformPrefix`
 * names each step's platform (one platform of several built together).
 */
export function createCompileStage(
  request: CompileRequest,
  inputs: Pick<BuildInputs, 'dockerfile' | 'contextIgnore' | 'namedContexts' | 'contextSourceDate'>,
  o: { readonly platformPrefix: boolean },
): CompileStage {
  const buildArgs = buildArgsOf(request);
  const describe = describeRequest(request.print);
  const inspectOnly = request.check === true || request.print !== undefined;
  return {
    described: describe === undefined ? undefined : describeResult({ ...request, buildArgs }, inputs.dockerfile, describe),
    async compile(images, { signal, progress }) {
      const resolutions = new ImageResolutions();
      const definition = await compileDockerfile(inputs.dockerfile.text, {
        file: inputs.dockerfile.name,
        buildArgs,
        ...(request.target === undefined ? {} : { target: request.target }),
        targetPlatform: request.platform ?? hostPlatform(),
        buildPlatform: hostPlatform(),
        ...(request.platform === undefined ? { implicitTargetPlatform: { workerPlatforms } } : {}),
        ...(o.platformPrefix ? { platformPrefix: true } : {}),
        resolveImageConfig: async (ref, o) => {
          const r = await images.resolve(ref, o);
          // An OCI layout's image keeps its layout reference in the graph; the provenance names it as BuildKit does.
          const layout = parseLayoutRef(ref) !== undefined;
          resolutions.add(formatReference(r.ref), r.digest, r.namedDigest, r.config.rootfs.diff_ids, layout ? ref : undefined);
          return { ref: layout ? ref : formatReference(r.ref), digest: r.digest, config: r.config };
        },
        noCache: request.noCache ?? false,
        noCacheFilter: request.noCacheFilter ?? [],
        namedContexts: inputs.namedContexts,
        run: runSettingsOf(request, buildArgs),
        ...(request.check === true ? { checkOnly: true } : {}),
        contextIgnore: inputs.contextIgnore,
        resolveSourceDate: createSourceDateResolver(inputs.contextSourceDate, request.environment?.processEnv ?? {}),
        signal,
      }).catch((err: unknown) => {
        // The findings made before a Dockerfile error are shown with it, as BuildKit shows them.
        if (err instanceof FindingsError) showWarnings(err.warnings, progress);
        throw err;
      });
      const warnings = showWarnings(definition.warnings, progress);
      if (inspectOnly) return { kind: 'inspected', result: inspectResult(request, definition, warnings) };
      if (definition.violation !== undefined) {
        const first = definition.warnings[0]?.location;
        throw new DockerfileError(definition.violation, { code: 'DOCKERFILE_CHECK', ...(first === undefined ? {} : { location: first }) });
      }
      return { kind: 'compiled', definition, warnings, inlineCache: isTrue(buildArgs.get('BUILDKIT_INLINE_CACHE')), images: resolutions };
    },
  };
}

/** buildArgsOf is a request's build args with the caller's SOURCE_DATE_EPOCH added unless one is given, as buildx does. */
export function buildArgsOf(request: Pick<CompileRequest, 'buildArgs' | 'environment'>): ReadonlyMap<string, string> {
  const given = request.buildArgs ?? new Map<string, string>();
  const fromEnv = request.environment?.sourceDateEpoch;
  if (fromEnv === undefined || given.has('SOURCE_DATE_EPOCH')) return given;
  return new Map([...given, ['SOURCE_DATE_EPOCH', fromEnv]]);
}

/** showWarnings reports the Dockerfile's check findings as progress and returns them as text lines. */
function showWarnings(found: readonly BuildWarning[], progress: ProgressSink): string[] {
  return found.map((w) => {
    const where = w.location ? `${w.location.file}:${w.location.startLine}` : undefined;
    const finding = { rule: w.rule, description: w.description, detail: w.message, ...(w.url === undefined ? {} : { url: w.url }), ...(w.location ? { location: w.location } : {}) };
    progress.emit({ type: 'warning', message: `${w.rule}: ${w.message}`, ...(where ? { location: where } : {}), finding, time: Date.now() });
    return `${w.rule}: ${w.message}${where ? ` (${where})` : ''}`;
  });
}

/**
 * runSettingsOf picks the settings every RUN gets from the request, leaving out those not given. The build arg
 * BUILDKIT_SANDBOX_HOSTNAME names the RUN hostname, as in BuildKit (where it is part of each RUN's cache key too).
 */
function runSettingsOf(request: CompileRequest, buildArgs: ReadonlyMap<string, string>): RunSettings {
  const hostname = buildArgs.get('BUILDKIT_SANDBOX_HOSTNAME') ?? '';
  return {
    ...(hostname === '' ? {} : { hostname }),
    ...(request.extraHosts === undefined || request.extraHosts.length === 0 ? {} : { extraHosts: request.extraHosts }),
    ...(request.shmSizeBytes === undefined ? {} : { shmSizeBytes: request.shmSizeBytes }),
    ...(request.ulimits === undefined || request.ulimits.length === 0 ? {} : { ulimits: request.ulimits }),
    ...(request.cgroupParent === undefined ? {} : { cgroupParent: request.cgroupParent }),
    ...(request.resources === undefined ? {} : { resources: request.resources }),
  };
}

/** isTrue reads a build arg as BuildKit reads a boolean one. */
function isTrue(value: string | undefined): boolean {
  return ['1', 'true', 'yes', 'on'].includes((value ?? '').toLowerCase());
}
