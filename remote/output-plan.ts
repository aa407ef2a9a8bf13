import { join } from 'node:path';
import { UsageError } from '../base/errors.js';
import type { ImageExportOptions, LayerCompression, OutputSpec } from '../controller/index.js';
import type { OutputMsg } from './messages.js';

/** ReturnedOutput is an output the server writes to a temporary file and streams back to the client. */
export interface ReturnedOutput {
  readonly index: number;
  readonly path: string;
}

/** OutputPlan is what the server asks the controller for, and which files it then streams back. */
export interface OutputPlan {
  readonly specs: readonly OutputSpec[];
  readonly returned: readonly ReturnedOutput[];
}

/** outputMsgOf is the wire form of an output (the destination stays on the client). */
export function outputMsgOf(spec: OutputSpec): OutputMsg {
  const image = 'image' in spec ? spec.image : undefined;
  const epoch = image === undefined ? ('sourceDateEpoch' in spec ? spec.sourceDateEpoch : undefined) : image.sourceDateEpoch;
  return {
    type: spec.type,
    names: 'names' in spec ? spec.names : [],
    push: spec.type === 'image' ? spec.push : false,
    compression: image?.compression ?? '',
    compressionLevel: image?.compressionLevel ?? -1,
    forceCompression: image?.forceCompression ?? false,
    manifestAnnotations: image?.annotations?.manifest ?? {},
    indexAnnotations: image?.annotations?.index ?? {},
    rewriteTimestamp: image?.rewriteTimestamp ?? false,
    sourceDateEpoch: epoch === undefined || epoch === null ? '' : String(epoch),
    noSourceDateEpoch: epoch === null,
    noOciArtifact: image?.ociArtifact === false,
    attestationReferrers: image?.referrers === true,
  };
}

function compressionOf(text: string): LayerCompression {
  if (text === '' || text === 'gzip') return 'gzip';
  if (text === 'zstd' || text === 'uncompressed') return text;
  throw new UsageError(`Cannot use compression "${text}": expected gzip, zstd or uncompressed`);
}

function imageOf(m: OutputMsg): ImageExportOptions {
  return {
    compression: compressionOf(m.compression),
    ...(m.compressionLevel >= 0 ? { compressionLevel: m.compressionLevel } : {}),
    forceCompression: m.forceCompression,
    ...(Object.keys(m.manifestAnnotations).length + Object.keys(m.indexAnnotations).length === 0
      ? {}
      : { annotations: { manifest: m.manifestAnnotations, index: m.indexAnnotations } }),
    ...(m.rewriteTimestamp ? { rewriteTimestamp: true } : {}),
    ...epochOf(m),
    ...(m.noOciArtifact ? { ociArtifact: false } : {}),
    ...(m.attestationReferrers ? { referrers: true } : {}),
  };
}

function epochOf(m: OutputMsg): { sourceDateEpoch?: number | null } {
  if (m.noSourceDateEpoch) return { sourceDateEpoch: null };
  if (m.sourceDateEpoch === '') return {};
  if (!/^\d+$/.test(m.sourceDateEpoch)) throw new UsageError(`Cannot use source-date-epoch="${m.sourceDateEpoch}": expected a whole number of seconds`);
  return { sourceDateEpoch: Number(m.sourceDateEpoch) };
}

/**
 * planOutputs turns the wire outputs into controller outputs. Images are stored, pushed or loaded on the server;
 * oci, docker and tar go to temporary files, and local becomes a rootfs tar the client unpacks.
 */
export function planOutputs(outputs: readonly OutputMsg[], tmp: string): OutputPlan {
  const specs: OutputSpec[] = [];
  const returned: ReturnedOutput[] = [];
  for (const [index, m] of outputs.entries()) {
    const path = join(tmp, `output-${index}`);
    switch (m.type) {
      case 'image':
        specs.push({ type: 'image', names: m.names, push: m.push, image: imageOf(m) });
        break;
      case 'load':
        specs.push({ type: 'load', names: m.names, image: imageOf(m) });
        break;
      case 'oci':
      case 'docker':
        specs.push({ type: m.type, dest: path, names: m.names, image: imageOf(m) });
        returned.push({ index, path });
        break;
      case 'local':
      case 'tar':
        specs.push({ type: 'tar', dest: path, ...epochOf(m) });
        returned.push({ index, path });
        break;
      default:
        throw new UsageError(`Cannot use output type "${m.type}" on a remote builder`);
    }
  }
  return { specs, returned };
}
