import { gunzipSync } from 'node:zlib';
import { expect } from 'vitest';
import { readTarToMap, type TarMember } from './fixtures.js';

/** Descriptor is an OCI descriptor as the ported provenance tests read it. */
export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly annotations?: Record<string, string>;
  readonly platform?: { readonly os: string; readonly architecture: string; readonly variant?: string };
}

/** PushedImage is one manifest of a pushed index with its layers: unpacked files for images, raw bytes for attestations. */
export interface PushedImage {
  readonly desc: Descriptor;
  readonly layers: readonly Map<string, TarMember>[];
  readonly layersRaw: readonly Buffer[];
}

/** PushedImages is BuildKit's testutil.ReadImages result: every manifest of an index, found by platform. */
export interface PushedImages {
  readonly images: readonly PushedImage[];
  /** find returns the manifest whose platform is `os/arch[/variant]` (`unknown/unknown` for an attestation). */
  find(platform: string): PushedImage | undefined;
  /** findAttestation returns the attestation manifest of the image of a platform. */
  findAttestation(platform: string): PushedImage | undefined;
}

const ACCEPT = ['application/vnd.oci.image.index.v1+json', 'application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json', 'application/vnd.docker.distribution.manifest.v2+json'].join(', ');

function platformOf(d: Descriptor): string {
  const p = d.platform;
  return p === undefined ? '' : [p.os, p.architecture, ...(p.variant === undefined ? [] : [p.variant])].join('/');
}

/** readImages reads an index pushed to the loopback registry (`registryUrl`) under `repo:tag`, as BuildKit's testutil.ReadImages. */
export async function readImages(registryUrl: string, repo: string, tag: string): Promise<PushedImages> {
  const get = async (path: string): Promise<Buffer> => {
    const res = await fetch(`${registryUrl}/v2/${repo}/${path}`, { headers: { accept: ACCEPT } });
    expect(res.status, `GET ${path}`).toBe(200);
    return Buffer.from(await res.arrayBuffer());
  };
  const index = JSON.parse((await get(`manifests/${tag}`)).toString()) as { manifests: Descriptor[] };
  const images: PushedImage[] = [];
  for (const desc of index.manifests) {
    const manifest = JSON.parse((await get(`manifests/${desc.digest}`)).toString()) as { layers: Descriptor[] };
    const layersRaw = await Promise.all(manifest.layers.map((l) => get(`blobs/${l.digest}`)));
    const attestation = desc.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest';
    const layers = attestation ? [] : await Promise.all(layersRaw.map((raw) => readTarToMap(raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw)));
    images.push({ desc, layers, layersRaw });
  }
  const find = (platform: string): PushedImage | undefined => images.find((i) => platformOf(i.desc) === platform);
  return {
    images,
    find,
    findAttestation(platform) {
      const image = find(platform);
      return image === undefined ? undefined : images.find((i) => i.desc.annotations?.['vnd.docker.reference.digest'] === image.desc.digest);
    },
  };
}

/** Statement is an in-toto statement as the tests read it. */
export interface Statement<P> {
  readonly _type: string;
  readonly predicateType: string;
  readonly predicate: P;
}

/** ProvenanceV1 is the part of a SLSA v1 predicate the tests read (BuildKit's ProvenancePredicateSLSA1). */
export interface ProvenanceV1 {
  readonly buildDefinition: {
    readonly buildType: string;
    readonly externalParameters: {
      readonly configSource: { readonly uri?: string; readonly digest?: Record<string, string>; readonly path?: string };
      readonly request: Parameters;
    };
    readonly internalParameters: {
      readonly buildConfig?: BuildConfig;
      readonly builderPlatform: string;
      readonly dockerfileVersion?: string;
      readonly provenanceCustomEnv?: Record<string, unknown>;
    };
    readonly resolvedDependencies?: readonly Material[];
  };
  readonly runDetails: {
    readonly builder: { readonly id: string };
    readonly metadata: {
      readonly invocationID: string;
      readonly startedOn?: string;
      readonly finishedOn?: string;
      readonly buildkit_metadata?: BuildkitMetadata;
      readonly buildkit_hermetic?: boolean;
      readonly buildkit_completeness: { readonly request: boolean; readonly resolvedDependencies: boolean };
      readonly buildkit_reproducible?: boolean;
    };
  };
}

/** ProvenanceV02 is the part of a SLSA v0.2 predicate the tests read (BuildKit's ProvenancePredicateSLSA02). */
export interface ProvenanceV02 {
  readonly builder: { readonly id: string };
  readonly buildType: string;
  readonly materials?: readonly Material[];
  readonly invocation: {
    readonly configSource: { readonly uri?: string; readonly digest?: Record<string, string>; readonly entryPoint?: string };
    readonly parameters: Parameters;
    readonly environment: { readonly platform: string; readonly dockerfileVersion?: string; readonly provenanceCustomEnv?: Record<string, unknown> };
  };
  readonly buildConfig?: BuildConfig;
  readonly metadata: {
    readonly buildInvocationID: string;
    readonly buildStartedOn?: string;
    readonly buildFinishedOn?: string;
    readonly completeness: { readonly parameters: boolean; readonly environment: boolean; readonly materials: boolean };
    readonly reproducible?: boolean;
    readonly 'https://mobyproject.org/buildkit@v1#metadata'?: BuildkitMetadata;
    readonly 'https://mobyproject.org/buildkit@v1#hermetic'?: boolean;
  };
}

/** Parameters are the frontend request of a provenance. */
export interface Parameters {
  readonly frontend?: string;
  readonly args?: Record<string, string>;
  readonly secrets?: readonly { readonly id: string; readonly optional?: boolean }[];
  readonly ssh?: readonly { readonly id: string; readonly optional?: boolean }[];
  readonly locals?: readonly { readonly name: string }[];
}

export interface Material {
  readonly uri: string;
  readonly digest?: Record<string, string>;
}

export interface BuildConfig {
  readonly llbDefinition: readonly { readonly id: string; readonly op?: unknown; readonly inputs?: readonly string[] }[];
}

export interface BuildkitMetadata {
  readonly vcs?: Record<string, string>;
  readonly source?: {
    readonly locations: Record<string, { readonly locations?: readonly { readonly ranges?: readonly { readonly start: { readonly line: number }; readonly end: { readonly line: number } }[] }[] }>;
    readonly infos: readonly { readonly filename: string; readonly language?: string; readonly data: string }[];
  };
  readonly layers?: Record<string, readonly (readonly Descriptor[])[]>;
}

/** statementOf parses an attestation layer as an in-toto statement. */
export function statementOf<P>(raw: Buffer | undefined): Statement<P> {
  expect(raw).toBeDefined();
  return JSON.parse(raw?.toString() ?? '{}') as Statement<P>;
}
