import { stat } from 'node:fs/promises';
import type { Digest } from '../base/digest.js';
import { UsageError } from '../base/errors.js';
import type { NamedContext } from '../frontend/index.js';
import { LocalSecretProvider, LocalSshAgentProvider, type LayoutBlobs, type LocalContext, type SecretProvider, type SecretSource, type SshAgentProvider } from '../solver/ops/index.js';
import { contextPatterns, openContextFolder } from './context.js';
import { openContext } from './context-source.js';
import { openLayoutContexts } from './layout-contexts.js';
import type { BuildContextSpec, BuildEnvironment, BuildRequest, ContextOrigin, SecretSpec } from './request.js';
import { openSshAgents } from './ssh-agents.js';

/** InputsRequest is the slice of a request the inputs stage reads: where the Dockerfile, contexts, secrets and agents are. */
export type InputsRequest = Pick<BuildRequest, 'dockerfile' | 'context' | 'buildContexts' | 'secrets' | 'ssh'> & {
  readonly environment?: Pick<BuildEnvironment, 'sshAuthSock' | 'processEnv'>;
};

/** InputsSession is where the inputs stage puts what it fetches, and the providers a remote client serves instead. */
export interface InputsSession {
  readonly tmp: string;
  readonly signal: AbortSignal;
  /** Secret values served on request (a remote client), instead of the request's secrets. */
  readonly secrets?: SecretProvider;
  /** SSH agents forwarded on request (a remote client), instead of the request's agents. */
  readonly sshAgents?: SshAgentProvider;
  /** The OCI layouts of `oci-layout://` contexts, served on request by a remote client, by context name. */
  readonly layouts?: ReadonlyMap<string, LayoutBlobs>;
}

/** BuildInputs are a build's inputs made ready: disposing them removes what was fetched and stops agents started. */
export interface BuildInputs extends AsyncDisposable {
  readonly dockerfile: { readonly name: string; readonly text: string };
  /** The ignore patterns of the main context (the frontend warns of COPY sources they exclude). */
  readonly contextIgnore: readonly string[];
  /** Local contexts by name: `context`, and each `--build-context` folder. */
  readonly contexts: ReadonlyMap<string, LocalContext>;
  /** What `FROM name` and `COPY --from=name` resolve to, for every `--build-context`. */
  readonly namedContexts: ReadonlyMap<string, NamedContext>;
  /** The OCI layouts `oci-layout://` contexts read their images from, by context name. */
  readonly layouts: ReadonlyMap<string, LayoutBlobs>;
  /** The digest the image of each `oci-layout://` context was found at, by context name. */
  readonly layoutDigests: ReadonlyMap<string, Digest>;
  /** When a context fetched from a URL was last changed (seconds since 1970), when it tells. */
  readonly contextSourceDate: number | undefined;
  /** The URL a context was fetched from and what it resolved to; undefined for a folder. */
  readonly contextOrigin: ContextOrigin | undefined;
  readonly secrets: SecretProvider;
  readonly sshAgents: SshAgentProvider;
}

/**
 * resolveInputs is the first stage of a build: it makes the context a folder (fetching an archive or a URL, or letting
 * a receiver sync it), reads the Dockerfile and the ignore patterns, opens the named contexts, and readies the secrets
 * and SSH agents RUN steps may mount. It reads its slice of the request once.
 */
export async function resolveInputs(request: InputsRequest, session: InputsSession): Promise<BuildInputs> {
  const processEnv = request.environment?.processEnv ?? {};
  const opened = await openContext(request.context, request.dockerfile, { tmp: session.tmp, signal: session.signal, processEnv });
  try {
    const patterns = await contextPatterns(opened.dir, opened.dockerfile.ignore);
    const named = await loadNamedContexts(request.buildContexts ?? []);
    const layouts = await openLayoutContexts(request.buildContexts ?? [], session.layouts);
    const ssh =
      session.sshAgents === undefined
        ? await openSshAgents(request.ssh ?? [], { sshAuthSock: request.environment?.sshAuthSock, processEnv, signal: session.signal })
        : undefined;
    return {
      dockerfile: { name: opened.dockerfile.name, text: Buffer.from(opened.dockerfile.bytes).toString('utf8') },
      contextIgnore: patterns,
      contexts: new Map([...named, ['context', openContextFolder(opened.dir, patterns)]]),
      namedContexts: namedContextsOf(request.buildContexts ?? [], layouts.refs),
      layouts: layouts.layouts,
      layoutDigests: layouts.digests,
      contextSourceDate: opened.sourceDate,
      contextOrigin: opened.origin,
      secrets: session.secrets ?? localSecretProvider(request.secrets ?? []),
      sshAgents: session.sshAgents ?? new LocalSshAgentProvider(ssh?.sockets ?? new Map()),
      [Symbol.asyncDispose]: async () => {
        await ssh?.[Symbol.asyncDispose]();
        await opened[Symbol.asyncDispose]();
      },
    };
  } catch (err) {
    await opened[Symbol.asyncDispose]();
    throw err;
  }
}

/** localSecretProvider serves `--secret` values from files of this host and values the caller gave. */
export function localSecretProvider(specs: readonly SecretSpec[]): SecretProvider {
  const sources = new Map<string, SecretSource>();
  for (const s of specs) sources.set(s.id, s.kind === 'file' ? { kind: 'file', path: s.path } : { kind: 'value', value: s.value });
  return new LocalSecretProvider(sources);
}

/** namedContextsOf maps `--build-context` values to what the frontend resolves `FROM name` / `COPY --from=name` to. */
function namedContextsOf(specs: readonly BuildContextSpec[], layoutRefs: ReadonlyMap<string, string>): Map<string, NamedContext> {
  const out = new Map<string, NamedContext>();
  for (const s of specs) {
    if (s.type === 'image') out.set(s.name, { type: 'image', ref: s.ref });
    else if (s.type === 'oci-layout') out.set(s.name, { type: 'image', ref: layoutRefs.get(s.name) ?? '' });
    else out.set(s.name, s.type === 'url' ? { type: 'url', url: s.url } : { type: 'local' });
  }
  return out;
}

/** loadNamedContexts opens every local `--build-context` folder (with its own .dockerignore) under its name. */
async function loadNamedContexts(specs: readonly BuildContextSpec[]): Promise<Map<string, LocalContext>> {
  const out = new Map<string, LocalContext>();
  for (const s of specs) {
    if (s.type !== 'local') continue;
    const st = await stat(s.path).catch(() => undefined);
    if (st?.isDirectory() !== true) throw new UsageError(`Cannot use build context "${s.name}": ${s.path} is not a directory`);
    // Only the folder's own .dockerignore applies to a named context.
    out.set(s.name, openContextFolder(s.path, await contextPatterns(s.path, undefined)));
  }
  return out;
}
