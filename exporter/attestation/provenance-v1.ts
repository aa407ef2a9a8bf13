import type { ProvenancePredicate } from './provenance.js';

/** SLSA_PROVENANCE_V1 is the predicate type of a SLSA provenance v1 predicate. */
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
/** BUILD_TYPE_V1 is the buildType of BuildKit's v1 provenance. */
export const BUILD_TYPE_V1 = 'https://github.com/moby/buildkit/blob/master/docs/attestations/slsa-definitions.md';

/** ProvenancePredicateV1 is a SLSA v1 provenance predicate as BuildKit writes it. */
export interface ProvenancePredicateV1 {
  readonly buildDefinition: {
    readonly buildType: string;
    readonly externalParameters: { readonly configSource: Readonly<Record<string, unknown>>; readonly request: Readonly<Record<string, unknown>> };
    readonly internalParameters: Readonly<Record<string, unknown>>;
    readonly resolvedDependencies?: ProvenancePredicate['materials'];
  };
  readonly runDetails: { readonly builder: { readonly id: string }; readonly metadata: Readonly<Record<string, unknown>> };
}

/**
 * provenanceV1 converts a v0.2 predicate to SLSA v1 as BuildKit does (`version=v1`): the materials become resolved
 * dependencies, the invocation the external parameters (configSource's entryPoint named path), the build config and
 * builder platform internal parameters, and BuildKit's extension fields move into the run details' metadata.
 */
export function provenanceV1(p: ProvenancePredicate): ProvenancePredicateV1 {
  const { uri, digest, entryPoint } = p.invocation.configSource;
  const m = p.metadata;
  return {
    buildDefinition: {
      buildType: BUILD_TYPE_V1,
      externalParameters: {
        configSource: { ...(uri === undefined ? {} : { uri }), ...(digest === undefined ? {} : { digest }), ...(entryPoint === undefined ? {} : { path: entryPoint }) },
        request: p.invocation.parameters,
      },
      internalParameters: {
        ...(p.buildConfig === undefined ? {} : { buildConfig: p.buildConfig }),
        builderPlatform: p.invocation.environment.platform,
        ...(p.invocation.environment.dockerfileVersion === undefined ? {} : { dockerfileVersion: p.invocation.environment.dockerfileVersion }),
      },
      ...(p.materials === undefined ? {} : { resolvedDependencies: p.materials }),
    },
    runDetails: {
      builder: p.builder,
      metadata: {
        invocationID: m.buildInvocationID,
        startedOn: m.buildStartedOn,
        finishedOn: m.buildFinishedOn,
        buildkit_metadata: m['https://mobyproject.org/buildkit@v1#metadata'],
        ...(m['https://mobyproject.org/buildkit@v1#hermetic'] === true ? { buildkit_hermetic: true } : {}),
        buildkit_completeness: { request: m.completeness.parameters, resolvedDependencies: m.completeness.materials },
        ...(m.reproducible === true ? { buildkit_reproducible: true } : {}),
      },
    },
  };
}
