import { UsageError } from '../base/errors.js';
import type { AttestationSpec, BuildRequest, ContextOrigin } from '../controller/index.js';
import { message, type MessageOf } from './wire-schema.js';

/** CONTEXT_SOURCE is the URL a fetched context came from and its commit or download digest. */
export const CONTEXT_SOURCE = message('ContextSource', { type: { no: 1, type: 'string' }, url: { no: 2, type: 'string' }, pin: { no: 3, type: 'string' } });

/** ContextSourceMsg is the wire form of where a fetched context came from. */
export type ContextSourceMsg = MessageOf<typeof CONTEXT_SOURCE>;

/** contextSourceMsg puts where a fetched context came from on the wire. */
export function contextSourceMsg(c: ContextOrigin | undefined): ContextSourceMsg | undefined {
  if (c === undefined) return undefined;
  return c.type === 'git' ? { type: 'git', url: c.url, pin: c.commit } : { type: 'http', url: c.url, pin: c.digest };
}

/** contextOriginOf turns the wire form back into where the received context came from. */
export function contextOriginOf(msg: ContextSourceMsg | undefined): { readonly origin?: ContextOrigin } {
  if (msg === undefined) return {};
  if (msg.type === 'git') return { origin: { type: 'git', url: msg.url, commit: msg.pin } };
  if (msg.type === 'http') return { origin: { type: 'http', url: msg.url, digest: msg.pin } };
  throw new UsageError(`Cannot use a context source of type "${msg.type}": expected git or http`);
}

/** ATTESTATION is one attestation of a BuildStart (empty strings and false for what does not apply). */
export const ATTESTATION = message('Attestation', {
  type: { no: 1, type: 'string' },
  mode: { no: 2, type: 'string' },
  builderId: { no: 3, type: 'string' },
  reproducible: { no: 4, type: 'bool' },
  inlineOnly: { no: 5, type: 'bool' },
  /** SLSA version of a provenance: v1, or empty for v0.2. */
  version: { no: 6, type: 'string' },
});

/** AttestationMsg is the wire form of one attestation. */
export type AttestationMsg = MessageOf<typeof ATTESTATION>;

/** attestationsMsg puts a request's attestations on the wire, buildx's default already among them. */
export function attestationsMsg(request: BuildRequest): AttestationMsg[] {
  return (request.attestations ?? []).map((a) =>
    a.type === 'sbom'
      ? { type: 'sbom', mode: '', builderId: '', reproducible: false, inlineOnly: false, version: '' }
      : { type: 'provenance', mode: a.mode, builderId: a.builderId ?? '', reproducible: a.reproducible === true, inlineOnly: a.inlineOnly === true, version: a.version === 'v1' ? 'v1' : '' },
  );
}

/** attestationsRequest turns the wire form back into request attestations, refusing types and modes it does not know. */
export function attestationsRequest(msgs: readonly AttestationMsg[]): Pick<BuildRequest, 'attestations'> {
  if (msgs.length === 0) return {};
  const attestations = msgs.map((m): AttestationSpec => {
    if (m.type === 'sbom') return { type: 'sbom' };
    if (m.type !== 'provenance') throw new UsageError(`Cannot attach attestation of type "${m.type}": expected provenance or sbom`);
    if (m.mode !== 'min' && m.mode !== 'max') throw new UsageError(`Cannot attach provenance with mode "${m.mode}": expected min or max`);
    if (m.version !== '' && m.version !== 'v0.2' && m.version !== 'v1') throw new UsageError(`Cannot attach provenance of SLSA version "${m.version}": expected v0.2 or v1`);
    return {
      type: 'provenance',
      mode: m.mode,
      ...(m.builderId === '' ? {} : { builderId: m.builderId }),
      ...(m.reproducible ? { reproducible: true } : {}),
      ...(m.inlineOnly ? { inlineOnly: true } : {}),
      ...(m.version === 'v1' ? { version: 'v1' as const } : {}),
    };
  });
  return { attestations };
}
