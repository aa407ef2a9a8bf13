import { DockerfileError, type SourceLocation } from '../../base/errors.js';
import type { Edge, GitSource, HttpSource } from '../../solver/graph/index.js';
import type { CompileContext } from './context.js';
import { parseGitRef } from './git-ref.js';
import { contextIncludePattern } from './paths.js';
import type { Platform } from '../../base/oci.js';
import type { NamedContext } from './types.js';

/**
 * contextSource adds the SourceOp reading a local context (the build context or a named one). A missing path fails
 * while it is read, so the instruction reading it is its location, as BuildKit reports it at the COPY.
 */
export function contextSource(
  ctx: CompileContext,
  state: { readonly platform: Platform },
  e: { readonly paths: readonly string[]; readonly excludes: readonly string[] },
  name: string,
  location?: SourceLocation,
): Edge {
  const include = e.paths.map(contextIncludePattern);
  const includePatterns = include.includes('.') ? [] : [...new Set(include)].sort();
  return ctx.graph.add(
    { kind: 'source', source: { type: 'local', name, includePatterns, excludePatterns: e.excludes }, platform: state.platform },
    [],
    { name: name === 'context' ? '[internal] load build context' : `[context ${name}] load from client`, ...(location === undefined ? {} : { location }) },
  );
}

/** namedContextRoot is a local named context as a stage base: its files copied onto scratch. */
export function namedContextRoot(ctx: CompileContext, name: string, platform: Platform): Edge {
  const local = contextSource(ctx, { platform }, { paths: [], excludes: [] }, name);
  const copy = { action: 'copy' as const, input: 0, sources: ['/'], dest: '/', excludes: [], extractArchives: false, parents: false };
  return ctx.graph.add({ kind: 'file', base: null, actions: [copy], platform }, [local], { name: `[context ${name}] FROM ${name}` });
}

/** namedContextSource is the source a named context is read from when it is a URL (the only kind with a date). */
export function namedContextSource(named: NamedContext): HttpSource | GitSource | undefined {
  if (named.type !== 'url') return undefined;
  const git = parseGitRef(named.url);
  // As BuildKit, a named context at an HTTP URL is the downloaded file, named `context`.
  return git === undefined ? { type: 'http', url: named.url, filename: 'context' } : { type: 'git', ...git, keepGitDir: git.keepGitDir ?? false };
}

/** namedUrlSource adds the SourceOp of a named context given as a URL: a git checkout, or the downloaded file. */
export function namedUrlSource(ctx: CompileContext, name: string, url: string, platform: Platform, location?: SourceLocation): Edge {
  const source = namedContextSource({ type: 'url', url });
  if (source === undefined) throw new DockerfileError(`Cannot use build context "${name}": "${url}" is no URL`, location === undefined ? {} : { location });
  return ctx.graph.add({ kind: 'source', source, platform }, [], { name: `[context ${name}] ${url}`, ...(location === undefined ? {} : { location }) });
}
