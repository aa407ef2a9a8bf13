import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { UsageError } from '../base/errors.js';
import { parseCommandArgs } from './command-line.js';
import { SERVE_OPTIONS } from './command-table.js';
import type { TenantSettings } from '../remote/lazy.js';

/** SERVE_HELP is the text of `tbuild serve --help`. */
export const SERVE_HELP = `Usage: tbuild serve [OPTIONS]

Run a remote builder: the build API over gRPC for 'tbuild build --builder ADDR'

Options:
      --addr ADDR                 unix:///PATH or tcp://HOST:PORT; repeatable (default: unix:///run/tbuild/tbuild.sock)
      --tlscacert FILE            Accept only clients with a certificate from this CA (mutual TLS)
      --tlscert FILE              Server certificate for TCP addresses
      --tlskey FILE               Server key for TCP addresses
      --token TOKEN               Require "authorization: Bearer TOKEN" on every call
      --token-file FILE           Read the token from a file
      --tokens-file FILE          Named tokens, one "TENANT TOKEN" line each; read again whenever the file changes
                                  (default: [serve] tokens-file of the settings file). Builds, records and log lines
                                  carry the tenant; [tenants.NAME] sets its limits and client certificate names
      --insecure                  Allow TCP without TLS or without client authentication
      --root DIR                  State folder (default: $TBUILD_ROOT, /var/lib/tbuild as root)
      --config FILE               Settings file (registry mirrors, credentials, [cache]: a registry cache every
                                  build shares, keyed per project) used by every build
      --max-parallel-builds N     Builds run at once; others wait in a queue (default: four per CPU, at least 8)
      --oci-runtime NAME          Run RUN steps with runc or crun instead of tbuild's sandbox
      --no-process-sandbox        Run RUN steps in the server's own PID namespace, with its /proc, where the
                                  container masks /proc (Kubernetes): rootless only, and RUN steps can then see
                                  and signal the server's processes (default: [executor] process-sandbox)
      --allow-insecure-entitlement ENTITLEMENT
                                  Let clients ask for network.host or security.insecure with --allow; repeatable
                                  (default: none, so RUN --network=host and --security=insecure fail)
      --health-addr HOST:PORT     Also answer plain HTTP health probes there: GET /healthz (alive) and /readyz
                                  (200 while builds are taken, 503 while not ready or draining); :PORT listens on
                                  every interface. The gRPC health service (grpc.health.v1.Health) answers on
                                  every --addr without it
      --server-credentials        Let builds use this server's registry credentials (its DOCKER_CONFIG or
                                  ~/.docker/config.json) for hosts their client has none for (default: the
                                  client's only; also [serve] server-credentials = true in the settings file)
      --log-format text|json      Log records as text or one JSON object per line (default: text)
      --debug                     Print stack traces with errors
`;

async function version(): Promise<string> {
  const pkg: unknown = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8'));
  return typeof pkg === 'object' && pkg !== null && 'version' in pkg ? String(pkg.version) : 'unknown';
}

async function tokenOf(v: { token?: string | undefined; 'token-file'?: string | undefined }): Promise<string | undefined> {
  if (v.token !== undefined && v['token-file'] !== undefined) throw new UsageError('Cannot use both --token and --token-file');
  const token = v['token-file'] === undefined ? v.token : (await readFile(v['token-file'], 'utf8')).trim();
  if (token === '') throw new UsageError('Cannot use an empty token');
  return token;
}

/** tenantSettingsOf reads the `[serve]` and `[tenants.*]` tables of the settings file; --tokens-file wins over [serve] tokens-file. */
async function tenantSettingsOf(settingsFile: string | undefined, tokensFile: string | undefined): Promise<TenantSettings> {
  const { readSettings } = await import('../controller/index.js');
  const { parseTenantSettings } = await import('../remote/lazy.js');
  const settings = await readSettings(settingsFile);
  const parsed = settings === undefined ? { shareCache: false, serverCredentials: false, tenants: new Map() } : parseTenantSettings(settings.doc, settings.file);
  return tokensFile === undefined ? parsed : { ...parsed, tokensFile: resolve(tokensFile) };
}

