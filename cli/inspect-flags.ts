import { resolve } from 'node:path';
import { UsageError } from '../base/errors.js';
import type { BuildContextSpec, BuildRequest, BuildResult } from '../controller/index.js';

/** parseBuildContext reads `--build-context name=path` or `name=docker-image://ref`. */
export function parseBuildContext(value: string): BuildContextSpec {
  const eq = value.indexOf('=');
  const name = value.slice(0, eq);
  const src = value.slice(eq + 1);
  if (eq <= 0 || src === '') throw new UsageError(`Cannot use --build-context "${value}": expected NAME=PATH or NAME=docker-image://REF`);
  if (src.startsWith('docker-image://')) return { name, type: 'image', ref: src.slice('docker-image://'.length) };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(src)) throw new UsageError(`Cannot use --build-context "${value}": only folders and docker-image:// are supported`);
  return { name, type: 'local', path: resolve(src) };
}

/** parsePrint reads `--print`: `graph` (readable) or `graph-json`. */
export function parsePrint(value: string): NonNullable<BuildRequest['print']> {
  if (value === 'graph' || value === 'graph-json') return value;
  throw new UsageError(`Cannot use --print=${value}: expected graph or graph-json`);
}

/** parseCall reads buildx's `--call`: `build` (the default), `check`, `targets` or `outline`. */
export function parseCall(value: string): { readonly check?: true; readonly print?: 'targets' | 'outline' } {
  switch (value) {
    case 'build':
      return {};
    case 'check':
      return { check: true };
    case 'targets':
    case 'outline':
      return { print: value };
    default:
      throw new UsageError(`Cannot use --call=${value}: expected build, check, targets or outline`);
  }
}

/** writeInspectResult prints what --print or --check produced; returns the exit code. */
export function writeInspectResult(request: BuildRequest, result: BuildResult, out: NodeJS.WritableStream): number {
  if (result.printed !== undefined) out.write(result.printed);
  if (request.check === true) {
    for (const w of result.warnings) out.write(`WARNING: ${w}\n`);
    const n = result.warnings.length;
    out.write(n === 0 ? 'Check complete, no warnings found.\n' : `Check complete, ${n} warning${n === 1 ? ' has' : 's have'} been found!\n`);
    if (result.checkFailed !== true) return 0;
    // As BuildKit with `# check=error=true`: the rules found, once each (warnings read `Rule: detail (file:line)`).
    const rules = [...new Set(result.warnings.map((w) => w.slice(0, w.indexOf(':'))))];
    out.write(`ERROR: lint violation found for rules: ${rules.join(', ')}\n`);
    return 1;
  }
  return 0;
}
