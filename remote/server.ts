import { chmod, mkdir, rm, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { Server, status as Status, type ServerDuplexStream, type ServerUnaryCall, type sendUnaryData, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { DEFAULT_TENANT } from '../base/build-record.js';
import { errnoCode, TbuildError, UsageError } from '../base/errors.js';
import { buildablePlatforms, platformNames, type BuildHistory, type BuildRecord, type Controller, type CredentialStore, type Entitlement, type SharedCacheSettings } from '../controller/index.js';
import type { BuilderAddress } from './address.js';
import { pruneOptionsOf, usageRecordMsg, type BuildInfoMsg, type PruneMsg } from './admin-messages.js';
import { serverCredentials, type TlsFiles } from './auth.js';
import { handleBuild } from './build-service.js';
import { serveHistory, serveHistoryLogs, type HistoryLogsRequestMsg, type HistoryRequestMsg } from './history-messages.js';
import { statusFor } from './error-status.js';
import { startHealthListener, type HealthListener } from './health-http.js';
import { HealthState, healthServiceDefinition, healthServiceImpl, type ReadinessCheck } from './health-service.js';
import { KeyedMutex } from './keyed-mutex.js';
import type { Logger } from '../base/log.js';
import type { ClientMessage, ServerMessage } from './messages.js';
import { builderMethods, serviceDefinition } from './proto.js';
import { infoFor } from './server-info.js';
import { createTenantCalls } from './tenant-calls.js';
import type { TenantSettings } from './tenant-settings.js';
import { TenantStores } from './tenant-stores.js';

/** ServerOptions configure `tbuild serve`. */
export interface ServerOptions {
  readonly addresses: readonly BuilderAddress[];
  readonly tls: TlsFiles;
  readonly token: string | undefined;
  readonly insecure: boolean;
  /** The controller every build, disk usage and prune goes to. */
  readonly controller: Controller;
  /** Folder where the server keeps its copies of client contexts between builds. */
  readonly contextsDir: string;
  readonly logger: Logger;
  readonly version: string;
  /** Entitlements clients may ask for with --allow (`--allow-insecure-entitlement`); none by default, as buildkitd. */
  readonly allowedEntitlements?: readonly Entitlement[];
  /** Whether the builder can take builds (store, sandbox); the health services answer it until the server drains. */
  readonly readiness?: ReadinessCheck;
  /** HOST:PORT of a plain HTTP listener answering GET /healthz and /readyz (`--health-addr`). */
  readonly healthAddr?: string;
  /** The registry cache every build shares besides its own (`[cache]` of the settings file); none when undefined. */
  readonly sharedCache?: SharedCacheSettings | undefined;
  /** Named tenants (tokens, client certificates, limits: `[serve]` and `[tenants.*]`); one default tenant without. */
  readonly tenants?: TenantSettings;
  /** Opens a controller on a named tenant's state folder, for tenants that do not share the cache. */
  readonly openTenantStore: (root: string) => Promise<Controller>;
  /**
   * The server's own registry credentials, used for a host only when the client has none for it; none by default, so a
   * build uses its client's credentials only (`--server-credentials`, `[serve] server-credentials = true`).
   */
  readonly serverRegistryCredentials?: CredentialStore;
}

/** BuilderServer is a running `tbuild serve`. */
export interface BuilderServer extends AsyncDisposable {
  readonly addresses: readonly string[];
  /** The HTTP health listener's address (`--health-addr`), port resolved. */
  readonly healthAddress: string | undefined;
  /** close stops being ready (health NOT_SERVING), cancels running builds, waits for their calls to end (at most `graceMs`) and removes the sockets. */
  close(graceMs?: number): Promise<void>;
}

const SERVER_OPTIONS = {
  'grpc.keepalive_time_ms': 10_000,
  'grpc.keepalive_timeout_ms': 5_000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.http2.min_ping_interval_without_data_ms': 5_000,
  'grpc.max_receive_message_length': 16 * 1024 * 1024,
};

/** startServer binds every address and serves the builder service until closed. */
export async function startServer(o: ServerOptions): Promise<BuilderServer> {
  if (o.addresses.length === 0) throw new UsageError('Cannot serve: pass at least one --addr');
  const methods = builderMethods();
  const server = new Server(SERVER_OPTIONS);
  const started = Date.now();
  const tenants = await createTenantCalls({ token: o.token, settings: o.tenants, logger: o.logger });
  const health = new HealthState(o.readiness ?? (async () => ({ ready: true })));
  const bound: string[] = [];
  const stores = new TenantStores({ main: { controller: o.controller, contextsDir: o.contextsDir }, shared: o.tenants?.shareCache ?? false, open: o.openTenantStore, logger: o.logger });
  const deps = { contexts: new KeyedMutex(), logger: o.logger, allowedEntitlements: o.allowedEntitlements ?? [], gate: tenants.gate, sharedCache: o.sharedCache, serverRegistryCredentials: o.serverRegistryCredentials };
  const unary = <Req, Res>(name: string, fn: (req: Req, tenant: string) => Promise<Res>) => (call: ServerUnaryCall<Req, Res>, cb: sendUnaryData<Res>): void => {
    tenants
      .identify(call, name)
      .then(async (who) => {
        if ('refused' in who) cb(who.refused);
        else cb(null, await fn(call.request, who.tenant));
      })
      .catch((err: unknown) => cb(statusFor(err)));
  };
  // A tenant sees, and cancels, its own builds only: another tenant's build is not found.
  const buildOf = async (id: string, tenant: string): Promise<{ readonly build?: BuildRecord; readonly builds: BuildHistory }> => {
    const builds = (await stores.of(tenant)).controller.history;
    const b = builds.get(id);
    return b !== undefined && (b.tenant ?? DEFAULT_TENANT) === tenant ? { build: b, builds } : { builds };
  };
  const controllerOf = async (tenant: string): Promise<Controller> => (await stores.of(tenant)).controller;
  const impl: UntypedServiceImplementation = {
    Build: (call: ServerDuplexStream<ClientMessage, ServerMessage>) => {
      tenants
        .identify(call, 'Build')
        .then(
          async (who) => {
            if ('refused' in who) return void call.emit('error', who.refused);
            // A tenant's store that cannot be opened fails the call (the next call tries again).
            const store = await stores.of(who.tenant).catch((err: unknown) => {
              o.logger.error('Cannot open the store of a tenant', { tenant: who.tenant, error: err instanceof Error ? err.message : String(err) });
              call.emit('error', statusFor(err));
            });
            if (store !== undefined) await handleBuild(call, { ...deps, ...store }, who.tenant);
          },
          (err: unknown) => void call.emit('error', statusFor(err)),
        )
        .catch((err: unknown) => o.logger.error('build handler failed', { error: String(err) }));
    },
    Status: unary('Status', async (r: { buildId: string }, tenant) => {
      const { build } = await buildOf(r.buildId, tenant);
      if (build === undefined) throw new UsageError(`Cannot find build "${r.buildId}"`);
      return buildInfoMsg(build);
    }),
    ListBuilds: unary('ListBuilds', async (_r: unknown, tenant) => {
      const builds = (await controllerOf(tenant)).history.list();
      return { builds: builds.filter((b) => (b.tenant ?? DEFAULT_TENANT) === tenant).map(buildInfoMsg) };
    }),
    Cancel: unary('Cancel', async (r: { buildId: string }, tenant) => {
      const { build, builds } = await buildOf(r.buildId, tenant);
      return { cancelled: build !== undefined && builds.cancel(r.buildId, 'Build cancelled on request') };
    }),
    DiskUsage: unary('DiskUsage', async (_r: unknown, tenant) => ({ records: (await (await controllerOf(tenant)).du()).map(usageRecordMsg) })),
    Prune: unary('Prune', async (r: PruneMsg, tenant) => (await controllerOf(tenant)).prune(pruneOptionsOf(r))),
    Info: unary('Info', async (_r: unknown, tenant) => {
      const platforms = platformNames(await buildablePlatforms());
      const info = (await controllerOf(tenant)).info();
      return infoFor(info, { version: o.version, addresses: bound, uptimeMs: Date.now() - started, platforms, tenant: tenants.info(tenant) });
    }),
    Health: unary('Health', async () => ({ status: (await health.readiness()).ready ? 'SERVING' : 'NOT_SERVING' })),
    History: unary('History', async (r: HistoryRequestMsg, tenant) => serveHistory((await controllerOf(tenant)).records, r, tenant)),
    HistoryLogs: unary('HistoryLogs', async (r: HistoryLogsRequestMsg, tenant) => serveHistoryLogs((await controllerOf(tenant)).records, r, AbortSignal.timeout(60_000), tenant)),
  };
  server.addService(serviceDefinition(methods), impl);
  // Probes (Kubernetes' grpc and httpGet) carry no token: the health services answer without one, and tell nothing else.
  server.addService(healthServiceDefinition(), healthServiceImpl(health, o.logger));
  const sockets: string[] = [];
  let healthListener: HealthListener | undefined;
  try {
    if (o.healthAddr !== undefined) healthListener = await startHealthListener(o.healthAddr, health, o.logger);
    for (const a of o.addresses) {
      const creds = await serverCredentials(a, { tls: o.tls, hasToken: tenants.requiresToken, insecure: o.insecure, logger: o.logger });
      if (a.kind === 'unix') await prepareSocket(a.path);
      const port = await new Promise<number>((resolve, reject) => server.bindAsync(a.target, creds, (err, p) => (err ? reject(bindError(a.text, err)) : resolve(p))));
      if (a.kind === 'unix') {
        sockets.push(a.path);
        await chmod(a.path, 0o660);
        bound.push(a.text);
      } else bound.push(`tcp://${a.host}:${port}`);
      o.logger.info('listening', { addr: bound[bound.length - 1], tls: a.kind === 'tcp' && o.tls.cert !== undefined, mtls: a.kind === 'tcp' && o.tls.ca !== undefined, token: tenants.requiresToken });
    }
  } catch (err) {
    server.forceShutdown();
    await Promise.all(sockets.map((s) => rm(s, { force: true })));
    await healthListener?.close();
    if (err instanceof TbuildError) throw err;
    throw new UsageError(`Cannot listen on the builder addresses: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  let closing: Promise<void> | undefined;
  const shutdown = async (graceMs: number): Promise<void> => {
    health.drain();
    for (const c of await stores.opened()) c.history.cancelAll('Build cancelled: the builder is shutting down');
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, graceMs);
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    await Promise.all(sockets.map((s) => rm(s, { force: true })));
    // Readiness stays answerable (503) until the builder is gone.
    await healthListener?.close();
    await stores.close();
    o.logger.info('stopped');
  };
  const close = (graceMs = 10_000): Promise<void> => (closing ??= shutdown(graceMs));
  return { addresses: bound, healthAddress: healthListener?.address, close, [Symbol.asyncDispose]: () => close() };
}

/** prepareSocket creates the socket's folder and removes a stale socket file that nothing listens on. */
async function prepareSocket(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o755 });
  try {
    if (!(await stat(path)).isSocket()) throw new UsageError(`Cannot listen on unix://${path}: the path exists and is not a socket`);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return;
    throw err;
  }
  if (await isListening(path)) throw new UsageError(`Cannot listen on unix://${path}: another server is listening there`);
  await rm(path, { force: true });
}

function isListening(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    // A refused connection means the socket file is stale.
    s.once('error', () => resolve(false));
  });
}

/** bindError says why an address could not be listened on, naming it: in use, no permission, or gRPC's own words. */
function bindError(address: string, err: Error): Error {
  if (/EADDRINUSE/.test(err.message)) return new UsageError(`Cannot listen on ${address}: the address is in use`, { hint: 'another program (another tbuild serve?) listens there: pick another --addr', cause: err });
  if (/EACCES|EPERM/.test(err.message)) return new UsageError(`Cannot listen on ${address}: permission denied`, { hint: 'ports below 1024 and folders of other users need root', cause: err });
  return err;
}

/** buildInfoMsg is a build as Status and ListBuilds describe it. */
function buildInfoMsg(b: BuildRecord): BuildInfoMsg {
  return { buildId: b.buildId, clientId: b.clientId, state: b.state, createdMs: b.createdMs, finishedMs: b.finishedMs, error: b.error, tenant: b.tenant ?? DEFAULT_TENANT };
}
