/** BUILDER_OPTIONS are the options of each `tbuild builder` command. */
export const BUILDER_OPTIONS = {
  create: {
    node: { type: 'string', multiple: true },
    append: { type: 'boolean' },
    use: { type: 'boolean' },
    tlscacert: { type: 'string' },
    tlscert: { type: 'string' },
    tlskey: { type: 'string' },
    'token-file': { type: 'string' },
  },
  ls: { format: { type: 'string' } },
  inspect: { format: { type: 'string' } },
  use: {},
  rm: {},
} as const;

/** BuilderSubcommand names a `tbuild builder` command. */
export type BuilderSubcommand = keyof typeof BUILDER_OPTIONS;
