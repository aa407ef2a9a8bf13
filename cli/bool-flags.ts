import { UsageError } from '../base/errors.js';
import { parseGoBool } from '../base/go-bool.js';

export { parseGoBool };

/** OptionTable is the shape of node:util parseArgs options this module reads: which take a value, and their short names. */
export type OptionTable = Readonly<Record<string, { readonly type: 'string' | 'boolean'; readonly short?: string | undefined }>>;

/** BoolFlags are the boolean flags a command line set, by long name, and the arguments left for parseArgs. */
export interface BoolFlags {
  readonly args: string[];
  readonly values: ReadonlyMap<string, boolean>;
}

/**
 * takeBoolFlags reads the long boolean flags of a command line as buildx's pflag does: `--push`, or with a Go boolean
 * value `--push=false`, `--no-cache=1`, the last one of a name winning. It leaves every other argument in order, and
 * skips the values of options that take one (`-t --push=x` names an image `--push=x`), up to `--`.
 */
export function takeBoolFlags(args: readonly string[], options: OptionTable): BoolFlags {
  const takesValue = new Set<string>();
  for (const [name, o] of Object.entries(options)) {
    if (o.type !== 'string') continue;
    takesValue.add(`--${name}`);
    if (o.short !== undefined) takesValue.add(`-${o.short}`);
  }
  const rest: string[] = [];
  const values = new Map<string, boolean>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--') {
      rest.push(...args.slice(i));
      break;
    }
    if (takesValue.has(arg)) {
      rest.push(arg, ...args.slice(i + 1, i + 2));
      i++;
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') ? arg.slice(2, eq < 0 ? undefined : eq) : '';
    if (options[name]?.type !== 'boolean') {
      rest.push(arg);
      continue;
    }
    const text = eq < 0 ? 'true' : arg.slice(eq + 1);
    const value = parseGoBool(text);
    if (value === undefined) throw new UsageError(`Cannot use --${name}="${text}": expected a boolean (true, false, 1, 0, t or f)`);
    values.set(name, value);
  }
  return { args: rest, values };
}
