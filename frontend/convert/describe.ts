// `--call targets|outline|subrequests.describe`: what BuildKit's Dockerfile frontend answers to these subrequests,
// as its JSON result and as the text buildx prints from it.
import { DockerfileError } from '../../base/errors.js';
import type { Platform } from '../../base/oci.js';
import { parseStages } from '../instructions/index.js';
import { parseDockerfile } from '../parser/index.js';
import { ShellLexer } from '../shell/index.js';
import { describeLocation, docComment, type Subrequest, type TargetList } from './describe-types.js';
import { printDescribe, printOutline, printTargets } from './describe-text.js';
import { metaArgInfos, outlineTarget } from './outline.js';
import { builtinPlatformArgs } from './platform.js';
import { targetStageIndex } from './target.js';

/** DescribeKind is what `--call` asks of a Dockerfile without building it. */
export type DescribeKind = 'targets' | 'outline' | 'subrequests.describe';

/** DescribeOptions are the build settings an outline depends on. */
export interface DescribeOptions {
  readonly file: string;
  readonly target?: string;
  readonly buildArgs: ReadonlyMap<string, string>;
  readonly targetPlatform: Platform;
  readonly buildPlatform: Platform;
}

/** Described is a subrequest's answer: BuildKit's `result.json` (as a value) and `result.txt`. */
export interface Described {
  readonly json: unknown;
  readonly text: string;
}

const RESULT_METADATA = [
  { name: 'result.json', description: '' },
  { name: 'result.txt', description: '' },
];

/** SUBREQUESTS are the requests BuildKit's Dockerfile frontend lists for `frontend.subrequests.describe`. */
const SUBREQUESTS: readonly Subrequest[] = [
  {
    name: 'frontend.outline',
    version: '1.0.0',
    type: 'rpc',
    description: 'List all parameters current build target supports',
    opts: [{ name: 'target', description: 'Target build stage' }],
    inputs: null,
    metadata: RESULT_METADATA,
    refs: null,
  },
  { name: 'frontend.targets', version: '1.0.0', type: 'rpc', description: 'List all targets current build supports', opts: [], inputs: null, metadata: RESULT_METADATA, refs: null },
  { name: 'frontend.subrequests.describe', version: '1.0.0', type: 'rpc', description: 'List available subrequest types', opts: null, inputs: null, metadata: RESULT_METADATA, refs: null },
];

/**
 * describeDockerfile answers `--call targets` (every stage, the last the default, with the description a comment line
 * `# NAME text` above its FROM gives), `--call outline` (the build args, secrets and SSH agents the target stage and
 * the stages it uses need) and `--call subrequests.describe`, as BuildKit's frontend does. Nothing is resolved or run.
 */
export function describeDockerfile(text: string, kind: DescribeKind, options: DescribeOptions): Described {
  if (kind === 'subrequests.describe') return { json: SUBREQUESTS, text: printDescribe(SUBREQUESTS) };
  const parsed = parseDockerfile(text, { file: options.file });
  const comments = new Map<number, readonly string[]>(parsed.ast.children.map((n) => [n.startLine, n.prevComment]));
  const { metaArgs, stages } = parseStages(parsed.ast, options.file);
  if (stages.length === 0) throw new DockerfileError('dockerfile contains no stages to build', { location: { file: options.file, startLine: 1, endLine: 1 } });
  const sources = [Buffer.from(text).toString('base64')];
  if (kind === 'targets') {
    const list: TargetList = {
      targets: stages.map(({ from }, i) => {
        const name = from.stageName?.toLowerCase();
        const description = docComment(comments.get(from.location.startLine) ?? [], name);
        return {
          ...(name === undefined ? {} : { name }),
          ...(i === stages.length - 1 ? { default: true as const } : {}),
          ...(description === '' ? {} : { description }),
          ...(from.baseName === '' ? {} : { base: from.baseName }),
          ...(from.platform === undefined || from.platform === '' ? {} : { platform: from.platform }),
          location: describeLocation(from.location),
        };
      }),
      sources,
    };
    return { json: list, text: printTargets(list) };
  }
  const lexer = new ShellLexer({ escapeToken: parsed.escapeToken });
  const args = builtinPlatformArgs(options.targetPlatform, options.buildPlatform);
  for (const key of args.keys()) {
    const given = options.buildArgs.get(key);
    if (given !== undefined) args.set(key, given);
  }
  const meta = metaArgInfos(metaArgs, { lexer, buildArgs: options.buildArgs, comments, args });
  const input = { stages, comments, lexer, buildArgs: options.buildArgs, globalArgs: args, metaArgs: meta };
  const outline = outlineTarget(input, targetStageIndex(stages, options.target), text);
  return { json: outline, text: printOutline(outline) };
}
