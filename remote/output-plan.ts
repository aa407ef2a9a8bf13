import { Writable } from 'node:stream';
import { UsageError } from '../base/errors.js';
import type { ImageExportOptions, LayerCompression, OutputSpec } from '../controller/index.js';
import type { OutputMsg, ServerMessage } from './messages.js';

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
    dockerMediaTypes: image?.ociMediaTypes === false,
    platformSplit: 'platformSplit' in spec && spec.platformSplit !== undefined ? String(spec.platformSplit) : '',
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
    ...(m.dockerMediaTypes ? { ociMediaTypes: false } : {}),
  };
}

function epochOf(m: OutputMsg): { sourceDateEpoch?: number | null } {
  if (m.noSourceDateEpoch) return { sourceDateEpoch: null };
  if (m.sourceDateEpoch === '') return {};
  if (!/^\d+$/.test(m.sourceDateEpoch)) throw new UsageError(`Cannot use source-date-epoch="${m.sourceDateEpoch}": expected a whole number of seconds`);
  return { sourceDateEpoch: Number(m.sourceDateEpoch) };
}

/** OUTPUT_CHUNK bounds the bytes of one output message. */
const OUTPUT_CHUNK = 256 * 1024;

/**
 * outputStream is an output written straight back to the client as it is made: each chunk becomes an output message
 * (sent with backpressure), and ending the stream tells the client the output is complete.
 */
function outputStream(index: number, send: (m: ServerMessage) => Promise<void>): Writable {
  const message = (data: Buffer, eof: boolean): ServerMessage => ({ kind: 'output', output: { output: index, data, eof } });
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      const sendAll = async (): Promise<void> => {
        for (let at = 0; at < chunk.length; at += OUTPUT_CHUNK) await send(message(chunk.subarray(at, at + OUTPUT_CHUNK), false));
      };
      sendAll().then(() => callback(), callback);
    },
    final(callback) {
      send(message(Buffer.alloc(0), true)).then(() => callback(), callback);
    },
  });
}

/**
 * planOutputs turns the wire outputs into controller outputs. Images are stored, pushed or loaded on the server;
 * oci, docker and tar stream back to the client as they are written, and local becomes a rootfs tar the client unpacks.
 */
export function planOutputs(outputs: readonly OutputMsg[], send: (m: ServerMessage) => Promise<void>): OutputSpec[] {
  const specs: OutputSpec[] = [];
  for (const [index, m] of outputs.entries()) {
    switch (m.type) {
      case 'image':
        specs.push({ type: 'image', names: m.names, push: m.push, image: imageOf(m) });
        break;
      case 'load':
        specs.push({ type: 'load', names: m.names, image: imageOf(m) });
        break;
      case 'oci':
      case 'docker':
        specs.push({ type: m.type, dest: outputStream(index, send), names: m.names, image: imageOf(m) });
        break;
      case 'local':
      case 'tar':
        specs.push({ type: 'tar', dest: outputStream(index, send), ...epochOf(m), ...(m.platformSplit === '' ? {} : { platformSplit: m.platformSplit === 'true' }) });
        break;
      default:
        throw new UsageError(`Cannot use output type "${m.type}" on a remote builder`);
    }
  }
  return specs;
}
