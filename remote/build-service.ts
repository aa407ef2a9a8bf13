import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { ServerDuplexStream } from '@grpc/grpc-js';
import { CancelledError, InternalError, UsageError } from '../base/errors.js';
import type { ProgressEvent, ProgressSink } from '../base/progress.js';
import { PRINT_KINDS, type BuildRequest, type BuildResult, type Controller } from '../controller/index.js';
import type { BuildRegistry } from './build-registry.js';
import { contextCopyDir, receiveContext, type SyncedContext } from './context-receiver.js';
import { statusFor } from './error-status.js';
import type { KeyedMutex } from './keyed-mutex.js';
import type { Logger } from '../base/log.js';
import { createMessageReader, expectMessage } from './message-reader.js';
import { isClientMessage, platformFromMsg, type BuildStartMsg, type ClientMessage, type ServerMessage } from './messages.js';
import { planOutputs, type ReturnedOutput } from './output-plan.js';
import { TRANSFER_VERTEX } from './progress-codec.js';
import { cacheOptions } from './request-options.js';
import { receiveSession } from './session-receiver.js';
import { StreamSecretProvider } from './stream-secret-provider.js';
import { runSettingsRequest } from './run-settings-msg.js';
import { StreamSshAgentProvider } from './stream-ssh-agent-provider.js';
import { attestationsRequest, contextSourceRequest } from './attestation-msg.js';

/** BuildServiceDeps are the long-lived parts the Build method uses. */
export interface BuildServiceDeps {
  readonly controller: Controller;
  /** Folder of the server's own files: client context copies, build outputs on their way back. */
  readonly stateDir: string;
  readonly builds: BuildRegistry;
  readonly contexts: KeyedMutex;
  readonly logger: Logger;
}

type Call = ServerDuplexStream<ClientMessage, ServerMessage>;
const OUTPUT_CHUNK = 256 * 1024;

/** handleBuild serves one Build call: context sync, the build in a queue slot, outputs and the result. */
export async function handleBuild(call: Call, deps: BuildServiceDeps): Promise<void> {
  const abort = new AbortController();
  const onCancel = (): void => abort.abort(new CancelledError('Build cancelled: the client went away'));
  call.on('cancelled', onCancel);
  const { signal } = abort;
  const send = async (m: ServerMessage): Promise<void> => {
    if (!call.write(m)) await once(call, 'drain', { signal });
  };
  let buildId = '';
  const started = Date.now();
  try {
    const reader = createMessageReader(call, (v) => {
      if (isClientMessage(v)) return v;
      throw new InternalError('Cannot read a client message');
    });
    const { start } = await expectMessage(reader, 'start');
    buildId = deps.builds.add(start.clientId, abort);
    deps.logger.info('build started', { build: buildId, client: start.clientId, peer: call.getPeer() });
    await send({ kind: 'accepted', accepted: { buildId } });
    const release = await deps.contexts.lock(`${start.clientId}/${start.contextKey}`, signal);
    const tmp = await mkdtemp(join(deps.stateDir, 'tmp', `remote-${buildId}-`));
    try {
      const dir = contextCopyDir(join(deps.stateDir, 'remote-contexts'), start.clientId, start.contextKey);
      await mkdir(dir, { recursive: true });
      const progress = progressSender(call);
      const synced = await syncWithProgress(progress, () => receiveContext(reader, send, { dir, signal }));
      const secrets = new StreamSecretProvider(start.secretIds, send);
      await using sshAgents = new StreamSshAgentProvider(start.sshIds, send, deps.logger);
      // receiveSession never rejects, and settles when the client ends its half of the call or the call is torn
      // down; the build does not wait for it. A client without secrets or agents has already ended its half.
      if (start.secretIds.length > 0 || start.sshIds.length > 0) void receiveSession(reader, { secrets, ssh: sshAgents }, signal);
      const plan = planOutputs(start.outputs, tmp);
      const request = await requestFor(start, synced, tmp, plan.specs);
      deps.builds.update(buildId, 'queued');
      const result = await deps.controller.build(request, { signal, progress, secrets, sshAgents, started: () => deps.builds.update(buildId, 'running') });
      for (const r of plan.returned) await streamOutput(r, send, signal);
      await send({ kind: 'result', result: resultMsg(result, synced) });
      deps.builds.update(buildId, 'completed');
      deps.logger.info('build completed', { build: buildId, ms: Date.now() - started, bytesReceived: synced.stats.bytesSent });
      call.end();
    } finally {
      release();
      await rm(tmp, { recursive: true, force: true });
    }
  } catch (err) {
    const cancelled = signal.aborted;
    deps.builds.update(buildId, cancelled ? 'cancelled' : 'failed', err instanceof Error ? err.message : String(err));
    if (cancelled) deps.logger.warn('build cancelled', { build: buildId, reason: String(signal.reason) });
    else deps.logger.error('build failed', { build: buildId, error: err instanceof Error ? err.message : String(err) });
    call.emit('error', statusFor(cancelled && !(err instanceof CancelledError) ? new CancelledError('Build cancelled', { cause: err }) : err));
  } finally {
    call.off('cancelled', onCancel);
  }
}

function progressSender(call: Call): ProgressSink {
  // Progress events are small and bounded by the build's own pace, so they are written without waiting for drain.
  return { emit: (e: ProgressEvent) => void call.write({ kind: 'progress', progress: JSON.stringify(e) }) };
}

