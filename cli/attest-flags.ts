import { UsageError } from '../base/errors.js';
import type { AttestationSpec } from '../controller/index.js';
import { parseCsvOptions } from './output-spec.js';
import { parseGoBool } from './bool-flags.js';

/** AttestFlags are the attestation flags of `tbuild build` as given. */
export interface AttestFlags {
  readonly attest: readonly string[];
  readonly provenance: string | undefined;
  readonly sbom: string | undefined;
}

/** NO_DEFAULT_ATTESTATIONS is buildx's variable that turns off the default provenance of pushed images. */
const NO_DEFAULT_ATTESTATIONS = 'BUILDX_NO_DEFAULT_ATTESTATIONS';

/** The scanner image buildx and BuildKit use by default: naming it asks for nothing tbuild does not do itself. */
const DEFAULT_SBOM_GENERATOR = /^(docker\.io\/)?docker\/buildkit-syft-scanner(:[\w.-]+)?(@sha256:[0-9a-f]{64})?$/;

function flagBool(value: string, what: string): boolean {
  const b = parseGoBool(value);
  if (b === undefined) throw new UsageError(`Cannot use ${what}="${value}": expected true or false`);
  return b;
}

/** canonical turns `--provenance VALUE` into the `--attest` it stands for, as buildx does (a boolean enables or disables). */
function canonical(type: string, value: string | undefined): string[] {
  if (value === undefined || value === '') return [];
  const b = parseGoBool(value);
  return [b === undefined ? `type=${type},${value}` : `type=${type},disabled=${String(!b)}`];
}

interface ParsedAttest {
  readonly type: string;
  readonly disabled: boolean;
  readonly attrs: ReadonlyMap<string, string>;
  readonly text: string;
}

function parseAttest(text: string): ParsedAttest {
  const attrs = new Map(parseCsvOptions(text));
  const type = attrs.get('type');
  if (type === undefined || type === '') throw new UsageError(`Cannot use --attest "${text}": attestation type not specified`, { hint: 'type=provenance or type=sbom' });
  attrs.delete('type');
  const disabled = attrs.has('disabled') ? flagBool(attrs.get('disabled') ?? '', 'disabled') : false;
  attrs.delete('disabled');
  return { type: type.toLowerCase(), disabled, attrs, text };
}

function provenanceSpec(a: ParsedAttest, inlineOnly: boolean): AttestationSpec {
  const mode = a.attrs.get('mode') ?? 'max';
  if (mode !== 'min' && mode !== 'max' && mode !== 'full') throw new UsageError(`Cannot use --attest "${a.text}": invalid mode "${mode}"`, { hint: 'mode=min or mode=max' });
  // BuildKit makes SLSA v1 provenance unless v0.2 is asked for.
  const version = a.attrs.get('version') ?? 'v1';
  if (version !== 'v0.2' && version !== 'v1') throw new UsageError(`Cannot use --attest "${a.text}": SLSA provenance version "${version}" is not supported`, { hint: 'version=v0.2 or version=v1' });
  const builderId = a.attrs.get('builder-id');
  const reproducible = a.attrs.get('reproducible');
  const only = a.attrs.get('inline-only');
  return {
    type: 'provenance',
    mode: mode === 'full' ? 'max' : mode,
    ...(builderId === undefined ? {} : { builderId }),
    ...(reproducible === undefined ? {} : { reproducible: flagBool(reproducible, 'reproducible') }),
    ...(version === 'v1' ? { version } : {}),
    ...((only === undefined ? inlineOnly : flagBool(only, 'inline-only')) ? { inlineOnly: true } : {}),
  };
}

function sbomSpec(a: ParsedAttest): AttestationSpec {
  for (const [key, value] of a.attrs) {
    if (key === 'generator' && DEFAULT_SBOM_GENERATOR.test(value)) continue;
    const what = key === 'generator' ? `generator image "${value}"` : `attribute "${key}"`;
    throw new UsageError(`Cannot use --attest "${a.text}": ${what} is not supported`, { hint: 'tbuild makes the SBOM itself from the package databases of the image: use --sbom=true' });
  }
  return { type: 'sbom' };
}

/**
 * parseAttestations reads `--attest`, `--provenance` and `--sbom` as buildx does (the first one of a type wins, the
 * `--attest` flags coming before `--provenance` and `--sbom`) and adds
 * buildx's default: a mode=min provenance for pushed images, unless provenance was asked for or turned off, or
 * BUILDX_NO_DEFAULT_ATTESTATIONS is set to a true value.
 */
export function parseAttestations(flags: AttestFlags, env: NodeJS.ProcessEnv = process.env): AttestationSpec[] {
  const texts = [...flags.attest, ...canonical('provenance', flags.provenance), ...canonical('sbom', flags.sbom)];
  const byType = new Map<string, ParsedAttest>();
  for (const text of texts) {
    const a = parseAttest(text);
    if (a.type !== 'provenance' && a.type !== 'sbom') throw new UsageError(`Cannot use --attest "${text}": unknown attestation type "${a.type}"`, { hint: 'type=provenance or type=sbom' });
    // buildx keeps the first attestation of a type (Attests.ToMap).
    if (!byType.has(a.type)) byType.set(a.type, a);
  }
  const out: AttestationSpec[] = [];
  const provenance = byType.get('provenance');
  const sbom = byType.get('sbom');
  if (sbom !== undefined && !sbom.disabled) out.push(sbomSpec(sbom));
  if (provenance !== undefined && !provenance.disabled) out.push(provenanceSpec(provenance, false));
  if (provenance === undefined && !noDefaultAttestations(env)) out.push({ type: 'provenance', mode: 'min', version: 'v1', inlineOnly: true });
  return out;
}

function noDefaultAttestations(env: NodeJS.ProcessEnv): boolean {
  const value = env[NO_DEFAULT_ATTESTATIONS];
  if (value === undefined) return false;
  const b = parseGoBool(value);
  if (b === undefined) throw new UsageError(`Cannot use ${NO_DEFAULT_ATTESTATIONS}="${value}": expected true or false`);
  return b;
}
