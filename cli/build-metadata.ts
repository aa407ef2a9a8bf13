import { writeFile } from 'node:fs/promises';
import { UsageError } from '../base/errors.js';
import { errnoReason } from '../base/errno-reason.js';
import type { BuildResult } from '../controller/index.js';
import { parseGoBool } from './bool-flags.js';
import type { Environment } from './command-io.js';
import type { VertexWarning } from './progress/solve-status.js';

/** MetadataFiles are the result files a build command writes: --iidfile and --metadata-file. */
export interface MetadataFiles {
  readonly iidfile: string | undefined;
  readonly metadataFile: string | undefined;
  /** The builder the build ran on, as buildx names `builder/node` in `buildx.build.ref`. */
  readonly builderRef: string;
}

/** INDEX_TYPES are the media types of image indexes, whose descriptors BuildKit answers without a config digest. */
const INDEX_TYPES = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);

/**
 * metadataProvenanceMode reads BUILDX_METADATA_PROVENANCE as buildx does: min (the default), max, or disabled (also
 * any false boolean); none without a metadata file.
 */
export function metadataProvenanceMode(env: Environment, metadataFile: string | undefined): 'min' | 'max' | undefined {
  if (metadataFile === undefined) return undefined;
  const value = env['BUILDX_METADATA_PROVENANCE'] ?? '';
  if (value === 'max' || value === 'min') return value;
  return value === 'disabled' || parseGoBool(value) === false ? undefined : 'min';
}

/** metadataWarnings tells whether BUILDX_METADATA_WARNINGS asks for `buildx.build.warnings` (a Go boolean, default false). */
export function metadataWarnings(env: Environment): boolean {
  return parseGoBool(env['BUILDX_METADATA_WARNINGS'] ?? '') === true;
}

/**
 * buildMetadata is what buildx writes into --metadata-file: BuildKit's exporter response of the image outputs
 * (`containerimage.descriptor`, `containerimage.digest`, `containerimage.config.digest` of an image manifest,
 * `image.name`), `buildx.build.ref`, the build's provenance (`buildx.build.provenance`, one per platform as
 * `buildx.build.provenance/PLATFORM`) and, when asked for, its warnings; keys sorted as Go writes a map.
 */
export function buildMetadata(result: BuildResult, o: { readonly builderRef: string; readonly warnings?: readonly VertexWarning[] }): Record<string, unknown> {
  const meta: Record<string, unknown> = {};
  const d = result.descriptor;
  if (d !== undefined) {
    const { platform } = d;
    meta['containerimage.descriptor'] = {
      mediaType: d.mediaType,
      digest: d.digest,
      size: d.size,
      ...(platform === undefined ? {} : { platform: { architecture: platform.architecture, os: platform.os, ...(platform.variant === undefined ? {} : { variant: platform.variant }) } }),
    };
    meta['containerimage.digest'] = d.digest;
    if (!INDEX_TYPES.has(d.mediaType) && result.imageId !== undefined) meta['containerimage.config.digest'] = result.imageId;
  }
  if (result.names.length > 0) meta['image.name'] = result.names.join(',');
  if (result.buildId !== undefined) meta['buildx.build.ref'] = `${o.builderRef}/${result.buildId}`;
  for (const p of result.provenance ?? []) meta[p.platform === undefined ? 'buildx.build.provenance' : `buildx.build.provenance/${p.platform}`] = parseJson(p.json);
  if (o.warnings !== undefined && o.warnings.length > 0) meta['buildx.build.warnings'] = o.warnings;
  return Object.fromEntries(Object.entries(meta).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError('Cannot write the metadata file: the builder sent a provenance that is not JSON', { cause: err });
  }
}

/** writeResultFiles writes --iidfile and --metadata-file as docker buildx does; new files get 0666 without the umask. */
export async function writeResultFiles(files: MetadataFiles, result: BuildResult, o: { readonly umask: number; readonly warnings?: readonly VertexWarning[] }): Promise<void> {
  const mode = 0o666 & ~o.umask;
  if (files.iidfile !== undefined && result.imageId !== undefined) await writeResultFile('--iidfile', files.iidfile, result.imageId, mode);
  if (files.metadataFile !== undefined) {
    const meta = buildMetadata(result, { builderRef: files.builderRef, ...(o.warnings === undefined ? {} : { warnings: o.warnings }) });
    await writeResultFile('--metadata-file', files.metadataFile, `${JSON.stringify(meta, null, 2)}\n`, mode);
  }
}

/** writeResultFile writes one result file; a path the user cannot write there is named with the flag and why. */
async function writeResultFile(flag: string, path: string, text: string, mode: number): Promise<void> {
  try {
    await writeFile(path, text, { mode });
  } catch (err) {
    const reason = errnoReason(err);
    if (reason === undefined) throw err;
    throw new UsageError(`Cannot write ${flag} "${path}": ${reason}`, { cause: err });
  }
}
