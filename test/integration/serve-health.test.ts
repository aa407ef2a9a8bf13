import { once } from 'node:events';
import { request } from 'node:http';
import { join } from 'node:path';
import { Client, credentials, Metadata, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { healthServiceDefinition } from '../../remote/health-service.js';
import { builderMethods } from '../../remote/proto.js';
import { makeTempDir, type TempDir } from '../helpers/cli.js';
import { startServe, type ServeProcess } from '../helpers/remote-server.js';

interface HttpAnswer {
  readonly status: number;
  readonly body: unknown;
}

function httpGet(address: string, path: string, method = 'GET'): Promise<HttpAnswer> {
  const url = new URL(path, `http://${address}`);
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text === '' ? undefined : JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end();
  });
}

const health = healthServiceDefinition();

function check(client: Client, service: string): Promise<unknown> {
  const m = health['Check'];
  if (m === undefined) throw new Error('the health service has no Check');
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(m.path, m.requestSerialize, m.responseDeserialize, { service }, (err: ServiceError | null, res?: unknown) => (err ? reject(err) : resolve(res)));
  });
}

function watch(client: Client, service: string): { call: ClientReadableStream<unknown>; statuses: unknown[]; ended: Promise<unknown> } {
  const m = health['Watch'];
  if (m === undefined) throw new Error('the health service has no Watch');
  const call = client.makeServerStreamRequest(m.path, m.requestSerialize, m.responseDeserialize, { service });
  const statuses: unknown[] = [];
  call.on('data', (d: unknown) => statuses.push(d));
  return { call, statuses, ended: once(call, 'status') };
}

async function until(what: string, fn: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('tbuild serve health: grpc.health.v1 and --health-addr', () => {
  let tmp: TempDir;
  let serve: ServeProcess;
  let client: Client;
  let healthAddr: string;

  beforeAll(async () => {
    tmp = await makeTempDir('tbuild-serve-health-');
    serve = await startServe(['--addr', `unix://${join(tmp.path, 'tbuild.sock')}`, '--root', join(tmp.path, 'root'), '--health-addr', '127.0.0.1:0']);
    const line = serve.log().split('\n').find((l) => l.includes('"health listening"'));
    const rec: unknown = JSON.parse(line ?? '{}');
    healthAddr = typeof rec === 'object' && rec !== null && 'addr' in rec ? String(rec.addr) : '';
    client = new Client(`unix://${join(tmp.path, 'tbuild.sock')}`, credentials.createInsecure());
  });

  afterAll(async () => {
    client?.close();
    await serve?.kill();
    await tmp?.[Symbol.asyncDispose]();
  });

  it('answers Check for the server and the builder service, and NOT_FOUND for another service', async () => {
    expect(await check(client, '')).toEqual({ status: 'SERVING' });
    expect(await check(client, 'tbuild.v1.Builder')).toEqual({ status: 'SERVING' });
    await expect(check(client, 'no.such.Service')).rejects.toMatchObject({ code: 5 });
  });

  it('answers GET /healthz and /readyz with JSON, 404 elsewhere and 405 to other methods', async () => {
    expect(healthAddr).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(await httpGet(healthAddr, '/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
    expect(await httpGet(healthAddr, '/readyz')).toEqual({ status: 200, body: { status: 'ready' } });
    expect((await httpGet(healthAddr, '/metrics')).status).toBe(404);
    expect((await httpGet(healthAddr, '/readyz', 'POST')).status).toBe(405);
  });

  it('stops being ready once it drains: Watch gets NOT_SERVING and ends, /readyz answers 503 until the server is gone', async () => {
    const watcher = watch(client, '');
    await until('the first Watch status', () => watcher.statuses.length > 0);
    expect(watcher.statuses).toEqual([{ status: 'SERVING' }]);
    // A Build call that never sends its start keeps the server draining (its grace) until the call ends.
    const build = builderMethods().Build;
    const held = client.makeBidiStreamRequest(build.path, build.requestSerialize, build.responseDeserialize, new Metadata());
    const heldEnd = once(held, 'error');
    await until('the Build call to reach the server', async () => (await check(client, '')) !== undefined);
    const exited = once(serve.child, 'exit');
    serve.child.kill('SIGTERM');
    await until('NOT_SERVING on Watch', () => watcher.statuses.length > 1);
    expect(watcher.statuses).toEqual([{ status: 'SERVING' }, { status: 'NOT_SERVING' }]);
    await watcher.ended;
    const draining = await httpGet(healthAddr, '/readyz');
    expect(draining).toEqual({ status: 503, body: { status: 'not ready', reason: 'draining: the builder is shutting down' } });
    expect(await httpGet(healthAddr, '/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
    held.cancel();
    expect(await heldEnd).toMatchObject([{ code: 1 }]);
    expect(await exited).toEqual([0, null]);
    await expect(httpGet(healthAddr, '/healthz')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
