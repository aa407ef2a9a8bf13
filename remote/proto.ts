import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import { ADMIN_MESSAGES, BUILD_INFO, INFO_RESPONSE, PRUNE_REQUEST, PRUNE_RESPONSE } from './admin-messages.js';
import { HISTORY_LOGS_REQUEST, HISTORY_LOGS_RESPONSE, HISTORY_REQUEST, HISTORY_RESPONSE } from './history-messages.js';
import { BUILD_CLIENT_MESSAGE, BUILD_SERVER_MESSAGE } from './messages.js';
import { decodeMessage, encodeMessage } from './wire-codec.js';
import type { AnyMessage, MessageOf } from './wire-schema.js';

/** SERVICE_NAME is the fully qualified name of the builder service. */
export const SERVICE_NAME = 'tbuild.v1.Builder';

/** BUILDER_CALLS is every call of the builder service with its request and response messages (proto/tbuild.proto). */
export const BUILDER_CALLS = {
  Build: { request: BUILD_CLIENT_MESSAGE, response: BUILD_SERVER_MESSAGE, streams: true },
  Status: { request: ADMIN_MESSAGES.statusRequest, response: BUILD_INFO, streams: false },
  ListBuilds: { request: ADMIN_MESSAGES.listBuildsRequest, response: ADMIN_MESSAGES.listBuildsResponse, streams: false },
  Cancel: { request: ADMIN_MESSAGES.cancelRequest, response: ADMIN_MESSAGES.cancelResponse, streams: false },
  DiskUsage: { request: ADMIN_MESSAGES.diskUsageRequest, response: ADMIN_MESSAGES.diskUsageResponse, streams: false },
  Prune: { request: PRUNE_REQUEST, response: PRUNE_RESPONSE, streams: false },
  Info: { request: ADMIN_MESSAGES.infoRequest, response: INFO_RESPONSE, streams: false },
  Health: { request: ADMIN_MESSAGES.healthRequest, response: ADMIN_MESSAGES.healthResponse, streams: false },
  History: { request: HISTORY_REQUEST, response: HISTORY_RESPONSE, streams: false },
  HistoryLogs: { request: HISTORY_LOGS_REQUEST, response: HISTORY_LOGS_RESPONSE, streams: false },
} as const;

type Calls = typeof BUILDER_CALLS;

/** BuilderMethods are the typed method definitions of the builder service, shared by server and client. */
export type BuilderMethods = { readonly [K in keyof Calls]: MethodDefinition<MessageOf<Calls[K]['request']>, MessageOf<Calls[K]['response']>> };

function method<Req extends AnyMessage, Res extends AnyMessage>(name: string, call: { readonly request: Req; readonly response: Res; readonly streams: boolean }): MethodDefinition<MessageOf<Req>, MessageOf<Res>> {
  return {
    path: `/${SERVICE_NAME}/${name}`,
    requestStream: call.streams,
    responseStream: call.streams,
    originalName: name,
    requestSerialize: (r) => encodeMessage(call.request, r),
    requestDeserialize: (b) => decodeMessage(call.request, b),
    responseSerialize: (r) => encodeMessage(call.response, r),
    responseDeserialize: (b) => decodeMessage(call.response, b),
  };
}

/** builderMethods gives the typed methods of the builder service, encoded by the message tables. */
export function builderMethods(): BuilderMethods {
  const c = BUILDER_CALLS;
  return {
    Build: method('Build', c.Build),
    Status: method('Status', c.Status),
    ListBuilds: method('ListBuilds', c.ListBuilds),
    Cancel: method('Cancel', c.Cancel),
    DiskUsage: method('DiskUsage', c.DiskUsage),
    Prune: method('Prune', c.Prune),
    Info: method('Info', c.Info),
    Health: method('Health', c.Health),
    History: method('History', c.History),
    HistoryLogs: method('HistoryLogs', c.HistoryLogs),
  };
}

/** serviceDefinition gives the methods in the form grpc-js servers take. */
export function serviceDefinition(methods: BuilderMethods): ServiceDefinition {
  return { ...methods };
}
