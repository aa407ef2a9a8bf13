import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../base/errors.js';
import { takeBoolFlags } from './bool-flags.js';

/** OptionTable is the options one command takes, in node:util parseArgs' form. */
export type OptionTable = NonNullable<ParseArgsConfig['options']>;

/** GLOBAL_OPTIONS are the options `tbuild --help` lists as global: given before or after the command. */
export const GLOBAL_OPTIONS = {
  root: { type: 'string' },
  config: { type: 'string' },
  builder: { type: 'string' },
  tlscacert: { type: 'string' },
  tlscert: { type: 'string' },
  tlskey: { type: 'string' },
  token: { type: 'string' },
  debug: { type: 'boolean' },
} as const satisfies OptionTable;

/** ROOT_OPTION is `--root DIR`, for the commands that open a state folder. */
export const ROOT_OPTION = { root: GLOBAL_OPTIONS.root } as const;

/** CONNECTION_OPTIONS are the options that name a remote builder and how to reach it. */
export const CONNECTION_OPTIONS = {
  builder: GLOBAL_OPTIONS.builder,
  tlscacert: GLOBAL_OPTIONS.tlscacert,
  tlscert: GLOBAL_OPTIONS.tlscert,
  tlskey: GLOBAL_OPTIONS.tlskey,
  token: GLOBAL_OPTIONS.token,
} as const;

/** COMMON_OPTIONS are taken by every command: its help, and stack traces with errors. */
export const COMMON_OPTIONS = { help: { type: 'boolean', short: 'h' }, debug: GLOBAL_OPTIONS.debug } as const;

/** CommandLine is a command line split into its command (undefined when there is none) and the command's arguments. */
export interface CommandLine {
  readonly command: string | undefined;
  readonly args: readonly string[];
}

function isGlobal(name: string): name is keyof typeof GLOBAL_OPTIONS {
  return Object.hasOwn(GLOBAL_OPTIONS, name);
}

/**
 * splitCommandLine finds the command in argv: global options before it move after it (before a `--`), so that each
 * command reads them with its own options, and `tbuild --root X images` means `tbuild images --root X`.
 */
export function splitCommandLine(argv: readonly string[]): CommandLine {
  const globals: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (!arg.startsWith('--') || arg === '--') break;
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    // --help and --version are answers of tbuild itself, not options of a command.
    if (name === 'help' || name === 'version') break;
    if (!isGlobal(name)) throw new UsageError(`Cannot run tbuild: unknown global option "--${name}"`, { hint: "run 'tbuild --help' for the global options" });
    globals.push(arg);
    if (GLOBAL_OPTIONS[name].type === 'string' && eq < 0) {
      const value = argv[i + 1];
      if (value === undefined) throw new UsageError(`Cannot use --${name}: expected a value after it`);
      globals.push(value);
      i++;
    }
  }
  const command = argv[i];
  const rest = argv.slice(i + 1);
  const end = rest.indexOf('--');
  const args = end < 0 ? [...rest, ...globals] : [...rest.slice(0, end), ...globals, ...rest.slice(end)];
  return { command: command === undefined && globals.length > 0 ? undefined : command, args };
}

/** ParsedArgs is what a command line gives one command: option values by name and positional arguments. */
export interface ParsedArgs<T extends OptionTable> {
  readonly values: ReturnType<typeof parseArgs<{ options: typeof COMMON_OPTIONS & T; allowPositionals: true; strict: true }>>['values'];
  readonly positionals: readonly string[];
}

/**
 * parseCommandArgs reads the arguments of `tbuild <command>` against the options it takes (plus --help and --debug).
 * An unknown option, a missing value or a stray argument is a UsageError that names the command and the option.
 */
export function parseCommandArgs<T extends OptionTable>(
  command: string,
  args: readonly string[],
  options: T,
  o: { positionals?: boolean } = {},
): ParsedArgs<T> {
  // A command may give --debug a short form of its own (imagetools' -D, as buildx).
  const all = { ...COMMON_OPTIONS, ...options };
  // Switches take Go boolean values (`--force=false`), as docker's and buildx's flags do; the last one wins.
  const bools = takeBoolFlags(args, all);
  const switches = [...bools.values].filter(([, on]) => on).map(([name]) => `--${name}`);
  try {
    const parsed = parseArgs({ args: [...switches, ...withNegativeValues(bools.args, all)], options: all, allowPositionals: true, strict: true });
    const values: Readonly<Record<string, unknown>> = parsed.values;
    if (o.positionals === false && parsed.positionals.length > 0 && values['help'] !== true) {
      throw new UsageError(`Cannot run tbuild ${command}: unexpected argument "${parsed.positionals[0] ?? ''}"`, { hint: `tbuild ${command} takes no arguments; run 'tbuild ${command} --help'` });
    }
    // A switch set to false reads as false, not as absent: a flag whose default is true (`--prefer-index=false`).
    for (const [name, on] of bools.values) if (!on) (parsed.values as Record<string, unknown>)[name] = false;
    return parsed;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw usageErrorOf(command, err, options);
  }
}

/**
 * withNegativeValues joins a long option that takes a value with a negative number after it (`--memory-swap -1`), which
 * parseArgs would read as an option of its own, into `--memory-swap=-1`, as docker's flag parser reads it.
 */
function withNegativeValues(args: readonly string[], options: OptionTable): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    const next = args[i + 1];
    const name = arg.startsWith('--') && !arg.includes('=') ? arg.slice(2) : '';
    if (arg === '--') return [...out, ...args.slice(i)];
    if (next !== undefined && /^-\d+$/.test(next) && Object.hasOwn(options, name) && options[name]?.type === 'string') {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

/** usageErrorOf turns a parseArgs error into a message naming the command and the option at fault. */
function usageErrorOf(command: string, err: unknown, options: OptionTable): UsageError {
  const help = `run 'tbuild ${command} --help' for its options`;
  const code = err !== null && typeof err === 'object' && 'code' in err ? err.code : undefined;
  const message = err instanceof Error ? err.message : String(err);
  const option = /'(-[^' ]+)/.exec(message)?.[1] ?? '';
  const name = option.replace(/^-+/, '');
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      if (isGlobal(name) && !Object.hasOwn(options, name)) {
        return new UsageError(`Cannot use ${option} with tbuild ${command}: the command does not use it`, { hint: help });
      }
      return new UsageError(`Cannot run tbuild ${command}: unknown option "${option}"`, { hint: help });
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const flag = /(--[a-z][a-z0-9-]*)/.exec(message)?.[1] ?? option;
      return /does not take an argument/.test(message)
        ? new UsageError(`Cannot use ${flag} with a value: it is a switch`, { hint: help })
        : new UsageError(`Cannot use ${flag}: expected a value after it`, { hint: help });
    }
    default:
      return new UsageError(`Cannot read the tbuild ${command} command line: ${message}`, { hint: help });
  }
}

/**
 * splitSubcommand finds the subcommand of `tbuild GROUP SUB` and the arguments left for it; undefined when there is
 * none (the group's help is due), a UsageError for one the group does not have.
 */
export function splitSubcommand<S extends string>(group: string, args: readonly string[], isSubcommand: (name: string) => name is S): { sub: S; rest: string[] } | undefined {
  const at = args.findIndex((a) => !a.startsWith('-'));
  const sub = args[at];
  if (sub === undefined) return undefined;
  if (!isSubcommand(sub)) throw new UsageError(`Unknown ${group} command "${sub}"`, { hint: `run 'tbuild ${group} --help' for the list of commands` });
  return { sub, rest: [...args.slice(0, at), ...args.slice(at + 1)] };
}
