import { readFile } from 'node:fs/promises';
import { canonicalJson } from '../base/canonical-json.js';
import { UsageError } from '../base/errors.js';
import type { BuilderConnection, BuilderRecord, BuilderSpec, LookupAll } from '../remote/index.js';
import type { BuildCommand } from './build-command.js';
import type { Environment, TerminalStream } from './command-io.js';

/** ConnectionFlags are the options that name a builder (--builder, or an address) and how to reach it. */
export interface ConnectionFlags {
  readonly builder?: string | undefined;
  readonly tlscacert?: string | undefined;
  readonly tlscert?: string | undefined;
  readonly tlskey?: string | undefined;
  readonly token?: string | undefined;
}

async function readToken(path: string): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch (err) {
    throw new UsageError(`Cannot read the token file "${path}"`, { cause: err });
  }
}

/**
 * selectBuilder finds the builder a command uses: --builder, then TBUILD_BUILDER, then TBUILD_HOST, then the one
 * `tbuild builder use` chose; each is an address or a builder's name. Undefined means the embedded builder.
 */
export async function selectBuilder(v: ConnectionFlags, env: Environment): Promise<BuilderSpec | undefined> {
  const given = v.builder ?? (env['TBUILD_BUILDER'] || undefined) ?? (env['TBUILD_HOST'] || undefined);
  const { BuilderStore, isAddress, parseNodeAddress } = await import('../remote/index.js');
  const store = new BuilderStore(env);
  const text = given ?? (await store.current());
  if (text === undefined) return undefined;
  const flagTls = { ca: v.tlscacert, cert: v.tlscert, key: v.tlskey };
  const envToken = env['TBUILD_TOKEN'] || undefined;
  if (isAddress(text)) {
    parseNodeAddress(text);
    return { name: undefined, nodes: [{ name: text, endpoint: text }], tls: flagTls, token: v.token ?? envToken };
  }
  return builderSpecOf(await store.get(text), v, env);
}

/** builderSpecOf is a stored builder as a command reaches it: its token read from its file, flags winning. */
export async function builderSpecOf(b: BuilderRecord, v: ConnectionFlags, env: Environment): Promise<BuilderSpec> {
  // Flags given on the command line win over what the builder was created with.
  const flagTls = { ca: v.tlscacert, cert: v.tlscert, key: v.tlskey };
  const hasFlagTls = flagTls.ca !== undefined || flagTls.cert !== undefined || flagTls.key !== undefined;
  const token = v.token ?? (b.tokenFile === undefined ? env['TBUILD_TOKEN'] || undefined : await readToken(b.tokenFile));
  return { name: b.name, nodes: b.nodes, tls: hasFlagTls ? flagTls : b.tls, token };
}

/**
 * localBuilder is the builder a command that also works locally talks to: none when --root names a local state
 * folder (it wins over TBUILD_BUILDER, TBUILD_HOST and the current builder), and --root with --builder is refused,
 * as the builder has its own state folder.
 */
export async function localBuilder(v: ConnectionFlags & { readonly root?: string | undefined }, env: Environment): Promise<BuilderSpec | undefined> {
  if (v.root !== undefined && v.builder !== undefined) {
    throw new UsageError('Cannot use --root with --builder: the builder keeps its state in the folder tbuild serve --root names');
  }
  return v.root === undefined ? selectBuilder(v, env) : undefined;
}

/**
 * buildOnNode does a build on the server of a builder its routing key ranks first that answers, and answers how
 * buildx would name that server (`builder/node`). Each server passed over is reported through `warn` once another
 * takes the build; one found down only when the build tried to reach it passes the build on to the next.
 */
export async function buildOnNode<R>(
  spec: BuilderSpec,
  o: { readonly key: string; readonly signal: AbortSignal; readonly warn: (message: string) => void; readonly lookup?: LookupAll },
  work: (connection: BuilderConnection) => Promise<R>,
): Promise<{ result: R; ref: string }> {
  const { isUnreached, runOnNode } = await import('../remote/lazy.js');
  const skipped: string[] = [];
  const { target, result } = await runOnNode(
    spec,
    o.key,
    { signal: o.signal, ...(o.lookup === undefined ? {} : { lookup: o.lookup }), onSkip: (f) => skipped.push(f.error.message), unreached: isUnreached },
    async (t) => {
      // Servers passed over are told once another takes the build; when none does, the error names them all.
      for (const why of skipped.splice(0)) o.warn(`${why}; using node ${t.node} (${t.connection.address}) instead`);
      return work(t.connection);
    },
  );
  return { result, ref: spec.name === undefined ? 'tbuild/remote' : `${spec.name}/${target.node}` };
}

/** stderrWarning writes a passed-over node to a command's standard error. */
export function stderrWarning(stderr: TerminalStream): (message: string) => void {
  return (message) => void stderr.write(`WARNING: ${message}\n`);
}

/**
 * routingKeyOf is a build's identity for choosing its server: where its context is (an absolute folder or a URL), its
 * Dockerfile and its target. The same project so goes to the same server, where its cache is.
 */
export function routingKeyOf(cmd: Pick<BuildCommand, 'context' | 'dockerfile'>, target: string | undefined): string {
  const c = cmd.context;
  const context = c.kind === 'folder' ? c.dir : c.kind === 'url' ? c.url : '-';
  const d = cmd.dockerfile;
  const dockerfile = d.kind === 'path' ? d.path : d.kind === 'in-context' ? (d.path ?? 'Dockerfile') : '-';
  return canonicalJson({ context, dockerfile, target: target ?? '' });
}
