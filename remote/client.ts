import { once } from 'node:events';
import { Client, type ClientDuplexStream, type Metadata, type MethodDefinition } from '@grpc/grpc-js';
import { InternalError } from '../base/errors.js';
import type { ProgressSink } from '../base/progress.js';
import { TRANSFER_REPORT_MS } from '../base/transfer-meter.js';
import { buildArgsOf, dockerCredentials, localSecretProvider, openContext, resolveClientLayouts, type BuildRequest, type BuildResult, type PruneOptions, type PruneReport, type UsageRecord } from '../controller/index.js';
import { parseAddress } from './address.js';
import { pruneMsg, usageRecordOf, type InfoMsg } from './admin-messages.js';
import { channelCredentials, readTlsMaterial, tokenMetadata, type TlsFiles } from './auth.js';
import { probeTls } from './tls-probe.js';
import { isUnavailable, translateCallError } from './client-errors.js';
import { ClientCredentials } from './client-credentials.js';
import { checksumMemoPath, clientId, contextKey, projectKey } from './client-state.js';
import { buildManifest, type ContextManifest } from './context-manifest.js';
import { sendFiles, sendManifest } from './context-sender.js';
import { LayoutBlobSender } from './layout-blob-sender.js';
import { OpenChannels } from './open-channels.js';
import { isServerMessage, platformMsg, rootDescriptorOf, type ClientMessage, type ContextStatsMsg, type ServerMessage } from './messages.js';
import { outputMsgOf } from './output-plan.js';
import { createOutputSinks } from './output-sink.js';
import { parseProgressEvent, TRANSFER_VERTEX } from './progress-codec.js';
import { refuseClientSideOptions, sessionFields } from './request-options.js';
import { resolveAgentSockets, SshAgentForwarder } from './ssh-agent-forwarder.js';
import { runSettingsMsg } from './run-settings-msg.js';
import { builderMethods, type BuilderMethods } from './proto.js';
import { attestationsMsg, contextSourceMsg } from './attestation-msg.js';

/** BuilderConnection says where a builder is and how to authenticate to it. */
export interface BuilderConnection {
  readonly address: string;
  readonly tls: TlsFiles;
  readonly token: string | undefined;
  /** Which node of which named builder the address is, for errors. */
  readonly node?: string;
  /** The name the builder's certificate is checked against, when the address is one a DNS name resolved to. */
  readonly serverName?: string;
}

/** RemoteBuildResult is a build result plus what the context transfer moved. */
export interface RemoteBuildResult extends BuildResult {
  readonly buildId: string;
  readonly context: ContextStatsMsg | undefined;
}

const CLIENT_OPTIONS = { 'grpc.keepalive_time_ms': 10_000, 'grpc.keepalive_timeout_ms': 5_000, 'grpc.keepalive_permit_without_calls': 1, 'grpc.max_receive_message_length': 16 * 1024 * 1024 };

interface Connected extends Disposable {
  readonly client: Client;
  readonly methods: BuilderMethods;
  readonly metadata: Metadata;
  /** failure explains a failed call (probing TLS when the connection failed). */
  failure(err: unknown, o: { started: boolean; cancelled: boolean }): Promise<Error>;
}

/** The channels of this process to its builders: calls to one server within a hold share a connection. */
const channels = new OpenChannels();

/** holdChannels keeps this process's channels to builders open between calls until it is disposed. */
export function holdChannels(): Disposable {
  return channels.hold();
}

async function connectTo(conn: BuilderConnection): Promise<Connected> {
  const address = parseAddress(conn.address);
  const tls = await readTlsMaterial(conn.tls);
  const key = JSON.stringify([conn.address, conn.tls.ca, conn.tls.cert, conn.tls.key, conn.serverName]);
  const shared = channels.acquire(key, () => {
    const { credentials, options } = channelCredentials(address, tls, conn.serverName);
    return new Client(address.target, credentials, { ...CLIENT_OPTIONS, ...options });
  });
  const { client } = shared;
  const failure = async (err: unknown, o: { started: boolean; cancelled: boolean }): Promise<Error> => {
    // The next call connects anew rather than through a channel that could not reach its server.
    if (isUnavailable(err)) channels.discard(key);
    const tlsFailure = isUnavailable(err) && address.kind === 'tcp' && tls !== undefined ? await probeTls({ address, ...tls }) : undefined;
    return translateCallError(err, { address: conn.node === undefined ? conn.address : `${conn.address} (${conn.node})`, ...o, plainTcp: address.kind === 'tcp' && tls === undefined, ...(tlsFailure === undefined ? {} : { tlsFailure }) });
  };
  return { client, methods: builderMethods(), metadata: tokenMetadata(conn.token), failure, [Symbol.dispose]: () => shared[Symbol.dispose]() };
}

