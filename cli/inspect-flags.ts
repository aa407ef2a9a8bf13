import { resolve } from 'node:path';
import { UsageError } from '../base/errors.js';
import { isDigest, type Digest } from '../base/digest.js';
import type { CheckFinding } from '../base/progress.js';
import type { BuildContextSpec, BuildRequest, BuildResult } from '../controller/index.js';
import type { BuildCommand } from './build-command.js';
import { lintResults, renderCheckText, violationOf, type CheckSource } from './check-report.js';

/** parseBuildContext reads `--build-context name=path`, `name=docker-image://ref`, `name=oci-layout://path[:tag][@digest]` or `name=URL`. */
export function parseBuildContext(value: string, cwd: string): BuildContextSpec {
  const eq = value.indexOf('=');
  const name = value.slice(0, eq);
  const src = value.slice(eq + 1);
  if (eq <= 0 || src === '') throw new UsageError(`Cannot use --build-context "${value}": expected NAME=PATH, NAME=docker-image://REF, NAME=oci-layout://PATH[:TAG][@DIGEST] or NAME=URL`);
  if (src.startsWith('docker-image://')) return { name, type: 'image', ref: src.slice('docker-image://'.length) };
  if (src.startsWith('oci-layout://')) return parseLayoutContext(value, name, src.slice('oci-layout://'.length), cwd);
  // As buildx, a git repository or an http(s) URL goes to the builder as it is.
  if (/^(?:https?|git):\/\//i.test(src) || src.startsWith('git@')) return { name, type: 'url', url: src };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(src)) throw new UsageError(`Cannot use --build-context "${value}": expected a folder, docker-image://, oci-layout://, a git repository or an http(s) URL`);
  return { name, type: 'local', path: resolve(cwd, src) };
}

/**
 * parseLayoutContext reads `oci-layout://PATH[:TAG][@sha256:DIGEST]` as buildx does: a trailing `@` followed by a
 * digest is the digest, then a trailing `:` followed by a valid tag is the tag; neither means the tag `latest`.
 */
function parseLayoutContext(value: string, name: string, rest: string, cwd: string): BuildContextSpec {
  let path = rest;
  let digest: Digest | undefined;
  let tag: string | undefined;
  const at = path.lastIndexOf('@');
  if (at >= 0 && /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/.test(path.slice(at + 1))) {
    const d = path.slice(at + 1);
    if (!isDigest(d)) throw new UsageError(`Cannot use --build-context "${value}": unsupported digest "${d}" (expected sha256:<64 hex digits>)`);
    digest = d;
    path = path.slice(0, at);
  }
  const colon = path.lastIndexOf(':');
  if (colon >= 0 && /^[\w][\w.-]{0,127}$/.test(path.slice(colon + 1))) {
    tag = path.slice(colon + 1);
    path = path.slice(0, colon);
  }
  if (path === '') throw new UsageError(`Cannot use --build-context "${value}": expected oci-layout://PATH[:TAG][@DIGEST] with the layout folder's path`);
  return { name, type: 'oci-layout', path: resolve(cwd, path), ...(tag === undefined ? {} : { tag }), ...(digest === undefined && tag === undefined ? { tag: 'latest' } : {}), ...(digest === undefined ? {} : { digest }) };
}

/** parsePrint reads `--print`: `graph` (readable) or `graph-json`. */
export function parsePrint(value: string): NonNullable<BuildRequest['print']> {
  if (value === 'graph' || value === 'graph-json') return value;
  throw new UsageError(`Cannot use --print=${value}: expected graph or graph-json`);
}

/** CallFormat is how `--call` prints its answer: buildx's text, or the JSON the request answers with (`format=json`). */
export type CallFormat = 'text' | 'json';

/** Call is what `--call` asks: the request fields it sets, the output format, and whether the result's status counts. */
export interface Call {
  readonly request: Pick<BuildRequest, 'check' | 'print'>;
  readonly format: CallFormat;
  /** `ignorestatus=true`: the exit status is 0 whatever the result's status (BuildKit's lint result is 1 with warnings). */
  readonly ignoreStatus: boolean;
}

/** GO_BOOL holds the values Go's strconv.ParseBool accepts, as buildx reads `ignorestatus`. */
const GO_BOOL: Readonly<Record<string, boolean>> = { 1: true, t: true, T: true, TRUE: true, true: true, True: true, 0: false, f: false, F: false, FALSE: false, false: false, False: false };

/**
 * parseCall reads buildx's `--call NAME[,format=json][,ignorestatus=BOOL]`: `build` (the default), `check`, `targets`,
 * `outline` or `subrequests.describe`.
 */
export function parseCall(value: string): Call {
  let name: string | undefined;
  let format: CallFormat = 'text';
  let ignoreStatus = false;
  for (const field of value.split(',')) {
    const eq = field.indexOf('=');
    const key = eq < 0 ? undefined : field.slice(0, eq);
    const v = field.slice(eq + 1);
    const flag = GO_BOOL[v];
    if (key === 'format' && (v === 'json' || v === 'text')) format = v;
    else if (key === 'ignorestatus' && flag !== undefined) ignoreStatus = flag;
    else if (key !== undefined || name !== undefined) throw new UsageError(`Cannot use --call=${value}: unexpected "${field}"`, { hint: 'expected NAME[,format=json|text][,ignorestatus=BOOL]' });
    else name = field;
  }
  switch (name) {
    case 'build':
      return { request: {}, format, ignoreStatus };
    case 'check':
      return { request: { check: true }, format, ignoreStatus };
    case 'targets':
    case 'outline':
    case 'subrequests.describe':
      return { request: { print: format === 'json' ? `${name}-json` : name }, format, ignoreStatus };
    default:
      throw new UsageError(`Cannot use --call=${value}: expected build, check, targets, outline or subrequests.describe`);
  }
}

/**
 * writeInspectResult prints what --print, --check or --call produced; returns the exit code. A check with findings
 * exits 1 as buildx does: BuildKit's lint result has status 1 when it holds warnings, and buildx exits with it unless
 * `ignorestatus=true`; a `# check=error=true` violation fails the call either way.
 */
export function writeInspectResult(cmd: BuildCommand, result: BuildResult, findings: readonly CheckFinding[], source: CheckSource, out: NodeJS.WritableStream): number {
  const { request } = cmd;
  if (request.check === true) {
    const failed = result.checkFailed === true ? violationOf(findings) : undefined;
    if (cmd.callFormat === 'json') {
      out.write(`${JSON.stringify(lintResults(findings, source, failed === undefined ? undefined : new Error(failed)), null, 2)}\n`);
    } else {
      out.write(renderCheckText(findings, source));
      if (failed !== undefined) out.write(`ERROR: ${failed}\n`);
    }
    return failed !== undefined || (findings.length > 0 && !cmd.callIgnoreStatus) ? 1 : 0;
  }
  if (result.printed !== undefined) out.write(result.printed);
  return 0;
}