/** serveCommand runs `tbuild serve` until SIGINT or SIGTERM. */
export async function serveCommand(args: readonly string[]): Promise<number> {
  const { values: v } = parseCommandArgs('serve', args, SERVE_OPTIONS, { positionals: false });
  if (v.help === true) {
    process.stdout.write(SERVE_HELP);
    return 0;
  }
  const format = v['log-format'] ?? 'text';
  if (format !== 'text' && format !== 'json') throw new UsageError(`Cannot use --log-format=${format}: expected text or json`);
  const runtime = v['oci-runtime'];
  if (runtime !== undefined && runtime !== 'runc' && runtime !== 'crun') throw new UsageError(`Cannot use --oci-runtime=${runtime}: expected runc or crun`);
  const allowedEntitlements = (v['allow-insecure-entitlement'] ?? []).map((e) => {
    if (e === 'network.host' || e === 'security.insecure') return e;
    throw new UsageError(`Cannot use --allow-insecure-entitlement=${e}: expected network.host or security.insecure`);
  });
  const parallel = v['max-parallel-builds'] === undefined ? undefined : Number(v['max-parallel-builds']);
  if (parallel !== undefined && (!Number.isInteger(parallel) || parallel < 1)) throw new UsageError(`Cannot use --max-parallel-builds=${v['max-parallel-builds']}: expected a whole number ≥ 1`);
  const { createLogger, parseAddress } = await import('../remote/index.js');
  const { startServer } = await import('../remote/lazy.js');
  const { checkReadiness, createController, defaultParallelism, dockerCredentials, processSandboxFor, readSharedCacheSettings } = await import('../controller/index.js');
  const { defaultRoot, dockerConfigDir, settingsFileOf } = await import('./command-io.js');
  const logger = createLogger(process.stderr, format);
  const addresses = (v.addr ?? ['unix:///run/tbuild/tbuild.sock']).map(parseAddress);
  const token = await tokenOf(v);
  const root = v.root === undefined ? defaultRoot(process.env) : resolve(v.root);
  const settingsFile = await settingsFileOf(process.env, v.config === undefined ? undefined : resolve(v.config));
  // Read once at start: a server whose [cache] is wrong does not start.
  const sharedCache = await readSharedCacheSettings(settingsFile);
  if (sharedCache !== undefined) logger.info('shared cache', { repository: sharedCache.repository, mode: sharedCache.mode });
  const tenants = await tenantSettingsOf(settingsFile, v['tokens-file']);
  // Decided once at start, as BuildKit's worker is: a server where it is refused does not start.
  const processSandbox = await processSandboxFor(settingsFile, v['no-process-sandbox'] === true ? false : undefined, runtime);
  if (!processSandbox) {
    logger.warn('RUN steps run without a process sandbox: they share the server\'s PID namespace and /proc, and can see and signal its processes');
  }
  const { default: PQueue } = await import('p-queue');
  // One queue for the server's store and every tenant's: --max-parallel-builds bounds the server's builds together.
  const buildQueue = new PQueue({ concurrency: parallel ?? defaultParallelism() });
  const openStore = (storeRoot: string) =>
    createController({
      root: storeRoot,
      ...(runtime === undefined ? {} : { ociRuntime: runtime }),
      processSandbox,
      ...(settingsFile === undefined ? {} : { settingsFile }),
      buildQueue,
      logger,
      // The copies of clients' contexts stay between builds: a watch tells the next build of one whether it changed.
      watchContexts: true,
    });
  await using controller = await openStore(root);
  // Builds use their client's registry credentials; the server's own only for hosts a client has none for, when allowed.
  const lendsCredentials = v['server-credentials'] === true || tenants.serverCredentials;
  const server = await startServer({
    addresses,
    tls: { ca: v.tlscacert, cert: v.tlscert, key: v.tlskey },
    token,
    insecure: v.insecure === true,
    controller,
    contextsDir: join(root, 'remote-contexts'),
    logger,
    version: await version(),
    allowedEntitlements,
    readiness: () => checkReadiness({ root, ociRuntime: runtime, searchPath: process.env['PATH'] ?? '/usr/bin:/bin' }),
    ...(v['health-addr'] === undefined ? {} : { healthAddr: v['health-addr'] }),
    sharedCache,
    tenants,
    openTenantStore: openStore,
    ...(lendsCredentials ? { serverRegistryCredentials: dockerCredentials(dockerConfigDir(process.env)) } : {}),
  });
  const signal = await new Promise<string>((done) => {
    process.once('SIGINT', () => done('SIGINT'));
    process.once('SIGTERM', () => done('SIGTERM'));
  });
  logger.info('shutting down', { signal });
  await server.close();
  return 0;
}
