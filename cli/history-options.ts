import { ROOT_OPTION } from './command-line.js';

/** HISTORY_OPTIONS are the options of each `tbuild history` command. */
export const HISTORY_OPTIONS = {
  ls: { filter: { type: 'string', multiple: true }, format: { type: 'string' }, ...ROOT_OPTION },
  inspect: { format: { type: 'string' }, ...ROOT_OPTION },
  logs: { step: { type: 'string' }, ...ROOT_OPTION },
  explain: { step: { type: 'string' }, ...ROOT_OPTION },
  rm: { all: { type: 'boolean' }, ...ROOT_OPTION },
  prune: { keep: { type: 'string' }, 'keep-duration': { type: 'string' }, ...ROOT_OPTION },
} as const;

/** HistorySubcommand names a `tbuild history` command. */
export type HistorySubcommand = keyof typeof HISTORY_OPTIONS;
