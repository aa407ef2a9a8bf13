import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import { UsageError } from '../base/errors.js';
import type { Logger } from '../base/log.js';
import type { HealthState } from './health-service.js';

/**
 * The plain HTTP health listener of `tbuild serve --health-addr HOST:PORT`, for probes and tools that speak HTTP
 * (Kubernetes `httpGet`, load balancers): GET /healthz answers 200 while the process serves at all (liveness), GET
 * /readyz 200 while it takes builds and 503 otherwise (readiness), each with a short JSON body.
 */

/** HealthListener is a running health listener. */
export interface HealthListener {
  /** The address it listens on, HOST:PORT with the port resolved. */
  readonly address: string;
  close(): Promise<void>;
}

/** parseHealthAddress reads HOST:PORT, [IPv6]:PORT or :PORT (every interface). */
export function parseHealthAddress(text: string): { readonly host: string; readonly port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || port > 65535) throw new UsageError(`Cannot use --health-addr ${text}: expected HOST:PORT, [IPv6]:PORT or :PORT`);
  const host = m[1] ?? m[2] ?? '';
  return { host: host === '' ? '::' : host, port };
}

function reply(res: ServerResponse, code: number, body: Readonly<Record<string, string>>): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

async function answer(req: IncomingMessage, res: ServerResponse, state: HealthState): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://health').pathname;
  if (path !== '/healthz' && path !== '/readyz') return reply(res, 404, { error: `no such path: ${path}` });
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    return reply(res, 405, { error: `method not allowed: ${req.method ?? ''}` });
  }
  // Liveness holds while draining too: a restart then would only cut the drain short.
  if (path === '/healthz') return reply(res, 200, { status: 'ok' });
  const r = await state.readiness();
  return r.ready ? reply(res, 200, { status: 'ready' }) : reply(res, 503, { status: 'not ready', reason: r.reason });
}

/** startHealthListener listens on `address` and answers /healthz and /readyz from `state`. */
export async function startHealthListener(address: string, state: HealthState, logger: Logger): Promise<HealthListener> {
  const { host, port } = parseHealthAddress(address);
  const server: Server = createServer((req, res) => {
    answer(req, res, state).catch((err: unknown) => {
      logger.warn('health request failed', { path: req.url ?? '', error: String(err) });
      if (!res.headersSent) reply(res, 500, { error: 'health check failed' });
    });
  });
  // Probes are short; a probe client that keeps its connection idle must not hold the shutdown.
  server.keepAliveTimeout = 1_000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    throw new UsageError(`Cannot listen on --health-addr ${address}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  server.on('error', (err) => logger.warn('health listener failed', { error: String(err) }));
  const bound = server.address();
  const text = bound !== null && typeof bound === 'object' ? `${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}` : address;
  logger.info('health listening', { addr: text });
  return {
    address: text,
    close: async () => {
      const closed = once(server, 'close');
      server.close();
      server.closeAllConnections();
      await closed;
    },
  };
}
