import { once } from 'node:events';
import { mkdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { ServerDuplexStream } from '@grpc/grpc-js';
import { DEFAULT_TENANT } from '../base/build-record.js';
import { isDigest } from '../base/digest.js';
import { CancelledError, InternalError, UsageError } from '../base/errors.js';
import { eventForWire, type ProgressEvent, type ProgressSink } from '../base/progress.js';
import { PRINT_KINDS, withSharedCache, type BuildRequest, type BuildResult, type ContextSource, type Controller, type CredentialStore, type Entitlement, type ReceivedContext, type SharedCacheSettings } from '../controller/index.js';
import { contextCopyDir, receiveContext, type SyncedContext } from './context-receiver.js';
import { statusFor } from './error-status.js';
import type { KeyedMutex } from './keyed-mutex.js';
import { admitReporting, type TenantGate } from './tenant-gate.js';
import { tenantProjectKey } from './tenant-stores.js';
import type { Logger } from '../base/log.js';
import { createMessageReader, expectMessage } from './message-reader.js';
import { isClientMessage, platformFromMsg, rootDescriptorMsg, type BuildStartMsg, type ClientMessage, type ServerMessage } from './messages.js';
import { planOutputs } from './output-plan.js';
import { projectKeyOf } from './project-key.js';
import { TRANSFER_VERTEX } from './progress-codec.js';
import { cacheOptions } from './request-options.js';
import { receiveSession } from './session-receiver.js';
import { StreamLayoutBlobs } from './stream-layout-blobs.js';
import { StreamCredentialStore } from './stream-credentials.js';
import { StreamSecretProvider } from './stream-secret-provider.js';
import { runSettingsRequest } from './run-settings-msg.js';
import { StreamSshAgentProvider } from './stream-ssh-agent-provider.js';
import { attestationsRequest, contextOriginOf } from './attestation-msg.js';

/** BuildServiceDeps are the long-lived parts the Build method uses. */
export interface BuildServiceDeps {
  readonly controller: Controller;
  /** Folder of the server's copies of client contexts, one per client and context folder. */
  readonly contextsDir: string;
  readonly contexts: KeyedMutex;
  readonly logger: Logger;
  /** Entitlements a client may ask for (`tbuild serve --allow-insecure-entitlement`); others fail the build. */
  readonly allowedEntitlements: readonly Entitlement[];
  /** The cache every build imports and exports besides its own (`[cache]` of the server's settings file). */
  readonly sharedCache?: SharedCacheSettings | undefined;
  /** Admits each tenant's builds within its max-builds, queueing up to its max-queued. */
  readonly gate: TenantGate;
  /** The tenant whose cache is its own (see TenantStore): its shared registry cache projects are its own too. */
  readonly cacheScope?: string | undefined;
  /**
   * The server's own registry credentials, for hosts a client has none for; undefined (the default) when the server
   * does not lend them (`tbuild serve --server-credentials`, `[serve] server-credentials`).
   */
  readonly serverRegistryCredentials?: CredentialStore | undefined;
}

type Call = ServerDuplexStream<ClientMessage, ServerMessage>;

/** handleBuild serves one Build call: the controller syncs the context through it, builds, and streams the outputs back. */
export async function handleBuild(call: Call, deps: BuildServiceDeps, tenant: string): Promise<void> {
  const abort = new AbortController();
  const onCancel = (): void => abort.abort(new CancelledError('Build cancelled: the client went away'));
  call.on('cancelled', onCancel);
  const { signal } = abort;
  const send = async (m: ServerMessage): Promise<void> => {
    if (!call.write(m)) await once(call, 'drain', { signal });
  };
  let buildId = '';
  const started = Date.now();
  // What the build leaves for after its reply (its history record's commit) waits for the call's end.
  let answer = (): void => undefined;
  const answered = new Promise<void>((resolve) => (answer = resolve));
  try {
    const reader = createMessageReader(call, (v) => {
      if (isClientMessage(v)) return v;
      throw new InternalError('Cannot read a client message');
    });
    const { start } = await expectMessage(reader, 'start');
    checkGrantable(start, deps.allowedEntitlements);
    const progress = progressSender(call);
    // The tenant's slot is held until the build's call ends; a build over its queue fails here, before any work.
    using _slot = { [Symbol.dispose]: await admitReporting(deps.gate, tenant, { signal, progress }) };
    const secrets = new StreamSecretProvider(start.secretIds, send);
    await using sshAgents = new StreamSshAgentProvider(start.sshIds, send, deps.logger);
    const layouts = new StreamLayoutBlobs(start.layoutContexts.map((c) => c.name), send);
    const credentials = new StreamCredentialStore({ offered: start.credentials, send, fallback: deps.serverRegistryCredentials });
    let synced: SyncedContext | undefined;
    const receive = async (o: { readonly signal: AbortSignal }): Promise<ReceivedContext> => {
      const contextsDir = tenant === DEFAULT_TENANT ? deps.contextsDir : join(deps.contextsDir, '.tenants', tenant);
      const release = await deps.contexts.lock(`${contextsDir}/${start.clientId}/${start.contextKey}`, o.signal);
      try {
        // A named tenant's copies are apart from every other's (a client id is the client's word, not an identity).
        const dir = contextCopyDir(contextsDir, start.clientId, start.contextKey);
        await mkdir(dir, { recursive: true });
        const done = await syncWithProgress(progress, () => receiveContext(reader, send, { dir, signal: o.signal }));
        synced = done;
        // receiveSession never rejects, and settles when the client ends its half of the call or the call is torn
        // down; the build does not wait for it. A client without secrets, agents, layouts or credentials has already
        // ended its half.
        if (start.credentials || start.secretIds.length > 0 || start.sshIds.length > 0 || start.layoutContexts.length > 0) {
          void receiveSession(reader, { secrets, ssh: sshAgents, layouts, credentials }, signal);
        }
        return { dir: done.dir, ...sourceDateOf(start.contextSourceDate), ...contextOriginOf(start.contextSource), [Symbol.asyncDispose]: async () => release() };
      } catch (err) {
        release();
        throw err;
      }
    };
    const request = withSharedCache(requestFor(start, receive, planOutputs(start.outputs, send)), tenantProjectKey(projectKeyOf(start), deps.cacheScope), deps.sharedCache);
    const result = await deps.controller.build(request, {
      answered,
      signal,
      progress,
      secrets,
      sshAgents,
      registryCredentials: credentials,
      ...(start.layoutContexts.length === 0 ? {} : { layouts: layouts.layouts() }),
      clientId: start.clientId,
      tenant,
      accepted: async (id) => {
        buildId = id;
        deps.logger.info('build started', { tenant, build: buildId, client: start.clientId, peer: call.getPeer() });
        await send({ kind: 'accepted', accepted: { buildId } });
      },
    });
    if (synced === undefined) throw new InternalError('Cannot finish the build: its context was never received');
    await send({ kind: 'result', result: resultMsg(result, synced) });
    deps.logger.info('build completed', { tenant, build: buildId, ms: Date.now() - started, bytesReceived: synced.stats.bytesSent });
    call.end();
  } catch (err) {
    const cancelled = signal.aborted || err instanceof CancelledError;
    if (cancelled) deps.logger.warn('build cancelled', { tenant, build: buildId, reason: String(signal.aborted ? signal.reason : err) });
    else deps.logger.error('build failed', { tenant, build: buildId, error: err instanceof Error ? err.message : String(err) });
    call.emit('error', statusFor(cancelled && !(err instanceof CancelledError) ? new CancelledError('Build cancelled', { cause: err }) : err));
  } finally {
    call.off('cancelled', onCancel);
    answer();
  }
}

function progressSender(call: Call): ProgressSink {
  // Progress events are small and bounded by the build's own pace, so they are written without waiting for drain.
  return { emit: (e: ProgressEvent) => void call.write({ kind: 'progress', progress: JSON.stringify(eventForWire(e)) }) };
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

function requestFor(start: BuildStartMsg, receive: Extract<ContextSource, { kind: 'receiver' }>['receive'], outputs: BuildRequest['outputs']): BuildRequest {
  const name = basename(start.dockerfileName || 'Dockerfile');
  if (name === '.' || name === '..' || name === '') throw new UsageError(`Cannot use Dockerfile name "${start.dockerfileName}"`);
  // A platform whose os is empty names the server's own, as none does.
  const p = start.platform?.os === '' ? undefined : start.platform;
  const platforms = start.platforms.filter((x) => x.os !== '');
  return {
    // The exact ignore text the client applied, so the server filters the same way whatever the copy holds.
    dockerfile: { name, bytes: start.dockerfile, ignore: start.dockerignore },
    context: { kind: 'receiver', receive },
    buildArgs: new Map(Object.entries(start.buildArgs)),
    ...(start.target === '' ? {} : { target: start.target }),
    ...(p === undefined ? {} : { platform: platformFromMsg(p) }),
    ...(platforms.length === 0 ? {} : { platforms: platforms.map(platformFromMsg) }),
    ...(start.metadataProvenance === 'min' || start.metadataProvenance === 'max' ? { metadataProvenance: start.metadataProvenance } : {}),
    outputs,
    noCache: start.noCache,
    noCacheFilter: start.noCacheFilter,
    ...(start.explain ? { explain: true } : {}),
    ...(Object.keys(start.labels).length === 0 ? {} : { labels: start.labels }),
    ...(Object.keys(start.vcs).length === 0 ? {} : { vcs: start.vcs }),
    ...runSettingsRequest(start.run),
    ...attestationsRequest(start.attestations),
    ...sessionOptions(start),
  };
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
    descriptor: rootDescriptorMsg(result.descriptor),
    provenance: (result.provenance ?? []).map((p) => ({ platform: p.platform ?? '', json: p.json })),
  };
}

/**
 * checkGrantable refuses a build that asks for an entitlement the server does not give, as buildkitd does: the
 * client's --allow, and network.host for --network host (which buildx asks for itself).
 */
function checkGrantable(start: BuildStartMsg, allowed: readonly Entitlement[]): void {
  const asked = new Set(start.allow);
  if (start.network === 'host') asked.add('network.host');
  for (const a of asked) {
    if (allowed.some((e) => e === a)) continue;
    throw new UsageError(`Cannot grant entitlement ${a}: granting entitlement ${a} is not allowed by build daemon configuration`, {
      hint: `start tbuild serve with --allow-insecure-entitlement ${a}`,
    });
  }
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
    ...(start.check ? { check: true } : {}),
    ...(print === undefined ? {} : { print }),
    ...cacheOptions(start),
  };
}