/** RemoteBuildOptions are what a remote build needs on the client besides its request. */
export interface RemoteBuildOptions {
  readonly signal: AbortSignal;
  readonly progress: ProgressSink;
  /** The client's environment: where it keeps its id and its context checksums (XDG_CONFIG_HOME, XDG_CACHE_HOME, HOME). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Folder for a context fetched on the client (from standard input or a URL) before it is sent. */
  readonly tmp: string;
  /**
   * The build's identity as its server was chosen by (routingKeyOf), and whether its context or Dockerfile came from
   * standard input: the server's shared cache is keyed by its hash (with the Dockerfile's bytes when piped).
   */
  readonly project?: { readonly routingKey: string; readonly piped: boolean };
}

/** remoteBuild runs a build on a builder: it syncs the context, relays progress and writes streamed outputs locally. */
export async function remoteBuild(
  request: BuildRequest,
  conn: BuilderConnection,
  o: RemoteBuildOptions,
): Promise<RemoteBuildResult> {
  refuseClientSideOptions(request);
  const { env } = o;
  const agentSockets = await resolveAgentSockets(request.ssh ?? [], request.environment?.sshAuthSock);
  // As buildx, an OCI layout context's image is found here; the builder reads its blobs through the call.
  const layouts = await resolveClientLayouts(request.buildContexts ?? []);
  // A context that is not a folder (an archive, a URL) is fetched here, and its copy sent like a folder.
  await using context = await openContext(request.context, request.dockerfile, { tmp: o.tmp, signal: o.signal, processEnv: request.environment?.processEnv ?? {} });
  const key = contextKey(context.dir);
  const manifest = await buildManifest(context.dir, context.dockerfile.ignore, { signal: o.signal, memoPath: checksumMemoPath(key, env) });
  using c = await connectTo(conn);
  const m = c.methods.Build;
  let wireBytes = 0;
  const serialize = (msg: ClientMessage): Buffer => {
    const bytes = m.requestSerialize(msg);
    wireBytes += bytes.length;
    return bytes;
  };
  const call: ClientDuplexStream<ClientMessage, ServerMessage> = c.client.makeBidiStreamRequest(m.path, serialize, m.responseDeserialize, c.metadata, {});
  const onAbort = (): void => call.cancel();
  o.signal.addEventListener('abort', onAbort, { once: true });
  // The call can fail (no builder there) while the request is still being written, before anything reads it: keep
  // the error for the next write (reading the call throws it too) instead of leaving the event unheard.
  let callError: Error | undefined;
  call.on('error', (err: Error) => {
    callError ??= err;
  });
  // Settles once the last message written so far is serialized (or the call failed): the call calls each write back then.
  let written = Promise.resolve();
  const write = async (msg: ClientMessage): Promise<void> => {
    if (callError !== undefined) throw callError;
    let ready = true;
    written = new Promise<void>((resolve) => {
      ready = call.write(msg, () => resolve());
    });
    if (!ready) await once(call, 'drain', { signal: o.signal });
  };
  const sinks = createOutputSinks(request.outputs, { fileMode: 0o666 & ~(request.environment?.umask ?? 0o022), signal: o.signal });
  // Secrets stay on the client: the builder asks for each value when a RUN mounts it, so the call stays open.
  const secrets = localSecretProvider(request.secrets ?? []);
  // SSH agents stay on the client too: each connection a RUN makes to its agent socket is tunnelled over the call.
  using agents = new SshAgentForwarder(agentSockets, {
    write,
    warn: (message) => o.progress.emit({ type: 'warning', message, time: Date.now() }),
  });
  const blobs = new LayoutBlobSender(layouts, write, (err) => {
    callError ??= err instanceof Error ? err : new InternalError(String(err));
    call.cancel();
  });
  // Registry credentials stay on the client too: the builder asks for a host's the first time its build talks to it.
  const dockerConfigDir = request.environment?.dockerConfigDir;
  const credentials = new ClientCredentials(dockerConfigDir === undefined ? undefined : dockerCredentials(dockerConfigDir), o.progress);
  const servesSecrets = dockerConfigDir !== undefined || (request.secrets ?? []).length > 0 || agentSockets.size > 0 || layouts.size > 0;
  let buildId = '';
  try {
    const p = request.platform;
    await write({
      kind: 'start',
      start: {
        clientId: await clientId(env),
        contextKey: key,
        dockerfileName: context.dockerfile.name,
        dockerfile: Buffer.from(context.dockerfile.bytes),
        dockerignore: manifest.dockerignore,
        buildArgs: Object.fromEntries(buildArgsOf(request)),
        target: request.target ?? '',
        platform: p === undefined ? undefined : platformMsg(p),
        platforms: (request.platforms ?? []).map(platformMsg),
        outputs: request.outputs.map(outputMsgOf),
        noCache: request.noCache ?? false,
        noCacheFilter: request.noCacheFilter ?? [],
        explain: request.explain ?? false,
        labels: { ...request.labels },
        vcs: { ...request.vcs },
        run: runSettingsMsg(request),
        attestations: attestationsMsg(request),
        contextSource: contextSourceMsg(context.origin),
        metadataProvenance: request.metadataProvenance ?? '',
        ...sessionFields(request),
        credentials: dockerConfigDir !== undefined,
        layoutContexts: [...layouts.values()].map((l) => ({ name: l.spec.name, tag: l.spec.tag ?? '', digest: l.digest })),
        contextSourceDate: context.sourceDate === undefined ? '' : String(context.sourceDate),
        projectKey: o.project === undefined ? '' : projectKey(o.project.routingKey, o.project.piped ? context.dockerfile.bytes : undefined),
      },
    });
    await sendManifest(manifest, write);
    const wants: number[] = [];
    for await (const raw of call) {
      const msg = asServerMessage(raw);
      switch (msg.kind) {
        case 'accepted':
          buildId = msg.accepted.buildId;
          break;
        case 'want':
          wants.push(...msg.want.indices);
          if (msg.want.last) {
            const sent = contextTransferStatus(o.progress, manifest, wants);
            sent(await sendFiles(manifest, wants, write, { signal: o.signal, onSent: sent }), true);
            await finishSending(call, servesSecrets ? written : undefined, o.signal);
            const data = `sent ${wireBytes} bytes to the builder (request, manifest of ${manifest.entries.length} entries, ${wants.length} files)\n`;
            o.progress.emit({ type: 'vertex.log', vertex: TRANSFER_VERTEX.vertex, stream: 'stdout', data, time: Date.now() });
          }
          break;
        case 'progress':
          o.progress.emit(parseProgressEvent(msg.progress));
          break;
        case 'output':
          await sinks.write(msg.output.output, msg.output.data, msg.output.eof);
          break;
        case 'secretRequest': {
          const { id } = msg.secretRequest;
          const value = await secrets.get(id, { signal: o.signal });
          await write({ kind: 'secret', secret: { id, value: value ?? Buffer.alloc(0), found: value !== undefined } });
          break;
        }
        case 'credentialsRequest': {
          const { host } = msg.credentialsRequest;
          await write({ kind: 'credentials', credentials: await credentials.answer(host, o.signal) });
          break;
        }
        case 'sshOpen':
          agents.open(msg.sshOpen.conn, msg.sshOpen.id);
          break;
        case 'sshData':
          await agents.deliver(msg.sshData, o.signal);
          break;
        case 'sshClose':
          agents.close(msg.sshClose.conn);
          break;
        case 'blobRequest':
          blobs.serve(msg.blobRequest);
          break;
        case 'result': {
          agents[Symbol.dispose]();
          if (servesSecrets) call.end();
          const r = msg.result;
          return {
            buildId,
            names: r.names,
            warnings: r.warnings,
            context: r.context,
            ...(r.imageId === '' ? {} : { imageId: r.imageId }),
            ...(r.manifestDigest === '' ? {} : { manifestDigest: r.manifestDigest }),
            ...(r.pushedDigest === '' ? {} : { pushedDigest: r.pushedDigest }),
            ...(r.printed === '' ? {} : { printed: r.printed }),
            ...(r.checkFailed ? { checkFailed: true } : {}),
            ...rootDescriptorOf(r.descriptor),
            ...(r.provenance.length === 0 ? {} : { provenance: r.provenance.map((p) => ({ ...(p.platform === '' ? {} : { platform: p.platform }), json: p.json })) }),
          };
        }
      }
    }
    throw new InternalError(`Cannot finish the build on builder ${conn.address}: the stream ended without a result`);
  } catch (err) {
    await sinks.abort();
    // A blob sender whose write failed cancelled the call: its error, kept first, explains the failure.
    throw await c.failure(callError ?? err, { started: buildId !== '', cancelled: o.signal.aborted });
  } finally {
    o.signal.removeEventListener('abort', onAbort);
    call.cancel();
  }
}