async function syncWithProgress(progress: ProgressSink, sync: () => Promise<SyncedContext>): Promise<SyncedContext> {
  const { name, vertex } = TRANSFER_VERTEX;
  const t0 = Date.now();
  progress.emit({ type: 'vertex.started', vertex, name, time: t0 });
  try {
    const synced = await sync();
    const s = synced.stats;
    const line = `transferred ${s.filesSent} files, ${s.bytesSent} bytes (context: ${s.entries} entries, ${s.bytesTotal} bytes; removed ${s.removed})\n`;
    progress.emit({ type: 'vertex.log', vertex, stream: 'stdout', data: line, time: Date.now() });
    progress.emit({ type: 'vertex.completed', vertex, name, time: Date.now(), durationMs: Date.now() - t0 });
    return synced;
  } catch (err) {
    progress.emit({ type: 'vertex.completed', vertex, name, time: Date.now(), durationMs: Date.now() - t0, error: String(err) });
    throw err;
  }
}

async function requestFor(
  start: BuildStartMsg,
  synced: SyncedContext,
  tmp: string,
  outputs: BuildRequest['outputs'],
): Promise<BuildRequest> {
  const name = basename(start.dockerfileName || 'Dockerfile');
  if (name === '.' || name === '..' || name === '') throw new UsageError(`Cannot use Dockerfile name "${start.dockerfileName}"`);
  const dockerfile = join(tmp, name);
  await writeFile(dockerfile, start.dockerfile);
  // The exact ignore text the client applied, so the server filters the same way whatever the copy holds.
  await writeFile(`${dockerfile}.dockerignore`, start.dockerignore);
  const p = start.platform;
  return {
    contextDir: synced.dir,
    dockerfile,
    buildArgs: new Map(Object.entries(start.buildArgs)),
    ...(start.target === '' ? {} : { target: start.target }),
    ...(p === undefined ? {} : { platform: platformFromMsg(p) }),
    ...(start.platforms.length === 0 ? {} : { platforms: start.platforms.map(platformFromMsg) }),
    outputs,
    noCache: start.noCache,
    noCacheFilter: start.noCacheFilter,
    ...(Object.keys(start.labels).length === 0 ? {} : { labels: start.labels }),
    ...runSettingsRequest(start.run),
    ...attestationsRequest(start.attestations),
    ...contextSourceRequest(start.contextSource),
    ...sessionOptions(start),
  };
}

async function streamOutput(r: ReturnedOutput, send: (m: ServerMessage) => Promise<void>, signal: AbortSignal): Promise<void> {
  for await (const chunk of createReadStream(r.path, { highWaterMark: OUTPUT_CHUNK, signal })) {
    if (!Buffer.isBuffer(chunk)) throw new InternalError('Cannot read an output file: expected bytes');
    await send({ kind: 'output', output: { output: r.index, data: chunk, eof: false } });
  }
  await send({ kind: 'output', output: { output: r.index, data: Buffer.alloc(0), eof: true } });
}

function resultMsg(result: BuildResult, synced: SyncedContext): Extract<ServerMessage, { kind: 'result' }>['result'] {
  return {
    imageId: result.imageId ?? '',
    manifestDigest: result.manifestDigest ?? '',
    pushedDigest: result.pushedDigest ?? '',
    names: result.names,
    warnings: result.warnings,
    context: synced.stats,
    printed: result.printed ?? '',
    checkFailed: result.checkFailed ?? false,
  };
}

/** sessionOptions forwards the request options that need nothing from the client's disk. */
function sessionOptions(start: BuildStartMsg): Partial<BuildRequest> {
  const network = start.network;
  if (network !== '' && network !== 'default' && network !== 'none' && network !== 'host') throw new UsageError(`Cannot use network "${network}"`);
  const allow = start.allow.map((a) => {
    if (a !== 'security.insecure' && a !== 'network.host') throw new UsageError(`Cannot grant entitlement "${a}"`);
    return a;
  });
  const print = PRINT_KINDS.find((k) => k === start.print);
  if (start.print !== '' && print === undefined) throw new UsageError(`Cannot print "${start.print}"`);
  return {
    ...(start.pull ? { pull: true } : {}),
    ...(network === '' ? {} : { network }),
    ...(allow.length === 0 ? {} : { allow }),
    ...namedContexts(start),
    ...contextSourceDate(start.contextSourceDate),
    ...(start.check ? { check: true } : {}),
    ...(print === undefined ? {} : { print }),
    ...cacheOptions(start),
  };
}

/** namedContexts are the image and URL named contexts of a BuildStart, which the server reads itself. */
function namedContexts(start: BuildStartMsg): Pick<BuildRequest, 'buildContexts'> {
  const images = start.imageContexts.map((c) => ({ name: c.name, type: 'image' as const, ref: c.ref }));
  const urls = start.urlContexts.map((c) => ({ name: c.name, type: 'url' as const, url: c.url }));
  return images.length + urls.length === 0 ? {} : { buildContexts: [...images, ...urls] };
}

function contextSourceDate(text: string): Pick<BuildRequest, 'contextSourceDate'> {
  if (text === '') return {};
  if (!/^\d+$/.test(text)) throw new UsageError(`Cannot use context source date "${text}": expected whole seconds since 1970`);
  return { contextSourceDate: Number(text) };
}
