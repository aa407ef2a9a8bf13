import { access } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import { load, type PackageDefinition } from '@grpc/proto-loader';
import { InternalError } from '../base/errors.js';
import { decodeBuildInfo, decodeEmpty, decodeInfo, decodePrune, decodePruneReport, decodeUsage, type BuildInfoMsg, type InfoMsg, type PruneMsg, type PruneReportMsg, type UsageRecordMsg } from './admin-messages.js';
import { decodeClientMessage, decodeServerMessage, toWire, type ClientMessage, type ServerMessage } from './messages.js';
import { Fields } from './wire-fields.js';

/** SERVICE_NAME is the fully qualified name of the builder service. */
export const SERVICE_NAME = 'tbuild.v1.Builder';

/** BuilderMethods are the typed method definitions of the builder service, shared by server and client. */
export interface BuilderMethods {
  readonly Build: MethodDefinition<ClientMessage, ServerMessage>;
  readonly Status: MethodDefinition<{ buildId: string }, BuildInfoMsg>;
  readonly ListBuilds: MethodDefinition<Record<string, never>, { builds: BuildInfoMsg[] }>;
  readonly Cancel: MethodDefinition<{ buildId: string }, { cancelled: boolean }>;
  readonly DiskUsage: MethodDefinition<{ verbose: boolean }, { records: UsageRecordMsg[] }>;
  readonly Prune: MethodDefinition<PruneMsg, PruneReportMsg>;
  readonly Info: MethodDefinition<Record<string, never>, InfoMsg>;
  readonly Health: MethodDefinition<Record<string, never>, { status: string }>;
}

async function protoFile(): Promise<string> {
  // From the sources (remote/) and from the build output (dist/remote/).
  for (const rel of ['../proto/tbuild.proto', '../../proto/tbuild.proto']) {
    const path = fileURLToPath(new URL(rel, import.meta.url));
    try {
      await access(path);
      return path;
    } catch (err) {
      if (!(err instanceof Error)) throw err;
    }
  }
  throw new InternalError('Cannot find proto/tbuild.proto next to the tbuild installation');
}

type RawMethod = MethodDefinition<object, object>;

function rawMethods(pkg: PackageDefinition): Map<string, RawMethod> {
  const service = pkg[SERVICE_NAME];
  if (service === undefined || 'format' in service) throw new InternalError(`Cannot find service ${SERVICE_NAME} in tbuild.proto`);
  const out = new Map<string, RawMethod>();
  for (const [name, def] of Object.entries(service)) {
    if (typeof def === 'object' && def !== null && 'path' in def && 'requestSerialize' in def) out.set(name, def);
  }
  return out;
}

function typed<Req, Res>(
  raw: Map<string, RawMethod>,
  name: keyof BuilderMethods,
  codec: { req: (v: unknown) => Req; res: (v: unknown) => Res; reqWire?: (r: Req) => object; resWire?: (r: Res) => object },
): MethodDefinition<Req, Res> {
  const m = raw.get(name);
  if (m === undefined) throw new InternalError(`Cannot find method ${name} in tbuild.proto`);
  const reqWire = codec.reqWire ?? ((r: Req): object => Object(r));
  const resWire = codec.resWire ?? ((r: Res): object => Object(r));
  return {
    path: m.path,
    requestStream: m.requestStream,
    responseStream: m.responseStream,
    originalName: name,
    requestSerialize: (r) => m.requestSerialize(reqWire(r)),
    requestDeserialize: (b) => codec.req(m.requestDeserialize(b)),
    responseSerialize: (r) => m.responseSerialize(resWire(r)),
    responseDeserialize: (b) => codec.res(m.responseDeserialize(b)),
  };
}

const buildId = (v: unknown): { buildId: string } => ({ buildId: new Fields(v, 'request').str('buildId') });

/** loadBuilderMethods reads proto/tbuild.proto and returns its typed methods. */
export async function loadBuilderMethods(): Promise<BuilderMethods> {
  const pkg = await load(await protoFile(), { keepCase: false, longs: Number, enums: String, defaults: true, oneofs: true });
  const raw = rawMethods(pkg);
  return {
    Build: typed(raw, 'Build', { req: decodeClientMessage, res: decodeServerMessage, reqWire: toWire, resWire: toWire }),
    Status: typed(raw, 'Status', { req: buildId, res: decodeBuildInfo }),
    ListBuilds: typed(raw, 'ListBuilds', {
      req: decodeEmpty,
      res: (v) => ({ builds: new Fields(v, 'ListBuildsResponse').list('builds').map(decodeBuildInfo) }),
    }),
    Cancel: typed(raw, 'Cancel', { req: buildId, res: (v) => ({ cancelled: new Fields(v, 'CancelResponse').bool('cancelled') }) }),
    DiskUsage: typed(raw, 'DiskUsage', { req: (v) => ({ verbose: new Fields(v, 'DiskUsageRequest').bool('verbose') }), res: decodeUsage }),
    Prune: typed(raw, 'Prune', { req: decodePrune, res: decodePruneReport }),
    Info: typed(raw, 'Info', { req: decodeEmpty, res: decodeInfo }),
    Health: typed(raw, 'Health', { req: decodeEmpty, res: (v) => ({ status: new Fields(v, 'HealthResponse').str('status') }) }),
  };
}

/** serviceDefinition gives the methods in the form grpc-js servers take. */
export function serviceDefinition(methods: BuilderMethods): ServiceDefinition {
  return { ...methods };
}
