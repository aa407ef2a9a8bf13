import { BUILD_OPTIONS } from './build-command.js';
import { CONNECTION_OPTIONS, GLOBAL_OPTIONS, ROOT_OPTION, type OptionTable } from './command-line.js';
import { BUILDER_OPTIONS } from './builder-options.js';
import { HISTORY_OPTIONS } from './history-options.js';

/** Operand is what a command's positional arguments are, for shell completion. */
export type Operand = 'none' | 'path' | 'file' | 'image' | 'registry' | 'word';

/** CommandSpec is one command of the table: what `tbuild --help` says of it, its options and arguments. */
export interface CommandSpec {
  readonly summary: string;
  readonly options: OptionTable;
  readonly operand: Operand;
  /** Commands under this one (`tbuild imagetools inspect`), each with its own options. */
  readonly subcommands?: Readonly<Record<string, CommandSpec>>;
  /** Left out of `tbuild --help` and completion: run by the launcher, not by hand. */
  readonly hidden?: boolean;
}

/** IMAGES_OPTIONS are the options of `tbuild images`. */
export const IMAGES_OPTIONS = {
  filter: { type: 'string', short: 'f', multiple: true },
  format: { type: 'string' },
  'no-trunc': { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  ...ROOT_OPTION,
} as const;
/** RMI_OPTIONS are the options of `tbuild rmi`. */
export const RMI_OPTIONS = { force: { type: 'boolean', short: 'f' }, ...ROOT_OPTION } as const;
/** TAG_OPTIONS are the options of `tbuild tag`. */
export const TAG_OPTIONS = { ...ROOT_OPTION } as const;
/** PUSH_OPTIONS are the options of `tbuild push`. */
export const PUSH_OPTIONS = { config: GLOBAL_OPTIONS.config, progress: { type: 'string' }, quiet: { type: 'boolean', short: 'q' }, ...ROOT_OPTION } as const;
/** SAVE_OPTIONS are the options of `tbuild save`. */
export const SAVE_OPTIONS = { output: { type: 'string', short: 'o' }, ...ROOT_OPTION } as const;
/** LOAD_OPTIONS are the options of `tbuild load`. */
export const LOAD_OPTIONS = { input: { type: 'string', short: 'i' }, quiet: { type: 'boolean', short: 'q' }, ...ROOT_OPTION } as const;
/** INSPECT_OPTIONS are the options of `tbuild inspect`. */
export const INSPECT_OPTIONS = { format: { type: 'string', short: 'f' }, ...ROOT_OPTION } as const;
/** DU_OPTIONS are the options of `tbuild du`, locally or against a builder. */
export const DU_OPTIONS = { verbose: { type: 'boolean' }, ...ROOT_OPTION, ...CONNECTION_OPTIONS } as const;
/** PRUNE_OPTIONS are the options of `tbuild prune`, locally or against a builder. */
export const PRUNE_OPTIONS = {
  all: { type: 'boolean', short: 'a' },
  filter: { type: 'string', multiple: true },
  'keep-storage': { type: 'string' },
  force: { type: 'boolean', short: 'f' },
  ...ROOT_OPTION,
  ...CONNECTION_OPTIONS,
} as const;
/** INFO_OPTIONS are the options of `tbuild info`. */
export const INFO_OPTIONS = { ...ROOT_OPTION, config: GLOBAL_OPTIONS.config, ...CONNECTION_OPTIONS } as const;
/** SERVE_OPTIONS are the options of `tbuild serve`. */
export const SERVE_OPTIONS = {
  addr: { type: 'string', multiple: true },
  tlscacert: { type: 'string' },
  tlscert: { type: 'string' },
  tlskey: { type: 'string' },
  token: { type: 'string' },
  'token-file': { type: 'string' },
  'tokens-file': { type: 'string' },
  insecure: { type: 'boolean' },
  root: GLOBAL_OPTIONS.root,
  config: GLOBAL_OPTIONS.config,
  'max-parallel-builds': { type: 'string' },
  'oci-runtime': { type: 'string' },
  'no-process-sandbox': { type: 'boolean' },
  'allow-insecure-entitlement': { type: 'string', multiple: true },
  'server-credentials': { type: 'boolean' },
  'log-format': { type: 'string' },
  'health-addr': { type: 'string' },
} as const;
/** BINFMT_OPTIONS are the options of `tbuild binfmt`. */
export const BINFMT_OPTIONS = { install: { type: 'string' }, uninstall: { type: 'string' } } as const;
/** LOGIN_OPTIONS are the options of `tbuild login`. */
export const LOGIN_OPTIONS = {
  username: { type: 'string', short: 'u' },
  password: { type: 'string', short: 'p' },
  'password-stdin': { type: 'boolean' },
  config: GLOBAL_OPTIONS.config,
} as const;
/** IMAGETOOLS_INSPECT_OPTIONS are the options of `tbuild imagetools inspect`. */
export const IMAGETOOLS_INSPECT_OPTIONS = { raw: { type: 'boolean' }, format: { type: 'string' }, config: GLOBAL_OPTIONS.config, debug: { type: 'boolean', short: 'D' } } as const;
/** IMAGETOOLS_CREATE_OPTIONS are the options of `tbuild imagetools create`. */
export const IMAGETOOLS_CREATE_OPTIONS = {
  tag: { type: 'string', short: 't', multiple: true },
  file: { type: 'string', short: 'f', multiple: true },
  append: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  platform: { type: 'string', multiple: true },
  'prefer-index': { type: 'boolean' },
  annotation: { type: 'string', multiple: true },
  'metadata-file': { type: 'string' },
  progress: { type: 'string' },
  config: GLOBAL_OPTIONS.config,
  debug: { type: 'boolean', short: 'D' },
} as const;
/** CHECK_STORE_OPTIONS are the options of `tbuild debug check-store`. */
export const CHECK_STORE_OPTIONS = { format: { type: 'string' }, repair: { type: 'boolean' }, 'all-blobs': { type: 'boolean' }, ...ROOT_OPTION } as const;
/** DEBUG_SHELL_OPTIONS are the options of `tbuild debug shell`. */
export const DEBUG_SHELL_OPTIONS = { step: { type: 'string' }, shell: { type: 'string' }, 'oci-runtime': { type: 'string' }, ...ROOT_OPTION, ...CONNECTION_OPTIONS } as const;
/** DAEMON_OPTIONS are the options of the resident builder, `tbuild daemon`. */
export const DAEMON_OPTIONS = { socket: { type: 'string' }, idle: { type: 'string' } } as const;

const NONE = {} as const;

/** COMMANDS is every tbuild command: main dispatches on it, `tbuild --help` and shell completion are made from it. */
export const COMMANDS: Readonly<Record<string, CommandSpec>> = {
  build: { summary: 'Build an image from a Dockerfile', options: BUILD_OPTIONS, operand: 'path' },
  images: { summary: 'List images in the local image store', options: IMAGES_OPTIONS, operand: 'image' },
  rmi: { summary: 'Remove images from the local image store', options: RMI_OPTIONS, operand: 'image' },
  tag: { summary: 'Give an image of the local image store another name', options: TAG_OPTIONS, operand: 'image' },
  push: { summary: 'Push an image of the local image store to its registry', options: PUSH_OPTIONS, operand: 'image' },
  save: { summary: 'Write images of the local image store to an archive docker load reads', options: SAVE_OPTIONS, operand: 'image' },
  load: { summary: 'Read images from a docker or OCI archive into the local image store', options: LOAD_OPTIONS, operand: 'none' },
  inspect: { summary: 'Show images of the local image store as JSON', options: INSPECT_OPTIONS, operand: 'image' },
  du: { summary: 'Show the disk usage of the build cache', options: DU_OPTIONS, operand: 'none' },
  prune: { summary: 'Remove build cache', options: PRUNE_OPTIONS, operand: 'none' },
  debug: {
    summary: 'Print the syntax tree of a Dockerfile (debug ast FILE), check the store (debug check-store), open a shell (debug shell)',
    options: NONE,
    operand: 'none',
    subcommands: {
      ast: { summary: 'Print the parsed syntax tree of a Dockerfile', options: NONE, operand: 'file' },
      'check-store': { summary: 'Check the store for inconsistencies, and with --repair remove what is safe to remove', options: CHECK_STORE_OPTIONS, operand: 'none' },
      shell: { summary: "Open a shell in an image of the store, or in a step's result of a recorded build (--step N)", options: DEBUG_SHELL_OPTIONS, operand: 'image' },
    },
  },
  history: {
    summary: 'Show past builds: their records, logs, and why steps ran',
    options: NONE,
    operand: 'none',
    subcommands: {
      ls: { summary: 'List build records', options: HISTORY_OPTIONS.ls, operand: 'none' },
      inspect: { summary: "Show a build's request, steps, warnings and error", options: HISTORY_OPTIONS.inspect, operand: 'word' },
      logs: { summary: "Print a build's logs exactly as its steps wrote them", options: HISTORY_OPTIONS.logs, operand: 'word' },
      explain: { summary: 'Say why each step that ran did not come from the cache', options: HISTORY_OPTIONS.explain, operand: 'word' },
      trace: { summary: "Write a build's steps on a time axis: an HTML page, a Chrome trace or OpenTelemetry spans", options: HISTORY_OPTIONS.trace, operand: 'word' },
      rm: { summary: 'Remove build records', options: HISTORY_OPTIONS.rm, operand: 'word' },
      prune: { summary: 'Remove old build records', options: HISTORY_OPTIONS.prune, operand: 'none' },
    },
  },
  serve: { summary: "Run a remote builder (gRPC) for 'build --builder'", options: SERVE_OPTIONS, operand: 'none' },
  builder: {
    summary: 'Manage named builders: groups of tbuild serve servers that builds are spread over',
    options: NONE,
    operand: 'none',
    subcommands: {
      create: { summary: 'Create a builder of one or more servers, or add one (--append)', options: BUILDER_OPTIONS.create, operand: 'word' },
      ls: { summary: 'List builders and their servers', options: BUILDER_OPTIONS.ls, operand: 'none' },
      inspect: { summary: 'Show each server of a builder: reachable or why not, version, platforms and load', options: BUILDER_OPTIONS.inspect, operand: 'word' },
      use: { summary: 'Build on a builder when no --builder is given', options: BUILDER_OPTIONS.use, operand: 'word' },
      rm: { summary: 'Remove a builder', options: BUILDER_OPTIONS.rm, operand: 'word' },
    },
  },
  info: { summary: 'Show information about tbuild or a remote builder', options: INFO_OPTIONS, operand: 'none' },
  binfmt: { summary: 'Register QEMU emulators for building other architectures', options: BINFMT_OPTIONS, operand: 'none' },
  imagetools: {
    summary: 'Inspect images in a registry and make multi-platform indexes of them',
    options: NONE,
    operand: 'none',
    subcommands: {
      create: { summary: 'Create a new image (an index) based on source images', options: IMAGETOOLS_CREATE_OPTIONS, operand: 'image' },
      inspect: { summary: 'Show details of an image in the registry', options: IMAGETOOLS_INSPECT_OPTIONS, operand: 'image' },
    },
  },
  login: { summary: 'Log in to a registry', options: LOGIN_OPTIONS, operand: 'registry' },
  logout: { summary: 'Log out from a registry', options: NONE, operand: 'registry' },
  completion: {
    summary: 'Print a shell completion script (bash, zsh or fish)',
    options: NONE,
    operand: 'none',
    subcommands: {
      bash: { summary: 'Completion for bash', options: NONE, operand: 'none' },
      zsh: { summary: 'Completion for zsh', options: NONE, operand: 'none' },
      fish: { summary: 'Completion for fish', options: NONE, operand: 'none' },
    },
  },
  daemon: {
    summary: 'Run the resident builder the launcher forwards builds to',
    options: DAEMON_OPTIONS,
    operand: 'none',
    hidden: true,
    subcommands: { stop: { summary: 'Stop the resident builder', options: DAEMON_OPTIONS, operand: 'none' } },
  },
};

/** commandSpec is the table entry of a command, or undefined for a command tbuild does not have. */
export function commandSpec(name: string): CommandSpec | undefined {
  return Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
}

/** renderMainHelp is `tbuild --help`, listing the commands of the table and the global options. */
export function renderMainHelp(): string {
  const commands = Object.entries(COMMANDS).filter(([, c]) => c.hidden !== true);
  const width = Math.max(...commands.map(([n]) => n.length)) + 2;
  return `Usage: tbuild [GLOBAL OPTIONS] COMMAND [OPTIONS]

A container image builder: Dockerfile in, OCI image out.

Commands:
${commands.map(([n, c]) => `  ${n.padEnd(width)}${c.summary}`).join('\n')}

Global options (before or after the command; a command that does not use one refuses it):
  --root DIR         State folder (default: $TBUILD_ROOT, /var/lib/tbuild as root)
  --config FILE      Settings file (default: /etc/tbuild/tbuild.toml as root)
  --builder NAME     Remote builder: a name (tbuild builder), unix:///PATH, tcp://HOST:PORT or dns+tcp://NAME:PORT
                     (default: $TBUILD_BUILDER, $TBUILD_HOST, then the builder in use)
  --tlscacert FILE   CA certificate that signed the builder's certificate
  --tlscert FILE     Client certificate for the builder (mutual TLS)
  --tlskey FILE      Client key for the builder
  --token TOKEN      Bearer token for the builder (default: $TBUILD_TOKEN)
  --debug            Print stack traces with errors
  --version          Print the version
  --help             Print this help

Run 'tbuild COMMAND --help' for more information on a command.
`;
}
