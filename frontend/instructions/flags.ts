import { DockerfileError, assertNever, type SourceLocation } from '../../base/errors.js';
import { withSuggestion } from './suggest.js';

/** FlagKind is the type of an instruction flag: a string, a boolean, or a repeatable string list. */
export type FlagKind = 'string' | 'bool' | 'list';

/** FlagSpec names the flags an instruction accepts and their kinds. */
export type FlagSpec = Readonly<Record<string, FlagKind>>;

/** FlagValues is the parsed value of each flag of a spec; unset strings and bools are undefined. */
export type FlagValues<S extends FlagSpec> = {
  readonly [K in keyof S]: S[K] extends 'list' ? readonly string[] : S[K] extends 'bool' ? boolean | undefined : string | undefined;
};

function flagError(message: string, location: SourceLocation): DockerfileError {
  return new DockerfileError(message, { location: { ...location, column: 1 }, code: 'DOCKERFILE_SYNTAX' });
}

function parseBool(name: string, value: string, location: SourceLocation): boolean {
  switch (value.toLowerCase()) {
    case 'true':
      return true;
    case 'false':
      return false;
    default:
      throw flagError(`expecting boolean value for flag ${name}, not: ${value}`, location);
  }
}

/** parseFlags reads `--name[=value]` flags against a spec; an unknown flag is an error suggesting a near one. */
export function parseFlags<S extends FlagSpec>(flags: readonly string[], spec: S, location: SourceLocation): FlagValues<S> {
  const values = new Map<string, string | boolean | string[]>();
  for (const raw of flags) {
    if (!raw.startsWith('--') || raw === '--') throw flagError(`invalid flag: ${raw}`, location);
    const body = raw.slice(2);
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    const value = eq < 0 ? undefined : body.slice(eq + 1);
    const kind = spec[name];
    if (kind === undefined) {
      throw flagError(withSuggestion(`unknown flag: --${name}`, name, Object.keys(spec), true), location);
    }
    switch (kind) {
      case 'bool':
        values.set(name, value === undefined ? true : parseBool(`--${name}`, value, location));
        break;
      case 'string':
        if (value === undefined) throw flagError(`missing a value on flag: --${name}`, location);
        if (values.has(name)) throw flagError(`duplicate flag specified: --${name}`, location);
        values.set(name, value);
        break;
      case 'list': {
        if (value === undefined) throw flagError(`missing a value on flag: --${name}`, location);
        const prev = values.get(name);
        values.set(name, Array.isArray(prev) ? [...prev, value] : [value]);
        break;
      }
      default:
        assertNever(kind, 'flag kind');
    }
  }
  const out: Record<string, string | boolean | readonly string[] | undefined> = {};
  for (const [name, kind] of Object.entries(spec)) out[name] = values.get(name) ?? (kind === 'list' ? [] : undefined);
  // The loop above fills exactly the keys of the spec with values of their declared kinds.
  return out as FlagValues<S>;
}