/**
 * namedContexts are the named contexts of a BuildStart: images and URLs, which the server reads itself, and OCI
 * layouts of the client, found by the client and read through the call.
 */
function namedContexts(start: BuildStartMsg): Pick<BuildRequest, 'buildContexts'> {
  const images = start.imageContexts.map((c) => ({ name: c.name, type: 'image' as const, ref: c.ref }));
  const urls = start.urlContexts.map((c) => ({ name: c.name, type: 'url' as const, url: c.url }));
  const layouts = start.layoutContexts.map((c) => {
    if (!isDigest(c.digest)) throw new UsageError(`Cannot use build context "${c.name}": its OCI layout image has an invalid digest "${c.digest}"`);
    return { name: c.name, type: 'oci-layout' as const, path: '', ...(c.tag === '' ? {} : { tag: c.tag }), digest: c.digest };
  });
  const all = [...images, ...urls, ...layouts];
  return all.length === 0 ? {} : { buildContexts: all };
}

/** sourceDateOf reads when the client's context was last changed, as it sent it (empty when it does not know). */
function sourceDateOf(text: string): { readonly sourceDate?: number } {
  if (text === '') return {};
  if (!/^\d+$/.test(text)) throw new UsageError(`Cannot use context source date "${text}": expected whole seconds since 1970`);
  return { sourceDate: Number(text) };
}
