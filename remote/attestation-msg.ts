import { UsageError } from '../base/errors.js';
import type { AttestationSpec, BuildRequest, ContextOrigin } from '../controller/index.js';
import { Fields } from './wire-fields.js';

/** ContextSourceMsg is the URL a fetched context came from and its commit or download digest. */
export interface ContextSourceMsg {
  readonly type: string;
  readonly url: string;
  readonly pin: string;
}

/** contextSourceMsg puts where a fetched context came from on the wire. */
export function contextSourceMsg(c: ContextOrigin | undefined): ContextSourceMsg | undefined {
  if (c === undefined) return undefined;
  return c.type === 'git' ? { type: 'git', url: c.url, pin: c.commit } : { type: 'http', url: c.url, pin: c.digest };
}

/** contextSourceFromWire reads the ContextSource of a BuildStart, if set. */
export function contextSourceFromWire(f: Fields | undefined): ContextSourceMsg | undefined {
  return f === undefined ? undefined : { type: f.str('type'), url: f.str('url'), pin: f.str('pin') };
}

/** contextOriginOf turns the wire form back into where the received context came from. */
export function contextOriginOf(msg: ContextSourceMsg | undefined): { readonly origin?: ContextOrigin } {
  if (msg === undefined) return {};
  if (msg.type === 'git') return { origin: { type: 'git', url: msg.url, commit: msg.pin } };
  if (msg.type === 'http') return { origin: { type: 'http', url: msg.url, digest: msg.pin } };
  throw new UsageError(`Cannot use a context source of type "${msg.type}": expected git or http`);
}

/** AttestationMsg is one attestation of a BuildStart (empty strings and false for what does not apply). */
export interface AttestationMsg {
  readonly type: string;
  readonly mode: string;
  readonly builderId: string;
  readonly reproducible: boolean;
  readonly inlineOnly: boolean;
  /** SLSA version of a provenance: v1, or empty for v0.2. */
  readonly version: string;
}

/** attestationsMsg puts a request's attestations on the wire, buildx's default already among them. */
export function attestationsMsg(request: BuildRequest): AttestationMsg[] {
  return (request.attestations ?? []).map((a) =>
    a.type === 'sbom'
      ? { type: 'sbom', mode: '', builderId: '', reproducible: false, inlineOnly: false, version: '' }
      : { type: 'provenance', mode: a.mode, builderId: a.builderId ?? '', reproducible: a.reproducible === true, inlineOnly: a.inlineOnly === true, version: a.version === 'v1' ? 'v1' : '' },
  );
}

/** attestationsFromWire reads the attestations of a BuildStart (none from older clients). */
export function attestationsFromWire(f: Fields): AttestationMsg[] {
  return f.list('attestations').map((v) => {
    const a = new Fields(v, 'Attestation');
    return { type: a.str('type'), mode: a.str('mode'), builderId: a.str('builderId'), reproducible: a.bool('reproducible'), inlineOnly: a.bool('inlineOnly'), version: a.str('version') };
  });
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
