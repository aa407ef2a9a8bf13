import { UsageError } from '../base/errors.js';
import type { OutputSpec } from '../controller/index.js';

// The grammar of github.com/distribution/reference (regexp.go), which buildx checks tags with and BuildKit's exporters
// names with: lowercase path components joined by separators, after an optional host[:port]/.
const ALNUM = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|[-]+)';
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const HOST = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])`;
const NAME = `(?:${HOST}(?::[0-9]+)?/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const REFERENCE = new RegExp(`^(${NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`);
const ANCHORED_DOMAIN = new RegExp(`^(${HOST}(?::[0-9]+)?)/(.+)$`);
const HEX_ID = /^[a-f0-9]{64}$/;
const NAME_TOTAL_LENGTH_MAX = 255;

/** referenceProblem is why distribution's reference.Parse refuses a reference, in its words; undefined when it parses. */
export function referenceProblem(text: string): string | undefined {
  const match = REFERENCE.exec(text);
  if (match === null) {
    if (text === '') return 'repository name must have at least one component';
    if (REFERENCE.test(text.toLowerCase())) return 'repository name must be lowercase';
    return 'invalid reference format';
  }
  const name = match[1] ?? '';
  const path = ANCHORED_DOMAIN.exec(name)?.[2] ?? name;
  if (path.length > NAME_TOTAL_LENGTH_MAX) return `repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`;
  const digest = match[3];
  if (digest !== undefined && !/^sha256:[0-9a-f]{64}$/.test(digest)) return `unsupported digest algorithm or format "${digest}"`;
  return undefined;
}

/**
 * normalizedNameProblem is why distribution's ParseNormalizedNamed refuses an image name, as BuildKit's exporters
 * parse names: a first component that is not a host (no `.` or `:`, not localhost, all lowercase) is a Docker Hub
 * namespace, and a one-component name is under library/.
 */
export function normalizedNameProblem(text: string): string | undefined {
  if (HEX_ID.test(text)) return `invalid repository name (${text}), cannot specify 64-byte hexadecimal strings`;
  const slash = text.indexOf('/');
  const first = slash < 0 ? '' : text.slice(0, slash);
  const isDomain = slash >= 0 && (first === 'localhost' || /[.:]/.test(first) || first.toLowerCase() !== first);
  const domain = isDomain ? first : 'docker.io';
  let remainder = isDomain ? text.slice(slash + 1) : text.startsWith('index.docker.io/') ? text.slice(16) : text;
  if (domain === 'docker.io' && !remainder.includes('/')) remainder = `library/${remainder}`;
  const remote = remainder.split(':')[0] ?? '';
  if (remote.toLowerCase() !== remote) return `invalid reference format: repository name (${remote}) must be lowercase`;
  return referenceProblem(`${domain}/${remainder}`);
}

/**
 * checkImageNames fails before a build, as buildx and BuildKit would after it, when a name cannot be one: a `-t` tag
 * as buildx parses it (`invalid tag "X": …`), an output's `name=` as BuildKit's exporters parse it, and a push
 * without any name (buildx's "tag is needed when pushing to registry").
 */
export function checkImageNames(tags: readonly string[], outputs: readonly OutputSpec[]): void {
  for (const tag of tags) {
    const problem = referenceProblem(tag) ?? normalizedNameProblem(tag);
    if (problem !== undefined) throw new UsageError(`Cannot use -t "${tag}": invalid tag "${tag}": ${problem}`, { hint: 'a name is [HOST[:PORT]/]PATH[:TAG] in lowercase' });
  }
  for (const output of outputs) {
    if (!('names' in output)) continue;
    for (const name of output.names) {
      const problem = normalizedNameProblem(name);
      if (problem !== undefined) throw new UsageError(`Cannot use --output name="${name}": failed to parse ${name}: ${problem}`, { hint: 'a name is [HOST[:PORT]/]PATH[:TAG] in lowercase' });
    }
    if (output.type === 'image' && output.push && output.names.length === 0) {
      throw new UsageError('Cannot push the image: tag is needed when pushing to registry', { hint: 'name it with -t NAME or --output type=registry,name=NAME' });
    }
  }
}
