import { instructionError, type InstructionContext } from './context.js';
import { parseFlags } from './flags.js';
import type { AddInstruction, CopyInstruction, CopySource } from './types.js';

const HEREDOC_SOURCE = /^<<-?/;

/** splitSources separates sources (paths or heredocs, in order) from the destination. */
function splitSources(ctx: InstructionContext): { sources: CopySource[]; dest: string } {
  if (ctx.args.length < 2) {
    throw instructionError(ctx, `${ctx.name} requires at least two arguments, but only one was provided. Destination could not be determined`);
  }
  const dest = ctx.args[ctx.args.length - 1] ?? '';
  const heredocs = [...ctx.node.heredocs];
  const sources = ctx.args.slice(0, -1).map((path): CopySource => {
    if (ctx.node.attributes.json !== true && HEREDOC_SOURCE.test(path)) {
      const heredoc = heredocs.shift();
      if (heredoc !== undefined) return { type: 'heredoc', heredoc };
    }
    return { type: 'path', path };
  });
  return { sources, dest };
}

/** parseCopy reads COPY and its flags. */
export function parseCopy(ctx: InstructionContext): CopyInstruction {
  const flags = parseFlags(
    ctx.node.flags,
    { from: 'string', chown: 'string', chmod: 'string', link: 'bool', parents: 'bool', exclude: 'list' },
    ctx.base.location,
  );
  return {
    ...ctx.base,
    kind: 'copy',
    ...splitSources(ctx),
    from: flags.from,
    chown: flags.chown,
    chmod: flags.chmod,
    link: flags.link ?? false,
    parents: flags.parents ?? false,
    excludes: flags.exclude,
  };
}

/** parseAdd reads ADD and its flags. */
export function parseAdd(ctx: InstructionContext): AddInstruction {
  const flags = parseFlags(
    ctx.node.flags,
    { chown: 'string', chmod: 'string', link: 'bool', 'keep-git-dir': 'bool', checksum: 'string', exclude: 'list', unpack: 'bool' },
    ctx.base.location,
  );
  return {
    ...ctx.base,
    kind: 'add',
    ...splitSources(ctx),
    chown: flags.chown,
    chmod: flags.chmod,
    link: flags.link ?? false,
    excludes: flags.exclude,
    checksum: flags.checksum,
    keepGitDir: flags['keep-git-dir'],
    unpack: flags.unpack,
  };
}
