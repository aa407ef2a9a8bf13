import { CONNECTION_OPTIONS, ROOT_OPTION } from './command-line.js';

/** HISTORY_OPTIONS are the options of each `tbuild history` command. */
export const HISTORY_OPTIONS = {
  ls: { filter: { type: 'string', multiple: true }, format: { type: 'string' }, ...ROOT_OPTION, ...CONNECTION_OPTIONS },
  inspect: { format: { type: 'string' }, ...ROOT_OPTION, ...CONNECTION_OPTIONS },
  logs: { step: { type: 'string' }, ...ROOT_OPTION, ...CONNECTION_OPTIONS },
  explain: { step: { type: 'string' }, ...ROOT_OPTION, ...CONNECTION_OPTIONS },
  trace: { output: { type: 'string', short: 'o' }, format: { type: 'string' }, ...ROOT_OPTION, ...CONNECTION_OPTIONS },
  rm: { all: { type: 'boolean' }, ...ROOT_OPTION, ...CONNECTION_OPTIONS },
  prune: { keep: { type: 'string' }, 'keep-duration': { type: 'string' }, ...ROOT_OPTION, ...CONNECTION_OPTIONS },
} as const;

/** HistorySubcommand names a `tbuild history` command. */
export type HistorySubcommand = keyof typeof HISTORY_OPTIONS;