/**
 * finishSending waits until every context message is serialized (and counted). With nothing to serve (secrets, agents,
 * layout blobs, registry credentials) the client ends its half of the call; otherwise (`written` given: the last write
 * done) it stays open for them and waits for that write instead.
 */
async function finishSending(call: ClientDuplexStream<ClientMessage, ServerMessage>, written: Promise<void> | undefined, signal: AbortSignal): Promise<void> {
  if (written !== undefined) {
    await written;
    return;
  }
  const finished = once(call, 'finish', { signal });
  call.end();
  await finished;
}

function asServerMessage(v: unknown): ServerMessage {
  if (isServerMessage(v)) return v;
  throw new InternalError('Cannot read a builder message');
}

/** UnaryCallOptions are how long a call that is not Build may take (a minute by default), and its cancel. */
export interface UnaryCallOptions {
  readonly signal?: AbortSignal | undefined;
  readonly timeoutMs?: number;
}

/** unaryCall makes one call that is not Build, within a minute. */
export async function unaryCall<Req, Res>(conn: BuilderConnection, pick: (m: BuilderMethods) => MethodDefinition<Req, Res>, req: Req, o: UnaryCallOptions = {}): Promise<Res> {
  const { signal } = o;
  using c = await connectTo(conn);
  const m = pick(c.methods);
  const deadline = Date.now() + (o.timeoutMs ?? 60_000);
  // Awaited here so the connection stays open until the answer arrives.
  return await new Promise<Res>((resolve, reject) => {
    const call = c.client.makeUnaryRequest(m.path, m.requestSerialize, m.responseDeserialize, req, c.metadata, { deadline }, (err, res) => {
      if (err !== null || res === undefined) c.failure(err, { started: false, cancelled: signal?.aborted ?? false }).then(reject, reject);
      else resolve(res);
    });
    signal?.addEventListener('abort', () => call.cancel(), { once: true });
  });
}

