import { chmod, mkdir, rm, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { Server, status as Status, type ServerDuplexStream, type ServerUnaryCall, type sendUnaryData, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { errnoCode, TbuildError, UsageError } from '../base/errors.js';
import { buildablePlatforms, platformNames, type Controller, type Entitlement, type SharedCacheSettings } from '../controller/index.js';
import type { BuilderAddress } from './address.js';
import { pruneOptionsOf, usageRecordMsg, type PruneMsg } from './admin-messages.js';
import { createTokenCheck, serverCredentials, type TlsFiles } from './auth.js';
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
  const builds = o.controller.history;
  const started = Date.now();
  const authorized = createTokenCheck(o.token);
  const health = new HealthState(o.readiness ?? (async () => ({ ready: true })));
  const bound: string[] = [];
  const deps = { controller: o.controller, contextsDir: o.contextsDir, contexts: new KeyedMutex(), logger: o.logger, allowedEntitlements: o.allowedEntitlements ?? [], sharedCache: o.sharedCache };
  const unary = <Req, Res>(name: string, fn: (req: Req) => Promise<Res>) => (call: ServerUnaryCall<Req, Res>, cb: sendUnaryData<Res>): void => {
    if (!authorized(call.metadata)) {
      o.logger.warn('call refused: invalid token', { method: name, peer: call.getPeer() });
      cb({ code: Status.UNAUTHENTICATED, details: 'invalid token' });
      return;
    }
    fn(call.request).then(
      (res) => cb(null, res),
      (err: unknown) => cb(statusFor(err)),
    );
  };
  const impl: UntypedServiceImplementation = {
    Build: (call: ServerDuplexStream<ClientMessage, ServerMessage>) => {
      if (!authorized(call.metadata)) {
        o.logger.warn('call refused: invalid token', { method: 'Build', peer: call.getPeer() });
        call.emit('error', { code: Status.UNAUTHENTICATED, details: 'invalid token' });
        return;
      }
      handleBuild(call, deps).catch((err: unknown) => o.logger.error('build handler failed', { error: String(err) }));
    },
    Status: unary('Status', async (r: { buildId: string }) => {
      const info = builds.get(r.buildId);
      if (info === undefined) throw new UsageError(`Cannot find build "${r.buildId}"`);
      return info;
    }),
    ListBuilds: unary('ListBuilds', async () => ({ builds: builds.list() })),
    Cancel: unary('Cancel', async (r: { buildId: string }) => ({ cancelled: builds.cancel(r.buildId, 'Build cancelled on request') })),
    DiskUsage: unary('DiskUsage', async () => ({ records: (await o.controller.du()).map(usageRecordMsg) })),
    Prune: unary('Prune', async (r: PruneMsg) => o.controller.prune(pruneOptionsOf(r))),
    Info: unary('Info', async () => {
      const platforms = platformNames(await buildablePlatforms());
      return infoFor(o.controller.info(), { version: o.version, addresses: bound, uptimeMs: Date.now() - started, platforms });
    }),
    Health: unary('Health', async () => ({ status: (await health.readiness()).ready ? 'SERVING' : 'NOT_SERVING' })),
    History: unary('History', (r: HistoryRequestMsg) => serveHistory(o.controller.records, r)),
    HistoryLogs: unary('HistoryLogs', (r: HistoryLogsRequestMsg) => serveHistoryLogs(o.controller.records, r, AbortSignal.timeout(60_000))),
  };
  server.addService(serviceDefinition(methods), impl);
  // Probes (Kubernetes' grpc and httpGet) carry no token: the health services answer without one, and tell nothing else.
  server.addService(healthServiceDefinition(), healthServiceImpl(health, o.logger));
  const sockets: string[] = [];
  let healthListener: HealthListener | undefined;
  try {
    if (o.healthAddr !== undefined) healthListener = await startHealthListener(o.healthAddr, health, o.logger);
    for (const a of o.addresses) {
      const creds = await serverCredentials(a, { tls: o.tls, hasToken: o.token !== undefined, insecure: o.insecure, logger: o.logger });
      if (a.kind === 'unix') await prepareSocket(a.path);
      const port = await new Promise<number>((resolve, reject) => server.bindAsync(a.target, creds, (err, p) => (err ? reject(bindError(a.text, err)) : resolve(p))));
      if (a.kind === 'unix') {
        sockets.push(a.path);
        await chmod(a.path, 0o660);
        bound.push(a.text);
      } else bound.push(`tcp://${a.host}:${port}`);
      o.logger.info('listening', { addr: bound[bound.length - 1], tls: a.kind === 'tcp' && o.tls.cert !== undefined, mtls: a.kind === 'tcp' && o.tls.ca !== undefined, token: o.token !== undefined });
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
    builds.cancelAll('Build cancelled: the builder is shutting down');
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