/** remoteInfo describes a builder. */
export function remoteInfo(conn: BuilderConnection, o: UnaryCallOptions = {}): Promise<InfoMsg> {
  return unaryCall(conn, (m) => m.Info, {}, o);
}

/** remoteDiskUsage lists a builder's cache records, largest first. */
export async function remoteDiskUsage(conn: BuilderConnection): Promise<UsageRecord[]> {
  return (await unaryCall(conn, (m) => m.DiskUsage, { verbose: false })).records.map(usageRecordOf);
}

/** remotePrune prunes a builder's cache and returns what it removed. */
export async function remotePrune(conn: BuilderConnection, options: PruneOptions): Promise<PruneReport> {
  return unaryCall(conn, (m) => m.Prune, pruneMsg(options));
}

/** remoteHealth answers a builder's health status. */
export async function remoteHealth(conn: BuilderConnection, o: UnaryCallOptions = {}): Promise<string> {
  return (await unaryCall(conn, (m) => m.Health, {}, o)).status;
}

/**
 * contextTransferStatus reports the files of the context going to the builder as a transfer of the builder's context
 * vertex, bytes sent of the files it asked for, at most ten times a second, then once when all are sent.
 */
function contextTransferStatus(progress: ProgressSink, manifest: ContextManifest, wants: readonly number[]): (bytes: number, completed?: boolean) => void {
  const total = wants.reduce((n, i) => n + (manifest.entries[i]?.size ?? 0), 0);
  let last = Number.NEGATIVE_INFINITY;
  return (bytes, completed = false) => {
    const now = Date.now();
    if (!completed && now - last < TRANSFER_REPORT_MS) return;
    last = now;
    progress.emit({ type: 'status', vertex: TRANSFER_VERTEX.vertex, id: 'transferring context:', current: bytes, total, ...(completed ? { completed } : {}), time: now });
  };
}
